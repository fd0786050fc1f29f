"""One faust agent per consumed topic, running every stage that reads that topic.

A record is decoded once and handed to each stage in turn (coding and charge posting both read
`encounters`; ledger posting and denial flagging both read `remittances`). Stages stay separate
in their own modules, metrics and dead letters; sharing the read halves the decoding and faust's
per-message dispatch.
"""
from __future__ import annotations

from processors import app as A
from processors.claims.agent import ACCEPT_SUBMITTED, BILL_SECONDARY, BUILD_CLAIMS
from processors.coding.agent import CODE_ENCOUNTERS, RELEASE_CODING
from processors.denials.agent import APPLY_APPEALS, FLAG_DENIALS, WORK_DENIALS
from processors.ledger.agent import POST_CHARGES, POST_PAYMENTS, POST_REMITTANCES
from processors.matching.agent import INDEX_CLAIMS, MATCH_REMITTANCES
from processors.patterns.agent import (
    APPLY_RULE_DECISIONS,
    COUNT_DENIAL_PATTERNS,
    DETECT_DENIAL_PATTERNS,
)
from processors.stage import Stage, run_batch
from processors.visits.agent import ASSEMBLE_VISITS
from schemas import topics as T

STAGES: tuple[Stage, ...] = (CODE_ENCOUNTERS, POST_CHARGES, RELEASE_CODING, BUILD_CLAIMS,
                             POST_REMITTANCES, FLAG_DENIALS, POST_PAYMENTS, ASSEMBLE_VISITS,
                             MATCH_REMITTANCES, INDEX_CLAIMS, DETECT_DENIAL_PATTERNS,
                             COUNT_DENIAL_PATTERNS, APPLY_RULE_DECISIONS, BILL_SECONDARY,
                             WORK_DENIALS, APPLY_APPEALS, ACCEPT_SUBMITTED)


def stages_on(topic: T.Topic) -> tuple[Stage, ...]:
    return tuple(s for s in STAGES if s.source is topic)


def _agent(topic: T.Topic):
    stages = stages_on(topic)
    assert sum(s.owner for s in stages) == 1, f"{topic.name} needs exactly one owner stage"

    async def consume(stream):
        async for events in stream.take_events(A.BATCH_MAX, A.BATCH_WITHIN_S):
            await run_batch(topic, events, stages, A.emitter())

    consume.__name__ = consume.__qualname__ = f"consume_{topic.name.replace('-', '_')}"
    return A.app.agent(A.topic(topic), name=consume.__name__)(consume)


on_encounters = _agent(T.ENCOUNTERS)
on_coding_decisions = _agent(T.CODING_DECISIONS)
on_encounters_coded = _agent(T.ENCOUNTERS_CODED)
on_remittances = _agent(T.REMITTANCES)
on_payments = _agent(T.PAYMENTS)
on_visit_events = _agent(T.VISIT_EVENTS)
on_remittances_unmatched = _agent(T.REMITTANCES_UNMATCHED)
on_claims = _agent(T.CLAIMS)
on_denial_patterns = _agent(T.DENIAL_PATTERNS)
on_scrub_rule_decisions = _agent(T.SCRUB_RULE_DECISIONS)
on_denials = _agent(T.DENIALS)
on_appeals = _agent(T.APPEALS)
on_claims_submitted = _agent(T.CLAIMS_SUBMITTED)
