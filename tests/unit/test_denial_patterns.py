"""Denial patterns: keys, counting by denial id, one proposal at the threshold, decisions."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from processors.claims.rules import payer_rule_edits
from processors.patterns import rules as P
from processors.state import DENIAL_PATTERN_COUNTS, SCRUB_RULES
from schemas import codec
from schemas import topics as T
from tests import factories as F
from tests.support.stores import DictStore

T1 = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


def denied_line(line: int = 1, code: str = "97110", carc: str = "50", cents: int = 9000) -> dict:
    return {"line": line, "procedure_code": code, "units": 1, "charge_cents": cents,
            "paid_cents": 0, "adjustments": [F.adjustment("CO", carc, cents)], "remarks": []}


def remit(n: int, *lines: dict, payer: str = "COMM-ACME", claim_adjustments=()) -> dict:
    return F.remittance(n, lines=list(lines) or [denied_line()], status="4", payer_id=payer,
                        claim_adjustments=claim_adjustments)


def decision(verdict: str = "ACCEPT", rid: str = "COMM-ACME/50/97110", n: int = 1) -> dict:
    return {"event_id": f"dec-{n}", "rule_id": rid, "decision": verdict, "decided_by": "U042",
            "role": "BILLING_MANAGER", "decided_at": T1, "emitted_at": T1, "note": None}


def feed(records: list[dict], threshold: int = 3):
    patterns, rules = DictStore(DENIAL_PATTERN_COUNTS), DictStore(SCRUB_RULES)
    outcomes = [P.count(r, patterns, rules, threshold) for r in records]
    return outcomes, patterns, rules


def observed(n: int, **kw) -> dict:
    [rec] = P.observe(remit(n, **kw))
    return rec


def test_a_pattern_is_payer_reason_and_procedure_and_leading_zeros_do_not_split_it():
    a = P.observe(remit(1, denied_line(carc="050")))
    b = P.observe(remit(2, denied_line(carc="50")))
    assert a[0]["rule_id"] == b[0]["rule_id"] == "COMM-ACME/50/97110"
    assert P.observe(remit(3, payer="COMM-BLUE"))[0]["rule_id"] == "COMM-BLUE/50/97110"
    assert P.parse_rule_id("COMM-ACME/50/97110") == ("COMM-ACME", "50", "97110")
    assert P.parse_rule_id("PAYER/WITH/SLASH/50/97110") == ("PAYER/WITH/SLASH", "50", "97110")
    assert P.parse_rule_id("COMM-ACME|50|97110") is None
    assert P.parse_rule_id("COMM-ACME/050/97110") is None  # not normalised: not a rule id


def test_each_denied_line_is_one_record_and_claim_level_or_paid_lines_are_none():
    paid = {**denied_line(2, "99213"), "paid_cents": 9000,
            "adjustments": [F.adjustment("CO", "45", 500)]}
    recs = P.observe(remit(1, denied_line(1, "97110"), paid, denied_line(3, "97140", "197"),
                           claim_adjustments=[F.adjustment("CO", "27", 100)]))
    assert [r["rule_id"] for r in recs] == ["COMM-ACME/50/97110", "COMM-ACME/197/97140"]
    assert [(r["category"], r["preventable"]) for r in recs] == [
        ("MEDICAL_NECESSITY", True), ("AUTHORIZATION", True)]
    assert recs[0]["denials"][0]["amount_cents"] == 9000


def test_the_threshold_proposes_once_with_count_cents_and_examples():
    outcomes, patterns, _ = feed([observed(n) for n in range(1, 6)], threshold=3)
    assert [o.label for o in outcomes] == ["counted", "counted", "proposed", "closed", "closed"]
    [(topic, proposal)] = outcomes[2].records
    assert topic is T.SCRUB_RULE_PROPOSALS
    assert (proposal["rule_id"], proposal["denial_count"], proposal["denied_cents"],
            proposal["threshold"]) == ("COMM-ACME/50/97110", 3, 27000, 3)
    assert proposal["example_claim_ids"] == ["CLM-E0000001", "CLM-E0000002", "CLM-E0000003"]
    assert proposal["event_id"] == "COMM-ACME/50/97110:proposed"
    assert patterns.get("COMM-ACME/50/97110")["proposed"] is True
    codec.encode(T.SCRUB_RULE_PROPOSALS.value_schema, proposal)  # a valid contract


def test_a_redelivered_denial_is_not_counted_twice():
    again = observed(1)
    outcomes, patterns, _ = feed([observed(1), again, again, observed(2)], threshold=3)
    assert [o.label for o in outcomes] == ["counted", "duplicate", "duplicate", "counted"]
    assert len(patterns.get("COMM-ACME/50/97110")["denials"]) == 2
    assert all(not o.records for o in outcomes)


def test_patterns_are_counted_apart():
    recs = [observed(n, payer="COMM-BLUE" if n % 2 else "COMM-ACME") for n in range(1, 5)]
    outcomes, _, _ = feed(recs, threshold=3)
    assert all(o.label == "counted" for o in outcomes)


def test_an_accepted_rule_becomes_active_and_a_rejected_one_does_not():
    _, patterns, rules = feed([observed(n) for n in range(1, 4)], threshold=3)
    out = P.decide(decision("ACCEPT"), patterns, rules, 3)
    assert out.label == "accepted"
    rule = rules.get("COMM-ACME/50/97110")
    assert (rule["status"], rule["denial_count"], rule["decided_by"]) == ("ACTIVE", 3, "U042")
    assert P.decide(decision("ACCEPT"), patterns, rules, 3).label == "duplicate"
    assert P.decide(decision("REJECT", n=2), patterns, rules, 3).label == "rejected"
    assert rules.get("COMM-ACME/50/97110")["status"] == "REJECTED"


def test_a_decision_before_its_proposal_waits_and_applies_when_the_rule_is_proposed():
    patterns, rules = DictStore(DENIAL_PATTERN_COUNTS), DictStore(SCRUB_RULES)
    assert P.decide(decision("ACCEPT"), patterns, rules, 3).label == "waiting"
    assert P.decide(decision("ACCEPT"), patterns, rules, 3).label == "duplicate"
    assert rules.get("COMM-ACME/50/97110") is None
    outcomes = [P.count(observed(n), patterns, rules, 3) for n in range(1, 4)]
    assert [o.label for o in outcomes] == ["counted", "counted", "proposed"]
    assert rules.get("COMM-ACME/50/97110")["status"] == "ACTIVE"
    assert patterns.get("COMM-ACME/50/97110")["waiting_decision"] is None


@pytest.mark.parametrize("change, reason", [
    ({"rule_id": "COMM-ACME|50|97110"}, "is not a rule id"),
    ({"decided_by": " "}, "names no person"),
    ({"role": ""}, "names no role"),
])
def test_a_decision_that_names_no_rule_or_no_person_is_refused(change, reason):
    with pytest.raises(P.NotDecidable, match=reason):
        P.decide({**decision(), **change}, DictStore(DENIAL_PATTERN_COUNTS), DictStore(SCRUB_RULES), 3)


def test_a_pattern_record_must_name_its_own_pattern():
    rec = observed(1)
    assert P.validate_observed(rec) == []
    assert P.validate_observed({**rec, "procedure_code": "99999"})
    assert P.validate_observed({**rec, "denials": []})


def rule(status: str = "ACTIVE", payer: str = "COMM-ACME", code: str = "97110") -> dict:
    return {"rule_id": f"{payer}/50/{code}", "payer_id": payer, "reason_code": "50",
            "procedure_code": code, "status": status, "denial_count": 5, "role": "BILLING_MANAGER"}


def test_an_active_rule_holds_the_lines_of_its_payer_and_procedure_only():
    lines = [{"line": 1, "procedure_code": "99213"}, {"line": 2, "procedure_code": "97110"}]
    [edit] = payer_rule_edits("COMM-ACME", lines, [rule()])
    assert (edit["edit"], edit["line"]) == ("PAYER_RULE", 2)
    assert "COMM-ACME/50/97110" in edit["message"]
    assert payer_rule_edits("COMM-BLUE", lines, [rule()]) == []
    assert payer_rule_edits("COMM-ACME", lines, [rule("REJECTED")]) == []
    assert payer_rule_edits("COMM-ACME", lines, [rule(code="97140")]) == []
