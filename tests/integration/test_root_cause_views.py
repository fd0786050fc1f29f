"""Denial root causes, denial patterns and scrub rule proposals in PostgreSQL (the sink writer)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from processors.denials.rules import flag_denials
from processors.patterns import rules as P
from processors.state import DENIAL_PATTERN_COUNTS, SCRUB_RULES
from sinks.postgres.writer import write_batch
from tests import factories as f
from tests.integration.test_sink_writer import GROUP, as_records, claim, coded, conn, query  # noqa: F401
from tests.support.stores import DictStore

pytestmark = pytest.mark.integration
T1 = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
RULE = "COMM-ACME/50/99213"


def denied(n: int, carc: str = "50") -> dict:
    return f.remittance(n, lines=[
        {"line": 1, "procedure_code": "99213", "units": 1, "charge_cents": 14500, "paid_cents": 0,
         "adjustments": [f.adjustment("CO", carc, 14500)], "remarks": ["N115"]}], status="4",
        claim_adjustments=[f.adjustment("CO", "27", 100)] if n == 3 else ())


def proposed(threshold: int = 2) -> dict:
    patterns, rules = DictStore(DENIAL_PATTERN_COUNTS), DictStore(SCRUB_RULES)
    outcomes = [P.count(o, patterns, rules, threshold)
                for n in (1, 2) for o in P.observe(denied(n))]
    [(_, proposal)] = outcomes[-1].records
    P.decide({"event_id": "dec-1", "rule_id": RULE, "decision": "ACCEPT", "decided_by": "U042",
              "role": "BILLING_MANAGER", "decided_at": T1, "emitted_at": T1, "note": None},
             patterns, rules, threshold)
    return proposal, rules.get(RULE)


def test_each_denial_carries_its_claims_scrub_outcome_and_codes(conn, database_url):  # noqa: F811
    write_batch(conn, GROUP, as_records("claims", "ClaimBuilt", [claim(1, "CLEAN"), claim(2)])
                + as_records("encounters-coded", "EncounterCoded", [
                    coded(1), coded(2, {"codes": ["R53.83"], "suggested": ["R53.81"]})])
                + as_records("denials", "DenialFlagged",
                             flag_denials(denied(1)) + flag_denials(denied(2, "0050"))
                             + flag_denials(denied(3, "197")), partition=1)
                + as_records("denial-patterns", "DenialPattern", P.observe(denied(3, "197"))))
    rows = query(database_url, """
        SELECT denial_id, line, denied_procedure_code, rule_id, claim_status,
               jsonb_array_length(claim_edits), coded_by, coder_id, diagnosis_codes,
               lowest_confidence, procedure_codes
        FROM denial_root_causes ORDER BY denial_id""")
    assert rows == [
        ("rem-evt-1:denial:1:0", 1, "99213", RULE, "CLEAN", 0, "AUTO", None, ["I10"], 1.0,
         ["99213"]),
        ("rem-evt-2:denial:1:0", 1, "99213", RULE, "HELD", 1, "CODER", "CODER-07", ["I10"], 1.0,
         ["99213"]),
        ("rem-evt-3:denial:0:0", None, None, None, None, None, None, None, None, None, None),
        # no claim stored: the procedure and pattern come from the remittance line
        ("rem-evt-3:denial:1:0", 1, "99213", "COMM-ACME/197/99213", None, None, None, None, None,
         None, None),
    ]
    patterns = query(database_url, """SELECT payer_id, reason_code, procedure_code, rule_id,
                                             denials, claims, denied_cents, passed_scrubber,
                                             rule_status FROM denial_patterns""")
    assert patterns[0] == ("COMM-ACME", "50", "99213", RULE, 2, 2, 29000, 1, None)
    assert sorted(p[1:4] for p in patterns) == [
        ("197", "99213", "COMM-ACME/197/99213"), ("27", None, None), ("50", "99213", RULE)]


def test_a_proposal_is_listed_until_a_decision_makes_it_active(conn, database_url):  # noqa: F811
    proposal, rule = proposed()
    write_batch(conn, GROUP, as_records("claims", "ClaimBuilt", [claim(1, "CLEAN")])
                + as_records("denials", "DenialFlagged", flag_denials(denied(1)))
                + as_records("scrub-rule-proposals", "ScrubRuleProposed", [proposal, proposal]))
    assert query(database_url, "SELECT rule_id, status, denial_count, denied_cents, "
                               "example_claim_ids FROM scrub_rule_proposals") == [
        (RULE, "PROPOSED", 2, 29000, ["CLM-E0000001", "CLM-E0000002"])]
    assert query(database_url, "SELECT rule_status FROM denial_root_causes") == [("PROPOSED",)]
    write_batch(conn, GROUP, as_records("scrub-rules", "ScrubRule", [rule, rule]))
    assert query(database_url, "SELECT status, decided_by, role FROM scrub_rule_proposals") == [
        ("ACTIVE", "U042", "BILLING_MANAGER")]
    assert query(database_url, "SELECT rule_status FROM denial_patterns") == [("ACTIVE",)]
    assert query(database_url, "SELECT count(*) FROM scrub_rule_decisions") == [(1,)]
