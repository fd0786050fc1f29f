"""Assemble visits from HL7 v2 / FHIR visit events into encounters.

Consumes: visit-events    (key: account_id, value: VisitEvent)
Produces: encounters      (EncounterReceived, once the visit is discharged and charged)
          visits-pending  (PendingVisit: the visit's events and status, the table's changelog)
          dead-letters
Rule:     processors.visits.rules.assemble
Owns the dead letters of `visit-events`.
"""
from __future__ import annotations

import time
from functools import partial

from processors import state as S
from processors.context import Context
from processors.stage import ERRORS, Outgoing, Rejected, Stage, partition_for, record
from schemas import codec
from schemas import topics as T

STAGE = "assemble_visits"


def kept_dead_letter(ev: dict, reason: str) -> Outgoing:
    """A dead letter for an event whose state was kept (the stage cannot raise Rejected without
    losing the state write). Its id is the event's, so a redelivery writes the same one; the
    offset is unknown here (-1)."""
    key = ev["account_id"].encode()
    ERRORS.labels(STAGE, "INVALID").inc()
    return record(T.DEAD_LETTERS, {
        "event_id": f"{T.VISIT_EVENTS.name}:{ev['event_id']}:{STAGE}",
        "source_topic": T.VISIT_EVENTS.name,
        "source_partition": partition_for(key, T.VISIT_EVENTS.partitions), "source_offset": -1,
        "stage": STAGE, "error": "INVALID", "reason": reason, "key": key,
        "payload": codec.encode(T.VISIT_EVENTS.value_schema, ev),
        "dead_lettered_at": int(time.time() * 1000)})


def handle(ctx: Context, ev: dict):
    from processors.visits.rules import Refused, assemble

    store = ctx.store(S.VISITS_PENDING)
    try:
        outcome = assemble(ev, store)
    except Refused as exc:
        raise Rejected(str(exc)) from exc
    out = [*store.writes, *(record(T.ENCOUNTERS, enc) for enc in outcome.encounters)]
    if outcome.problem:
        out.append(kept_dead_letter(ev, outcome.problem))
    return out


def stages(ctx: Context) -> tuple[Stage, ...]:
    return (Stage(STAGE, T.VISIT_EVENTS, partial(handle, ctx), owner=True,
                  reads=(S.VISITS_PENDING,), writes=(S.VISITS_PENDING,)),)
