"""DNFB, dollars per stage, clean claim rate at first build, and the kpis / ar-aging-snapshots
streams, against a scenario whose every number is worked out by hand below.

As of 2026-06-30 (UTC days). Seven accounts, one encounter each, payers P1 and P2; every charge is
posted to the ledger on the encounter's last date of service (service_start = service_end):

  E1 A1 P1 $500.00  served 06-28, discharged_at 06-28 15:00, coding review requested 06-29 (open)
  E2 A2 P1 $300.00  served 06-25 (no discharged_at), coded 06-26, no claim
  E3 A3 P2 $200.00  served 06-19, coded 06-20, claim built HELD 06-21, rebuilt CLEAN 06-29
                    (claims keeps the CLEAN row, claim_versions both builds), not sent
  E4 A4 P2 $100.00  served 06-19, coded 06-20, claim built HELD 06-22
  E5 A5 P1 $400.00  served 06-09, coded 06-10, claim CLEAN 06-11, 837 sent 06-12, 277CA accepted 06-13
  E6 A6 P1  $50.00  served 05-31, coded 06-01, claim CLEAN 06-02, 277CA rejected 06-03
  E7 A7 P2 $100.00  served 05-19, coded 05-20, claim CLEAN 05-21, sent 05-22; remittance 06-15:
                    paid $50.00, contractual $20.00, $10.00 to the patient, $20.00 denied (open)

Gross charges of the 90 days ending 06-30 (04-02..06-30): all seven, $1,650.00 = 165000 cents, so
the average daily gross revenue is 165000 / 90 cents.
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg2
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from infra import kpis as report
from infra.delivery import Deliverer
from infra.report import query
from schemas import codec
from schemas.topics import AR_AGING_SNAPSHOTS, KPIS
from sinks.postgres import kpi_publish
from sinks.postgres.kpi_catalog import CATALOG
from tests.support.kafka_client import kafka_options

pytestmark = pytest.mark.integration
D = date(2026, 6, 30)


def at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


# encounter, account, payer, cents, served (m, d)
ENCOUNTERS = [("E1", "A1", "P1", 50000, (6, 28)), ("E2", "A2", "P1", 30000, (6, 25)),
              ("E3", "A3", "P2", 20000, (6, 19)), ("E4", "A4", "P2", 10000, (6, 19)),
              ("E5", "A5", "P1", 40000, (6, 9)), ("E6", "A6", "P1", 5000, (5, 31)),
              ("E7", "A7", "P2", 10000, (5, 19))]
CODED = {"E2": (6, 26), "E3": (6, 20), "E4": (6, 20), "E5": (6, 10), "E6": (6, 1), "E7": (5, 20)}
# (claim build event, encounter, status, built (m, d))
BUILDS = [("b3a", "E3", "HELD", (6, 21)), ("b3b", "E3", "CLEAN", (6, 29)),
          ("b4", "E4", "HELD", (6, 22)), ("b5", "E5", "CLEAN", (6, 11)),
          ("b6", "E6", "CLEAN", (6, 2)), ("b7", "E7", "CLEAN", (5, 21))]
# claims keeps one row per claim; here the latest build (E3: CLEAN), which the old view counted
CLAIM_ROWS = {"E3": ("b3b", "CLEAN", (6, 29)), "E4": ("b4", "HELD", (6, 22)),
              "E5": ("b5", "CLEAN", (6, 11)), "E6": ("b6", "CLEAN", (6, 2)),
              "E7": ("b7", "CLEAN", (5, 21))}
REMIT = [("r7-p", "PAYER_PAYMENT", -5000, 0), ("r7-co", "CONTRACTUAL_ADJUSTMENT", -2000, 0),
         ("r7-pr", "TRANSFER_TO_PATIENT", -1000, 1000)]


def ledger(cur, entry_id, account, kind, ins, pat, posted, reference, payer, source):
    cur.execute("""INSERT INTO ledger_entries (entry_id, account_id, kind, insurance_delta_cents,
                       patient_delta_cents, posted_at, reference, payer_id, source_event_id,
                       source_emitted_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                (entry_id, account, kind, ins, pat, posted, reference, payer, source, posted))


