"""Flag denials.

Consumes: remittances  (key: account_id, value: RemittanceReceived)
Produces: denials      (DenialFlagged, one per denied adjustment)
Rule:     processors.denials.rules.flag_denials
The ledger stage owns the dead letters of `remittances`; this stage skips what it rejects.
"""
from __future__ import annotations

from processors import app as A
from processors.stage import Rejected, record, run_batch
from schemas import topics as T

STAGE = "flag_denials"


def handle(remit: dict):
    from processors.denials.rules import flag_denials
    from processors.ledger.rules import validate_remittance

    problems = validate_remittance(remit)
    if problems:
        raise Rejected("; ".join(problems), owner=False)
    return [record(T.DENIALS, d) for d in flag_denials(remit)]


@A.app.agent(A.topic(T.REMITTANCES), name="flag_denials")
async def flag_denials_agent(stream):
    async for events in stream.take_events(A.BATCH_MAX, A.BATCH_WITHIN_S):
        await run_batch(STAGE, T.REMITTANCES, events, handle, A.emitter(), owner=False)
