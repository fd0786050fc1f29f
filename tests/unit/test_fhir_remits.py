"""FHIR ClaimResponse / ExplanationOfBenefit -> RemittanceReceived on remittances-unmatched:
adjudication amounts as CAS-like adjustments, denials, remarks, and what is skipped."""
from __future__ import annotations

import copy

from producers.fhir.adapter import convert
from producers.fhir.read import read_bytes
from schemas import codec
from tests.factories import adjustment, encounter, remittance
from tests.support import fhir_samples as samples

CPT = "http://www.ama-assn.org/go/cpt"


def run(resources):
    data = samples.dumps(samples.bundle(resources)).encode()
    result = convert(read_bytes(data, "remit.json"), now_ms=0)
    return [codec.decode_for(r.topic, r.value) | {"_topic": r.topic.name} for r in result.records], result


def adj(category, value=None, reason=None):
    out = {"category": samples._concept(samples.ADJ, category)}
    if value is not None:
        out["amount"] = {"value": value, "currency": "USD"}
    if reason:
        out["reason"] = {"coding": reason}
    return out


def response(items, **kw):
    res = samples.claim_response(remittance(1))
    res["item"] = [{"itemSequence": n, "adjudication": a} for n, a in enumerate(items, 1)]
    res.update(kw)
    return res


def test_adjudication_amounts_become_paid_and_cas_adjustments():
    events, result = run([response([[adj("submitted", "145.00"), adj("eligible", "110.00"),
                                      adj("copay", "20.00"), adj("deductible", "5.00"),
                                      adj("coinsurance", "8.50"), adj("benefit", "76.50")]])])
    assert result.ok
    rem = events[0]
    assert rem["_topic"] == "remittances-unmatched" and rem["claim_id"] == "CLM-E0000001"
    assert rem["account_id"] == "" and rem["payer_id"] == "COMM-ACME"
    assert rem["event_id"] == "fhir:ClaimResponse/cr-R0000001/_history/1"
    line = rem["lines"][0]
    assert (line["charge_cents"], line["paid_cents"]) == (14500, 7650)
    assert line["adjustments"] == [adjustment("CO", "45", 3500), adjustment("PR", "3", 2000),
                                   adjustment("PR", "1", 500), adjustment("PR", "2", 850)]
    assert (rem["total_charge_cents"], rem["total_paid_cents"]) == (14500, 7650)
    assert rem["patient_responsibility_cents"] == 3350 and rem["claim_status"] == "1"
    assert rem["trace_number"] == "TRN1" and rem["payer_claim_control_number"] == "PCN1"


def test_without_eligible_the_unexplained_rest_is_contractual():
    events, _ = run([response([[adj("submitted", 100), adj("benefit", 60), adj("copay", 10)]])])
    assert events[0]["lines"][0]["adjustments"] == [adjustment("PR", "3", 1000), adjustment("CO", "45", 3000)]


def test_a_denied_line_takes_the_carc_of_its_reason_and_a_group_code_coding():
    carc16 = [{"system": samples.CARC, "code": "16"}, {"system": samples.RARC, "code": "M51"}]
    oa18 = [{"system": samples.CARC, "code": "18"}, {"system": samples.CAS_GROUP, "code": "OA"}]
    events, result = run([response([[adj("submitted", 80), adj("benefit", 0, carc16)],
                                    [adj("submitted", 20), adj("noncovered", 20, oa18)]],
                                   adjudication=[adj("denialreason", None,
                                                     [{"system": samples.RARC, "code": "N30"}])])])
    rem = events[0]
    assert result.ok
    assert rem["lines"][0]["adjustments"] == [adjustment("CO", "16", 8000)]
    assert rem["lines"][0]["remarks"] == ["M51"]
    assert rem["lines"][1]["adjustments"] == [adjustment("OA", "18", 2000)]
    assert rem["remarks"] == ["N30"] and rem["claim_status"] == "4"