@pytest.fixture
def scenario(database_url):
    conn = psycopg2.connect(database_url)
    by_enc = {e[0]: e for e in ENCOUNTERS}
    with conn, conn.cursor() as cur:
        for enc, acct, payer, cents, (m, d) in ENCOUNTERS:
            served = date(2026, m, d)
            cur.execute("""INSERT INTO encounter_discharges (event_id, encounter_id, account_id,
                               payer_id, encounter_class, service_end, discharged_at,
                               total_charge_cents, received_at, emitted_at)
                           VALUES (%s, %s, %s, %s, 'OUTPATIENT', %s, %s, %s, %s, %s)""",
                        (f"ev-{enc}", enc, acct, payer, served,
                         at(6, 28, 15) if enc == "E1" else None, cents, at(m, d), at(m, d)))
            ledger(cur, f"c-{enc}", acct, "CHARGE", cents, 0, at(m, d), enc, payer, f"ev-{enc}")
            if enc in CODED:
                cm, cd = CODED[enc]
                cur.execute("""INSERT INTO encounters_coded (event_id, encounter_id, account_id,
                                   payer_id, plan_type, encounter_class, patient_age, patient_sex,
                                   service_start, service_end, total_charge_cents, coded_at,
                                   source_event_id, source_emitted_at)
                               VALUES (%s, %s, %s, %s, 'COMMERCIAL', 'OUTPATIENT', 50, 'F', %s,
                                       %s, %s, %s, %s, %s)""",
                            (f"coded-{enc}", enc, acct, payer, served, served, cents, at(cm, cd),
                             f"ev-{enc}", at(cm, cd)))
        cur.execute("""INSERT INTO coding_review (review_id, encounter_id, account_id, payer_id,
                           encounter_class, total_charge_cents, requested_at, source_event_id,
                           source_emitted_at)
                       VALUES ('rev-E1', 'E1', 'A1', 'P1', 'OUTPATIENT', 50000, %s, 'ev-E1', %s)""",
                    (at(6, 29), at(6, 29)))
        versions: dict[str, int] = {}
        for event, enc, status, (m, d) in BUILDS:
            _, acct, payer, cents, (sm, sd) = by_enc[enc]
            version = versions[enc] = versions.get(enc, 0) + 1
            cur.execute("""INSERT INTO claim_versions (version_id, claim_id, version,
                               frequency_code, payer_sequence, event_id, encounter_id,
                               account_id, payer_id, status, total_charge_cents, service_end,
                               built_at, source_event_id)
                           VALUES (%s, %s, %s, '1', 'PRIMARY', %s, %s, %s, %s, %s, %s, %s, %s,
                                   %s)""",
                        (f"CLM-{enc}:v{version}", f"CLM-{enc}", version, event, enc, acct, payer,
                         status, cents, date(2026, sm, sd), at(m, d), f"ev-{enc}"))
        for enc, (event, status, (m, d)) in CLAIM_ROWS.items():
            _, acct, payer, cents, (sm, sd) = by_enc[enc]
            cur.execute("""INSERT INTO claims (claim_id, account_id, encounter_id, payer_id,
                               plan_type, claim_type, status, total_charge_cents, service_start,
                               service_end, built_at, source_event_id, source_emitted_at)
                           VALUES (%s, %s, %s, %s, 'COMMERCIAL', 'PROFESSIONAL', %s, %s, %s, %s,
                                   %s, %s, %s)""",
                        (f"CLM-{enc}", acct, enc, payer, status, cents, date(2026, sm, sd),
                         date(2026, sm, sd), at(m, d), f"ev-{enc}", at(m, d)))
        cur.execute("""INSERT INTO x12_files (file_name, claim_type, version, sender_id,
                           receiver_id, isa13, gs06, st02, claim_ids, claim_count,
                           total_charge_cents)
                       VALUES ('f.x12', 'PROFESSIONAL', '005010X222A1', 'S', 'R', 1, 1, 1,
                               '{CLM-E5,CLM-E7}', 2, 50000)""")
        for claim, acct, cents, (m, d) in [("CLM-E5", "A5", 40000, (6, 12)),
                                           ("CLM-E7", "A7", 10000, (5, 22))]:
            cur.execute("""INSERT INTO x12_claims_sent (claim_id, file_name, account_id,
                               claim_type, total_charge_cents, sent_at)
                           VALUES (%s, 'f.x12', %s, 'PROFESSIONAL', %s, %s)""",
                        (claim, acct, cents, at(m, d)))
        for event, claim, accepted, (m, d) in [("ack5", "CLM-E5", True, (6, 13)),
                                                ("ack6", "CLM-E6", False, (6, 3))]:
            cur.execute("""INSERT INTO claim_status_events (event_id, claim_id, payer_id, accepted,
                               categories, statuses, reported_at, emitted_at)
                           VALUES (%s, %s, 'P1', %s, '{A1}', '[]', %s, %s)""",
                        (event, claim, accepted, at(m, d), at(m, d)))
        for entry_id, kind, ins, pat in REMIT:
            ledger(cur, entry_id, "A7", kind, ins, pat, at(6, 15), "CLM-E7", "P2", "remit-7")
        cur.execute("""INSERT INTO denials (denial_id, remittance_id, claim_id, account_id,
                           payer_id, group_code, reason_code, category, preventable, amount_cents,
                           denied_on, appeal_deadline, source_event_id, source_emitted_at)
                       VALUES ('den-7', 'remit-7', 'CLM-E7', 'A7', 'P2', 'CO', '197',
                               'AUTHORIZATION', true, 2000, '2026-06-15', '2026-09-15',
                               'remit-7', %s)""", (at(6, 15),))
    conn.close()
    return database_url


