"""Visit assembly: merge by visit number in any order, emit once when discharged and charged."""
from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from processors.state import VISITS_PENDING
from processors.visits.rules import Refused, assemble
from schemas import topics as T
from tests import factories as F
from tests.support.stores import DictStore

ACCOUNT = F.encounter(7)["account_id"]


def event(kind: str, n: int, minutes: int = 0, **fields) -> dict:
    base = {"event_id": f"hl7v2:GENHOSP:{kind}-{n}", "kind": kind, "source": "hl7v2 test",
            "visit_number": "V7", "account_id": ACCOUNT,
            "occurred_at": F.T0 + timedelta(minutes=minutes), "emitted_at": F.T0,
            "patient_age": None, "patient_sex": None, "encounter_class": None, "payer_id": None,
            "plan_type": None, "provider_npi": None, "facility_id": None, "service_start": None,
            "service_end": None, "discharge_status": None, "diagnoses": [], "procedures_pcs": [],
            "charges": []}
    return base | fields


def admit(n: int = 1, minutes: int = 0, **fields) -> dict:
    return event("ADMIT", n, minutes, patient_age=54, patient_sex="F", encounter_class="OFFICE",
                 payer_id="COMM-ACME", plan_type="COMMERCIAL", provider_npi="1234567893",
                 facility_id="FAC01", service_start=F.DOS,
                 diagnoses=[{"sequence": 1, "text": "essential hypertension", "code": "I10"}]) | fields


def charge(txn: str, cents: int = 14500) -> dict:
    return {"transaction_id": txn, "charge_code": "CM100113", "units": 1,
            "unit_price_cents": cents, "service_date": F.DOS}


def charges(n: int = 1, minutes: int = 10, txns=("T1",)) -> dict:
    return event("CHARGES", n, minutes, charges=[charge(t) for t in txns])


def discharge(n: int = 1, minutes: int = 20) -> dict:
    return event("DISCHARGE", n, minutes, service_end=F.DOS)


def run(events, store=None) -> tuple[list[dict], list[str], DictStore]:
    store = store or DictStore(VISITS_PENDING)
    encounters, problems = [], []
    for ev in events:
        out = assemble(ev, store)
        encounters += out.of(T.ENCOUNTERS)
        problems += [reason for _, reason in out.rejected]
    return encounters, problems, store


def test_a_visit_becomes_one_encounter_once_discharged_and_charged():
    [enc], problems, store = run([admit(), charges(), discharge()])
    assert problems == []
    assert (enc["event_id"], enc["encounter_id"], enc["account_id"]) == ("visit:V7", "V7", ACCOUNT)
    assert enc["charges"] == [{"line": 1, "charge_code": "CM100113", "units": 1,
                               "unit_price_cents": 14500, "service_date": F.DOS, "source_code": None}]
    assert enc["discharged_at"] == F.T0 + timedelta(minutes=20)
    assert (enc["service_start"], enc["service_end"], enc["patient_age"]) == (F.DOS, F.DOS, 54)
    assert store.get("V7")["status"] == "BILLED"


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_the_order_events_arrive_in_does_not_matter(order):
    events = [admit(), charges(), discharge()]
    [enc], _, _ = run([events[i] for i in order])
    [expected], _, _ = run(events)
    assert enc | {"emitted_at": None} == expected | {"emitted_at": None}


def test_later_non_null_fields_win_and_a_non_empty_diagnosis_list_replaces():
    update = event("UPDATE", 1, 5, payer_id="MEDICARE", plan_type="MEDICARE",
                   diagnoses=[{"sequence": 1, "text": "type 2 diabetes", "code": None}])
    blank = event("UPDATE", 2, 6)  # says nothing: changes nothing
    [enc], _, _ = run([admit(), update, blank, charges(), discharge()])
    assert (enc["payer_id"], enc["plan_type"], enc["patient_sex"]) == ("MEDICARE", "MEDICARE", "F")
    assert enc["diagnoses"] == [{"sequence": 1, "text": "type 2 diabetes", "code": None}]


def test_duplicate_events_and_a_re_sent_dft_add_nothing():
    resent = charges(2, 11, txns=("T1", "T2"))
    [enc], _, store = run([admit(), charges(), charges(), resent, discharge(), discharge()])
    assert [c["line"] for c in enc["charges"]] == [1, 2]
    assert len(store.get("V7")["events"]) == 4
    assert run([charges(3, 30, txns=("T2",))], store)[0] == []  # already billed: nothing new


def test_a_cancelled_visit_emits_nothing_and_refuses_later_events():
    encounters, _, store = run([admit(), event("CANCEL", 1, 5)])
    assert encounters == [] and store.get("V7")["status"] == "CANCELLED"
    with pytest.raises(Refused, match="cancelled"):
        assemble(charges(), store)


