"""Assemble visits from HL7 v2 / FHIR visit events into encounters.

Consumes: visit-events    (key: account_id, value: VisitEvent)
Produces: encounters      (EncounterReceived, once the visit is discharged and charged)
          visits-pending  (PendingVisit: the visit's events and status, the table's changelog)
          dead-letters
Rule:     processors.visits.rules.assemble
Owns the dead letters of `visit-events`.
"""
from __future__ import annotations

from functools import partial

from processors import state as S
from processors.context import Context
from processors.stage import Rejected, Stage, send
from schemas import topics as T

STAGE = "assemble_visits"


def handle(ctx: Context, ev: dict):
    from processors.visits.rules import Refused, assemble

    store = ctx.store(S.VISITS_PENDING)
    try:
        outcome = assemble(ev, store)
    except Refused as exc:
        raise Rejected(str(exc)) from exc
    # the stage keeps the visit's state, so a refused event is a kept dead letter
    return send((store,), outcome.records, rejected=outcome.rejected,
                refused_by=(T.VISIT_EVENTS, STAGE))


def stages(ctx: Context) -> tuple[Stage, ...]:
    return (Stage(STAGE, T.VISIT_EVENTS, partial(handle, ctx), owner=True,
                  reads=(S.VISITS_PENDING,), writes=(S.VISITS_PENDING,)),)
