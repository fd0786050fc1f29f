"""X12 835 -> RemittanceReceived: the badx12 samples, our own generated checks, bad input."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from producers.x12.cli import convert
from producers.x12.remit835 import remittances
from producers.x12.tokens import X12Error, read
from schemas import codec
from schemas import topics as T
from tests.samples import x12_samples
from tests.support import x12_generate as G

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def adj(group, carc, cents):
    return {"group_code": group, "reason_code": carc, "amount_cents": cents}


def claim(claim_id="CLM-E1", status="1", lines=None, claim_adjustments=(), remarks=()):
    lines = lines if lines is not None else [
        {"line": 1, "procedure_code": "99213", "units": 1, "charge_cents": 14500,
         "paid_cents": 9000, "adjustments": [adj("CO", "45", 3500), adj("PR", "3", 2000)],
         "remarks": ["N130"]},
        {"line": 2, "procedure_code": "85025", "units": 2, "charge_cents": 6000,
         "paid_cents": 0, "adjustments": [adj("CO", "50", 6000)], "remarks": []}]
    paid = sum(ln["paid_cents"] for ln in lines) - sum(a["amount_cents"] for a in claim_adjustments)
    return {"claim_id": claim_id, "claim_status": status,
            "total_charge_cents": sum(ln["charge_cents"] for ln in lines), "total_paid_cents": paid,
            "patient_responsibility_cents": sum(a["amount_cents"] for ln in lines
                                                for a in ln["adjustments"] if a["group_code"] == "PR"),
            "payer_claim_control_number": "PCN-1", "claim_adjustments": list(claim_adjustments),
            "lines": lines, "remarks": list(remarks)}


def parse(text: str, file: str = "t.edi") -> list[dict]:
    [tx] = read(text, file).transactions
    assert tx.errors == []
    return remittances(tx, NOW)


def a_check(claims, **kw) -> str:
    return G.x835(claims, payer_id=kw.pop("payer_id", "COMM-ACME"), payer_name="ACME HEALTH",
                  trace=kw.pop("trace", "EFT0001"), paid_on=date(2026, 3, 1), **kw)


# --- the badx12 835 samples --------------------------------------------------------------------

def _raw_numbers(text: str) -> tuple[int, list[tuple[str, int, int]], int]:
    """BPR02, each CLP's (id, charge, paid) and the PLB total, read straight from the text."""
    def cents(s):
        return int(Decimal(s) * 100)
    segs = [s.strip().split("*") for s in text.split("~") if s.strip()]
    bpr = next(cents(s[2]) for s in segs if s[0] == "BPR")
    clps = [(s[1], cents(s[3]), cents(s[4])) for s in segs if s[0] == "CLP"]
    plb = sum(cents(s[i]) for s in segs if s[0] == "PLB" for i in range(4, len(s), 2))
    return bpr, clps, plb


@pytest.mark.parametrize("path", x12_samples("X221"), ids=lambda p: p.name)
def test_every_badx12_835_sample_parses_and_its_totals_match_the_file(path):
    text = path.read_text()
    remits = parse(text, path.name)
    bpr, clps, plb = _raw_numbers(text)
    assert [(r["claim_id"], r["total_charge_cents"], r["total_paid_cents"]) for r in remits] == clps
    assert bpr == sum(r["total_paid_cents"] for r in remits) - plb
    assert all(r["check_amount_cents"] == bpr for r in remits)
    for r in remits:  # each claim balances as the 835 requires: charge - paid = every CAS
        adjusted = sum(a["amount_cents"] for a in r["claim_adjustments"]) + sum(
            a["amount_cents"] for ln in r["lines"] for a in ln["adjustments"])
        assert r["total_charge_cents"] - r["total_paid_cents"] == adjusted
        assert codec.decode_for(T.REMITTANCES_UNMATCHED,
                                codec.encode("RemittanceReceived", r)) == r


def test_there_are_seven_835_samples_and_all_of_them_parse():
    names = [p.name for p in x12_samples("X221")]
    assert len(names) == 7
    for p in x12_samples("X221"):
        result = convert(p.read_bytes(), p.name, NOW)
        assert result.errors == [], p.name