def test_dnfb_counts_discharged_encounters_without_a_claim_over_average_daily_gross_revenue(
        scenario):
    got = query(scenario, "SELECT * FROM kpi_dnfb_as_of(%s)", (D,))[0]
    # DNFB: E1 (in review, discharged 06-28) 50000 + E2 (coded, no claim) 30000 = 80000, 2.
    # FBNS: E3 (latest build CLEAN, not sent) 20000 + E4 (HELD) 10000 = 30000, 2 claims.
    # Days: 80000 / (165000 / 90) = 43.64; 30000 * 90 / 165000 = 16.36; 110000 * 90 / 165000 = 60.
    assert got == (2, 80000, 2, 30000, 110000, 165000, Decimal("43.6"), Decimal("16.4"),
                   Decimal("60.0"))


def test_dnfb_on_an_earlier_day_sees_only_what_had_happened_by_then(scenario):
    got = query(scenario, "SELECT * FROM kpi_dnfb_as_of(%s)", (date(2026, 6, 27),))[0]
    # 06-27: E1 not discharged yet and its charge not posted (gross 165000 - 50000 = 115000);
    # E2 coded, unbilled: 30000. E3 and E4 are both HELD then: 30000. 30000 * 90 / 115000 = 23.48.
    assert got == (1, 30000, 2, 30000, 60000, 115000, Decimal("23.5"), Decimal("23.5"),
                   Decimal("47.0"))


def test_dollars_wait_in_the_stage_each_encounter_or_claim_has_reached(scenario):
    got = query(scenario, "SELECT stage, items, cents FROM kpi_stage_dollars_as_of(%s)", (D,))
    assert got == [
        ("in_coding_review", 1, 50000),        # E1
        ("coded_not_claimed", 1, 30000),       # E2
        ("claim_held", 1, 10000),              # E4 (E3's latest build is CLEAN)
        ("built_not_submitted", 1, 20000),     # E3
        ("rejected_by_payer", 1, 5000),        # E6, 277CA rejected
        ("awaiting_adjudication", 1, 40000),   # E5, sent and accepted, no remittance
        ("denied_open", 1, 2000),              # E7's open denial
        ("patient_responsibility", 1, 1000),   # A7's transfer to the patient
    ]
    # On 06-21 E3's HELD build is its latest, E1 and E2 were not in coding, E4 was coded, unbilled.
    early = {s: (n, c) for s, n, c in query(
        scenario, "SELECT stage, items, cents FROM kpi_stage_dollars_as_of(%s)", (date(2026, 6, 21),))}
    assert early["in_coding_review"] == (0, 0) and early["coded_not_claimed"] == (1, 10000)
    assert early["claim_held"] == (1, 20000)


def test_clean_claim_rate_counts_each_claim_at_its_first_build(scenario):
    # First builds: E3 HELD, E4 HELD, E5, E6, E7 CLEAN -> 3 / 5 (the claims table alone says 4 / 5).
    whole = {k: (n, d, v) for k, n, d, v, _ in query(
        scenario, "SELECT * FROM kpi_flow_window('2026-01-01', %s)", (D,))}
    assert whole["clean_claim_rate"] == (3, 5, Decimal("0.6"))
    daily = {day: values(scenario, day)[("clean_claim_rate", "DAILY")][:2]
             for day in (date(2026, 6, 21), date(2026, 6, 29))}
    assert daily[date(2026, 6, 21)] == (0, 1)  # E3, held at its first build
    assert daily[date(2026, 6, 29)] == (0, 0)  # E3's rebuild is not a new claim


