"""Charge lines whose code the charge master lacks (issue 9, root cause 11): the encounter goes to
coding review naming the line and its code as sent; a coder's decision gives the line a
charge-master or CPT/HCPCS code and it bills at its price as sent."""
from __future__ import annotations

import pytest

from processors.coding.decisions import (
    NotApplicable,
    on_decision,
    on_encounter,
    validate_decision,
)
from processors.coding.rules import code_encounter, validate_encounter
from processors.state import CODING_PENDING
from tests.support.stores import DictStore
from tests.unit.test_coding_decisions import DOS, THRESHOLD, decision, encounter

SNOMED = "http://snomed.info/sct"
WELL_CHILD = {"system": SNOMED, "code": "410620009", "text": "Well child visit (procedure)"}


def lines(*foreign, cls_price=14500) -> list[dict]:
    """Line 1 from the charge master, then one line per (source_code, units, unit price)."""
    out = [{"line": 1, "charge_code": "CM100113", "units": 1, "unit_price_cents": cls_price,
            "service_date": DOS, "source_code": None}]
    for n, (src, units, price) in enumerate(foreign, 2):
        out.append({"line": n, "charge_code": "", "units": units, "unit_price_cents": price,
                    "service_date": DOS, "source_code": src})
    return out


def reviewed(coder, cm, enc):
    store = DictStore(CODING_PENDING)
    kind, review = code_encounter(enc, cm, coder, THRESHOLD)
    assert kind == "review"
    on_encounter(enc, kind, review, store, coder, cm)
    return store, review


def test_a_snomed_line_sends_the_encounter_to_review_naming_the_line_and_its_code(coder, cm):
    enc = encounter(texts=("essential hypertension",), charges=lines((WELL_CHILD, 1, 70420)))
    assert validate_encounter(enc, cm, coder) == []
    kind, review = code_encounter(enc, cm, coder, THRESHOLD)
    assert kind == "review"
    assert review["reasons"] == [
        ("charge line 2: SNOMED CT 410620009 'Well child visit (procedure)' is not in the charge "
        "master: give the line a charge-master or CPT/HCPCS code")]
    assert review["total_charge_cents"] == 14500 + 70420
    assert enc["account_id"] not in " ".join(review["reasons"])


def test_a_cpt_code_the_charge_master_lacks_or_words_alone_also_go_to_review(coder, cm):
    cpt = {"system": "C4", "code": "99392", "text": None}
    words = {"system": "", "code": None, "text": "Flu shot"}
    enc = encounter(texts=("essential hypertension",), charges=lines((cpt, 2, 7500), (words, 1, 2000)))
    _, review = code_encounter(enc, cm, coder, THRESHOLD)
    assert review["reasons"] == [
        ("charge line 2: CPT 99392 is not in the charge master: give the line a charge-master or "
        "CPT/HCPCS code"),
        ("charge line 3: 'Flu shot' is not in the charge master: give the line a charge-master or "
        "CPT/HCPCS code")]
    assert review["total_charge_cents"] == 14500 + 2 * 7500 + 2000


@pytest.mark.parametrize(("src", "units", "price", "problem"), [
    (None, 1, 5000, "charge line 2: no charge-master code, and no code or description as sent"),
    ({"system": SNOMED, "code": None, "text": "  "}, 1, 5000,
     "charge line 2: no charge-master code, and no code or description as sent"),
    (WELL_CHILD, 1, 0, "charge line 2: unit price 0 cents is not positive"),
    (WELL_CHILD, 1, -100, "charge line 2: unit price -100 cents is negative"),
    (WELL_CHILD, 0, 5000, "charge line 2: units 0 must be positive"),
])
def test_a_foreign_line_without_code_words_price_or_units_is_still_refused(coder, cm, src, units,
                                                                          price, problem):
    enc = encounter(texts=("essential hypertension",), charges=lines((src, units, price)))
    problems = validate_encounter(enc, cm, coder)
    assert any(p.startswith(problem) for p in problems), problems


