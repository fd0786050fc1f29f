"""FHIR Claim -> VisitEvent CHARGES: charge codes, units, and money as exact integer cents."""
from __future__ import annotations

from datetime import date

import pytest

from producers.fhir.adapter import convert
from producers.fhir.read import read_bytes
from schemas import codec
from tests.factories import DOS, encounter
from tests.support import fhir_samples as samples


def claim_with(items, **kw):
    res = samples.encounter_resources(encounter(1))
    claim = res[-1]
    base = claim["item"][0]
    claim["item"] = [{**base, "sequence": n, **item} for n, item in enumerate(items, 1)]
    for item in claim["item"]:
        for key in [k for k, v in item.items() if v is None]:
            del item[key]
    claim.update(kw)
    return res


def run_text(text: str, **kw):
    result = convert(read_bytes(text.encode(), "claim.json"), now_ms=0, **kw)
    return [codec.decode_for(r.topic, r.value) for r in result.records], result


def charges(res, **kw):
    events, result = run_text(samples.dumps(samples.bundle(res)), **kw)
    found = [e["charges"] for e in events if e.get("kind") == "CHARGES"]
    return (found[0] if found else None), result


@pytest.mark.parametrize(("price", "cents"), [("0.29", 29), ("1.15", 115), ("12.1", 1210),
                                              ("100", 10000), ("2.675", None), ("1e2", 10000)])
def test_unit_price_becomes_exact_cents(price, cents):
    text = samples.dumps(samples.bundle(claim_with([{"net": None}])))
    text = text.replace('"unitPrice": {"value": 145.00', f'"unitPrice": {{"value": {price}')
    assert f'"value": {price}' in text
    events, result = run_text(text)
    charge_events = [e for e in events if e.get("kind") == "CHARGES"]
    if cents is None:
        assert not charge_events and "fraction of a cent" in result.problems[0]
    else:
        assert charge_events[0]["charges"][0]["unit_price_cents"] == cents
        assert type(charge_events[0]["charges"][0]["unit_price_cents"]) is int


def test_a_line_maps_code_units_date_and_transaction_id():
    lines, result = charges(claim_with([{"quantity": {"value": 3}, "servicedDate": "2026-03-03"}]))
    assert result.ok
    assert lines == [{"transaction_id": "claim-E0000001-1", "charge_code": "CM100113", "units": 3,
                      "unit_price_cents": 14500, "service_date": date(2026, 3, 3),
                      "source_code": None}]


def test_net_divided_by_units_or_the_charge_master_price_when_no_unit_price():
    lines, _ = charges(claim_with([{"unitPrice": None, "quantity": {"value": 2},
                                    "net": {"value": 50.5, "currency": "USD"}},
                                   {"unitPrice": None, "net": None}]))
    assert [ln["unit_price_cents"] for ln in lines] == [2525, 14500]
    _, result = charges(claim_with([{"unitPrice": None, "quantity": {"value": 3},
                                     "net": {"value": 1, "currency": "USD"}}]))
    assert "does not divide" in result.problems[0]


def test_cpt_codes_are_looked_up_in_the_charge_master_with_their_modifiers():
    cpt = {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "73030"}]}
    right = {"productOrService": cpt, "modifier": [{"coding": [{"code": "RT"}]}], "unitPrice": None, "net": None}
    lines, result = charges(claim_with([right]))
    assert result.ok and lines[0]["charge_code"] == "CM100402" and lines[0]["unit_price_cents"] == 27500
    _, result = charges(claim_with([{**right, "modifier": None}]))
    assert "matches 2 charge-master items; send the charge code, and the line has no price" \
        in result.problems[0]
    _, result = charges(claim_with([{**right, "productOrService": {"coding": [
        {"system": "http://www.ama-assn.org/go/cpt", "code": "00000"}]}}]))
    assert "CPT/HCPCS code is not in the charge master, and the line has no price" in result.problems[0]


