"""Denial patterns in faust's in-memory test context: denied lines -> one proposal -> a person
accepts -> the next matching claim is held."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from processors import state as S
from schemas import codec
from schemas import topics as T
from tests import factories as F
from tests.stream.test_agents import CTX, collector, enc, feed, run  # noqa: F401 - the fixture

RULE = "COMM-ACME/50/99213"
T1 = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def threshold_3(monkeypatch):
    monkeypatch.setattr(CTX, "settings", replace(CTX.settings, scrub_rule_threshold=3))
    CTX.table(S.DENIAL_PATTERN_COUNTS).data.clear()
    CTX.table(S.SCRUB_RULES).data.clear()


def denied(n: int) -> dict:
    line = {"line": 1, "procedure_code": "99213", "units": 1, "charge_cents": 14500,
            "paid_cents": 0, "adjustments": [F.adjustment("CO", "50", 14500)], "remarks": []}
    return F.remittance(600 + n, lines=[line], status="4")


def decision(rule_id: str = RULE, verdict: str = "ACCEPT") -> bytes:
    return enc({"event_id": "dec-1", "rule_id": rule_id, "decision": verdict, "decided_by": "U042",
                "role": "BILLING_MANAGER", "decided_at": T1, "emitted_at": T1, "note": None},
               T.SCRUB_RULE_DECISIONS)


def coded(n: int, payer_id: str = "COMM-ACME") -> bytes:
    from processors.coding.rules import code_encounter

    coder, charge_master = CTX.reference()
    kind, rec = code_encounter(F.encounter(n, payer_id=payer_id), charge_master, coder, 0.8)
    assert kind == "coded" and rec["procedures"][0]["procedure_code"] == "99213"
    return enc(rec, T.ENCOUNTERS_CODED)


def test_denials_of_one_pattern_propose_one_rule_and_an_accepted_rule_holds_the_next_claim(
        collector):  # noqa: F811

    run(feed(T.REMITTANCES, [enc(denied(n), T.REMITTANCES) for n in range(4)], collector, 8))
    patterns = [v for name, _k, v in collector.sent if name == T.DENIAL_PATTERNS.name]
    assert [p["rule_id"] for p in patterns] == [RULE] * 4
    assert {k for name, k, _v in collector.sent if name == T.DENIAL_PATTERNS.name} == {RULE.encode()}
    assert len(collector.on(T.DENIALS)) == 4  # flag_denials is unchanged beside it

    collector.sent.clear()
    again = [enc(p, T.DENIAL_PATTERNS) for p in patterns]
    run(feed(T.DENIAL_PATTERNS, [again[0], again[0], again[1], again[2], again[3], again[1]],
             collector, 4))
    [proposal] = collector.on(T.SCRUB_RULE_PROPOSALS)
    assert (proposal["rule_id"], proposal["denial_count"], proposal["denied_cents"]) == (
        RULE, 3, 43500)
    states = collector.on(T.DENIAL_PATTERN_COUNTS)
    assert [len(s["denials"]) for s in states] == [1, 2, 3] and states[-1]["proposed"]
    assert collector.on(T.SCRUB_RULES) == [] and collector.on(T.DEAD_LETTERS) == []

    collector.sent.clear()
    run(feed(T.ENCOUNTERS_CODED, [coded(701)], collector, 1))
    assert collector.on(T.CLAIMS)[0]["status"] == "CLEAN"  # proposed is not accepted

    collector.sent.clear()
    run(feed(T.SCRUB_RULE_DECISIONS, [decision()], collector, 1))
    [rule] = collector.on(T.SCRUB_RULES)
    assert (rule["status"], rule["denial_count"]) == ("ACTIVE", 3)
    assert CTX.table(S.SCRUB_RULES).data[RULE.encode()]

    collector.sent.clear()
    run(feed(T.ENCOUNTERS_CODED, [coded(702), coded(703, payer_id="COMM-BLUE")], collector, 2))
    held, other = collector.on(T.CLAIMS)
    assert held["status"] == "HELD"
    assert [(e["edit"], e["line"]) for e in held["edits"]] == [("PAYER_RULE", 1)]
    assert RULE in held["edits"][0]["message"]
    assert (other["payer_id"], other["status"]) == ("COMM-BLUE", "CLEAN")


def test_a_decision_before_its_proposal_waits_and_a_bad_one_is_dead_lettered(
        collector):  # noqa: F811

    run(feed(T.SCRUB_RULE_DECISIONS, [decision(), decision("COMM-ACME|50|99213"), b"junk"],
             collector, 3))
    [state] = collector.on(T.DENIAL_PATTERN_COUNTS)
    assert (state["rule_id"], state["proposed"], state["denials"]) == (RULE, False, [])
    assert codec.decode(state["waiting_decision"])[1]["decision"] == "ACCEPT"
    dead = collector.on(T.DEAD_LETTERS)
    assert [(d["stage"], d["error"]) for d in dead] == [
        ("apply_rule_decisions", "INVALID"), ("apply_rule_decisions", "MALFORMED")]
    assert "is not a rule id" in dead[0]["reason"]
    assert collector.on(T.SCRUB_RULES) == []
