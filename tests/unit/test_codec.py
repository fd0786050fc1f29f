"""The contracts: every .avsc parses, round-trips, and `avro` writes the same bytes as fastavro."""
from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from importlib import resources

import avro.io
import avro.schema
import pytest
from kafka.partitioner import murmur2 as kafka_python_murmur2

from processors.denials.rules import flag_denials
from processors.ledger.rules import entries_for_remittance, journals
from processors.stage import partition_for
from schemas import codec
from schemas import topics as T
from tests import factories as F

T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


def samples() -> dict[str, dict]:
    line = {"line": 1, "procedure_code": "99213", "units": 1, "charge_cents": 14500,
            "paid_cents": 0, "adjustments": [F.adjustment("CO", "50", 14500)], "remarks": ["N115"]}
    denied = F.remittance(lines=[line], status="4")
    return {
        "EncounterReceived": F.encounter(diagnoses=[
            {"sequence": 1, "text": "HTN", "code": None}, {"sequence": 2, "text": "DM2", "code": "E11.9"}],
            charges=[{"line": 1, "charge_code": "CM100113", "units": 1, "unit_price_cents": 14500,
                      "service_date": F.DOS, "source_code": None},
                     {"line": 2, "charge_code": "", "units": 1, "unit_price_cents": 22000,
                      "service_date": F.DOS, "source_code": {
                          "system": "http://snomed.info/sct", "code": None,
                          "text": "Well child visit"}}])
        | {"procedures_pcs": [{"sequence": 1, "code": "0DTJ4ZZ"}], "discharge_status": "01",
           "discharged_at": T0, "secondary_payer_id": "MEDICAID", "cancelled": None},
        "RemittanceReceived": F.remittance(lines=[{
            "line": 1, "procedure_code": "V2020", "units": 2, "charge_cents": 14500,
            "paid_cents": 9000, "adjustments": [F.adjustment("CO", "45", 5500)], "remarks": [],
            "line_control_number": "LN-0001", "procedure_qualifier": "HC", "modifiers": ["RB"],
            "revenue_code": "0450", "units_paid": "1.5", "units_billed": "2",
            "original_procedure_code": "V2025", "original_modifiers": ["LT"],
            "service_start": F.DOS, "service_end": F.DOS, "allowed_cents": 9000,
            "amounts": [{"qualifier": "B6", "amount_cents": 9000}]}]) | {
            "claim_filing_indicator": "MC", "facility_type_code": "13",
            "claim_frequency_code": "1", "drg_code": "470", "statement_start": F.DOS,
            "statement_end": F.DOS, "received_on": F.DOS,
            "amounts": [{"qualifier": "AU", "amount_cents": 9000}],
            "adjudication": [{"element": "MIA01", "amount_cents": None, "value": "3"},
                             {"element": "MIA04", "amount_cents": 12575, "value": None}],
            "payer_name": "ACME HEALTH PLAN", "check_amount_cents": 8873,
            "provider_adjustments": [{"provider_id": "1234567893", "fiscal_period_end": F.DOS,
                                      "reason_code": "WO", "reference": "PCN9", "amount_cents": 127}]},
        "PaymentReceived": F.payment(),
        "EncounterCoded": {
            "event_id": "e:coded", "source_event_id": "e", "source_emitted_at": T0,
            "encounter_id": "E1", "account_id": "A0000000018", "occurred_at": T0, "patient_age": 70,
            "patient_sex": "M", "payer_id": "MEDICARE", "plan_type": "MEDICARE",
            "provider_npi": "1234567893", "facility_id": "FAC01", "encounter_class": "OFFICE",
            "service_start": F.DOS, "service_end": F.DOS,
            "diagnoses": [{"sequence": 1, "code": "I10", "confidence": 0.5, "evidence": "HTN"}],
            "procedures": [{"line": 1, "charge_code": "CM100113", "procedure_code": "99213",
                            "modifiers": ["25"], "revenue_code": "0510", "units": 1,
                            "charge_cents": 14500, "service_date": F.DOS}],
            "procedures_pcs": [{"sequence": 1, "code": "0DTJ4ZZ"}],
            "drg": {"drg": "399", "mdc": "06", "description": "Appendix Procedures without CC/MCC",
                    "grouper_version": "421"},
            "coded_by": {"decision_id": "dec-1", "coder_id": "CODER-07", "decided_at": T0,
                         "suggested": ["I10", "E11.9"]},
            "secondary_payer_id": None, "cancelled": True},
        "CodingReviewRequested": {
            "event_id": "e:review", "source_event_id": "e", "source_emitted_at": T0,
            "encounter_id": "E1", "account_id": "A0000000018", "occurred_at": T0,
            "payer_id": "MEDICARE", "encounter_class": "EMERGENCY", "total_charge_cents": 99,
            "reasons": ["dx 1: too vague"],
            "suggestions": [{"sequence": 1, "text": "unwell", "code": None, "confidence": 0.25,
                             "also": []}],
            "patient_age": 41, "patient_sex": "F", "date_of_service": F.DOS},
        "ClaimBuilt": {
            "event_id": "e:claim", "source_event_id": "e", "source_emitted_at": T0,
            "claim_id": "CLM-E1", "encounter_id": "E1", "account_id": "A0000000018",
            "occurred_at": T0, "claim_type": "PROFESSIONAL", "payer_id": "MEDICARE",
            "plan_type": "MEDICARE", "billing_provider_npi": "1234567893", "facility_id": "FAC01",
            "service_start": F.DOS, "service_end": F.DOS, "diagnosis_codes": ["I10"],
            "lines": [{"line": 1, "procedure_code": "99213", "modifiers": [], "revenue_code": "0510",
                       "units": 1, "charge_cents": 14500, "service_date": F.DOS,
                       "diagnosis_pointers": [1]}],
            "total_charge_cents": 14500, "status": "HELD",
            "edits": [{"edit": "DUPLICATE_LINE", "message": "line 2 repeats line 1", "line": 2},
                      {"edit": "MISSING_DIAGNOSIS", "message": "none", "line": None}],
            "warnings": [{"edit": "CODE_SET_STALE", "message": "past FY2026", "line": None}],
            "pcs_codes": ["0DTJ4ZZ"],
            "drg": {"drg": "399", "mdc": None, "description": None, "grouper_version": "421"},
            "frequency_code": "7", "version": 2, "original_reference": "PCN1",
            "payer_sequence": "SECONDARY", "primary_claim_id": "CLM-E0", "secondary_payer_id": None,
            "other_payer": {"payer_id": "COMM-ACME", "plan_type": "COMMERCIAL", "claim_id": "CLM-E0",
                            "payer_claim_control_number": "PCN0", "adjudicated_on": F.DOS,
                            "paid_cents": 9000, "patient_responsibility_cents": 2000,
                            "adjustments": [{"group_code": "PR", "reason_code": "2",
                                             "amount_cents": 2000}]}},
        "ClaimState": {
            "claim_id": "CLM-E1", "account_id": "A0000000018", "version": 2, "content_hash": "ab",
            "claim": b"\x00\x01", "sent_clean": True, "payer_claim_control_number": "PCN1",
            "sources": ["e", "e2"], "secondary_billed_by": None, "waiting_remittance": None},
        "EncounterCharges": {
            "encounter_id": "E1", "account_id": "A0000000018", "event_id": "e2",
            "applied": ["e", "e2"],
            "lines": [{"line": 1, "amount_cents": 14500, "self_pay": False, "payer_id": "MEDICARE"}],
            "previous": []},
        "DenialFlagged": flag_denials(denied)[0],
        "LedgerEntriesPosted": journals(entries_for_remittance(F.remittance()))[0],
        "AccountBalanceUpdated": {
            "account_id": "A0000000018", "insurance_cents": -5, "patient_cents": 2000,
            "total_cents": 1995, "charges_cents": 14500, "payments_cents": 9000,
            "adjustments_cents": 3505, "entries": 4, "updated_at": T0},
        "CodingDecision": {
            "event_id": "dec-1", "encounter_id": "E1", "account_id": "A0000000018",
            "coder_id": "CODER-07", "decided_at": T0, "emitted_at": T0,
            "diagnoses": [{"sequence": 1, "code": "R53.83"}],
            "procedures": [{"line": 1, "procedure_code": "99214", "modifiers": ["25"],
                            "charge_code": None},
                           {"line": 2, "procedure_code": "", "modifiers": [],
                            "charge_code": "CM100113"}],
            "corrects_claim_id": "CLM-E1"},
        "PendingCoding": {
            "encounter_id": "E1", "account_id": "A0000000018", "encounter": b"\x00\x00",
            "suggested": ["I10"], "decision": None, "released": False},
        "VisitEvent": {
            "event_id": "hl7v2:HOSP-01:MSG0001", "kind": "CHARGES", "source": "hl7v2 DFT^P03",
            "visit_number": "V1", "account_id": "A0000000018", "occurred_at": T0, "emitted_at": T0,
            "patient_age": 61, "patient_sex": "M", "encounter_class": "INPATIENT",
            "payer_id": "MEDICARE", "plan_type": "MEDICARE", "provider_npi": "1234567893",
            "facility_id": "HOSP-01", "service_start": F.DOS, "service_end": None,
            "discharge_status": None,
            "diagnoses": [{"sequence": 1, "text": "CAP", "code": None}],
            "procedures_pcs": [{"sequence": 1, "code": "0DTJ4ZZ"}],
            "charges": [{"transaction_id": "T1", "charge_code": "CM100113", "units": 1,
                         "unit_price_cents": 14500, "service_date": F.DOS, "source_code": None},
                        {"transaction_id": "T2", "charge_code": "", "units": 1,
                         "unit_price_cents": 22000, "service_date": F.DOS,
                         "source_code": {"system": "SCT", "code": "410620009",
                                         "text": "Well child visit (procedure)"}}]},
        "ClaimStatusReported": {
            "event_id": "277:1:CLM-E1", "claim_id": "CLM-E1", "occurred_at": T0, "emitted_at": T0,
            "payer_id": "MEDICARE", "accepted": False,
            "statuses": [{"category": "A7", "code": "21", "entity": "IL"}],
            "total_charge_cents": 14500, "payer_claim_control_number": None,
            "service_start": F.DOS, "service_end": F.DOS, "transaction": "277",
            "paid_cents": 9000, "adjudicated_on": F.DOS, "remitted_on": F.DOS,
            "remittance_trace": "EFT0001", "submitter_id": "RCMSYNTH",
            "group_control_number": "17", "set_control_number": "0017"},
        "PendingVisit": {
            "visit_number": "V1", "account_id": "A0000000018", "events": [b"\x00"],
            "status": "DISCHARGED", "encounter_event_id": None},
        "ClaimAccount": {"claim_id": "CLM-E1", "account_id": None, "waiting": [b"\x00\x01"]},
        **rule_samples(),
        "AppealEvent": {
            "event_id": "apl-1", "action": "WRITTEN_OFF", "account_id": "A0000000018",
            "claim_id": "CLM-E1", "denial_id": "rem-1:denial:1:0", "partition": None,
            "occurred_at": T0, "emitted_at": T0, "amount_cents": 1200, "reference": "APL-7",
            "reason_code": "SMALL_BALANCE"},
        "DenialDeadline": {
            "event_id": "rem-1:denial:1:0:APPROACHING", "kind": "APPROACHING",
            "denial_id": "rem-1:denial:1:0", "claim_id": "CLM-E1", "account_id": "A0000000018",
            "payer_id": "MEDICARE", "owner_queue": "BILLING", "open_cents": 14500,
            "appeal_deadline": F.DOS, "clock_at": T0, "source_emitted_at": T0},
        "OpenDenial": {
            "denial_id": "rem-1:denial:1:0", "account_id": "A0000000018", "denial": b"\x00",
            "status": "APPEALED", "open_cents": 14500, "warned": True, "expired": False,
            "held": [], "history": [b"\x00\x02"]},
        "DenialStatusChanged": {
            "event_id": "apl-1", "denial_id": "rem-1:denial:1:0", "claim_id": "CLM-E1",
            "account_id": "A0000000018", "version": 1, "action": "FILED", "status": "APPEALED",
            "amount_cents": 0, "open_cents": 14500, "occurred_at": T0, "reference": "APL-7",
            "reason_code": None, "source_emitted_at": T0},
        "DeadLetter": {
            "event_id": "payments:0:7:post_payments", "source_topic": "payments",
            "source_partition": 0, "source_offset": 7, "stage": "post_payments",
            "error": "INVALID", "reason": "amount 0 is not positive", "key": b"k",
            "payload": b"\x00\x01", "dead_lettered_at": T0},
        "KpiValue": {"kpi": "clean_claim_rate", "window": "ROLLING_30D", "day": F.DOS,
                     "numerator": 17, "denominator": 20, "value": "0.8500", "unit": "RATIO",
                     "computed_at": T0},
        "ArAgingSnapshot": {"day": F.DOS, "payer_id": "MEDICARE", "responsibility": "PATIENT",
                            "bucket": "91-120", "open_cents": 12345, "accounts": 3,
                            "computed_at": T0},
    }


