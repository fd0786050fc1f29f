"""rcm bench's SASL pairing alternates which broker goes first (ABBA), so neither is always the
fresher or the first measured (issue 12)."""
from __future__ import annotations

from infra import bench


def test_the_pair_order_alternates_across_runs(monkeypatch):
    measured: list[str] = []
    rates = {"plain": 1000.0, "sasl": 900.0}
    monkeypatch.setattr(bench, "baseline", lambda s, records: measured.append(s) or rates[s])
    got = [bench.sasl_pair("sasl", "plain", [], run) for run in range(4)]
    assert got == [(1000.0, 900.0)] * 4  # always (unauthenticated, SASL), whatever the order
    assert measured == ["plain", "sasl", "sasl", "plain", "plain", "sasl", "sasl", "plain"]