def test_sample_details_plb_mia_moa_and_payer_id_from_ref_2u():
    path = next(p for p in x12_samples("X221") if "together" in p.name)
    first, second = parse(path.read_text())
    assert first["payer_id"] == "999" and first["payer_name"] == "INSURANCE COMPANY OF TIMBUCKTU"
    assert first["lines"] == [] and first["claim_adjustments"] == [adj("CO", "45", 7334857)]
    assert first["remarks"] == []  # its MIA carries no remark code (MIA05, MIA20-23 empty)
    assert second["remarks"] == ["MA02"]  # MOA03
    [plb] = first["provider_adjustments"]
    assert (plb["reason_code"], plb["reference"], plb["amount_cents"]) == ("CV", "CP", -127)
    assert plb["fiscal_period_end"] == date(2002, 12, 31)
    assert second["provider_adjustments"] == []


def test_repeated_cas_triplets_and_negative_adjustments_are_kept():
    path = next(p for p in x12_samples("X221") if p.name == "X221-secondary-payments.edi")
    _, second = parse(path.read_text())
    line = second["lines"][1]
    assert line["adjustments"] == [adj("PR", "1", 15000), adj("PR", "2", 7000), adj("CO", "42", 8500)]
    assert line["procedure_code"] == "66543" and line["units"] == 1
    hi = next(p for p in x12_samples("X221") if "higher-fee" in p.name)
    [r] = parse(hi.read_text())
    assert r["lines"][0]["adjustments"] == [adj("OA", "23", 51600), adj("OA", "94", -900)]


# --- our own checks ------------------------------------------------------------------------------

def test_a_generated_check_round_trips_every_field():
    c = claim(remarks=["M15"])
    [r] = parse(a_check([c]))
    assert r["account_id"] == "" and r["claim_id"] == "CLM-E1" and r["payer_id"] == "COMM-ACME"
    for k in ("claim_status", "total_charge_cents", "total_paid_cents",
              "patient_responsibility_cents", "payer_claim_control_number", "claim_adjustments",
              "remarks"):
        assert r[k] == c[k], k
    written = ("line", "procedure_code", "units", "charge_cents", "paid_cents", "adjustments",
               "remarks")
    assert [{k: ln[k] for k in written} for ln in r["lines"]] == c["lines"]  # REF*6R, LQ, units
    assert [ln["line_control_number"] for ln in r["lines"]] == ["1", "2"]
    assert r["trace_number"] == "EFT0001" and r["occurred_at"] == datetime(2026, 3, 1, tzinfo=UTC)
    assert r["event_id"] == "x835:1512345678:EFT0001:1" and r["remittance_id"] == "1512345678:EFT0001"


def test_line_numbers_come_from_ref_6r_when_present():
    c = claim()
    c["lines"][0]["line"], c["lines"][1]["line"] = 3, 7
    [r] = parse(a_check([c]))
    assert [ln["line"] for ln in r["lines"]] == [3, 7]


def test_claim_level_adjustments_and_many_claims_per_check():
    c1 = claim("CLM-E1", claim_adjustments=[adj("CO", "A2", 500)])
    c2 = claim("CLM-E2", status="4", lines=[
        {"line": 1, "procedure_code": "99214", "units": 1, "charge_cents": 20000, "paid_cents": 0,
         "adjustments": [adj("CO", "197", 20000)], "remarks": ["N54"]}])
    r1, r2 = parse(a_check([c1, c2]))
    assert r1["claim_adjustments"] == [adj("CO", "A2", 500)] and r1["total_paid_cents"] == 8500
    assert r2["claim_status"] == "4" and r2["event_id"].endswith(":2")
    assert r1["remittance_id"] == r2["remittance_id"] and r1["event_id"] != r2["event_id"]


def test_a_reversal_parses_with_negative_amounts():
    original = claim()
    reversal = {**claim(status="22"), "lines": [
        {**ln, "charge_cents": -ln["charge_cents"], "paid_cents": -ln["paid_cents"],
         "adjustments": [{**a, "amount_cents": -a["amount_cents"]} for a in ln["adjustments"]]}
        for ln in original["lines"]]}
    for k in ("total_charge_cents", "total_paid_cents", "patient_responsibility_cents"):
        reversal[k] = -original[k]
    corrected = claim()
    r_rev, r_new = parse(a_check([reversal, corrected]))
    assert r_rev["claim_status"] == "22" and r_rev["total_paid_cents"] == -9000
    assert r_rev["lines"][0]["adjustments"][0] == adj("CO", "45", -3500)
    assert r_rev["lines"][0]["units"] == 1
    assert r_new["total_paid_cents"] == 9000


