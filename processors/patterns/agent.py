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

from functools import partial

from prometheus_client import Counter

from processors import state as S
from processors.context import Context
from processors.stage import Rejected, Stage, record, send
from processors.state import TableStore
from schemas import topics as T

OUTCOMES = Counter("rcm_denial_pattern_outcomes_total",
                   "Denied lines and rule decisions by outcome: counted, duplicate (a denial "
                   "already counted), closed (pattern already proposed), proposed, waiting (a "
                   "decision before its proposal), accepted, rejected", ["outcome"])


def handle_remittance(remit: dict):
    from processors.patterns.rules import observe

    return [record(T.DENIAL_PATTERNS, rec) for rec in observe(remit)]


def _stores(ctx: Context) -> tuple[TableStore, TableStore]:
    return ctx.store(S.DENIAL_PATTERN_COUNTS), ctx.store(S.SCRUB_RULES)


def _send(outcome, patterns: TableStore, rules: TableStore) -> list:
    OUTCOMES.labels(outcome.label).inc()
    return send((patterns, rules), outcome.records)


def handle_pattern(ctx: Context, observed: dict):
    from processors.patterns.rules import count, validate_observed

    problems = validate_observed(observed)
    if problems:
        raise Rejected("; ".join(problems))
    patterns, rules = _stores(ctx)
    return _send(count(observed, patterns, rules, ctx.settings.scrub_rule_threshold), patterns,
                 rules)


def handle_decision(ctx: Context, dec: dict):
    from processors.patterns.rules import NotDecidable, decide

    patterns, rules = _stores(ctx)
    try:
        outcome = decide(dec, patterns, rules, ctx.settings.scrub_rule_threshold)
    except NotDecidable as exc:
        raise Rejected(str(exc)) from exc
    return _send(outcome, patterns, rules)


RULE_STATE = (S.DENIAL_PATTERN_COUNTS, S.SCRUB_RULES)


def stages(ctx: Context) -> tuple[Stage, ...]:
    return (
        Stage("detect_denial_patterns", T.REMITTANCES, handle_remittance, owner=False),
        Stage("count_denial_patterns", T.DENIAL_PATTERNS, partial(handle_pattern, ctx),
              owner=True, reads=RULE_STATE, writes=RULE_STATE),
        Stage("apply_rule_decisions", T.SCRUB_RULE_DECISIONS, partial(handle_decision, ctx),
              owner=True, reads=RULE_STATE, writes=RULE_STATE),
    )
