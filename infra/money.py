"""Integer cents shown as dollars: the one formatter of rcm report, rcm rules, the demo summary,
the console and the adapters' error messages. Never through a float."""
from __future__ import annotations


def money(cents: int | None) -> str:
    """123456 -> "$1,234.56", -5 -> "-$0.05", 0 -> "$0.00"; None (no amount) -> ""."""
    if cents is None:
        return ""
    whole, frac = divmod(abs(int(cents)), 100)
    return f"{'-' if cents < 0 else ''}${whole:,}.{frac:02d}"