def test_a_priced_line_the_charge_master_lacks_posts_with_its_code_as_sent_for_coding_review():
    """Issue 9, root cause 11: a CPT code the hospital does not charge, or a SNOMED CT item, keeps
    its code, system, description and price; the coding stage sends it to a coder."""
    cpt = {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99392",
                       "display": "Preventive visit, age 1-4"}]}
    sct = {"coding": [{"system": "http://snomed.info/sct", "code": "410620009",
                       "display": "Well child visit (procedure)"}], "text": "Well child visit"}
    lines, result = charges(claim_with([
        {"productOrService": cpt, "unitPrice": None, "quantity": {"value": 2},
         "net": {"value": 301.5, "currency": "USD"}},
        {"productOrService": sct, "unitPrice": None, "net": {"value": 704.2, "currency": "USD"}},
        {}]))
    assert result.ok, result.problems
    assert [(ln["charge_code"], ln["units"], ln["unit_price_cents"], ln["source_code"])
            for ln in lines] == [
        ("", 2, 15075, {"system": "http://www.ama-assn.org/go/cpt", "code": "99392",
                        "text": "Preventive visit, age 1-4"}),
        ("", 1, 70420, {"system": "http://snomed.info/sct", "code": "410620009",
                        "text": "Well child visit"}),
        ("CM100113", 1, 14500, None)]


def test_a_line_the_charge_master_lacks_without_price_code_or_words_is_refused_alone():
    nothing = {"productOrService": {"coding": [{"system": "http://snomed.info/sct"}]},
               "net": {"value": 10, "currency": "USD"}}
    zero = {"productOrService": {"coding": [{"system": "http://snomed.info/sct", "code": "1"}]},
            "unitPrice": {"value": 0, "currency": "USD"}}
    lines, result = charges(claim_with([nothing, zero, {}]))
    assert [ln["charge_code"] for ln in lines] == ["CM100113"]
    assert len(result.problems) == 2
    assert "Claim.item 1: no code and no description" in result.problems[0]
    assert "Claim.item 2: SNOMED CT 1 has no charge-master" in result.problems[1]
    assert "and the line has a zero price" in result.problems[1]


def test_the_charge_master_system_is_configurable_and_unknown_codes_are_errors():
    res = claim_with([{"productOrService": {"coding": [{"system": "urn:example:cdm", "code": "CM100113"}]}}])
    lines, result = charges(res, charge_system="urn:example:cdm")
    assert result.ok and lines[0]["charge_code"] == "CM100113"
    res = claim_with([{"productOrService": samples._concept(samples.CHARGE_SYSTEM, "CM999999")}])
    lines, result = charges(res)  # priced: kept as sent, for a coder
    assert result.ok and lines[0]["charge_code"] == "" and lines[0]["unit_price_cents"] == 14500
    assert lines[0]["source_code"]["code"] == "CM999999"
    res[-1]["item"][0].pop("unitPrice")
    res[-1]["item"][0].pop("net", None)
    _, result = charges(res)
    assert "Claim.item 1: charge code is not in the charge master, and the line has no price" \
        in result.problems[0]


def test_fractional_or_zero_quantities_are_errors():
    _, result = charges(claim_with([{"quantity": {"value": 1.5}}]))
    assert "quantity must be a whole number" in result.problems[0]


def test_a_claim_without_its_encounter_in_the_input_needs_an_encounter_identifier():
    res = [r for r in claim_with([{}]) if r["resourceType"] in ("Claim", "Coverage")]
    claim = res[-1]
    _, result = charges(res)
    assert "no visit" in result.problems[0]
    claim["item"][0]["encounter"] = [{"identifier": {"value": "E0000001"}}]
    claim["identifier"].append({"type": samples._concept(samples.IDENTIFIER_TYPE, "AN"),
                                "value": encounter(1)["account_id"]})
    lines, result = charges(res)
    assert result.ok and lines[0]["service_date"] == DOS


def test_cancelled_claims_are_skipped_and_reported():
    events, result = run_text(samples.dumps(samples.bundle(claim_with([{}], status="cancelled"))))
    assert result.ok and [e["kind"] for e in events] == ["DISCHARGE"]
    assert "Claim.status cancelled" in result.skipped[0]
