"""A/R aging and the KPIs (kpi_values, `rcm report`) against a small scenario whose every number is worked out by hand below.

As of 2026-06-30. Five accounts, three payers (P1, P2, SELF):

  A1 (P1)  E1 served 06-10, charge $100.00 to insurance; claim CLEAN built 06-12, 837 sent 06-13,
           277CA accepted. Remittance 06-25: paid $60.00, contractual $30.00, $10.00 to the patient.
           Patient paid $4.00 on 06-28.        -> insurance 0, patient $6.00 aged from 06-10 (20 d)
  A2 (P1)  E3 served 03-01 $50.00 (claim CLEAN built 03-11, 277CA rejected 03-12, accepted 03-15),
           E2 served 04-01 $200.00 (claim HELD built 04-05). Remittance on E3 04-10: paid $50.00.
           FIFO: the $50.00 pays E3 off, so the oldest open charge is E2 -> $200.00 aged 90 days.
  A3 (P2)  E4 served 02-15 $80.00 (claim CLEAN built 02-16, accepted), denied in full 03-20 (no
           ledger entry) -> insurance $80.00 aged 135 days (Feb 15 -> Mar 15 = 28, -> Jun 15 = 92,
           + 15).
  A4 (SELF) E5 served 03-18 (encounters_coded), charge posted 03-20, $30.00 self-pay, no claim
           -> patient $30.00 aged from 03-18: 104 days (Mar 18 -> Jun 18 = 92, + 12).
           As of 03-19 the charge is not posted yet: no A4 row.
  A5 (P2)  E6 served 05-15 $40.00 (claim CLEAN built 05-20, 837 sent 05-22, accepted). Remittance
           06-20: paid $15.00, contractual $5.00, $10.00 denied -> insurance $20.00 aged 46 days.
"""
from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg2
import pytest

from infra import kpis
from infra.report import query

pytestmark = pytest.mark.integration
AS_OF = date(2026, 6, 30)


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, 0, tzinfo=UTC)


# (entry_id, account, kind, insurance delta, patient delta, posted (month, day), reference, payer)
LEDGER = [
    ("a1-c", "A1", "CHARGE", 10000, 0, (6, 10), "E1", "P1"),
    ("a1-p", "A1", "PAYER_PAYMENT", -6000, 0, (6, 25), "CLM-E1", "P1"),
    ("a1-co", "A1", "CONTRACTUAL_ADJUSTMENT", -3000, 0, (6, 25), "CLM-E1", "P1"),
    ("a1-pr", "A1", "TRANSFER_TO_PATIENT", -1000, 1000, (6, 25), "CLM-E1", "P1"),
    ("a1-pp", "A1", "PATIENT_PAYMENT", 0, -400, (6, 28), "PAY-1", None),
    ("a2-c3", "A2", "CHARGE", 5000, 0, (3, 1), "E3", "P1"),
    ("a2-c2", "A2", "CHARGE", 20000, 0, (4, 1), "E2", "P1"),
    ("a2-p", "A2", "PAYER_PAYMENT", -5000, 0, (4, 10), "CLM-E3", "P1"),
    ("a3-c", "A3", "CHARGE", 8000, 0, (2, 15), "E4", "P2"),
    ("a4-c", "A4", "CHARGE", 0, 3000, (3, 20), "E5", "SELF"),
    ("a5-c", "A5", "CHARGE", 4000, 0, (5, 15), "E6", "P2"),
    ("a5-p", "A5", "PAYER_PAYMENT", -1500, 0, (6, 20), "CLM-E6", "P2"),
    ("a5-co", "A5", "CONTRACTUAL_ADJUSTMENT", -500, 0, (6, 20), "CLM-E6", "P2"),
]
# (encounter, account, payer, status, charge cents, service date, built)
CLAIMS = [
    ("E1", "A1", "P1", "CLEAN", 10000, (6, 10), (6, 12)),
    ("E2", "A2", "P1", "HELD", 20000, (4, 1), (4, 5)),
    ("E3", "A2", "P1", "CLEAN", 5000, (3, 1), (3, 11)),
    ("E4", "A3", "P2", "CLEAN", 8000, (2, 15), (2, 16)),
    ("E6", "A5", "P2", "CLEAN", 4000, (5, 15), (5, 20)),
]
# (claim, account, payer, amount, denied on)
DENIALS = [("CLM-E4", "A3", "P2", 8000, (3, 20)), ("CLM-E6", "A5", "P2", 1000, (6, 20))]
# (claim, accepted, reported)
ACKS = [("CLM-E1", True, (6, 13)), ("CLM-E3", False, (3, 12)), ("CLM-E3", True, (3, 15)),
        ("CLM-E4", True, (2, 17)), ("CLM-E6", True, (5, 21))]
