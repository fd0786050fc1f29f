"""Build and scrub claims.

Consumes: encounters-coded  (key: account_id, value: EncounterCoded)
Reads:    scrub-rules table (decided scrub rules, every partition: one worker holds them all)
Produces: claims            (ClaimBuilt: CLEAN, or HELD with its edits)
Rule:     processors.claims.rules.build_claim
"""
from __future__ import annotations

from processors import app as A
from processors.stage import Stage, record
from schemas import topics as T


def handle(coded: dict):
    from processors.claims.rules import build_claim

    coder, charge_master = A.reference()
    return [record(T.CLAIMS, build_claim(coded, coder, charge_master, **A.claim_tables(),
                                         payer_rules=A.scrub_rules(coded["payer_id"])))]


BUILD_CLAIMS = Stage("build_claims", T.ENCOUNTERS_CODED, handle, owner=True)