def test_plb_rides_on_the_first_remittance_and_balances_the_check():
    plb = [{"provider_id": "1234567893", "fiscal_period_end": date(2026, 12, 31),
            "reason_code": "WO", "reference": "PCN-OLD", "amount_cents": 2500},
           {"provider_id": "1234567893", "fiscal_period_end": date(2026, 12, 31),
            "reason_code": "L6", "reference": None, "amount_cents": -300}]
    r1, r2 = parse(a_check([claim("CLM-E1"), claim("CLM-E2")], provider_adjustments=plb))
    assert [p["reason_code"] for p in r1["provider_adjustments"]] == ["WO", "L6"]
    assert r2["provider_adjustments"] == []
    assert r1["check_amount_cents"] == 9000 * 2 - 2200


def test_money_is_exact_decimal_never_float():
    c = claim(lines=[{"line": 1, "procedure_code": "99213", "units": 1, "charge_cents": 1001,
                      "paid_cents": 701, "adjustments": [adj("CO", "45", 300)], "remarks": []}])
    text = a_check([c]).replace("*10.01*7.01", "*10.010*7.0100")
    [r] = parse(text)
    assert (r["lines"][0]["charge_cents"], r["lines"][0]["paid_cents"]) == (1001, 701)


# --- bad input -----------------------------------------------------------------------------------

def bad(text: str) -> X12Error:
    [tx] = read(text, "bad.edi").transactions
    with pytest.raises(X12Error) as info:
        if tx.errors:
            raise tx.errors[0]
        remittances(tx, NOW)
    return info.value


def test_a_non_numeric_amount_names_its_segment():
    err = bad(a_check([claim()]).replace("SVC*HC:99213*145*90", "SVC*HC:99213*14S*90"))
    assert err.segment_id == "SVC" and "SVC02 '14S' is not a number" in err.reason
    assert str(err).startswith("bad.edi: segment ")


def test_fractions_of_a_cent_are_refused():
    err = bad(a_check([claim()]).replace("CLP*CLM-E1*1*205*90", "CLP*CLM-E1*1*205.001*90"))
    assert err.segment_id == "CLP" and "fractions of a cent" in err.reason


def test_an_unknown_cas_group_is_refused():
    err = bad(a_check([claim()]).replace("CAS*CO*45", "CAS*XX*45"))
    assert err.segment_id == "CAS" and "group code" in err.reason


def test_a_check_that_does_not_add_up_is_refused_at_the_bpr():
    err = bad(a_check([claim()]).replace("BPR*I*90*", "BPR*I*91*"))
    assert err.segment_id == "BPR" and "check total $91.00 != claims paid $90.00" in err.reason


def test_missing_claim_id_and_missing_trace():
    assert "CLP01" in bad(a_check([claim()]).replace("CLP*CLM-E1*", "CLP**")).reason
    assert "TRN02" in bad(a_check([claim()]).replace("TRN*1*EFT0001", "TRN*1*")).reason


def test_one_bad_transaction_is_dead_lettered_and_the_good_one_goes_through():
    good = a_check([claim("CLM-E1")], trace="EFT-GOOD", control=1)
    broken = a_check([claim("CLM-E2")], trace="EFT-BAD", control=2).replace("*90*", "*9O*", 1)
    # two interchanges in one file
    result = convert(good + broken, "two.edi", NOW)
    topics = [r.topic.name for r in result.records]
    assert topics.count("remittances-unmatched") == 1 and topics.count("dead-letters") == 1
    [err] = result.errors
    assert err.file == "two.edi" and err.segment_id == "BPR"
    dead = codec.decode_for(T.DEAD_LETTERS, result.records[-1].value)
    assert dead["source_topic"] == "remittances-unmatched" and dead["stage"] == "x12_adapter"
    assert dead["payload"].startswith(b"ISA*") and b"EFT-BAD" in dead["payload"]
    assert b"EFT-GOOD" not in dead["payload"]
    assert dead["reason"] == str(err)
    [ok] = [codec.decode_for(T.REMITTANCES_UNMATCHED, r.value) for r in result.records
            if r.topic is T.REMITTANCES_UNMATCHED]
    assert ok["claim_id"] == "CLM-E1"
    assert result.records[0].key == b"CLM-E1"


