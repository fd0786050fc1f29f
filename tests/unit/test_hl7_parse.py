"""HL7 v2 messages (written from synthetic encounters by tests.support.hl7_compose) -> VisitEvents."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from producers.hl7.parse import MessageError, visit_events
from schemas import codec
from schemas import topics as T
from tests import factories as F
from tests.support import hl7_compose as compose

NOW = datetime(2026, 3, 3, tzinfo=UTC)
INPATIENT = F.encounter(5, encounter_class="INPATIENT", plan_type="MEDICARE", payer_id="MEDICARE",
                        age=71, sex="M") | {
    "service_end": date(2026, 3, 6), "discharge_status": "03",
    "procedures_pcs": [{"sequence": 1, "code": "0DTJ4ZZ"}],
    "diagnoses": [{"sequence": 1, "text": "acute appendicitis", "code": "K35.80"},
                  {"sequence": 2, "text": "essential hypertension", "code": None}]}
OFFICE = F.encounter(6) | {"procedures_pcs": [], "discharge_status": None}


def one(message: str) -> dict:
    [ev] = visit_events(message, NOW)
    codec.encode(T.VISIT_EVENTS.value_schema, ev)  # fits the contract
    return ev


def refused(message: str) -> MessageError:
    with pytest.raises(MessageError) as exc:
        visit_events(message, NOW)
    return exc.value


@pytest.mark.parametrize("kind, trigger", [("ADMIT", "A01"), ("REGISTER", "A04"),
                                           ("UPDATE", "A08"), ("DISCHARGE", "A03"),
                                           ("CANCEL", "A11")])
def test_every_adt_trigger_becomes_its_visit_event(kind, trigger):
    ev = one(compose.adt(INPATIENT, kind, f"CTL-{trigger}", F.T0))
    assert (ev["kind"], ev["source"], ev["event_id"]) == (
        kind, f"hl7v2 ADT^{trigger}", f"hl7v2:GENHOSP:CTL-{trigger}")
    assert (ev["visit_number"], ev["account_id"]) == ("E0000005", INPATIENT["account_id"])
    assert (ev["patient_age"], ev["patient_sex"], ev["encounter_class"]) == (71, "M", "INPATIENT")
    assert (ev["provider_npi"], ev["facility_id"]) == ("1234567893", "FAC01")
    assert ev["occurred_at"] == F.T0 and ev["service_start"] == F.DOS
    if kind != "CANCEL":
        assert (ev["payer_id"], ev["plan_type"]) == ("MEDICARE", "MEDICARE")
        assert ev["diagnoses"] == INPATIENT["diagnoses"]
        assert ev["procedures_pcs"] == [{"sequence": 1, "code": "0DTJ4ZZ"}]
    if kind == "DISCHARGE":
        assert (ev["service_end"], ev["discharge_status"]) == (date(2026, 3, 6), "03")


def test_the_birth_date_becomes_an_age_and_is_not_kept():
    ev = one(compose.adt(OFFICE, "REGISTER", "C1", F.T0))
    assert ev["patient_age"] == 54
    assert "19720302" not in repr(ev) and not any("birth" in k for k in ev)


def test_an_office_visit_is_an_outpatient_class_with_an_office_patient_type():
    assert one(compose.adt(OFFICE, "REGISTER", "C1", F.T0))["encounter_class"] == "OFFICE"
    er = F.encounter(7, encounter_class="EMERGENCY") | {"procedures_pcs": []}
    assert one(compose.adt(er, "REGISTER", "C1", F.T0))["encounter_class"] == "EMERGENCY"


def test_dft_p03_charges_are_integer_cents_from_decimal_amounts():
    charges = [{"line": 1, "charge_code": "CM100113", "units": 1, "unit_price_cents": 14500,
                "service_date": F.DOS},
               {"line": 2, "charge_code": "CM300100", "units": 3, "unit_price_cents": 1999,
                "service_date": F.DOS}]
    ev = one(compose.dft(OFFICE, "D1", F.T0, charges))
    assert ev["kind"] == "CHARGES" and ev["source"] == "hl7v2 DFT^P03"
    assert [(c["transaction_id"], c["units"], c["unit_price_cents"]) for c in ev["charges"]] == [
        ("TE0000006-1", 1, 14500), ("TE0000006-2", 3, 1999)]
    # Only the extended amount: divided by the quantity, exactly.
    only_extended = compose.dft(OFFICE, "D2", F.T0, charges).replace("|59.97|19.99", "|59.97|")
    assert one(only_extended)["charges"][1]["unit_price_cents"] == 1999
    # A charge-master line sent without amounts (FT1-11/12 are optional) bills at its price.
    unpriced = compose.dft(OFFICE, "D3", F.T0, charges).replace("|145.00|145.00", "||")
    assert one(unpriced)["charges"][0]["unit_price_cents"] == 14500


def test_segments_may_end_in_newlines_or_crlf():
    msg = compose.adt(OFFICE, "ADMIT", "C1", F.T0)
    assert one(msg.replace("\r", "\n")) == one(msg.replace("\r", "\r\n")) == one(msg)


@pytest.mark.parametrize("change, ack, segment, reason", [
    (lambda m: m.split("\rPID")[0], "AE", "PID", "segment missing"),
    (lambda m: m.split("\rPV1")[0], "AE", "PV1", "segment missing (required in ADT^A04"),
    (lambda m: m.replace("|" + OFFICE["account_id"], "|").replace("|E0000006|", "||"), "AE",
     "PID-18", "neither a patient account number (PID-18) nor a visit number (PV1-19)"),
    (lambda m: m.replace(OFFICE["account_id"], "H" * 51), "AE", "PID-18",
     "account id is longer than 50 characters"),
    (lambda m: m.replace("|E0000006|", "|E6\x07|"), "AE", "PV1-19", "control or non-printable"),
    (lambda m: m.replace("ADT^A04", "BAR^P10"), "AR", "MSH-9", "unsupported message type BAR^P10"),
    (lambda m: m.replace("ADT^A04", "ORU^R01"), "AR", "MSH-9", "unsupported message type ORU^R01"),
    (lambda m: "this is not hl7\r" + m, "AR", "MSH", "not an HL7 v2 message"),
    (lambda m: m.replace("|C1|", "||"), "AR", "MSH-10", "control id is empty"),
    (lambda m: m.replace("|ADT1|GENHOSP|", "|||"), "AE", "MSH-4", "both empty"),
    (lambda m: m.replace("|19720302|", "|1972-03-02|"), "AE", "PID-7", "not an HL7 date"),
    (lambda m: m.replace("|19720302|", "|19721302|"), "AE", "PID-7", "not an HL7 date"),  # month 13
    (lambda m: m.replace("|20260302\r", "|20260231\r"), "AE", "PV1-44", "not an HL7 date"),
    (lambda m: m.replace("|19720302|", "|20270302|"), "AE", "PID-7", "birth date is after the visit"),
    (lambda m: m + "PR1|1|I10P|0DTJ4Z^^I10P\r", "AE", "PR1[1]-3", "7-character ICD-10-PCS"),
    (lambda m: m.replace("|||1\r", "|||first\r"), "AE", "DG1[1]-15", "priority is not a number"),
])
def test_bad_messages_name_the_segment_and_reason(change, ack, segment, reason):
    err = refused(change(compose.adt(OFFICE, "REGISTER", "C1", F.T0)))
    assert (err.ack, err.segment) == (ack, segment)
    assert reason in err.reason
    assert err.error == ("MALFORMED" if ack == "AR" else "INVALID")


@pytest.mark.parametrize("change, segment, reason", [
    (lambda m: m.replace("|145.00|145.00", "|1,45.00|abc"), "FT1[1]-12", "not a number"),
    (lambda m: m.replace("|145.00|145.00", "|145.00|145.005"), "FT1[1]-12", "whole cents"),
    (lambda m: m.replace("|CG|CM100113|||1|", "|CG|CM100113|||1.5|"), "FT1[1]-10", "whole number"),
    (lambda m: m.replace("|CM100113|||1|145.00|145.00", "|CM-LOCAL9|||1||"), "FT1[1]-11",
     "charge master lacks the line's code to price it"),
    (lambda m: m.replace("|145.00|145.00", "|-145.00|-145.00"), "FT1[1]-12", "positive"),
    (lambda m: m.split("\rFT1")[0], "FT1", "segment missing"),
    (lambda m: m[: m.index("FT1|") + 12], "FT1[1]-7", ("charge) code is empty, and neither a "
     "description (FT1-8) nor a procedure code (FT1-25)")),  # truncated
])
def test_bad_charges_are_application_errors(change, segment, reason):
    err = refused(change(compose.dft(OFFICE, "D1", F.T0)))
    assert (err.ack, err.segment) == ("AE", segment)
    assert reason in err.reason
