"""X12 envelopes as real files come: any delimiters, any segment ends, BOM, several ISA/GS/ST."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from producers.x12.cli import convert
from producers.x12.tokens import read
from schemas import codec
from schemas import topics as T
from tests.unit import x12_fixtures as X

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def remits(result) -> list[dict]:
    return [codec.decode_for(r.topic, r.value) for r in result.records
            if r.topic == T.REMITTANCES_UNMATCHED]


def one_check(**kw) -> str:
    return X.interchange([X.group("HP", 1, "005010X221A1", [X.remit_835()])], **kw)


@pytest.mark.parametrize("kw", [
    {},
    {"component": ">"},
    {"component": "^", "repetition": "{"},
    {"component": ":", "repetition": "^"},
    {"element": "|", "component": ">", "terminator": "'"},
    {"terminator": "\n"},
    {"terminator": "~", "between": "\n"},
    {"terminator": "~", "between": "\r\n"},
    {"terminator": "\r\n"},
    {"terminator": "~", "between": "   \n"},
    {"element": "^", "component": ":", "repetition": "}", "terminator": "\\"},
], ids=lambda kw: repr(kw))
def test_the_same_check_reads_the_same_whatever_the_delimiters_and_segment_ends(kw):
    result = convert(one_check(**kw), "v.edi", NOW)
    assert result.errors == []
    [r] = remits(result)
    assert r["claim_id"] == "4000776-1" and r["check_amount_cents"] == 13050
    first, second = r["lines"]
    assert (first["procedure_code"], first["modifiers"]) == ("V2020", ["RB"])
    assert (second["procedure_code"], second["modifiers"]) == ("99213", ["25"])


def test_a_bom_and_blank_lines_before_the_isa_are_not_content():
    result = convert(("\ufeff" + one_check(between="\r\n")).encode("utf-8"), "bom.edi", NOW)
    assert result.errors == [] and len(remits(result)) == 1
    result = convert("\r\n\r\n" + one_check(), "lead.edi", NOW)
    assert result.errors == [] and len(remits(result)) == 1


def test_several_interchanges_groups_and_sets_in_one_file():
    first = X.interchange([
        X.group("HP", 1, "005010X221A1", [X.remit_835("0001"), X.remit_835("0002")]),
        X.group("HP", 2, "005010X221A1", [X.remit_835("0003")])], control=1)
    second = X.interchange([X.group("HP", 3, "005010X221A1", [X.remit_835("0004")])], control=2,
                           component=">", between="\n")
    parsed = read(first + "\n" + second, "many.edi")
    assert parsed.errors == []
    assert [t.control for t in parsed.transactions] == ["0001", "0002", "0003", "0004"]
    result = convert(first + second, "many.edi", NOW)
    assert result.errors == []
    assert sorted(r["trace_number"] for r in remits(result)) == [
        "EFT0001", "EFT0002", "EFT0003", "EFT0004"]


def test_a_wrong_se_count_refuses_that_set_only_and_its_neighbours_go_through():
    bad = X.remit_835("0002")
    bad[-1] = ("SE", 99, "0002")
    text = X.interchange([X.group("HP", 1, "005010X221A1", [X.remit_835("0001"), bad])])
    result = convert(text, "count.edi", NOW)
    [err] = result.errors
    assert err.segment_id == "SE" and "SE01 says '99' segments" in err.reason
    assert [r["trace_number"] for r in remits(result)] == ["EFT0001"]
    [dead] = [r for r in result.records if r.topic == T.DEAD_LETTERS]
    assert "SE01" in codec.decode_for(T.DEAD_LETTERS, dead.value)["reason"]


def test_a_wrong_se02_control_number_is_the_reason():
    bad = X.remit_835("0002")
    bad[-1] = ("SE", len(bad), "0009")
    result = convert(X.interchange([X.group("HP", 1, "005010X221A1", [bad])]), "ctl.edi", NOW)
    [err] = result.errors
    assert "'0009' does not match ST02 '0002'" in err.reason


def test_a_truncated_file_keeps_the_whole_sets_before_the_cut():
    text = X.interchange([X.group("HP", 1, "005010X221A1", [X.remit_835("0001"),
                                                             X.remit_835("0002")])])
    cut = text[:text.index("SVC", text.index("ST*835*0002"))]
    result = convert(cut, "cut.edi", NOW)
    assert [r["trace_number"] for r in remits(result)] == ["EFT0001"]
    assert any("truncated" in e.reason for e in result.errors)


def test_a_4010_transaction_is_refused_as_out_of_scope():
    tx = X.transaction("835", "0001", "", X.remit_835()[1:-1])
    text = X.interchange([X.group("HP", 1, "004010X091A1", [tx])])
    [err] = convert(text, "old.edi", NOW).errors
    assert "4010" in err.reason and "out of scope" in err.reason and err.segment_id == "ST"
