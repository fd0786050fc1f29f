"""X12 in, stored (issue 9, root causes 14 and 16): the sink keeps what an 835, a 277 and a 999
say, equal to the file, and the acknowledgement views tell a 277CA from a 277 and a 999."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg2
import pytest

from processors.matching.rules import with_account
from producers.x12.cli import convert
from schemas import codec
from schemas import topics as T
from sinks.postgres.writer import SinkRecord, write_batch
from tests.integration.test_sink_writer import claim as built_claim
from tests.unit import x12_fixtures as X

pytestmark = pytest.mark.integration
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
GROUP = "test-x12-in"


def read(text: str, topic) -> list[dict]:
    result = convert(text, "in.edi", NOW)
    assert result.errors == []
    return [codec.decode_for(r.topic, r.value) for r in result.records if r.topic == topic]


def store(conn, topic, values: list[dict], start: int = 0) -> None:
    """As the sink gets them: encoded on `topic`, decoded, written in one batch."""
    write_batch(conn, GROUP, [
        SinkRecord(topic.name, 0, start + i, topic.value_schema,
                   codec.decode_for(topic, codec.encode(topic.value_schema, v)))
        for i, v in enumerate(values)])


def query(dsn, sql, *args):
    with psycopg2.connect(dsn) as c, c.cursor() as cur:
        cur.execute(sql, args)
        rows = cur.fetchall()
    c.close()
    return rows


@pytest.fixture
def conn(database_url):
    c = psycopg2.connect(database_url)
    yield c
    c.close()


def test_an_835_claim_and_its_lines_are_stored_as_the_file_says(conn, database_url):
    tx = X.remit_835(claims=[X.claim_a()])
    [remit] = read(X.interchange([X.group("HP", 1, "005010X221A1", [tx])]),
                   T.REMITTANCES_UNMATCHED)
    store(conn, T.REMITTANCES, [with_account(remit, "4000776")])
    store(conn, T.REMITTANCES, [with_account(remit, "4000776")], start=1)  # redelivered: no change

    [claim] = query(database_url, """
        SELECT claim_id, account_id, remittance_id, payer_id, payer_name,
               payer_claim_control_number, claim_status, total_charge_cents, total_paid_cents,
               patient_responsibility_cents, allowed_cents, check_amount_cents,
               claim_filing_indicator, facility_type_code, claim_frequency_code,
               statement_start, statement_end, received_on, amounts, adjudication, remarks,
               line_count, paid_at
          FROM remittances""")
    # CLP*4000776-1*1*225*130.5*0*MC*PCN-77*13*1, DTM*232/233, AMT*AU*150.5, MIA*3***125.75*MA01
    assert claim == (
        "4000776-1", "4000776", "1512345678:EFT0001", "COMM-ACME", "ACME HEALTH PLAN", "PCN-77",
        "1", 22500, 13050, 0, None, 13050, "MC", "13", "1", date(2026, 2, 10),
        date(2026, 2, 12), None, [{"qualifier": "AU", "amount_cents": 15050}],
        [{"element": "MIA01", "amount_cents": None, "value": "3"},
         {"element": "MIA04", "amount_cents": 12575, "value": None}],
        ["MA01", "MA15"], 2, datetime(2026, 3, 1, tzinfo=UTC))

    lines = query(database_url, """
        SELECT position, line, line_control_number, procedure_qualifier, procedure_code,
               modifiers, revenue_code, original_procedure_code, units, units_paid, units_billed,
               charge_cents, paid_cents, allowed_cents, service_start, service_end, adjustments,
               remarks, amounts
          FROM remittance_lines WHERE claim_id = '4000776-1' ORDER BY position""")
    # SVC*HC:V2020:RB*150*130.5*0450*1.5*HC:V2025*2, DTM*472, CAS*CO*45*19.5, REF*6R*LN-0001,
    # AMT*B6*130.5; SVC*HC:99213:25*75*0**0**1, CAS*CO*50*55**97*20, REF*6R*2, LQ*HE*N115
    assert lines == [
        (1, 1, "LN-0001", "HC", "V2020", ["RB"], "0450", "V2025", 2, Decimal("1.5"),
         Decimal(2), 15000, 13050, 13050, date(2026, 2, 10), date(2026, 2, 10),
         [{"group_code": "CO", "reason_code": "45", "amount_cents": 1950}], [],
         [{"qualifier": "B6", "amount_cents": 13050}]),
        (2, 2, "2", "HC", "99213", ["25"], None, None, 1, Decimal(0), Decimal(1), 7500, 0,
         None, None, None,
         [{"group_code": "CO", "reason_code": "50", "amount_cents": 5500},
          {"group_code": "CO", "reason_code": "97", "amount_cents": 2000}], ["N115"], []),
    ]
    # the stored lines add up to the claim, as the 835 balances
    assert query(database_url, """
        SELECT r.total_charge_cents = sum(l.charge_cents), r.total_paid_cents = sum(l.paid_cents)
          FROM remittances r JOIN remittance_lines l USING (event_id)
         GROUP BY r.event_id""") == [(True, True)]


def test_allowed_amounts_sum_to_the_claim_only_when_every_line_has_one(conn, database_url):
    claim_b = [("CLP", "HAR123", "2", "100", "60", "10", "12", "PCN-88", "11", "7"),
               ("DTM", "050", "20260205"),
               ("SVC", ("HC", "97110", "GP", "59"), "60", "40", "", "4"),
               ("AMT", "B6", "45"),
               ("CAS", "PR", "2", "5"), ("CAS", "CO", "45", "15"),
               ("SVC", ("NU", "0300"), "40", "20", "0300"),
               ("AMT", "B6", "25"), ("CAS", "PR", "1", "5"), ("CAS", "CO", "45", "15")]
    tx = X.remit_835(claims=[claim_b], check="60")
    [remit] = read(X.interchange([X.group("HP", 1, "005010X221A1", [tx])]),
                   T.REMITTANCES_UNMATCHED)
    store(conn, T.REMITTANCES, [with_account(remit, "HAR123")])
    assert query(database_url, """
        SELECT claim_status, total_paid_cents, patient_responsibility_cents, allowed_cents,
               claim_filing_indicator, facility_type_code, claim_frequency_code, received_on
          FROM remittances""") == [("2", 6000, 1000, 7000, "12", "11", "7", date(2026, 2, 5))]
    assert query(database_url, """
        SELECT procedure_qualifier, procedure_code, modifiers, revenue_code, units, units_paid,
               units_billed, allowed_cents
          FROM remittance_lines ORDER BY position""") == [
        ("HC", "97110", ["GP", "59"], None, 4, Decimal(4), Decimal(4), 4500),
        ("NU", "0300", [], "0300", 1, Decimal(1), Decimal(1), 2500)]


def test_277_and_999_fields_are_stored_with_their_transaction(conn, database_url):
    paid = [("TRN", 2, "TRACE-1"),
            ("STC", ("F1", "65"), "20260225", "", "225", "130.5", "20260220", "", "20260226",
             "EFT0001"),
            ("REF", "1K", "PCN-77"), ("REF", "EJ", "4000776-1"),
            ("DTP", "472", "RD8", "20260210-20260212")]
    missing = [("TRN", 2, "HAR123"), ("STC", ("D0", "35"), "20260228")]
    set_rejected = [("AK2", "837", "0002", "005010X222A1"), ("IK3", "CLM", "22", "2300", "8"),
                    ("CTX", ("CLM01", "CLM-9")), ("IK4", "2", "1028", "7"), ("IK5", "R", "5")]
    statuses = (read(X.response_277([paid, missing]), T.CLAIM_STATUS)
                + read(X.ack_999([set_rejected], ("AK9", "R", "1", "1", "0")), T.CLAIM_STATUS))
    store(conn, T.CLAIM_STATUS, statuses)
    assert query(database_url, """
        SELECT claim_id, transaction, accepted, categories, total_charge_cents, paid_cents,
               adjudicated_on, remitted_on, remittance_trace, payer_claim_control_number,
               service_start, service_end, reported_at
          FROM claim_status_events ORDER BY claim_id""") == [
        ("4000776-1", "277", True, ["F1"], 22500, 13050, date(2026, 2, 20), date(2026, 2, 26),
         "EFT0001", "PCN-77", date(2026, 2, 10), date(2026, 2, 12),
         datetime(2026, 2, 25, tzinfo=UTC)),
        ("CLM-9", "999", False, ["R", "R"], None, None, None, None, None, None, None, None,
         datetime(2026, 3, 1, tzinfo=UTC)),
        ("HAR123", "277", False, ["D0"], None, None, None, None, None, None, None, None,
         datetime(2026, 2, 28, tzinfo=UTC)),
    ]
    assert query(database_url, "SELECT statuses FROM claim_status_events WHERE claim_id = 'CLM-9'") \
        == [([{"category": "R", "code": "IK304:8", "entity": None},
              {"category": "R", "code": "IK403:7", "entity": None}],)]


def ack(claim_id: str, transaction: str, accepted: bool, on: date, category: str) -> dict:
    return {"event_id": f"{transaction}:{claim_id}:{on}", "claim_id": claim_id,
            "occurred_at": datetime(on.year, on.month, on.day, tzinfo=UTC), "emitted_at": NOW,
            "payer_id": "COMM-ACME", "accepted": accepted, "transaction": transaction,
            "statuses": [{"category": category, "code": "20", "entity": None}]}


def test_only_front_end_acknowledgements_decide_first_pass_acceptance(conn, database_url):
    d = [date(2026, 2, n) for n in range(1, 6)]
    store(conn, T.CLAIM_STATUS, [
        # C1: the payer's 277 response "not found" before its 277CA accepted it: accepted
        ack("C1", "277", False, d[0], "D0"), ack("C1", "277CA", True, d[1], "A2"),
        # C2: its 837 set accepted with errors by a 999, then rejected by the 277CA: rejected
        ack("C2", "999", True, d[0], "E"), ack("C2", "277CA", False, d[1], "A7"),
        # C3: its 837 set rejected by a 999, accepted by a 277CA after resending: rejected
        ack("C3", "999", False, d[0], "R"), ack("C3", "277CA", True, d[2], "A1"),
        # C4: only 277 responses: not acknowledged, not counted
        ack("C4", "277", False, d[0], "A3"), ack("C4", "277", True, d[3], "F1"),
    ])
    assert query(database_url, "SELECT claim_id, transaction, accepted "
                               "FROM claim_first_acknowledgements ORDER BY 1") == [
        ("C1", "277CA", True), ("C2", "277CA", False), ("C3", "999", False)]
    assert query(database_url, "SELECT numerator, denominator, value FROM kpi_flow_window("
                               "'-infinity', 'infinity') WHERE kpi = 'first_pass_acceptance_rate'"
                 ) == [(1, 3, Decimal("0.3333"))]
    # the streamed KPI reads the same definition, on the day of each claim's deciding ack
    assert query(database_url, "SELECT numerator, denominator FROM kpi_flow_window(%s, %s) "
                               "WHERE kpi = 'first_pass_acceptance_rate'", d[0], d[4]) == [(1, 3)]
    assert query(database_url, "SELECT numerator, denominator FROM kpi_flow_window(%s, %s) "
                               "WHERE kpi = 'first_pass_acceptance_rate'", d[1], d[1]) == [(1, 2)]


def test_the_claim_history_names_the_transaction_and_a_277_never_rejects(conn, database_url):
    d = [datetime(2026, 2, n, tzinfo=UTC) for n in range(1, 6)]
    store(conn, T.CLAIM_STATUS, [
        ack("C1", "999", False, d[0].date(), "R"), ack("C1", "999", True, d[1].date(), "E"),
        ack("C1", "277CA", True, d[2].date(), "A2"), ack("C1", "277", False, d[3].date(), "A3"),
        ack("C2", "277CA", False, d[0].date(), "A7"), ack("C2", "277", True, d[1].date(), "P1")])
    assert query(database_url, "SELECT claim_id, status FROM claim_status_history "
                               "ORDER BY claim_id, at") == [
        ("C1", "SET_REJECTED"), ("C1", "SET_ACCEPTED"), ("C1", "ACCEPTED"),
        ("C1", "STATUS_REJECTED"), ("C2", "REJECTED"), ("C2", "STATUS_ACCEPTED")]
    assert query(database_url, "SELECT claim_id, status FROM claim_current_status ORDER BY 1") == [
        ("C1", "STATUS_REJECTED"), ("C2", "STATUS_ACCEPTED")]


def test_a_claims_stage_follows_277ca_and_999_never_a_277(conn, database_url):
    claims = [built_claim(n, status="CLEAN") for n in (1, 2, 3)]
    store(conn, T.CLAIMS, claims)
    on = date(2026, 3, 3)
    store(conn, T.CLAIM_STATUS, [
        ack("CLM-E0000001", "277", False, on, "D0"),     # the payer has not found it yet
        ack("CLM-E0000002", "999", False, on, "R"),      # its 837 set was rejected
        ack("CLM-E0000003", "277CA", False, on, "A7")])  # the payer's front end rejected it
    assert query(database_url, "SELECT claim_id, stage FROM claim_stage_as_of(%s) ORDER BY 1",
                 on) == [("CLM-E0000001", "BUILT"), ("CLM-E0000002", "REJECTED"),
                         ("CLM-E0000003", "REJECTED")]