def test_amounts_that_do_not_add_up_are_a_dead_letter_for_the_remittance_topic():
    events, result = run([response([[adj("submitted", 100), adj("eligible", 80), adj("benefit", 90)]])])
    assert [e["_topic"] for e in events] == ["dead-letters"]
    dead = events[0]
    assert dead["source_topic"] == "remittances-unmatched" and dead["stage"] == "fhir_adapter"
    assert dead["error"] == "INVALID" and dead["source_offset"] == 0
    assert dead["reason"] == ("remit.json: entry 0 (ClaimResponse/cr-R0000001): ClaimResponse.item 1: "
                              "paid and patient share exceed the eligible amount")
    events, result = run([response([[adj("submitted", 100), adj("eligible", 80), adj("benefit", 70)]])])
    assert "unexplained amount" in result.problems[0]
    events, result = run([response([[adj("submitted", 100), adj("benefit", 90), adj("copay", 20)]])])
    assert "exceed the submitted amount" in result.problems[0]


def test_claim_level_adjudication_without_items():
    res = response([], adjudication=[adj("submitted", 200), adj("eligible", 150), adj("benefit", 150)])
    del res["item"]
    rem = run([res])[0][0]
    assert rem["lines"] == [] and rem["claim_adjustments"] == [adjustment("CO", "45", 5000)]
    assert (rem["total_charge_cents"], rem["total_paid_cents"]) == (20000, 15000)


def test_the_account_and_procedure_codes_come_from_the_claim_when_it_is_in_the_input():
    enc = encounter(1)
    res = samples.encounter_resources(enc) + [response([[adj("submitted", 145), adj("benefit", 145)]])]
    events, result = run(res)
    rem = events[-1]
    assert result.ok and rem["account_id"] == enc["account_id"]
    assert (rem["lines"][0]["procedure_code"], rem["lines"][0]["units"]) == ("99213", 1)


def test_an_explanation_of_benefit_maps_like_a_claim_response():
    cr = response([[adj("submitted", 50), adj("eligible", 40), adj("benefit", 40)]])
    eob = {k: v for k, v in cr.items() if k not in ("request", "item")}
    eob.update(resourceType="ExplanationOfBenefit", id="eob-1", claim=cr["request"],
               provider={"display": "clinic"}, insurance=[{"focal": True, "coverage": {"display": "plan"}}],
               item=[{"sequence": 1, "productOrService": {"coding": [{"system": CPT, "code": "99214"}]},
                      "quantity": {"value": 2}, "adjudication": cr["item"][0]["adjudication"]}])
    events, result = run([eob])
    assert result.ok, result.problems
    rem = events[0]
    assert rem["event_id"] == "fhir:ExplanationOfBenefit/eob-1/_history/1"
    assert (rem["lines"][0]["procedure_code"], rem["lines"][0]["units"]) == ("99214", 2)
    assert rem["lines"][0]["adjustments"] == [adjustment("CO", "45", 1000)]


def test_queued_responses_are_skipped_and_reported_and_a_missing_claim_is_an_error():
    events, result = run([response([], outcome="queued")])
    assert events == [] and result.ok and "outcome queued" in result.skipped[0]
    res = response([[adj("submitted", 1), adj("benefit", 1)]])
    res["request"] = {"reference": "Claim/elsewhere"}
    _, result = run([res])
    assert "request names no Claim identifier" in result.problems[0]


def test_unknown_adjudication_categories_are_errors_not_ignored():
    _, result = run([response([[adj("submitted", 10), adj("mystery", 10)]])])
    assert "adjudication category mystery is not understood" in result.problems[0]


def test_the_synthetic_remittance_round_trips():
    rem = remittance(4, lines=[
        {"line": 1, "procedure_code": "", "units": 1, "charge_cents": 10000, "paid_cents": 5000,
         "adjustments": [adjustment("CO", "45", 3000), adjustment("PR", "3", 2000)], "remarks": []},
        {"line": 2, "procedure_code": "", "units": 1, "charge_cents": 4000, "paid_cents": 0,
         "adjustments": [adjustment("CO", "97", 4000)], "remarks": ["M15"]}])
    got = run([copy.deepcopy(samples.claim_response(rem))])[0][0]
    for key in ("claim_id", "payer_id", "remarks", "trace_number", "claim_status"):
        assert got[key] == rem[key], key
    assert [{k: ln[k] for k in want} for ln, want in zip(got["lines"], rem["lines"], strict=True)] \
        == rem["lines"]  # the 835-only line fields (modifiers, units_paid, ...) keep their defaults