SENT = [("CLM-E1", "A1", 10000, (6, 13)), ("CLM-E6", "A5", 4000, (5, 22))]


@pytest.fixture
def scenario(database_url):
    conn = psycopg2.connect(database_url)
    with conn, conn.cursor() as cur:
        for eid, acct, kind, ins, pat, (m, d), ref, payer in LEDGER:
            cur.execute("""INSERT INTO ledger_entries (entry_id, account_id, kind,
                               insurance_delta_cents, patient_delta_cents, posted_at, reference,
                               payer_id, source_event_id, source_emitted_at)
                           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                        (eid, acct, kind, ins, pat, at(m, d), ref, payer, f"{ref}@{m}-{d}", at(m, d)))
        for enc, acct, payer, status, cents, (m, d), (bm, bd) in CLAIMS:
            cur.execute("""INSERT INTO claims (claim_id, account_id, encounter_id, payer_id,
                               plan_type, claim_type, status, total_charge_cents, service_start,
                               service_end, built_at, source_event_id, source_emitted_at)
                           VALUES (%s, %s, %s, %s, 'COMMERCIAL', 'PROFESSIONAL', %s, %s, %s, %s,
                                   %s, %s, %s)""",
                        (f"CLM-{enc}", acct, enc, payer, status, cents, date(2026, m, d),
                         date(2026, m, d), at(bm, bd), enc, at(bm, bd)))
            cur.execute("""INSERT INTO claim_versions (version_id, claim_id, version,
                               frequency_code, payer_sequence, event_id, encounter_id, account_id,
                               payer_id, status, total_charge_cents, service_end, built_at,
                               source_event_id)
                           VALUES (%s, %s, 1, '1', 'PRIMARY', %s, %s, %s, %s, %s, %s, %s, %s,
                                   %s)""",
                        (f"CLM-{enc}:v1", f"CLM-{enc}", f"{enc}:claim", enc, acct, payer, status,
                         cents, date(2026, m, d), at(bm, bd), enc))
        cur.execute("""INSERT INTO encounters_coded (event_id, encounter_id, account_id, payer_id,
                           plan_type, encounter_class, patient_age, patient_sex, service_start,
                           service_end, total_charge_cents, coded_at, source_event_id,
                           source_emitted_at)
                       VALUES ('coded-E5', 'E5', 'A4', 'SELF', 'SELF_PAY', 'OFFICE', 40, 'F',
                               '2026-03-18', '2026-03-18', 3000, %s, 'E5', %s)""",
                    (at(3, 20), at(3, 20)))
        for claim, acct, payer, cents, (m, d) in DENIALS:
            cur.execute("""INSERT INTO denials (denial_id, remittance_id, claim_id, account_id,
                               payer_id, group_code, reason_code, category, preventable,
                               amount_cents, denied_on, appeal_deadline, source_event_id,
                               source_emitted_at)
                           VALUES (%s, %s, %s, %s, %s, 'CO', '197', 'AUTHORIZATION', true, %s,
                                   %s, %s, %s, %s)""",
                        (f"den-{claim}", f"rem-{claim}", claim, acct, payer, cents,
                         date(2026, m, d), date(2026, 9, 1), f"{claim}@{m}-{d}", at(m, d)))
        for i, (claim, accepted, (m, d)) in enumerate(ACKS):
            cur.execute("""INSERT INTO claim_status_events (event_id, claim_id, payer_id, accepted,
                               categories, statuses, reported_at, emitted_at)
                           VALUES (%s, %s, 'P1', %s, '{A1}', '[]', %s, %s)""",
                        (f"ack-{i}", claim, accepted, at(m, d), at(m, d)))
        cur.execute("""INSERT INTO x12_files (file_name, claim_type, version, sender_id,
                           receiver_id, isa13, gs06, st02, claim_ids, claim_count,
                           total_charge_cents)
                       VALUES ('f1.x12', 'PROFESSIONAL', '005010X222A1', 'S', 'R', 1, 1, 1,
                               '{CLM-E1,CLM-E6}', 2, 14000)""")
        for claim, acct, cents, (m, d) in SENT:
            cur.execute("""INSERT INTO x12_claims_sent (claim_id, file_name, account_id, claim_type,
                               total_charge_cents, sent_at)
                           VALUES (%s, 'f1.x12', %s, 'PROFESSIONAL', %s, %s)""",
                        (claim, acct, cents, at(m, d)))
    conn.close()
    return database_url


def test_aging_from_service_date_is_fifo_and_bucketed(scenario):
    got = query(scenario, """SELECT account_id, payer_id, responsibility, open_cents, aged_from,
                                   age_days, bucket
                              FROM ar_aging_as_of(%s) ORDER BY account_id, responsibility""",
               (AS_OF,))
    assert got == [
        # A1: insurance 10000 - 6000 - 3000 - 1000 = 0 (no row); patient 1000 - 400 = 600, aged
        # from the claim CLM-E1's service date (the transfer references the claim): 06-10 = 20 d.
        ("A1", "P1", "patient", 600, date(2026, 6, 10), 20, "0-30"),
        # A2: credits 5000 cover E3 (03-01) exactly; E2 (04-01) is the oldest open: 90 days.
        ("A2", "P1", "insurance", 20000, date(2026, 4, 1), 90, "61-90"),
        ("A3", "P2", "insurance", 8000, date(2026, 2, 15), 135, ">120"),
        # A4: no claim for E5; its encounters_coded service date (03-18) beats the posting date.
        ("A4", "SELF", "patient", 3000, date(2026, 3, 18), 104, "91-120"),
        # A5: 4000 - 1500 - 500 = 2000 (the 1000 denied stays open), 05-15 -> 46 days.
        ("A5", "P2", "insurance", 2000, date(2026, 5, 15), 46, "31-60"),
    ]
    # As of 04-05 the A2 payment (04-10) and everything later has not happened: E3 is open.
    early = query(scenario, """SELECT open_cents, aged_from, age_days, bucket
                                FROM ar_aging_as_of(%s) WHERE account_id = 'A2'""",
                 (date(2026, 4, 5),))
    assert early == [(25000, date(2026, 3, 1), 35, "31-60")]
    assert query(scenario, "SELECT count(*) FROM ar_aging_as_of(%s) WHERE account_id = 'A4'",
                (date(2026, 3, 19),)) == [(0,)]


def test_aging_from_last_activity(scenario):
    got = query(scenario, """SELECT account_id, responsibility, last_activity, age_days, bucket
                              FROM ar_aging_by_activity_as_of(%s) ORDER BY account_id""", (AS_OF,))
    assert got == [
        ("A1", "patient", date(2026, 6, 28), 2, "0-30"),      # patient payment 06-28
        ("A2", "insurance", date(2026, 4, 10), 81, "61-90"),  # payment 04-10: 21 + 31 + 29
        ("A3", "insurance", date(2026, 2, 15), 135, ">120"),  # nothing since the charge
        ("A4", "patient", date(2026, 3, 20), 102, "91-120"),
        ("A5", "insurance", date(2026, 6, 20), 10, "0-30"),   # remittance 06-20
    ]


def test_aging_summary_by_payer_and_by_responsibility(scenario):
    got = query(scenario, """SELECT payer_id, responsibility, bucket, accounts, open_cents
                              FROM ar_aging_summary_as_of(%s)
                             ORDER BY payer_id NULLS LAST, responsibility, bucket""", (AS_OF,))
    assert got == [
        ("P1", None, "0-30", 1, 600), ("P1", None, "61-90", 1, 20000),
        ("P2", None, "31-60", 1, 2000), ("P2", None, ">120", 1, 8000),
        ("SELF", None, "91-120", 1, 3000),
        (None, "insurance", "31-60", 1, 2000), (None, "insurance", "61-90", 1, 20000),
        (None, "insurance", ">120", 1, 8000),
        (None, "patient", "0-30", 1, 600), (None, "patient", "91-120", 1, 3000),
    ]


def test_today_views_match_the_functions_on_current_date(scenario):
    for view, func in (("ar_aging", "ar_aging_as_of"),
                       ("ar_aging_by_activity", "ar_aging_by_activity_as_of"),
                       ("ar_aging_summary", "ar_aging_summary_as_of")):
        assert sorted(query(scenario, f"SELECT * FROM {view}"), key=repr) == sorted(
            query(scenario, f"SELECT * FROM {func}(current_date)"), key=repr)


def flow(dsn: str, first: date, last: date) -> dict[str, tuple]:
    return {kpi: (num, den, value) for kpi, num, den, value, _ in
            query(dsn, "SELECT * FROM kpi_flow_window(%s, %s)", (first, last))}


def values(dsn: str, day: date) -> dict[tuple[str, str], tuple]:
    return {(kpi, window): (num, den, value) for kpi, window, num, den, value, _ in
            query(dsn, "SELECT * FROM kpi_values(%s)", (day,))}


def test_flow_kpis_over_the_whole_history(scenario):
    got = flow(scenario, date(2026, 1, 1), AS_OF)
    # Claims E1, E3, E4, E6 CLEAN, E2 HELD at their first build: 4 / 5.
    assert got["clean_claim_rate"] == (4, 5, Decimal("0.8000"))
    # First acknowledgements: E1 yes, E3 no (accepted only after), E4 yes, E6 yes: 3 / 4.
    assert got["first_pass_acceptance_rate"] == (3, 4, Decimal("0.7500"))
    # Remitted: E1, E3, E6 (ledger entries reference them), E4 (denial only) = 4 claims,
    # charges 10000 + 5000 + 8000 + 4000 = 27000. Denied: E4, E6 = 2 claims, 8000 + 1000 = 9000.
    assert got["remittance_denial_rate"] == (2, 4, Decimal("0.5000"))
    assert got["remittance_denial_rate_dollars"] == (9000, 27000, Decimal("0.3333"))
    # Charges 10000 + 5000 + 20000 + 8000 + 3000 + 4000 = 50000; contractual 3000 + 500 = 3500;
    # payments 6000 + 400 + 5000 + 1500 = 12900. 12900 / 46500 = 0.27742 -> 0.2774.
    assert got["net_collection_rate"] == (12900, 46500, Decimal("0.2774"))
    # E1: one remittance (06-25), insurance 10000 - 6000 - 3000 - 1000 = 0; E3: one remittance
    # (04-10), 5000 - 5000 = 0; E4 and E6 denied. 2 / 4.
    assert got["first_pass_resolution_rate"] == (2, 4, Decimal("0.5000"))
    # Days to build: E1 2, E2 4, E3 10, E4 1, E6 5 -> 22 / 5 = 4.4.
    assert got["time_to_bill_days"] == (22, 5, Decimal("4.4"))


def test_balance_kpis_at_the_end_of_the_day(scenario):
    got = values(scenario, AS_OF)
    # Open A/R: 50000 - 3500 - 12900 = 33600 (= 600 + 20000 + 8000 + 3000 + 2000 in the aging).
    # Last 90 days = posted after 04-01: charges E1 10000 + E6 4000, contractual 3000 + 500:
    # net 10500, 116.67 a day; 33600 / (10500 / 90) = 288.0 days.
    assert got["net_days_in_ar", "DAILY"] == (33600, 10500, Decimal("288.0"))
    # Over 90 days from service: A3 8000 (135 d) + A4 3000 (104 d); A2 is exactly 90, not over.
    # 11000 / 33600 = 0.32738 -> 0.3274.
    assert got["aged_ar_over_90_rate", "DAILY"] == (11000, 33600, Decimal("0.3274"))


def test_daily_and_rolling_30_day_claim_rates(scenario):
    # Built: 02-16 E4, 03-11 E3, 04-05 E2 (HELD), 05-20 E6, 06-12 E1. First remittance: E4 03-20
    # (denial only), E3 04-10, E6 06-20 (payment and denial), E1 06-25.
    mar1 = values(scenario, date(2026, 3, 1))
    assert mar1["clean_claim_rate", "DAILY"] == (0, 0, None)
    assert mar1["clean_claim_rate", "ROLLING_30D"] == (1, 1, Decimal("1.0000"))  # E4 on 02-16
    assert mar1["remittance_denial_rate", "ROLLING_30D"] == (0, 0, None)
    # 04-05: E2 HELD that day (0 / 1); 30 days 03-07..04-05 built E3 and E2: 1 / 2. First remitted
    # in the window: E4 (03-20), denied: 1 / 1; $80.00 of $80.00.
    apr5 = values(scenario, date(2026, 4, 5))
    assert apr5["clean_claim_rate", "DAILY"] == (0, 1, Decimal("0.0000"))
    assert apr5["clean_claim_rate", "ROLLING_30D"] == (1, 2, Decimal("0.5000"))
    assert apr5["remittance_denial_rate", "ROLLING_30D"] == (1, 1, Decimal("1.0000"))
    assert apr5["remittance_denial_rate_dollars", "ROLLING_30D"] == (8000, 8000, Decimal("1.0000"))
    # 04-10: E3 first remitted, not denied (0 / 1); window 03-12..04-10: E4 and E3, 1 / 2;
    # dollars 8000 / (8000 + 5000) = 0.61538 -> 0.6154.
    apr10 = values(scenario, date(2026, 4, 10))
    assert apr10["remittance_denial_rate", "DAILY"] == (0, 1, Decimal("0.0000"))
    assert apr10["remittance_denial_rate", "ROLLING_30D"] == (1, 2, Decimal("0.5000"))
    assert apr10["remittance_denial_rate_dollars", "ROLLING_30D"] == (8000, 13000,
                                                                      Decimal("0.6154"))
    # 06-25: E1 first remitted (0 / 1); window 05-27..06-25: built E1 (clean, 1 / 1); remitted E6
    # (denied $10.00) and E1: 1 / 2; dollars 1000 / (4000 + 10000) = 0.07142 -> 0.0714.
    jun25 = values(scenario, date(2026, 6, 25))
    assert jun25["clean_claim_rate", "ROLLING_30D"] == (1, 1, Decimal("1.0000"))
    assert jun25["remittance_denial_rate", "DAILY"] == (0, 1, Decimal("0.0000"))
    assert jun25["remittance_denial_rate", "ROLLING_30D"] == (1, 2, Decimal("0.5000"))
    assert jun25["remittance_denial_rate_dollars", "ROLLING_30D"] == (1000, 14000,
                                                                      Decimal("0.0714"))


def test_empty_database_gives_no_rates_and_no_aging(database_url):
    report = kpis.collect(database_url, AS_OF)
    assert report["kpis"]["clean_claim_rate"]["ROLLING_30D"]["value"] is None
    assert report["kpis"]["net_days_in_ar"]["DAILY"]["value"] is None
    assert report["aging"]["by_payer"] == {} and report["aging"]["by_responsibility"] == {}
    assert "no open A/R" in kpis.render(report)


def test_rcm_report_shows_the_kpi_values_the_topic_carries(scenario, monkeypatch, capsys):
    monkeypatch.setenv("RCM_DATABASE_URL", scenario)
    assert kpis.cmd_report(type("Args", (), {"json": True, "as_of": AS_OF})()) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["as_of"] == "2026-06-30"
    k = report["kpis"]
    published = values(scenario, AS_OF)
    assert {(name, w): (v[w]["numerator"], v[w]["denominator"], v[w]["value"])
            for name, v in k.items() for w in kpis.WINDOWS if w in v} == {
        key: (num, den, None if value is None else float(value))
        for key, (num, den, value) in published.items() if not key[0].startswith("stage_")}
    # 06-01..06-30: built E1 (CLEAN) = 1 / 1; first remitted E6 (denied) and E1 = 1 / 2; charges
    # E1 10000, contractual 3000 + 500, payments 6000 + 400 + 1500: 7900 / 6500 = 1.2154.
    assert k["clean_claim_rate"]["ROLLING_30D"]["value"] == 1.0
    assert k["remittance_denial_rate"]["ROLLING_30D"]["value"] == 0.5
    assert k["net_collection_rate"]["ROLLING_30D"]["value"] == 1.2154
    assert k["net_days_in_ar"]["DAILY"]["value"] == 288.0
    assert k["net_days_in_ar"]["hfma"] == "Net Days in Accounts Receivable (A/R)"
    assert all(v["definition"] for v in k.values())
    zero = dict.fromkeys(kpis.BUCKETS, 0)
    assert report["aging"]["by_responsibility"] == {
        "insurance": {**zero, "31-60": 2000, "61-90": 20000, ">120": 8000},
        "patient": {**zero, "0-30": 600, "91-120": 3000}}
    assert report["aging"]["by_payer"] == {
        "P1": {**zero, "0-30": 600, "61-90": 20000}, "P2": {**zero, "31-60": 2000, ">120": 8000},
        "SELF": {**zero, "91-120": 3000}}

    assert kpis.cmd_report(type("Args", (), {"json": False, "as_of": AS_OF})()) == 0
    text = capsys.readouterr().out
    assert "clean_claim_rate" in text and "100.0%" in text and "288.0 days" in text
    assert "$336.00" in text and "$200.00" in text and "dnfb_days" in text
    insurance = next(line for line in text.splitlines() if line.strip().startswith("insurance"))
    assert insurance.split()[1:] == ["$0.00", "$20.00", "$200.00", "$0.00", "$80.00", "$300.00"]


def test_rcm_report_defaults_to_the_latest_event_day(scenario, monkeypatch, capsys):
    # The latest event is the patient payment posted 06-28: the report's day, not today's date.
    monkeypatch.setenv("RCM_DATABASE_URL", scenario)
    assert kpis.cmd_report(type("Args", (), {"json": True, "as_of": None})()) == 0
    assert json.loads(capsys.readouterr().out)["as_of"] == "2026-06-28"


def test_rcm_report_aged_from_last_activity(scenario, monkeypatch, capsys):
    monkeypatch.setenv("RCM_DATABASE_URL", scenario)
    args = type("Args", (), {"json": True, "as_of": AS_OF, "by_activity": True})()
    assert kpis.cmd_report(args) == 0
    aging = json.loads(capsys.readouterr().out)["aging"]
    zero = dict.fromkeys(kpis.BUCKETS, 0)
    # From test_aging_from_last_activity: A1 600 (2 d) and A5 2000 (10 d) in 0-30, A2 20000 (81 d),
    # A4 3000 (102 d), A3 8000 (135 d).
    assert aging["aged_from"] == "activity"
    assert aging["by_responsibility"] == {
        "insurance": {**zero, "0-30": 2000, "61-90": 20000, ">120": 8000},
        "patient": {**zero, "0-30": 600, "91-120": 3000}}
    assert aging["by_payer"] == {
        "P1": {**zero, "0-30": 600, "61-90": 20000}, "P2": {**zero, "0-30": 2000, ">120": 8000},
        "SELF": {**zero, "91-120": 3000}}
    args.json = False
    assert kpis.cmd_report(args) == 0
    assert "A/R aging (days from last activity)" in capsys.readouterr().out