def values(dsn, day):
    return {(k, w): (n, d, v) for k, w, n, d, v, _ in query(
        dsn, "SELECT * FROM kpi_values(%s)", (day,))}


def test_kpi_values_of_a_day_and_its_30_days(scenario):
    v = values(scenario, D)
    assert len(v) == 27  # 7 flow KPIs x 2 windows + net days + aged A/R + 3 DNFB + 8 stages
    # Nothing was first built on 06-30; in 06-01..06-30 E3, E4 (HELD), E5, E6 (CLEAN): 2 / 4.
    assert v[("clean_claim_rate", "DAILY")] == (0, 0, None)
    assert v[("clean_claim_rate", "ROLLING_30D")] == (2, 4, Decimal("0.5"))
    # Days from service to first build: E3 2, E4 3, E5 2, E6 2 = 9 over 4 claims = 2.25 -> 2.3.
    assert v[("time_to_bill_days", "ROLLING_30D")] == (9, 4, Decimal("2.3"))
    # First 277CA in the window: E6 rejected (06-03), E5 accepted (06-13): 1 / 2.
    assert v[("first_pass_acceptance_rate", "ROLLING_30D")] == (1, 2, Decimal("0.5"))
    # First remitted in the window: E7 (06-15), denied $20.00 of $100.00, so not resolved.
    assert v[("remittance_denial_rate", "ROLLING_30D")] == (1, 1, Decimal(1))
    assert v[("remittance_denial_rate_dollars", "ROLLING_30D")] == (2000, 10000, Decimal("0.2"))
    assert v[("first_pass_resolution_rate", "ROLLING_30D")] == (0, 1, Decimal(0))
    # Payments 5000 / (charges posted 06-01..06-30: 165000 - E6 5000 - E7 10000 = 150000, minus
    # contractual 2000): 5000 / 148000 = 0.0338.
    assert v[("net_collection_rate", "ROLLING_30D")] == (5000, 148000, Decimal("0.0338"))
    # Open A/R 165000 - 5000 - 2000 = 158000; net charges 163000: 158000 * 90 / 163000 = 87.24.
    assert v[("net_days_in_ar", "DAILY")] == (158000, 163000, Decimal("87.2"))
    assert v[("aged_ar_over_90_rate", "DAILY")] == (0, 158000, Decimal(0))
    assert v[("dnfb_days", "DAILY")] == (80000, 165000, Decimal("43.6"))
    assert v[("stage_dollars.claim_held", "DAILY")] == (10000, 1, 10000)
    assert ("dnfb_days", "ROLLING_30D") not in v  # a balance has no 30-day sum
    units = {k: u for k, _, _, _, _, u in query(scenario, "SELECT * FROM kpi_values(%s)", (D,))}
    assert set(v) == {(k.name, w) for k in CATALOG for w in k.windows}  # what docs/kpis.md defines
    assert units == {k.name: k.unit for k in CATALOG}
    on_0613 = values(scenario, date(2026, 6, 13))
    assert on_0613[("first_pass_acceptance_rate", "DAILY")] == (1, 1, Decimal(1))


def test_report_shows_dnfb_and_stage_dollars(scenario):
    got = report.collect(scenario, D)
    assert got["kpis"]["dnfb_days"]["DAILY"] == {"numerator": 80000, "denominator": 165000,
                                                 "value": 43.6}
    assert got["stage_dollars"][0] == {"stage": "in_coding_review", "items": 1, "cents": 50000}
    text = report.render(got)
    assert "dnfb_days" in text and "43.6 days" in text and "$500.00" in text


def read_topic(bootstrap, topic):
    consumer = KafkaConsumer(**kafka_options(bootstrap), enable_auto_commit=False,
                             consumer_timeout_ms=3000)
    tp = TopicPartition(topic.name, 0)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    end = consumer.end_offsets([tp])[tp]
    out = []
    while consumer.position(tp) < end:
        for batch in consumer.poll(timeout_ms=2000).values():
            out += [(m.key.decode(), codec.decode_for(topic, m.value)) for m in batch]
    consumer.close()
    return out


