"""Reference data the rule tests share: loaded once per test session (the code set takes seconds)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def coder():
    from processors.coding.coder import Coder

    return Coder()


@pytest.fixture(scope="session")
def cm():
    from processors.chargemaster import load_charge_master

    return load_charge_master()
