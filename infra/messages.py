"""What the `rcm` commands tell the person at the terminal: progress on stderr, flushed at once.

Counts, names of services and files, never record contents or account numbers (no PHI)."""
from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial


def say(message: str, source: str | None = None) -> None:
    print(f"[{source}] {message}" if source else message, file=sys.stderr, flush=True)


def sayer(source: str) -> Callable[[str], None]:
    """say() with every line tagged by its source: `say = sayer("kafka")` prints `[kafka] ...`."""
    return partial(say, source=source)