def test_kpis_and_aging_snapshots_are_published_once_per_change(scenario, fresh_topics):
    conn = psycopg2.connect(scenario)
    kafka = KafkaProducer(**kafka_options(fresh_topics), acks="all")
    producer = Deliverer(lambda: kafka, timeout_s=30, attempts=3, producer=kafka)
    try:
        # Event time: the latest event is E3's rebuild and E1's review, on 06-29.
        first = kpi_publish.publish(conn, producer, days=1)
        assert (first.day, first.kpis, first.snapshots) == (date(2026, 6, 29), 27, 4)
        second = kpi_publish.publish(conn, producer, as_of=D, days=1)
        assert (second.kpis, second.snapshots) == (27, 4)
        again = kpi_publish.publish(conn, producer, as_of=D, days=1)
        assert (again.kpis, again.snapshots) == (0, 0)  # nothing changed, nothing sent
        with conn, conn.cursor() as cur:  # A7 pays its $10.00 on 06-30
            ledger(cur, "a7-pay", "A7", "PATIENT_PAYMENT", 0, -1000, at(6, 30), "PAY-7", None,
                   "pay-7")
        late = kpi_publish.publish(conn, producer)  # event day is now 06-30; 06-29 is unchanged
        assert (late.day, late.kpis, late.snapshots) == (D, 5, 1)
    finally:
        kafka.close()
        conn.close()

    kpis = read_topic(fresh_topics, KPIS)
    assert len(kpis) == 27 + 27 + 5
    latest = dict(kpis)
    assert len(latest) == 54
    changed = [k for k, _ in kpis[54:]]
    assert sorted(changed) == sorted([
        "net_collection_rate|DAILY|2026-06-30", "net_collection_rate|ROLLING_30D|2026-06-30",
        "net_days_in_ar|DAILY|2026-06-30", "aged_ar_over_90_rate|DAILY|2026-06-30",
        "stage_dollars.patient_responsibility|DAILY|2026-06-30"])
    crr = latest["clean_claim_rate|ROLLING_30D|2026-06-30"]
    assert (crr["numerator"], crr["denominator"], crr["value"], crr["unit"]) == (2, 4, "0.5000",
                                                                                "RATIO")
    assert latest["clean_claim_rate|DAILY|2026-06-30"]["value"] is None
    dnfb = latest["dnfb_days|DAILY|2026-06-30"]
    assert (dnfb["numerator"], dnfb["denominator"], dnfb["value"]) == (80000, 165000, "43.6")
    # 5000 + 1000 paid / 148000 net charges = 0.0405; open A/R 157000 * 90 / 163000 = 86.69.
    assert latest["net_collection_rate|ROLLING_30D|2026-06-30"]["value"] == "0.0405"
    assert latest["net_days_in_ar|DAILY|2026-06-30"]["value"] == "86.7"
    paid = latest["stage_dollars.patient_responsibility|DAILY|2026-06-30"]
    assert (paid["numerator"], paid["denominator"], paid["value"]) == (0, 0, "0")

    cells = read_topic(fresh_topics, AR_AGING_SNAPSHOTS)
    assert len(cells) == 4 + 4 + 1
    snap = {k: (r["open_cents"], r["accounts"]) for k, r in cells}
    # 06-30: P1 insurance 0-30: A1 50000 + A2 30000 + A5 40000 + A6 5000 (served 05-31: 30 days);
    # P2 insurance 0-30: A3 20000 + A4 10000; A7 (served 05-19, 42 days) insurance 2000, and its
    # patient 1000 under its primary payer P2, paid off on 06-30, so republished as zero.
    assert snap == {
        "2026-06-29|P1|INSURANCE|0-30": (125000, 4), "2026-06-29|P2|INSURANCE|0-30": (30000, 2),
        "2026-06-29|P2|INSURANCE|31-60": (2000, 1), "2026-06-29|P2|PATIENT|31-60": (1000, 1),
        "2026-06-30|P1|INSURANCE|0-30": (125000, 4), "2026-06-30|P2|INSURANCE|0-30": (30000, 2),
        "2026-06-30|P2|INSURANCE|31-60": (2000, 1), "2026-06-30|P2|PATIENT|31-60": (0, 0)}

    admin = KafkaAdminClient(**kafka_options(fresh_topics))
    try:
        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t.name)
                                          for t in (KPIS, AR_AGING_SNAPSHOTS)])
    finally:
        admin.close()
    topics = configs["topic"]
    assert {name: topics[name]["cleanup.policy"]["value"]
            for name in (KPIS.name, AR_AGING_SNAPSHOTS.name)} == {
        KPIS.name: "compact", AR_AGING_SNAPSHOTS.name: "compact"}


