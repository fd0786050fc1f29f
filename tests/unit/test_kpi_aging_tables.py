"""`rcm report`'s aging tables from ar_aging_summary_as_of's two grouping sets."""
from __future__ import annotations

from infra.kpis import BUCKETS, aging_tables, render


def row(payer, responsibility, bucket, cents):
    return {"payer_id": payer, "responsibility": responsibility, "bucket": bucket,
            "open_cents": cents}


def test_rows_split_by_grouping_set_in_integer_cents_and_payers_sort_by_id():
    summary = [row("UHC", None, BUCKETS[0], 12_345), row("AETNA", None, BUCKETS[-1], 99),
               row(None, "patient", BUCKETS[1], 500), row(None, "insurance", BUCKETS[0], 12_345),
               row(None, "insurance", BUCKETS[-1], 99)]
    tables = aging_tables(summary)
    assert list(tables["by_payer"]) == ["AETNA", "UHC"]
    assert tables["by_payer"]["UHC"] == {**dict.fromkeys(BUCKETS, 0), BUCKETS[0]: 12_345}
    assert tables["by_payer"]["AETNA"][BUCKETS[-1]] == 99
    assert list(tables["by_responsibility"]) == ["insurance", "patient"]
    assert tables["by_responsibility"]["patient"] == {**dict.fromkeys(BUCKETS, 0), BUCKETS[1]: 500}
    assert all(isinstance(c, int) for t in tables.values() for b in t.values() for c in b.values())


def test_a_payer_row_without_a_payer_sorts_last_instead_of_failing():
    summary = [row(None, None, BUCKETS[0], 700), row("MEDICARE", None, BUCKETS[0], 300)]
    assert list(aging_tables(summary)["by_payer"]) == ["MEDICARE", None]


def test_the_report_names_a_row_without_a_payer_and_shows_its_dollars():
    tables = aging_tables([row(None, None, BUCKETS[0], 700), row("MEDICARE", None, BUCKETS[0], 300)])
    text = render({"as_of": "2026-12-01", "kpis": {}, "stage_dollars": [],
                   "aging": {"aged_from": "service", "buckets": list(BUCKETS), **tables}})
    no_payer = next(line for line in text.splitlines() if "(no payer)" in line)
    assert no_payer.split()[-1] == "$7.00" and "MEDICARE" in text
