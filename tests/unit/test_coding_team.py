"""The simulated coding team: what it decides for a review, and that the processor accepts it."""
from __future__ import annotations

from datetime import UTC, datetime

from processors.coding.decisions import validate_decision
from producers.coding_team import decide
from schemas.accounts import make_account_id

T0 = datetime(2026, 3, 2, tzinfo=UTC)


def review(suggestions, reasons):
    return {"review_id": "enc-1:review", "encounter_id": "E1", "account_id": make_account_id(1),
            "reasons": reasons,
            "suggestions": [{"sequence": i, "text": "...", "code": code, "confidence": conf,
                             "also": also} for i, (code, conf, also) in enumerate(suggestions, 1)]}


def codes(decision):
    return [d["code"] for d in decision["diagnoses"]]


def test_suggestions_are_kept_and_a_flagged_statement_without_one_gets_r69(coder):
    r = review([("E11.22", 0.9, ["N18.31"]), (None, 0.3, []), (None, 0.95, [])],
               ["dx 2: 'feeling off' too vague to code (best 0.300 < 0.80)"])
    d = decide(r, "CODER-1", T0)
    assert codes(d) == ["E11.22", "N18.31", "R69"]  # statement 3: negated, stays uncoded
    assert d["event_id"] == "enc-1:review:decision" and d["coder_id"] == "CODER-1"
    assert validate_decision(d, coder) == []


def test_an_excludes1_pair_keeps_the_first_code_and_code_first_reorders(coder):
    d = decide(review([("E10.9", 0.9, []), ("E11.9", 0.9, [])],
                      ["E10.9 and E11.9 are an Excludes1 pair: code only one"]), "C", T0)
    assert codes(d) == ["E10.9"]
    d = decide(review([("H36.89", 0.9, []), ("E11.9", 0.9, [])],
                      ["H36.89: code first E11.9 (tabular 'code first' note)"]), "C", T0)
    assert codes(d) == ["E11.9", "H36.89"]


def test_an_unsupported_em_level_is_billed_at_the_supported_level():
    d = decide(review([("I10", 0.95, [])],
                      [("E/M: line 1 bills 99215 (over-coded); documentation supports 99213 "
                        "(MDM low supports 99213; 22 min supports 99213)")]), "C", T0)
    assert d["procedures"] == [{"line": 1, "procedure_code": "99213", "modifiers": []}]
    assert codes(d) == ["I10"]