def test_a_change_after_billing_sends_the_encounter_again_and_a_cancel_voids_it():
    _, _, store = run([admit(), charges(), discharge()])
    [fixed] = assemble(charges(9, 60, txns=("T9",)), store).of(T.ENCOUNTERS)
    assert (fixed["event_id"], fixed["encounter_id"]) == ("visit:V7:4", "V7")
    assert [c["line"] for c in fixed["charges"]] == [1, 2] and not fixed.get("cancelled")
    assert assemble(charges(9, 60, txns=("T9",)), store).of(T.ENCOUNTERS) == []  # redelivered
    assert assemble(admit(9, minutes=-60), store).of(T.ENCOUNTERS) == []  # late, says nothing new
    [moved] = assemble(event("UPDATE", 9, 80, payer_id="MEDICARE"), store).of(T.ENCOUNTERS)
    assert moved["payer_id"] == "MEDICARE" and moved["event_id"] == "visit:V7:5"
    [void] = assemble(event("CANCEL", 9, 90), store).of(T.ENCOUNTERS)
    assert void["cancelled"] is True and store.get("V7")["status"] == "CANCELLED"
    with pytest.raises(Refused, match="cancelled"):
        assemble(charges(10, 100, txns=("T10",)), store)


def test_a_final_visit_missing_fields_is_kept_until_an_update_completes_it():
    partial = admit(payer_id=None, plan_type=None, patient_age=None)
    encounters, problems, store = run([partial, charges(), discharge()])
    assert encounters == []
    assert problems == [("visit is discharged and charged but lacks patient_age, payer_id, "
                         "plan_type; kept until an update supplies them")]
    assert store.get("V7")["status"] == "DISCHARGED"
    fix = event("UPDATE", 5, 30, payer_id="SELFPAY", plan_type="SELF_PAY", patient_age=40)
    [enc], problems, _ = run([fix], store)
    assert problems == [] and (enc["payer_id"], enc["patient_age"]) == ("SELFPAY", 40)


def test_charges_first_then_discharge_without_admit_is_incomplete():
    encounters, problems, _ = run([charges(), discharge()])
    assert encounters == [] and "lacks patient_age" in problems[0]


def test_a_bad_account_or_another_accounts_visit_is_refused():
    with pytest.raises(Refused, match="account id is empty"):
        assemble(admit(account_id=" "), DictStore(VISITS_PENDING))
    _, _, store = run([admit()])
    with pytest.raises(Refused, match="another account"):
        assemble(admit(2, account_id=F.encounter(8)["account_id"]), store)


def cancel_discharge(n: int = 1, minutes: int = 30) -> dict:
    return event("CANCEL_DISCHARGE", n, minutes)  # ADT^A13


def test_a_cancelled_discharge_reopens_the_visit_until_it_is_discharged_again():
    encounters, _, store = run([admit(), discharge(), cancel_discharge(), charges(minutes=40)])
    assert encounters == [] and store.get("V7")["status"] == "OPEN"
    later = event("DISCHARGE", 2, 50, service_end=F.DOS + timedelta(days=2))
    [enc], problems, _ = run([later], store)
    assert problems == [] and enc["discharged_at"] == F.T0 + timedelta(minutes=50)
    assert enc["service_end"] == F.DOS + timedelta(days=2)


def test_a_cancelled_discharge_counts_in_event_time_whatever_the_arrival_order():
    # The A13 overtakes the A03 it cancels: still not discharged, nothing billed.
    encounters, _, store = run([admit(), cancel_discharge(), charges(), discharge()])
    assert encounters == [] and store.get("V7")["status"] == "OPEN"
    # An A13 older than the discharge (a cancelled earlier discharge): the visit stays discharged.
    [enc], _, _ = run([admit(), cancel_discharge(minutes=15), discharge(minutes=20), charges()])
    assert enc["discharged_at"] == F.T0 + timedelta(minutes=20)


def test_a_cancelled_discharge_after_billing_is_refused_for_a_person_to_decide():
    _, _, store = run([admit(), charges(), discharge()])
    with pytest.raises(Refused, match=r"discharge was cancelled \(A13\) after the visit was billed"):
        assemble(cancel_discharge(minutes=60), store)
    assert store.get("V7")["status"] == "BILLED"


def test_visit_events_written_before_cancel_discharge_existed_still_read():
    import io
    import json

    import avro.compatibility
    import avro.schema
    import fastavro

    from schemas import codec
    from schemas import topics as T

    now = codec.schema_json("VisitEvent")
    before = json.loads(json.dumps(now))
    kind = before["fields"][1]["type"]
    kind["symbols"].remove("CANCEL_DISCHARGE")
    kind.pop("default")
    result = avro.compatibility.ReaderWriterCompatibilityChecker().get_compatibility(
        avro.schema.parse(json.dumps(now)), avro.schema.parse(json.dumps(before)))
    assert result.compatibility is avro.compatibility.SchemaCompatibilityType.compatible
    assert now["fields"][1]["type"]["symbols"][:6] == kind["symbols"]  # appended, never reordered
    # bytes written with the old schema (as `visits-pending` holds them) decode with the new one
    for ev in (admit(), charges(), discharge(), event("CANCEL", 1)):
        buf = io.BytesIO()
        buf.write(codec.encode(T.VISIT_EVENTS.value_schema, ev)[:5])  # the wire header
        fastavro.schemaless_writer(buf, fastavro.parse_schema(before), ev)
        as_new = codec.decode_for(T.VISIT_EVENTS, codec.encode(T.VISIT_EVENTS.value_schema, ev))
        assert codec.decode_for(T.VISIT_EVENTS, buf.getvalue()) == as_new
        assert (as_new["kind"], as_new["event_id"]) == (ev["kind"], ev["event_id"])
