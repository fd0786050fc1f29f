"""Each KPI is named as HFMA names its MAP Key, says where it deviates, and docs/kpis.md defines it."""
from __future__ import annotations

import re
from pathlib import Path

from sinks.postgres.kpi_catalog import CATALOG, STAGES

# HFMA MAP Keys this project measures, as HFMA writes them, and the name each KPI must carry.
HFMA_NAMES = {
    "Clean Claim Rate": "clean_claim_rate",
    "Remittance Denial Rate": "remittance_denial_rate",
    "Net Days in Accounts Receivable (A/R)": "net_days_in_ar",
    "Aged A/R as a Percentage of Total A/R": "aged_ar_over_90_rate",
    "Days in Total Discharged Not Final Billed (DNFB)": "dnfb_days",
    "Days in Final Billed Not Submitted to Payer (FBNS)": "fbns_days",
    "Days in Total Discharged Not Submitted to Payer (DNSP)": "dnsp_days",
}
KPI_DOC = Path(__file__).resolve().parents[2] / "docs" / "kpis.md"


def test_a_kpi_with_a_map_key_is_named_after_it():
    for kpi in CATALOG:
        if kpi.hfma is not None:
            assert HFMA_NAMES.get(kpi.hfma) == kpi.name, kpi.name
    assert {k.hfma for k in CATALOG} - {None} == set(HFMA_NAMES)


def test_every_kpi_says_how_it_differs_or_what_it_follows_instead():
    for kpi in CATALOG:
        assert len(kpi.deviation) > 15, kpi.name
        if kpi.hfma is None:
            assert kpi.deviation.startswith("no MAP Key"), kpi.name


def test_names_windows_and_units_are_what_the_topic_carries():
    names = [k.name for k in CATALOG]
    assert len(names) == len(set(names))
    for kpi in CATALOG:
        assert re.fullmatch(r"[a-z0-9_]+(\.[a-z_]+)?", kpi.name)
        assert kpi.unit in ("RATIO", "DAYS", "CENTS")
        assert kpi.windows in (("DAILY",), ("DAILY", "ROLLING_30D"))
        # a balance at the end of a day has no 30-day sum; a money stage is a balance
        assert kpi.unit != "CENTS" or kpi.windows == ("DAILY",)
    assert [k.name for k in CATALOG if k.name.startswith("stage_dollars.")] == [
        f"stage_dollars.{s}" for s in STAGES]


def test_the_kpi_doc_defines_every_kpi_with_its_map_key():
    section = KPI_DOC.read_text()
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `([a-z0-9_.]+)` \|.*$", section, re.MULTILINE)}
    for kpi in CATALOG:
        if kpi.name.startswith("stage_dollars."):
            assert f"`{kpi.name.split('.', 1)[1]}`" in section, kpi.name
            continue
        assert kpi.name in rows, f"docs/kpis.md has no row for {kpi.name}"
        assert (kpi.hfma or "no MAP Key") in rows[kpi.name], kpi.name