def rule_samples() -> dict[str, dict]:
    from processors.patterns.rules import observe, proposal

    line = {"line": 1, "procedure_code": "97110", "units": 1, "charge_cents": 9000,
            "paid_cents": 0, "adjustments": [F.adjustment("CO", "50", 9000)], "remarks": []}
    [pattern] = observe(F.remittance(lines=[line], status="4"))
    decision = {"event_id": "d1", "rule_id": pattern["rule_id"], "decision": "ACCEPT",
                "decided_by": "U042", "role": "BILLING_MANAGER", "decided_at": T0,
                "emitted_at": T0, "note": "payer policy 12"}
    return {
        "DenialPattern": pattern | {"proposed": True, "waiting_decision": b"\x00"},
        "ScrubRuleProposed": proposal(pattern, 5),
        "ScrubRuleDecision": decision,
        "ScrubRule": {"event_id": "d1", "rule_id": pattern["rule_id"], "payer_id": "COMM-ACME",
                      "reason_code": "50", "procedure_code": "97110",
                      "category": "MEDICAL_NECESSITY", "status": "ACTIVE", "denial_count": 5,
                      "denied_cents": 45000, "decided_by": "U042", "role": "BILLING_MANAGER",
                      "decided_at": T0, "source_emitted_at": T0},
    }


