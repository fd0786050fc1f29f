"""X12 tokens and envelopes: delimiters from the ISA, counts and control numbers, truncation."""
from __future__ import annotations

from datetime import date

from producers.x12.tokens import read
from tests.support import x12_generate as G

CLAIM = {"claim_id": "CLM-E1", "claim_status": "1", "total_charge_cents": 10000,
         "total_paid_cents": 8000, "patient_responsibility_cents": 0,
         "claim_adjustments": [], "remarks": [],
         "lines": [{"line": 1, "procedure_code": "99213", "units": 1, "charge_cents": 10000,
                    "paid_cents": 8000, "remarks": [],
                    "adjustments": [{"group_code": "CO", "reason_code": "45", "amount_cents": 2000}]}]}


def an_835(control: int = 1, trace: str = "T1") -> str:
    return G.x835([CLAIM], payer_id="COMM-ACME", payer_name="ACME", trace=trace,
                  paid_on=date(2026, 3, 1), control=control)


def test_delimiters_come_from_the_isa_whatever_they_are():
    text = an_835().replace("*", "|").replace("~", "!\r\n").replace("HC:", "HC>").replace("|:!", "|>!")
    parsed = read(text, "odd.edi")
    assert parsed.errors == [] and len(parsed.transactions) == 1
    [tx] = parsed.transactions
    assert tx.errors == []
    svc = next(s for s in tx.segments if s.id == "SVC")
    assert svc.components(1) == ["HC", "99213"] and svc.el(2) == "100"
    assert tx.isa.delimiters.element == "|" and tx.isa.delimiters.component == ">"


def test_a_good_file_has_no_errors_and_numbers_segments_from_the_isa():
    parsed = read(an_835().encode(), "good.edi")
    [tx] = parsed.transactions
    assert parsed.errors == [] and tx.errors == []
    assert (tx.set_id, tx.control, tx.version) == ("835", "0001", "005010X221A1")
    assert tx.segments[0].number == 3  # ISA, GS, then ST


def test_a_wrong_se_count_names_the_file_the_segment_and_the_counts():
    text = an_835().replace("SE*", "SE*9", 1)
    [tx] = read(text, "count.edi").transactions
    [err] = tx.errors
    assert err.file == "count.edi" and err.segment_id == "SE"
    assert "the transaction has" in err.reason and str(err).startswith("count.edi: segment ")


def test_mismatched_control_numbers_are_errors_at_every_level():
    text = an_835().replace("SE*", "SE*X", 0).replace("GE*1*1", "GE*1*2").replace(
        "IEA*1*000000001", "IEA*2*000000009")
    parsed = read(text, "ctl.edi")
    reasons = [e.reason for e in parsed.errors]
    assert any("group control number" in r for r in reasons)
    assert any("functional groups" in r for r in reasons)
    assert any("interchange control number" in r for r in reasons)
    assert parsed.transactions[0].errors == []  # the transaction itself is whole


def test_a_truncated_file_keeps_its_complete_transactions_and_flags_the_cut_one():
    head = an_835(1, "T1").split("GE*")[0]  # ISA, GS and a whole first transaction
    second = an_835(2, "T2")
    second_tx = second[second.index("ST*835*0002"):second.index("SVC")]
    parsed = read(head + second_tx, "cut.edi")
    good, bad = parsed.transactions
    assert good.errors == []
    [err] = bad.errors
    assert "truncated" in err.reason and err.file == "cut.edi"
    assert any("no GE" in e.reason for e in parsed.errors)
    assert any("no IEA" in e.reason for e in parsed.errors)


def test_a_file_cut_inside_the_isa_is_one_precise_error():
    parsed = read(an_835()[:50], "short.edi")
    [err] = parsed.errors
    assert (err.number, err.segment_id) == (1, "ISA") and "106" in err.reason
    assert parsed.transactions == []


def test_not_x12_at_all():
    [err] = read(b"hello world", "txt.edi").errors
    assert "does not start with an ISA" in err.reason