def test_a_decision_giving_a_charge_master_code_releases_it_at_the_price_as_sent(coder, cm):
    enc = encounter(texts=("essential hypertension",), charges=lines((WELL_CHILD, 1, 70420)))
    store, _ = reviewed(coder, cm, enc)
    dec = decision(codes=("I10",), procedures=[
        {"line": 2, "procedure_code": "", "modifiers": [], "charge_code": "CM100114"}])
    assert validate_decision(dec, coder) == []
    [(_, rec)] = on_decision(dec, store, coder, cm).records
    item = cm["CM100114"]
    assert [(p["line"], p["charge_code"], p["procedure_code"], p["revenue_code"], p["units"],
             p["charge_cents"]) for p in rec["procedures"]] == [
        (1, "CM100113", "99213", "0510", 1, 14500),
        (2, "CM100114", item.procedure_code, item.revenue_code, 1, 70420)]
    assert item.unit_price_cents != 70420  # the line's price as sent, not the charge master's
    assert store.get("E1")["released"]


def test_a_decision_giving_a_cpt_code_takes_the_charge_masters_revenue_code(coder, cm):
    enc = encounter(texts=("essential hypertension",), encounter_class="OUTPATIENT",
                    charges=lines(({"system": SNOMED, "code": "117015009", "text": "Throat culture"},
                                   2, 1850)))
    store, _ = reviewed(coder, cm, enc)
    dec = decision(codes=("I10",), procedures=[{"line": 2, "procedure_code": "36415", "modifiers": []}])
    [(_, rec)] = on_decision(dec, store, coder, cm).records
    line = rec["procedures"][1]
    assert (line["charge_code"], line["procedure_code"], line["revenue_code"], line["units"],
            line["charge_cents"]) == ("", "36415", "0300", 2, 3700)


def test_a_cpt_code_without_a_revenue_code_on_an_institutional_claim_needs_a_charge_code(coder, cm):
    enc = encounter(texts=("essential hypertension",), encounter_class="OUTPATIENT",
                    charges=lines((WELL_CHILD, 1, 70420)))
    store, _ = reviewed(coder, cm, enc)
    dec = decision(codes=("I10",), procedures=[{"line": 2, "procedure_code": "99392", "modifiers": []}])
    with pytest.raises(NotApplicable, match="line 2: 99392 has no single revenue code"):
        on_decision(dec, store, coder, cm)
    office = encounter(texts=("essential hypertension",), charges=lines((WELL_CHILD, 1, 70420)))
    store, _ = reviewed(coder, cm, office)  # a professional claim bills no revenue code
    [(_, rec)] = on_decision(dec, store, coder, cm).records
    assert (rec["procedures"][1]["procedure_code"], rec["procedures"][1]["charge_cents"]) == ("99392", 70420)


def test_a_decision_that_leaves_the_foreign_line_uncoded_does_not_release_it(coder, cm):
    enc = encounter(texts=("essential hypertension",), charges=lines((WELL_CHILD, 1, 70420)))
    store, _ = reviewed(coder, cm, enc)
    with pytest.raises(NotApplicable, match="gives no code to line 2"):
        on_decision(decision(codes=("I10",)), store, coder, cm)
    bad = decision(codes=("I10",), procedures=[
        {"line": 2, "procedure_code": "", "modifiers": [], "charge_code": "CM-NOSUCH"}])
    with pytest.raises(NotApplicable, match="charge code CM-NOSUCH is not in the charge master"):
        on_decision(bad, store, coder, cm)
    assert not store.get("E1")["released"]
    empty = decision(procedures=[{"line": 2, "procedure_code": " ", "modifiers": [], "charge_code": None}])
    assert "procedure override for line 2 has no code" in validate_decision(empty, coder)


def test_an_early_decision_that_codes_the_line_releases_the_encounter_when_it_arrives(coder, cm):
    enc = encounter(texts=("essential hypertension",), charges=lines((WELL_CHILD, 1, 70420)))
    store = DictStore(CODING_PENDING)
    dec = decision(codes=("I10",), procedures=[
        {"line": 2, "procedure_code": "", "modifiers": [], "charge_code": "CM100114"}])
    assert on_decision(dec, store, coder, cm).records == []
    kind, review = code_encounter(enc, cm, coder, THRESHOLD)
    out = on_encounter(enc, kind, review, store, coder, cm)
    assert [t.name for t, _ in out.records] == ["coding-review", "encounters-coded"]
    assert out.records[1][1]["procedures"][1]["charge_cents"] == 70420
