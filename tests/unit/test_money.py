"""One money formatter (issue 13): integer cents as dollars, exact to the cent, never a float."""
from __future__ import annotations

from decimal import Decimal

import pytest

from infra.money import money


@pytest.mark.parametrize("cents, shown", [
    (123456, "$1,234.56"), (-123456, "-$1,234.56"), (0, "$0.00"), (5, "$0.05"), (-5, "-$0.05"),
    (100, "$1.00"), (-100, "-$1.00"), (99, "$0.99"), (14550, "$145.50"),
    (123_456_789_012_345, "$1,234,567,890,123.45"),  # beyond a float's exact cents
    (Decimal(-250075), "-$2,500.75"),  # a PostgreSQL sum arrives as Decimal
])
def test_cents_are_shown_as_dollars_with_the_sign_before_the_symbol(cents, shown):
    assert money(cents) == shown
    digits = shown.lstrip("-$").replace(",", "").replace(".", "")
    assert int(digits) == abs(int(cents))  # every cent of the input, none invented


def test_no_amount_is_shown_as_nothing():
    assert money(None) == ""


def test_the_report_the_console_and_rcm_rules_share_it():
    from infra import kpis, report
    from infra.console import web
    from producers import scrub_rules

    assert report.money is web.money is kpis.money is scrub_rules.money is money
    assert web.TEMPLATES.env.filters["money"] is money
