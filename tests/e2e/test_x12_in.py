"""X12 in, end to end: 835 remittances through `rcm produce x12` are matched to the claims'
accounts (one arrives before its claim and waits, across a processor SIGKILL), post to the ledger
(a reversal and its correction included) and flag denials; a bad transaction is dead-lettered
while its good neighbour goes through; every claim payment and its lines land in remittances and
remittance_lines as the file says; 277CA, 277 and 999 reports land in claim_status_events with
their transaction, and only front-end acknowledgements count in the first-pass acceptance view."""
from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime

import pytest

from infra import pipeline, report
from producers.publish import publish
from schemas import codec
from schemas import topics as T
from schemas.accounts import make_account_id
from schemas.envelope import Outgoing
from tests.support import x12_generate as G
from tests.unit import x12_fixtures as X

pytestmark = pytest.mark.e2e
NOW = datetime.now(UTC)
DOS = date(2025, 11, 3)
PAID_ON = date(2025, 12, 1)


def encounter(n: int) -> Outgoing:
    rec = {
        "event_id": f"enc-{n}", "encounter_id": f"E{n}", "account_id": make_account_id(n),
        "occurred_at": NOW, "emitted_at": NOW, "patient_age": 52, "patient_sex": "F",
        "payer_id": "COMM-ACME", "plan_type": "COMMERCIAL", "provider_npi": "1234567893",
        "facility_id": "CLINIC-01", "encounter_class": "OFFICE", "service_start": DOS,
        "service_end": DOS,
        "diagnoses": [{"sequence": 1, "text": "essential hypertension", "code": None}],
        "charges": [{"line": 1, "charge_code": "CM100113", "units": 1, "unit_price_cents": 14500,
                     "service_date": DOS}],
        "procedures_pcs": [], "discharge_status": None,
    }
    return Outgoing(T.ENCOUNTERS, codec.key_of(T.ENCOUNTERS, rec),
                    codec.encode(T.ENCOUNTERS.value_schema, rec))


def adj(group, carc, cents):
    return {"group_code": group, "reason_code": carc, "amount_cents": cents}


def paid(claim_id: str, paid_cents: int, adjustments: list[dict], status: str = "1",
         sign: int = 1) -> dict:
    s = sign
    line = {"line": 1, "procedure_code": "99213", "units": 1, "charge_cents": s * 14500,
            "paid_cents": s * paid_cents, "remarks": [],
            "adjustments": [{**a, "amount_cents": s * a["amount_cents"]} for a in adjustments]}
    return {"claim_id": claim_id, "claim_status": status, "total_charge_cents": s * 14500,
            "total_paid_cents": s * paid_cents,
            "patient_responsibility_cents": s * sum(a["amount_cents"] for a in adjustments
                                                    if a["group_code"] == "PR"),
            "payer_claim_control_number": f"PCN-{claim_id}", "claim_adjustments": [],
            "lines": [line], "remarks": []}


def check(claims: list[dict], trace: str, control: int) -> str:
    return G.x835(claims, payer_id="COMM-ACME", payer_name="ACME HEALTH PLAN", trace=trace,
                  paid_on=PAID_ON, control=control)


def produce_x12(settings, *files) -> subprocess.CompletedProcess:
    """The real command, as an operator runs it."""
    return subprocess.run([sys.executable, "-m", "infra.cli", "produce", "x12", *map(str, files)],
                          env=pipeline.child_env(settings), capture_output=True, text=True, check=False,
                          timeout=120)


def rows(dsn: str, sql: str) -> list[tuple]:
    return report.query(dsn, sql)


def balances(dsn: str) -> dict[str, tuple[int, int]]:
    return {a: (i, p) for a, i, p in rows(
        dsn, "select account_id, insurance_cents, patient_cents from account_balances")}