def avro_bytes(name: str, record: dict) -> bytes:
    text = resources.files("schemas").joinpath("avro", f"{name}.avsc").read_text()
    schema = avro.schema.parse(text)
    buf = io.BytesIO()
    avro.io.DatumWriter(schema).write(record, avro.io.BinaryEncoder(buf))
    return buf.getvalue()


def test_every_schema_file_is_registered_and_every_topic_names_one():
    files = {p.name.removesuffix(".avsc") for p in resources.files("schemas").joinpath("avro").iterdir()
             if p.name.endswith(".avsc")}
    assert files == set(codec.SCHEMA_IDS) == set(samples())
    assert {t.value_schema for t in T.ALL} <= files
    assert len(set(codec.SCHEMA_IDS.values())) == len(codec.SCHEMA_IDS)


@pytest.mark.parametrize("name", sorted(codec.SCHEMA_IDS))
def test_each_schema_round_trips_through_the_wire_format(name):
    record = samples()[name]
    data = codec.encode(name, record)
    assert data[0] == 0 and int.from_bytes(data[1:5], "big") == codec.SCHEMA_IDS[name]
    assert codec.decode(data) == (name, record)


@pytest.mark.parametrize("name", sorted(codec.SCHEMA_IDS))
def test_avro_and_fastavro_write_the_same_bytes(name):
    record = samples()[name]
    assert avro_bytes(name, record) == codec.encode(name, record)[5:]