def test_a_truncated_file_posts_what_is_whole_and_dead_letters_the_rest():
    good = a_check([claim("CLM-E1")], trace="EFT-1", control=1)
    cut = a_check([claim("CLM-E2")], trace="EFT-2", control=2)
    result = convert(good + cut[: cut.index("SVC")], "cut.edi", NOW)
    kinds = sorted(r.topic.name for r in result.records)
    assert kinds.count("remittances-unmatched") == 1
    assert any("truncated" in e.reason for e in result.errors)
    assert kinds.count("dead-letters") == len(result.errors) >= 2


def test_other_transaction_sets_are_refused_not_ignored():
    path = next(iter(x12_samples("X279")))
    result = convert(path.read_bytes(), path.name, NOW)
    assert result.errors and "not one this adapter reads" in result.errors[0].reason


def test_dry_run_prints_json_lines_and_exits_1_when_anything_was_bad(tmp_path, capsys):
    import argparse
    import json

    from infra.settings import load
    from producers.x12.cli import produce

    good = tmp_path / "good.835"
    good.write_text(a_check([claim("CLM-E1")]))
    broken = tmp_path / "broken.835"
    broken.write_text(a_check([claim("CLM-E2")]).replace("SVC*HC:99213*145*90", "SVC*HC:99213*145"))
    assert produce(argparse.Namespace(files=[str(good)], dry_run=True), load()) == 0
    [line] = capsys.readouterr().out.splitlines()
    rec = json.loads(line)
    assert rec["topic"] == "remittances-unmatched" and rec["value"]["claim_id"] == "CLM-E1"
    assert rec["value"]["total_paid_cents"] == 9000
    assert produce(argparse.Namespace(files=[str(good), str(broken)], dry_run=True),
                   load()) == 1
    captured = capsys.readouterr()
    topics = [json.loads(x)["topic"] for x in captured.out.splitlines()]
    assert topics == ["remittances-unmatched", "dead-letters"]
    assert "error: broken.835: segment " in captured.err and "(SVC): SVC03" in captured.err


def test_generated_835_files_and_the_badx12_samples_pass_pyx12():
    from sinks.x12.validate import validate

    plb = [{"provider_id": "1234567893", "fiscal_period_end": date(2026, 12, 31),
            "reason_code": "WO", "reference": "PCN-OLD", "amount_cents": 2500}]
    text = a_check([claim("CLM-E1", claim_adjustments=[adj("CO", "A2", 500)]), claim("CLM-E2")],
                   provider_adjustments=plb)
    result = validate(text)
    assert result.ok, result.errors
    for path in x12_samples("X221"):
        assert validate(path.read_text()).ok, path.name


CLAIM_FIELDS = ("claim_id", "claim_status", "total_charge_cents", "total_paid_cents",
                "patient_responsibility_cents", "payer_claim_control_number", "claim_adjustments",
                "lines", "remarks", "provider_adjustments", "check_amount_cents")


@pytest.mark.parametrize("path", x12_samples("X221"), ids=lambda p: p.name)
def test_every_badx12_835_sample_round_trips_through_our_writer(path):
    remits = parse(path.read_text(), path.name)
    again = parse(a_check(remits, trace=remits[0]["trace_number"],
                          provider_adjustments=remits[0]["provider_adjustments"]))
    assert [_written(r) for r in again] == [_written(r) for r in remits]


WRITTEN_LINE = ("line", "procedure_code", "units", "charge_cents", "paid_cents", "adjustments",
                "remarks")


def _written(r: dict) -> dict:
    """What generate.x835 writes back: the claim fields, and the lines as our 837 numbers them."""
    out = {k: r[k] for k in CLAIM_FIELDS}
    out["lines"] = [{k: ln[k] for k in WRITTEN_LINE} for ln in r["lines"]]
    return out
