"""Build and scrub claims, version them, and bill secondary payers.

Consumes: encounters-coded  (key: account_id, value: EncounterCoded), only the records not built
                            yet: the coding stage builds each claim in the pass that codes the
                            encounter (`build`) and marks the coded record (stage.HANDLED_BY)
          remittances       (key: account_id, value: RemittanceReceived)
          claims-submitted  (key: account_id, value: ClaimBuilt SUBMITTED, from an 837 in)
Reads:    scrub-rules (decided scrub rules, broadcast: every worker mirrors every partition)
Produces: claims            (ClaimBuilt: CLEAN, or HELD with its edits; versions 1/7/8; SECONDARY)
          ledger-entries    (TRANSFER_TO_SECONDARY when a secondary claim is billed)
          claim-state       (ClaimState: each claim's last version, content, payer claim number)
          ledger-entries    (CHARGE per line of a submitted claim), encounter-charges (its state)
Reads:    claim-state, encounter-charges (co-partitioned by account)
Rule:     processors.claims.rules.build_claim, processors.claims.versions.version_claim,
          processors.claims.secondary.on_remittance, processors.claims.submitted.on_submitted
"""
from __future__ import annotations

from functools import partial

from prometheus_client import Counter

from processors import state as S
from processors.context import Context
from processors.stage import Rejected, Stage, send
from schemas import topics as T

SECONDARY = Counter("rcm_secondary_claims_total",
                    "Remittances seen by the secondary biller, by outcome: billed (a secondary "
                    "claim), rebilled (a redelivery), noted, waiting (claim not built yet), "
                    "unknown_claim", ["outcome"])


BUILD_CLAIMS = "build_claims"


def build(ctx: Context, coded: dict):
    """The claim of a coded encounter (the coding stage calls this in the pass that codes it;
    `build_claims` for a coded record another writer sent)."""
    from processors.claims.rules import build_claim
    from processors.claims.secondary import release_waiting
    from processors.claims.versions import version_claim

    coder, charge_master = ctx.reference()
    built = build_claim(coded, coder, charge_master, **ctx.claim_tables(),
                        payer_rules=ctx.scrub_rules(coded["payer_id"]))
    built["secondary_payer_id"] = coded.get("secondary_payer_id")
    store = ctx.store(S.CLAIM_STATE)
    claim = version_claim(built, store, cancelled=bool(coded.get("cancelled")))
    waited = release_waiting(built["claim_id"], store) if claim else []
    return send((store,), [(T.CLAIMS, claim)] if claim else (), waited)


def handle_remittance(ctx: Context, remit: dict):
    from processors.claims.secondary import on_remittance
    store = ctx.store(S.CLAIM_STATE)
    records, outcome = on_remittance(remit, store)
    SECONDARY.labels(outcome).inc()
    return send((store,), records)


def handle_submitted(ctx: Context, claim: dict):
    from processors.claims.secondary import release_waiting
    from processors.claims.submitted import on_submitted, problems
    from processors.ledger.rules import journals

    faults = problems(claim)
    if faults:
        raise Rejected("; ".join(faults))
    store, charges = ctx.store(S.CLAIM_STATE), ctx.store(S.ENCOUNTER_CHARGES)
    out, entries = on_submitted(claim, store, charges)
    waited = release_waiting(claim["claim_id"], store) if out else []
    return send((store, charges), [(T.CLAIMS, out)] if out else (),
                ((T.LEDGER_ENTRIES, j) for j in journals(entries)), waited)


STATE = (S.CLAIM_STATE,)


def stages(ctx: Context) -> tuple[Stage, ...]:
    return (
        Stage(BUILD_CLAIMS, T.ENCOUNTERS_CODED, partial(build, ctx), owner=True, reads=STATE,
              writes=STATE, broadcast=(T.SCRUB_RULES,)),
        Stage("bill_secondary", T.REMITTANCES, partial(handle_remittance, ctx), owner=False,
              reads=STATE, writes=STATE),
        Stage("accept_submitted_claims", T.CLAIMS_SUBMITTED, partial(handle_submitted, ctx),
              owner=True, reads=(*STATE, S.ENCOUNTER_CHARGES),
              writes=(*STATE, S.ENCOUNTER_CHARGES)),
    )
