"""Coders' decisions end to end: reviewed encounters wait in the processor's table (restored from
its changelog after a SIGKILL) and are released, with claims, when a decision arrives."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from infra import pipeline, report
from producers.publish import publish
from schemas import codec
from schemas import topics as T
from schemas.accounts import make_account_id
from schemas.envelope import Outgoing

pytestmark = pytest.mark.e2e
NOW = datetime.now(UTC)
DOS = date(2025, 11, 3)


def encounter(n: int, texts: tuple[str, ...]) -> dict:
    return {
        "event_id": f"enc-{n}", "encounter_id": f"E{n}", "account_id": make_account_id(n),
        "occurred_at": NOW, "emitted_at": NOW, "patient_age": 61, "patient_sex": "M",
        "payer_id": "MEDICARE", "plan_type": "MEDICARE", "provider_npi": "1234567893",
        "facility_id": "CLINIC-01", "encounter_class": "OFFICE", "service_start": DOS,
        "service_end": DOS,
        "diagnoses": [{"sequence": i, "text": t, "code": None} for i, t in enumerate(texts, 1)],
        "charges": [{"line": 1, "charge_code": "CM100113", "units": 1, "unit_price_cents": 14500,
                     "service_date": DOS}],
        "procedures_pcs": [], "discharge_status": None,
    }


def decision(n: int, codes: tuple[str, ...], event_id: str | None = None) -> dict:
    return {"event_id": event_id or f"dec-{n}", "encounter_id": f"E{n}",
            "account_id": make_account_id(n), "coder_id": "CODER-07", "decided_at": NOW,
            "emitted_at": NOW,
            "diagnoses": [{"sequence": i, "code": c} for i, c in enumerate(codes, 1)],
            "procedures": []}


def out(topic: T.Topic, rec: dict) -> Outgoing:
    return Outgoing(topic, codec.key_of(topic, rec), codec.encode(topic.value_schema, rec))


def rows(dsn: str, sql: str) -> list[tuple]:
    return report.query(dsn, sql)


def test_decisions_release_reviewed_encounters_across_a_processor_crash(run_settings):
    logs = run_settings.home / "logs"
    processor = pipeline.rcm_service("process", run_settings, logs).start()
    sink = pipeline.rcm_service("sink", run_settings, logs).start()
    try:
        publish([
            out(T.ENCOUNTERS, encounter(1, ("feeling off", "essential hypertension"))),  # review
            out(T.ENCOUNTERS, encounter(2, ("not quite right",))),                        # review
            out(T.ENCOUNTERS, encounter(3, ("essential hypertension",))),                 # automatic
        ], run_settings)
        # a coder's decision comes from the console's principal (the hospital's may not write it)
        publish([out(T.CODING_DECISIONS, decision(4, ("R53.83",)))],  # before its encounter
                run_settings, service="console")
        pipeline.wait_drained(run_settings, [processor, sink], timeout=300)
        publish([out(T.ENCOUNTERS, encounter(4, ("out of sorts",)))], run_settings)
        pipeline.wait_drained(run_settings, [processor, sink], timeout=300)
        assert [r[0] for r in rows(run_settings.dsn, "select encounter_id from coding_review_queue "
                                                     "order by 1")] == ["E1", "E2"]

        processor.kill()  # SIGKILL: the pending reviews must come back from the changelog
        processor = pipeline.rcm_service("process", run_settings, logs).start()
        publish([
            out(T.CODING_DECISIONS, decision(1, ("R53.83", "I10"))),
            out(T.CODING_DECISIONS, decision(1, ("R53.83", "I10"))),          # redelivered
            out(T.CODING_DECISIONS, decision(1, ("R69",), event_id="dec-1b")),  # too late: refused
            out(T.CODING_DECISIONS, decision(2, ("E11",))),                    # not billable
        ], run_settings, service="console")
        pipeline.wait_drained(run_settings, [processor, sink], timeout=300)
    finally:
        processor.stop()
        sink.stop()

    dsn = run_settings.dsn
    assert [r[0] for r in rows(dsn, "select encounter_id from coding_review_queue")] == ["E2"]
    assert rows(dsn, "select encounter_id, diagnosis_codes, status from claims order by 1") == [
        ("E1", ["R53.83", "I10"], "CLEAN"), ("E3", ["I10"], "CLEAN"), ("E4", ["R53.83"], "CLEAN")]
    suggested = {enc: {c for s in sugg for c in (s["code"], *s["also"]) if c}
                 for enc, sugg in rows(dsn, "select encounter_id, suggestions from coding_review")}
    chosen = {"E1": {"R53.83", "I10"}, "E4": {"R53.83"}}
    assert "I10" in suggested["E1"]  # "essential hypertension" codes itself
    assert rows(dsn, "select encounter_id, coder_id, kept, added, dropped from coding_decisions "
                     "order by 1") == [
        (e, "CODER-07", len(chosen[e] & suggested[e]), len(chosen[e] - suggested[e]),
         len(suggested[e] - chosen[e])) for e in ("E1", "E4")]
    reasons = sorted(r[0] for r in rows(dsn, "select reason from dead_letters "
                                             "where source_topic = 'coding-decisions'"))
    assert len(reasons) == 2
    assert any("already released by decision dec-1" in r for r in reasons)
    assert any("'E11' is a category with subcodes" in r for r in reasons)
    [(encounters, auto, in_review, released)] = rows(
        dsn, "select encounters, auto_coded, in_review, released from coding_kpis")
    assert (encounters, auto, in_review, released) == (4, 1, 1, 2)


def test_a_synthea_line_the_charge_master_lacks_is_reviewed_then_billed_at_its_price(run_settings):
    """Issue 9, root cause 11: a Synthea Claim's SNOMED CT line travels with its code and price to
    coding review; the coder's decision gives it a charge code and the claim and the balance are
    the bundle's amounts to the cent."""
    import json

    from producers.fhir.adapter import convert
    from producers.fhir.read import read_bytes
    from tests.unit.test_fhir_synthea import ENC, synthea_bundle, uid

    doc = synthea_bundle()
    doc["entry"] = [e for e in doc["entry"] if e["resource"]["resourceType"] != "ExplanationOfBenefit"]
    converted = convert(read_bytes(json.dumps(doc).encode(), "synthea.json"))
    visit, account = uid(ENC), uid(ENC)
    logs = run_settings.home / "logs"
    processor = pipeline.rcm_service("process", run_settings, logs).start()
    sink = pipeline.rcm_service("sink", run_settings, logs).start()
    dsn = run_settings.dsn
    try:
        publish(converted.records, run_settings, service="fhir")
        pipeline.wait_drained(run_settings, [processor, sink], timeout=300)
        [(total, reasons)] = rows(dsn, "select total_charge_cents, reasons from coding_review")
        assert total == 28799 + 14500
        assert ("charge line 1: SNOMED CT 117015009 'Throat culture (procedure)' is not in the charge "
                "master: give the line a charge-master or CPT/HCPCS code") in reasons
        assert not any(account in r for r in reasons)
        assert rows(dsn, "select count(*) from claims") == [(0,)]
        dec = {"event_id": "dec-synthea", "encounter_id": visit, "account_id": account,
               "coder_id": "CODER-07", "decided_at": NOW, "emitted_at": NOW,
               "diagnoses": [{"sequence": 1, "code": "J02.9"}],
               "procedures": [{"line": 1, "procedure_code": "87070", "modifiers": [],
                               "charge_code": "CM100304"}]}
        publish([out(T.CODING_DECISIONS, dec)], run_settings, service="console")
        pipeline.wait_drained(run_settings, [processor, sink], timeout=300)
    finally:
        processor.stop()
        sink.stop()

    [(payer, total, lines, codes)] = rows(
        dsn, "select payer_id, total_charge_cents, lines, diagnosis_codes from claims")
    assert (payer, total, codes) == ("Medicaid", 28799 + 14500, ["J02.9"])
    assert [(ln["procedure_code"], ln["revenue_code"], ln["units"], ln["charge_cents"])
            for ln in lines] == [("87070", "0307", 1, 28799), ("99213", "0510", 1, 14500)]
    assert rows(dsn, "select charges_cents, total_cents from account_balances "
                     f"where account_id = '{account}'") == [(43299, 43299)]
    assert rows(dsn, "select count(*) from coding_review_queue") == [(0,)]
