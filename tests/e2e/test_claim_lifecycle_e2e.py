"""Corrected and secondary claims end to end on a real broker and database: a re-sent encounter
keeps its claim id as version 2 (frequency 7) and charges only its extra line; the primary
remittance bills the secondary payer, whose claim carries the primary's amounts; balances stay
exact to the cent."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from infra import pipeline, report
from producers.publish import publish
from schemas import topics as T
from schemas.accounts import make_account_id
from tests.e2e.test_coding_release_e2e import encounter, out, rows

pytestmark = pytest.mark.e2e
NOW = datetime.now(UTC)
DOS = date(2025, 11, 3)
LAB = {"line": 2, "charge_code": "CM100301", "units": 1, "unit_price_cents": 18500,
       "service_date": DOS}


def coded_encounter(n: int, **over) -> dict:
    rec = encounter(n, ("essential hypertension",))
    rec["diagnoses"][0]["code"] = "I10"
    return {**rec, "service_start": DOS, "service_end": DOS, **over}


def line(n, charge, paid, *adjustments):
    return {"line": n, "procedure_code": "", "units": 1, "charge_cents": charge, "paid_cents": paid,
            "remarks": [], "adjustments": [{"group_code": g, "reason_code": r, "amount_cents": a}
                                           for g, r, a in adjustments]}


def remittance(n: int, claim_id: str, payer: str, status: str, lines: list[dict]) -> dict:
    return {"event_id": f"rem-{claim_id}", "remittance_id": f"R-{claim_id}",
            "account_id": make_account_id(n), "claim_id": claim_id, "occurred_at": NOW,
            "emitted_at": NOW, "payer_id": payer, "payer_claim_control_number": f"ICN{n}{status}",
            "trace_number": "TRN1", "claim_status": status,
            "total_charge_cents": sum(ln["charge_cents"] for ln in lines),
            "total_paid_cents": sum(ln["paid_cents"] for ln in lines),
            "patient_responsibility_cents": sum(a["amount_cents"] for ln in lines
                                                for a in ln["adjustments"] if a["group_code"] == "PR"),
            "claim_adjustments": [], "lines": lines, "remarks": []}


@pytest.mark.parametrize("workers", [1, 3], ids=["1-worker", "3-workers"])
def test_a_corrected_claim_keeps_its_id_and_a_secondary_claim_bills_the_primarys_balance(
        run_settings, workers):
    dual = coded_encounter(9001, secondary_payer_id="MEDICAID")
    fixed = {**dual, "event_id": "enc-9001-r2", "charges": [*dual["charges"], LAB]}
    plain = coded_encounter(9002, payer_id="COMM-ACME", plan_type="COMMERCIAL")
    records = [
        out(T.ENCOUNTERS, dual), out(T.ENCOUNTERS, fixed), out(T.ENCOUNTERS, plain),
        out(T.REMITTANCES, remittance(9001, "CLM-E9001", "MEDICARE", "1", [
            line(1, 14500, 9000, ("CO", "45", 3500), ("PR", "2", 2000)),
            line(2, 18500, 12000, ("CO", "45", 5000), ("PR", "2", 1500))])),
        out(T.REMITTANCES, remittance(9001, "CLM-E9001-S", "MEDICAID", "2", [
            line(1, 14500, 2000, ("OA", "23", 12500)),
            line(2, 18500, 1500, ("OA", "23", 17000))])),
        out(T.REMITTANCES, remittance(9002, "CLM-E9002", "COMM-ACME", "1", [
            line(1, 14500, 9000, ("CO", "45", 3500), ("PR", "3", 2000))])),
    ]
    logs = run_settings.home / "logs"
    processors = [pipeline.rcm_service("process", run_settings, logs / f"worker-{i}").start()
                  for i in range(workers)]  # one group: the same results with one or three
    sink = pipeline.rcm_service("sink", run_settings, logs).start()
    try:
        publish(records[:3], run_settings)
        pipeline.wait_drained(run_settings, [*processors, sink], timeout=300)
        publish(records[3:] + records[3:4], run_settings)  # the primary 835 twice
        pipeline.wait_drained(run_settings, [*processors, sink], timeout=300)
    finally:
        for p in processors:
            p.stop()
        sink.stop()
    dsn = run_settings.dsn
    assert rows(dsn, """select claim_id, version, frequency_code, payer_sequence, total_charge_cents
                        from claims order by claim_id""") == [
        ("CLM-E9001", 2, "7", "PRIMARY", 33000),
        ("CLM-E9001-S", 1, "1", "SECONDARY", 33000),
        ("CLM-E9002", 1, "1", "PRIMARY", 14500)]
    assert rows(dsn, """select claim_id, version, frequency_code from claim_versions
                        order by claim_id, version""") == [
        ("CLM-E9001", 1, "1"), ("CLM-E9001", 2, "7"), ("CLM-E9001-S", 1, "1"), ("CLM-E9002", 1, "1")]
    assert rows(dsn, "select claim_id, status from claim_transitions order by status") == [
        ("CLM-E9001", "CORRECTED"), ("CLM-E9001", "SECONDARY_BILLED")]
    [(payer, primary, other)] = rows(dsn, """select payer_id, primary_claim_id, other_payer
                                             from claims where payer_sequence = 'SECONDARY'""")
    assert (payer, primary) == ("MEDICAID", "CLM-E9001")
    assert (other["payer_id"], other["paid_cents"], other["patient_responsibility_cents"]) == (
        "MEDICARE", 21000, 3500)
    assert rows(dsn, """select kind, sum(insurance_delta_cents), sum(patient_delta_cents)
                        from ledger_entries where account_id = %s and kind in
                        ('CHARGE', 'TRANSFER_TO_SECONDARY') group by kind order by kind"""
                .replace("%s", f"'{make_account_id(9001)}'")) == [
        ("CHARGE", 33000, 0), ("TRANSFER_TO_SECONDARY", 3500, -3500)]
    truth = {"accounts": {
        make_account_id(9001): {"insurance_cents": 0, "patient_cents": 0, "total_cents": 0},
        make_account_id(9002): {"insurance_cents": 0, "patient_cents": 2000, "total_cents": 2000}}}
    assert report.reconcile(dsn, truth) == []
