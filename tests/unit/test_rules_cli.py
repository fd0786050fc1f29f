"""`rcm rules`: what a person sees and what a decision carries."""
from __future__ import annotations

from datetime import UTC, datetime

from processors.patterns.rules import validate_decision
from producers import scrub_rules as cli
from schemas import codec
from schemas import topics as T

NOW = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


def test_a_decision_is_a_valid_record_keyed_by_its_rule():
    dec = cli.decision("COMM-ACME/50/99213", "ACCEPT", "U042", "BILLING_MANAGER", None, NOW)
    assert validate_decision(dec) == []
    assert codec.key_of(T.SCRUB_RULE_DECISIONS, dec) == b"COMM-ACME/50/99213"
    assert codec.decode(codec.encode(T.SCRUB_RULE_DECISIONS.value_schema, dec))[1] == dec
    again = cli.decision("COMM-ACME/50/99213", "ACCEPT", "U042", "BILLING_MANAGER", None, NOW)
    assert again["event_id"] == dec["event_id"]  # the same decision at the same moment is one


def test_the_list_shows_money_in_dollars_from_integer_cents():
    rows = [{"rule_id": "COMM-ACME/50/99213", "status": "PROPOSED", "category": "MEDICAL_NECESSITY",
             "denial_count": 5, "denied_cents": 7250005, "decided_by": None, "role": None},
            {"rule_id": "MEDICARE/197/97110", "status": "ACTIVE", "category": "AUTHORIZATION",
             "denial_count": 6, "denied_cents": 5, "decided_by": "U042", "role": "BILLING_MANAGER"}]
    lines = cli.render(rows).splitlines()
    assert lines[0].split() == ["rule", "status", "category", "denials", "denied", "decided", "by"]
    assert "$72,500.05" in lines[1] and lines[1].startswith("COMM-ACME/50/99213")
    assert lines[2].endswith("U042 (BILLING_MANAGER)") and "$0.05" in lines[2]
    assert cli.render([]) == "no proposed scrub rules"