def test_835_and_277ca_files_post_match_and_measure_first_pass(run_settings, tmp_path):
    dsn, logs = run_settings.dsn, run_settings.home / "logs"
    early = tmp_path / "early.835"  # E3's payment, before E3's claim exists
    early.write_text(check([paid("CLM-E3", 10000, [adj("CO", "45", 4500)])], "EFT-100", 100))
    processor = pipeline.rcm_service("process", run_settings, logs).start()
    sink = pipeline.rcm_service("sink", run_settings, logs).start()
    try:
        done = produce_x12(run_settings, early)
        assert done.returncode == 0, done.stderr
        publish([encounter(1), encounter(2)], run_settings)
        pipeline.wait_drained(run_settings, [processor, sink], timeout=300)
        assert [r[0] for r in rows(dsn, "select claim_id from claims order by 1")] == [
            "CLM-E1", "CLM-E2"]
        assert make_account_id(3) not in balances(dsn)  # waiting for its claim

        processor.kill()  # SIGKILL: the waiting remittance must come back from claim-accounts
        processor = pipeline.rcm_service("process", run_settings, logs).start()

        first = tmp_path / "checks.835"
        reversal = paid("CLM-E1", 9000, [adj("CO", "45", 3500), adj("PR", "3", 2000)],
                        status="22", sign=-1)
        bad = check([paid("CLM-E2", 0, [adj("CO", "197", 14500)], status="4")], "EFT-BAD", 103)
        first.write_text(
            check([paid("CLM-E1", 9000, [adj("CO", "45", 3500), adj("PR", "3", 2000)]),
                   paid("CLM-E2", 0, [adj("CO", "197", 14500)], status="4")], "EFT-101", 101)
            + check([reversal, paid("CLM-E1", 9500, [adj("CO", "45", 3500),
                                                      adj("PR", "3", 1500)])], "EFT-102", 102)
            + bad.replace("CLP*CLM-E2*4*145*0", "CLP*CLM-E2*4*145*O"))
        acks = tmp_path / "acks.277"
        acks.write_text(
            G.x277ca([{"claim_id": "CLM-E1", "statuses": [("A2", "20", "PR")],
                       "total_charge_cents": 14500, "service_start": DOS},
                      {"claim_id": "CLM-E2", "statuses": [("A7", "21", "IL")],
                       "total_charge_cents": 14500},
                      {"claim_id": "CLM-E3", "statuses": [("A1", "19", "PR")],
                       "total_charge_cents": 14500}],
                     payer_id="COMM-ACME", payer_name="ACME", on=date(2025, 11, 5), control=7)
            + G.x277ca([{"claim_id": "CLM-E2", "statuses": [("A2", "20", "PR")],
                         "total_charge_cents": 14500}],
                       payer_id="COMM-ACME", payer_name="ACME", on=date(2025, 11, 9), control=8))
        status = tmp_path / "status.x12"  # a 277 response and a 999, two ISAs, other delimiters
        status.write_bytes(("\ufeff" + X.response_277(
            [[("TRN", 2, "TRACE-9"), ("STC", ("F1", "65"), "20251202", "", "145", "95"),
              ("REF", "EJ", "CLM-E1")]], control=21, between="\r\n")
            + X.ack_999([[("AK2", "837", "0002", "005010X222A1"),
                          ("IK3", "CLM", "22", "2300", "8"), ("CTX", ("CLM01", "CLM-E2")),
                          ("IK4", "2", "1028", "7"), ("IK5", "R", "5")]],
                        ("AK9", "R", "1", "1", "0"), control=22, component=">",
                        terminator="\n")).encode())
        done = produce_x12(run_settings, first, acks, status)
        assert done.returncode == 1  # one transaction was bad
        assert "checks.835: segment" in done.stderr and "(CLP): CLP04 'O' is not a number" in done.stderr
        publish([encounter(3)], run_settings)
        pipeline.wait_drained(run_settings, [processor, sink], timeout=300)
    finally:
        processor.stop()
        sink.stop()

    assert balances(dsn) == {
        make_account_id(1): (0, 1500),       # paid, reversed, paid again with less PR
        make_account_id(2): (14500, 0),      # denied: open in insurance pending appeal
        make_account_id(3): (0, 0),          # the early remittance, matched once E3's claim came
    }
    assert rows(dsn, "select count(*) from ledger_entries where reason = 'REVERSAL'") == [(1,)]
    assert rows(dsn, "select claim_id, account_id, category, amount_cents from denials") == [
        ("CLM-E2", make_account_id(2), "AUTHORIZATION", 14500)]
    [(stage, topic, reason, payload)] = rows(
        dsn, "select stage, source_topic, reason, payload from dead_letters")
    assert (stage, topic) == ("x12_adapter", "remittances-unmatched")
    assert reason.startswith("checks.835: segment ") and b"EFT-BAD" in bytes(payload)
    assert rows(dsn, "select claim_id, transaction, accepted, categories from claim_status_events "
                     "order by reported_at, claim_id") == [
        ("CLM-E1", "277CA", True, ["A2"]), ("CLM-E2", "277CA", False, ["A7"]),
        ("CLM-E3", "277CA", True, ["A1"]), ("CLM-E2", "277CA", True, ["A2"]),
        ("CLM-E1", "277", True, ["F1"]), ("CLM-E2", "999", False, ["R", "R"])]
    assert rows(dsn, "select total_charge_cents, paid_cents from claim_status_events "
                     "where transaction = '277'") == [(14500, 9500)]  # STC04, STC05
    # every good claim payment is stored as the 835 gave it, lines included; the bad one is not
    assert sorted(rows(dsn, "select claim_id, account_id, claim_status, total_charge_cents, "
                            "total_paid_cents, patient_responsibility_cents, trace_number "
                            "from remittances")) == [
        ("CLM-E1", make_account_id(1), "1", 14500, 9000, 2000, "EFT-101"),
        ("CLM-E1", make_account_id(1), "1", 14500, 9500, 1500, "EFT-102"),
        ("CLM-E1", make_account_id(1), "22", -14500, -9000, -2000, "EFT-102"),
        ("CLM-E2", make_account_id(2), "4", 14500, 0, 0, "EFT-101"),
        ("CLM-E3", make_account_id(3), "1", 14500, 10000, 0, "EFT-100")]
    assert sorted(rows(dsn, "select r.trace_number, l.claim_id, l.line, l.procedure_qualifier, "
                            "l.procedure_code, l.units_paid::text, l.charge_cents, l.paid_cents, "
                            "l.adjustments from remittance_lines l join remittances r "
                            "using (event_id) where r.claim_status <> '22'")) == [
        ("EFT-100", "CLM-E3", 1, "HC", "99213", "1", 14500, 10000,
         [adj("CO", "45", 4500)]),
        ("EFT-101", "CLM-E1", 1, "HC", "99213", "1", 14500, 9000,
         [adj("CO", "45", 3500), adj("PR", "3", 2000)]),
        ("EFT-101", "CLM-E2", 1, "HC", "99213", "1", 14500, 0, [adj("CO", "197", 14500)]),
        ("EFT-102", "CLM-E1", 1, "HC", "99213", "1", 14500, 9500,
         [adj("CO", "45", 3500), adj("PR", "3", 1500)])]
    assert rows(dsn, "select statuses from claim_status_events where claim_id = 'CLM-E2' "
                     "order by reported_at desc limit 1") == [(
        [{"category": "R", "code": "IK304:8", "entity": None},
         {"category": "R", "code": "IK403:7", "entity": None}],)]
    [(accepted, claims, rate)] = rows(
        dsn, "select numerator, denominator, value from kpi_flow_window('-infinity', 'infinity')"
             " where kpi = 'first_pass_acceptance_rate'")
    assert (claims, accepted, float(rate)) == (3, 2, 0.6667)