def test_money_fields_are_longs_never_floats_or_doubles():
    for name in codec.SCHEMA_IDS:
        text = json.dumps(codec.schema_json(name))
        for field in _fields(codec.schema_json(name)):
            if field["name"].endswith("_cents"):
                assert field["type"] in ("long", ["null", "long"]), (name, field["name"])
        assert '"double"' not in text


def _fields(schema):
    if isinstance(schema, dict):
        for f in schema.get("fields", []):
            yield f
            yield from _fields(f["type"])
        if schema.get("type") == "array":
            yield from _fields(schema["items"])
    elif isinstance(schema, list):
        for s in schema:
            yield from _fields(s)


@pytest.mark.parametrize("data, kind", [
    (None, "MALFORMED"),
    (b"\x00\x00", "MALFORMED"),
    (b"\x01\x00\x00\x00\x01rest", "MALFORMED"),
    (b"\x00\x00\x00\x03\xe7\x02", "UNKNOWN_SCHEMA"),
    (b"\x00\x00\x00\x00\x03\xff\xff\xff", "MALFORMED"),
])
def test_bad_bytes_raise_a_decode_error_with_a_kind(data, kind):
    with pytest.raises(codec.DecodeError) as err:
        codec.decode(data)
    assert err.value.kind == kind and err.value.reason


def test_trailing_bytes_and_a_record_of_another_topic_are_rejected():
    data = codec.encode("PaymentReceived", F.payment())
    with pytest.raises(codec.DecodeError, match="trailing"):
        codec.decode(data + b"\x00")
    with pytest.raises(codec.DecodeError) as err:
        codec.decode_for(T.ENCOUNTERS, data)
    assert err.value.kind == "UNKNOWN_SCHEMA"


def test_partitioning_matches_kafka_python_so_one_account_shares_a_partition():
    # kafka-python (the producers and the sink) and aiokafka (the faust worker) must agree.
    for n in range(500):
        key = f"A{n:09d}".encode()
        assert partition_for(key, 4) == (kafka_python_murmur2(key) & 0x7FFFFFFF) % 4


def test_claim_built_written_before_submitted_existed_still_decodes():
    """ClaimStatus gained SUBMITTED (837 in) as its last symbol: bytes written with the old
    enum (CLEAN, HELD) decode unchanged under the new schema."""
    import fastavro

    old = codec.schema_json("ClaimBuilt")
    status = next(f for f in old["fields"] if f["name"] == "status")
    assert status["type"]["symbols"] == ["CLEAN", "HELD", "SUBMITTED"]
    status["type"]["symbols"] = ["CLEAN", "HELD"]
    rec = samples()["ClaimBuilt"]
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, fastavro.parse_schema(old), rec)
    wire = codec._HEADER.pack(codec.MAGIC, T.SCHEMA_IDS["ClaimBuilt"]) + buf.getvalue()
    assert codec.decode_for(T.CLAIMS, wire) == rec
