"""835 fidelity (issue 9, root cause 16): every field the file gives, equal to the file's."""
from __future__ import annotations

from datetime import UTC, date, datetime

from producers.x12.cli import convert
from schemas import codec
from schemas import topics as T
from tests.unit import x12_fixtures as X

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def convert_835(claims, check="130.5", plb=()) -> tuple[list[dict], list]:
    tx = X.remit_835(claims=claims, check=check, plb=list(plb))
    result = convert(X.interchange([X.group("HP", 1, "005010X221A1", [tx])]), "f.edi", NOW)
    return [codec.decode_for(r.topic, r.value) for r in result.records
            if r.topic == T.REMITTANCES_UNMATCHED], result.errors


def test_claim_fields_clp06_dates_amounts_and_mia_moa_equal_the_file():
    [r], errors = convert_835([X.claim_a()])
    assert errors == []
    assert (r["claim_id"], r["claim_status"], r["payer_claim_control_number"]) == (
        "4000776-1", "1", "PCN-77")
    assert (r["total_charge_cents"], r["total_paid_cents"], r["patient_responsibility_cents"]) == (
        22500, 13050, 0)
    assert (r["claim_filing_indicator"], r["facility_type_code"], r["claim_frequency_code"]) == (
        "MC", "13", "1")
    assert (r["statement_start"], r["statement_end"]) == (date(2026, 2, 10), date(2026, 2, 12))
    assert r["amounts"] == [{"qualifier": "AU", "amount_cents": 15050}]
    assert r["adjudication"] == [{"element": "MIA01", "amount_cents": None, "value": "3"},
                                 {"element": "MIA04", "amount_cents": 12575, "value": None}]
    assert r["remarks"] == ["MA01", "MA15"]  # MIA05, MOA03


def test_line_modifiers_revenue_code_original_procedure_and_units_equal_the_file():
    [r], _ = convert_835([X.claim_a()])
    first, second = r["lines"]
    # SVC*HC:V2020:RB*150*130.5*0450*1.5*HC:V2025*2
    assert (first["procedure_qualifier"], first["procedure_code"], first["modifiers"]) == (
        "HC", "V2020", ["RB"])
    assert (first["charge_cents"], first["paid_cents"], first["revenue_code"]) == (
        15000, 13050, "0450")
    assert (first["units_paid"], first["units_billed"], first["units"]) == ("1.5", "2", 2)
    assert (first["original_procedure_code"], first["original_modifiers"]) == ("V2025", [])
    assert (first["service_start"], first["service_end"]) == (date(2026, 2, 10), date(2026, 2, 10))
    assert first["allowed_cents"] == 13050 and first["amounts"] == [
        {"qualifier": "B6", "amount_cents": 13050}]
    assert first["adjustments"] == [{"group_code": "CO", "reason_code": "45", "amount_cents": 1950}]
    # a denied line: SVC05 0 paid units, SVC07 1 billed unit
    assert (second["units_paid"], second["units_billed"], second["units"]) == ("0", "1", 1)
    assert second["modifiers"] == ["25"] and second["paid_cents"] == 0
    assert [a["amount_cents"] for a in second["adjustments"]] == [5500, 2000]
    assert second["remarks"] == ["N115"]


def test_ref_6r_is_kept_verbatim_and_names_the_line_only_when_it_is_a_line_number():
    [r], _ = convert_835([X.claim_a()])
    first, second = r["lines"]
    assert (first["line_control_number"], first["line"]) == ("LN-0001", 1)  # opaque: its place
    assert (second["line_control_number"], second["line"]) == ("2", 2)
    claim = [s for s in X.claim_a() if s != ("REF", "6R", "LN-0001")]
    claim = [("REF", "6R", "0009") if s == ("REF", "6R", "2") else s for s in claim]
    [r], _ = convert_835([claim])
    assert [(ln["line_control_number"], ln["line"]) for ln in r["lines"]] == [(None, 1), ("0009", 2)]


def test_a_denied_line_without_svc07_keeps_its_paid_units_and_one_billed_unit():
    claim = [s if s[0] != "SVC" or s[1][1] != "99213" else ("SVC", ("HC", "99213"), "75", "0", "",
                                                              "0") for s in X.claim_a()]
    [r], errors = convert_835([claim])
    assert errors == []
    assert (r["lines"][1]["units_paid"], r["lines"][1]["units_billed"], r["lines"][1]["units"]) \
        == ("0", "0", 1)


def test_the_check_balances_bpr02_equals_claims_paid_minus_plb():
    second = [("CLP", "HAR123", "4", "80", "0", "", "CI", "PCN-88"),
              ("CAS", "CO", "197", "80")]
    plb = [("PLB", "1234567893", "20261231", ("L6", "INT1"), "-2.25", ("WO", "OV9"), "10")]
    remits, errors = convert_835([X.claim_a(), second], check="122.75", plb=plb)
    assert errors == []
    paid = sum(r["total_paid_cents"] for r in remits)
    provider = sum(p["amount_cents"] for p in remits[0]["provider_adjustments"])
    assert (paid, provider, remits[0]["check_amount_cents"]) == (13050, 775, 12275)
    assert paid - provider == 12275
    assert remits[1]["claim_id"] == "HAR123" and remits[1]["claim_adjustments"] == [
        {"group_code": "CO", "reason_code": "197", "amount_cents": 8000}]


def test_a_check_that_does_not_balance_is_refused_with_the_totals():
    _, [err] = convert_835([X.claim_a()], check="131")
    assert err.segment_id == "BPR" and "$131.00 != claims paid $130.50" in err.reason


def test_an_svc01_with_no_code_is_refused_naming_the_element():
    claim = [("SVC", ("HC", ""), *s[2:]) if s[0] == "SVC" and s[1][1] == "99213" else s
             for s in X.claim_a()]
    _, [err] = convert_835([claim])
    assert err.segment_id == "SVC" and "SVC01" in err.reason and "no procedure code" in err.reason


def test_an_impossible_claim_date_is_refused_with_the_year():
    claim = [("DTM", "232", "10010101") if s == ("DTM", "232", "20260210") else s
             for s in X.claim_a()]
    _, [err] = convert_835([claim])
    assert err.segment_id == "DTM" and "year 1001" in err.reason
