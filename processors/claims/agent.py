"""Build and scrub claims.

Consumes: encounters-coded  (key: account_id, value: EncounterCoded)
Produces: claims            (ClaimBuilt: CLEAN, or HELD with its edits)
Rule:     processors.claims.rules.build_claim
"""
from __future__ import annotations

from processors import app as A
from processors.stage import record, run_batch
from schemas import topics as T

STAGE = "build_claims"


def handle(coded: dict):
    from processors.claims.rules import build_claim

    coder, charge_master = A.reference()
    return [record(T.CLAIMS, build_claim(coded, coder, charge_master))]


@A.app.agent(A.topic(T.ENCOUNTERS_CODED), name="build_claims")
async def build_claims(stream):
    async for events in stream.take_events(A.BATCH_MAX, A.BATCH_WITHIN_S):
        await run_batch(STAGE, T.ENCOUNTERS_CODED, events, handle, A.emitter())