def built(event: str, status: str) -> dict:
    return {
        "event_id": event, "source_event_id": "enc-evt-1", "source_emitted_at": at(3, 2),
        "claim_id": "CLM-E0000001", "encounter_id": "E0000001", "account_id": "A0000000018",
        "occurred_at": at(3, 2), "claim_type": "PROFESSIONAL", "payer_id": "COMM-ACME",
        "plan_type": "COMMERCIAL", "billing_provider_npi": "1234567893", "facility_id": "FAC01",
        "service_start": date(2026, 3, 2), "service_end": date(2026, 3, 2),
        "diagnosis_codes": ["I10"],
        "lines": [{"line": 1, "procedure_code": "99213", "modifiers": [], "revenue_code": "0510",
                   "units": 1, "charge_cents": 14500, "service_date": date(2026, 3, 2),
                   "diagnosis_pointers": [1]}],
        "total_charge_cents": 14500, "status": status,
        "edits": [{"edit": "DX_POINTER", "message": "line 1 points nowhere", "line": 1}]
        if status == "HELD" else [],
    }


def test_the_sink_keeps_discharges_and_every_build_and_publishes_kpis(fresh_topics, database_url):
    import dataclasses

    from infra.settings import Settings
    from schemas.topics import CLAIMS, ENCOUNTERS
    from sinks.postgres.service import run_sink
    from tests import factories as f

    producer = KafkaProducer(**kafka_options(fresh_topics), acks="all")
    discharged = f.encounter(1) | {"discharged_at": at(3, 2, 18)}
    for enc in (discharged, f.encounter(2)):
        producer.send(ENCOUNTERS.name, key=codec.key_of(ENCOUNTERS, enc),
                      value=codec.encode(ENCOUNTERS.value_schema, enc))
    producer.send(ENCOUNTERS.name, key=b"k", value=b"garbage")  # the coding stage's to dead-letter
    for claim in (built("b1", "HELD"), built("b2", "CLEAN") | {"version": 2}):
        producer.send(CLAIMS.name, key=codec.key_of(CLAIMS, claim),
                      value=codec.encode(CLAIMS.value_schema, claim))
    producer.flush()
    producer.close()
    settings = dataclasses.replace(Settings(), kafka_bootstrap_servers=fresh_topics,
                                   database_url=database_url, sink_group="kpi-sink-test",
                                   sink_metrics_port=0, kpi_interval_s=0.001)
    assert run_sink(settings, idle_exit_s=3) == 5  # 3 on encounters (1 skipped), 2 on claims

    assert query(database_url, """SELECT encounter_id, discharged_at, total_charge_cents
                                    FROM encounter_discharges ORDER BY 1""") == [
        ("E0000001", at(3, 2, 18), 14500), ("E0000002", None, 14500)]
    assert query(database_url, "SELECT count(*) FROM dead_letters") == [(0,)]
    assert query(database_url, """SELECT event_id, version, status, encounter_id, service_end
                                    FROM claim_versions ORDER BY 1""") == [
        ("b1", 1, "HELD", "E0000001", date(2026, 3, 2)),
        ("b2", 2, "CLEAN", "E0000001", date(2026, 3, 2))]
    assert query(database_url, "SELECT count(*) FROM claims") == [(1,)]
    latest = dict(read_topic(fresh_topics, KPIS))
    first_build = latest["clean_claim_rate|DAILY|2026-03-02"]  # event day, not today
    assert (first_build["numerator"], first_build["denominator"]) == (0, 1)


def test_an_open_patient_part_with_no_payer_yet_gets_no_aging_cell(database_url):
    # A refund posted before the account's first charge (another partition's worker, or a lagging
    # one, got there first): the aging snapshot waits for the charge that names the payer.
    conn = psycopg2.connect(database_url)
    with conn, conn.cursor() as cur:
        ledger(cur, "refund-1", "A-EARLY", "PATIENT_REFUND", 0, 2500, at(6, 20), "RF-1", None,
               "pay-1")
    with conn.cursor() as cur:
        rows = kpi_publish.aging_records(cur, D, at(6, 30))
    conn.close()
    assert [r for r in rows if r["payer_id"] is None] == []
