"""Find recurring denial patterns, propose scrub rules, apply people's decisions.

Consumes: remittances           (key: account_id, value: RemittanceReceived)
          denial-patterns       (key: rule_id, value: DenialPattern, one denied line)
          scrub-rule-decisions  (key: rule_id, value: ScrubRuleDecision)
Produces: denial-patterns       (one DenialPattern per denied service line, repartitioned by pattern)
          scrub-rule-proposals  (ScrubRuleProposed, once per pattern at the threshold)
          denial-pattern-counts (DenialPattern: the state, distinct denials per pattern)
          scrub-rules           (ScrubRule: the state, decided rules the claim scrubber reads)
Rule:     processors.patterns.rules.observe, count, decide
The ledger stage owns the dead letters of `remittances`; this module owns those of
`denial-patterns` (count_denial_patterns) and `scrub-rule-decisions` (apply_rule_decisions).
"""
from __future__ import annotations

from prometheus_client import Counter

from processors import app as A
from processors import state as S
from processors.stage import Rejected, Stage, record
from processors.state import TableStore
from schemas import topics as T

OUTCOMES = Counter("rcm_denial_pattern_outcomes_total",
                   "Denied lines and rule decisions by outcome: counted, duplicate (a denial "
                   "already counted), closed (pattern already proposed), proposed, waiting (a "
                   "decision before its proposal), accepted, rejected", ["outcome"])


def handle_remittance(remit: dict):
    from processors.patterns.rules import observe

    return [record(T.DENIAL_PATTERNS, rec) for rec in observe(remit)]


def _stores() -> tuple[TableStore, TableStore]:
    return A.store(S.DENIAL_PATTERN_COUNTS), A.store(S.SCRUB_RULES)


def _send(outcome, patterns: TableStore, rules: TableStore) -> list:
    OUTCOMES.labels(outcome.outcome).inc()
    return [*patterns.writes, *rules.writes, *(record(t, rec) for t, rec in outcome.records)]


def handle_pattern(observed: dict):
    from processors.patterns.rules import count, validate_observed

    problems = validate_observed(observed)
    if problems:
        raise Rejected("; ".join(problems))
    patterns, rules = _stores()
    return _send(count(observed, patterns, rules, A.SETTINGS.scrub_rule_threshold), patterns, rules)


def handle_decision(dec: dict):
    from processors.patterns.rules import NotDecidable, decide

    patterns, rules = _stores()
    try:
        outcome = decide(dec, patterns, rules, A.SETTINGS.scrub_rule_threshold)
    except NotDecidable as exc:
        raise Rejected(str(exc)) from exc
    return _send(outcome, patterns, rules)


DETECT_DENIAL_PATTERNS = Stage("detect_denial_patterns", T.REMITTANCES, handle_remittance, owner=False)
RULE_STATE = (S.DENIAL_PATTERN_COUNTS, S.SCRUB_RULES)
COUNT_DENIAL_PATTERNS = Stage("count_denial_patterns", T.DENIAL_PATTERNS, handle_pattern,
                              owner=True, reads=RULE_STATE, writes=RULE_STATE)
APPLY_RULE_DECISIONS = Stage("apply_rule_decisions", T.SCRUB_RULE_DECISIONS, handle_decision,
                             owner=True, reads=RULE_STATE, writes=RULE_STATE)
