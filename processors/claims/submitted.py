"""Claims the hospital's billing system already submitted (837 in): take them as billed.

No coding and no scrubbing: the claim goes on `claims` as the file had it (status SUBMITTED), so
the claim index, the remittance matcher, denials, appeals and the sink treat it as any claim. What
the builder would do for a coded encounter is done here from the claim itself:

- `claim-state` remembers it (version 1, or the next version when a later file changes it; the
  frequency code and REF*F8 stay the file's), so a remittance that waited for it is judged;
- its charges post once to the ledger, one CHARGE per line with ids from the file's event id,
  through the same per-encounter difference as corrected encounters (the claim id stands for the
  encounter), so a replacement (7) posts the difference and a void (8) takes them off.

Pure: standard library, schemas and the claim and ledger rules.
"""
from __future__ import annotations

from processors import state
from processors.claims.versions import _remember as remember
from processors.claims.versions import content_hash, decode_claim
from processors.ledger.corrections import entries_for_encounter_version
from schemas.accounts import account_id_fault

SUBMITTED, VOID = "SUBMITTED", "8"


def problems(claim: dict) -> list[str]:
    """Why the submitted claim cannot be taken (the reasons never name the account)."""
    fault = account_id_fault(claim["account_id"])
    out = [f"account: {fault}"] if fault else []
    if claim["status"] != SUBMITTED:
        out.append(f"status {claim['status']} is not SUBMITTED (claims-submitted carries claims "
                   "already sent by the hospital)")
    if not claim["lines"]:
        out.append("the claim has no service line")
    if claim["total_charge_cents"] != sum(ln["charge_cents"] for ln in claim["lines"]):
        out.append("total charge is not the sum of the line charges")
    return out


def as_charges(claim: dict) -> dict:
    """The claim as the encounter whose charges it bills (one charge per line)."""
    return {"event_id": claim["source_event_id"], "emitted_at": claim["source_emitted_at"],
            "occurred_at": claim["occurred_at"], "encounter_id": claim["encounter_id"],
            "account_id": claim["account_id"], "payer_id": claim["payer_id"],
            "plan_type": claim["plan_type"], "cancelled": claim["frequency_code"] == VOID,
            "charges": [{"line": ln["line"], "units": 1, "unit_price_cents": ln["charge_cents"]}
                        for ln in claim["lines"]]}


def accept(claim: dict, claims: state.Store) -> dict | None:
    """The ClaimBuilt to put on `claims` (None for an older file redelivered after a newer one)."""
    entry = claims.get(claim["claim_id"])
    if entry is None or entry["claim"] is None:
        remember(claims, claim, entry, [claim["source_event_id"]])
        return claim
    last = decode_claim(entry["claim"])
    source = claim["source_event_id"]
    sources = list(entry.get("sources") or [])
    if source == last["source_event_id"]:
        return last
    if source in sources:
        return None
    if content_hash(claim) == entry["content_hash"] and claim["frequency_code"] == last["frequency_code"]:
        return last  # the same claim sent again in another file
    version = entry["version"] + 1
    out = {**claim, "version": version, "event_id": f"{source}:v{version}"}
    remember(claims, out, entry, [*sources, source])
    return out


def on_submitted(claim: dict, claims: state.Store, charges: state.Store) -> tuple[dict | None, list[dict]]:
    """(ClaimBuilt for `claims` or None, CHARGE ledger entries)."""
    return accept(claim, claims), entries_for_encounter_version(as_charges(claim), charges)
