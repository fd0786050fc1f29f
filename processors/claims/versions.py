"""Claim versions: one claim id per encounter for its whole life; corrections are new versions.

A coded encounter builds the claim it always built (`rules.build_claim`); this module decides
what that build is in the claim's life, from what the `claim-state` entry remembers:

- the first build is version 1, frequency 1 (original);
- a build with different billable content or scrub result is the next version, frequency 7
  (replacement) once a CLEAN version may have reached the payer (the 837 writer sends every CLEAN
  claim), else still 1: the payer has seen nothing to replace;
- a cancelled encounter voids the claim: the next version repeats the last content with
  frequency 8; a claim never sent CLEAN is voided as HELD (edit VOIDED), so nothing goes out;
- a redelivered source event, or a new event with the same content, re-emits the stored version
  unchanged (same event id), so the sinks change nothing; an older source event arriving after a
  newer one built (a redelivery) is ignored.

Frequency 7 and 8 carry the payer claim control number of the claim they replace (835 CLP07,
remembered by `secondary.on_remittance`) as `original_reference` (837 REF*F8) when known.
Pure: standard library and schemas.
"""
from __future__ import annotations

import hashlib
import json

from processors import state
from schemas import codec
from schemas import topics as T

ORIGINAL, REPLACEMENT, VOID = "1", "7", "8"
PRIMARY, SECONDARY = "PRIMARY", "SECONDARY"
CONTENT = ("claim_type", "payer_id", "plan_type", "billing_provider_npi", "facility_id",
           "service_start", "service_end", "diagnosis_codes", "lines", "total_charge_cents",
           "status", "edits", "warnings", "pcs_codes", "drg", "secondary_payer_id")


def content_hash(claim: dict) -> str:
    body = json.dumps({k: claim.get(k) for k in CONTENT}, sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def decode_claim(raw: bytes) -> dict:
    return codec.decode_for(T.CLAIMS, raw)


def _lifecycle(claim: dict, version: int, frequency: str, reference: str | None) -> dict:
    out = {**claim, "version": version, "frequency_code": frequency,
           "original_reference": reference if frequency != ORIGINAL else None,
           "payer_sequence": PRIMARY, "primary_claim_id": None, "other_payer": None}
    if version > 1:  # version 1 keeps the id claims always had
        out["event_id"] = f"{claim['source_event_id']}:claim:v{version}"
    return out


def _void(last: dict, built: dict, entry: dict) -> dict:
    void = {**last, "event_id": built["event_id"], "source_event_id": built["source_event_id"],
            "source_emitted_at": built["source_emitted_at"], "occurred_at": built["occurred_at"]}
    if not entry["sent_clean"]:
        void.update(status="HELD", edits=[{
            "edit": "VOIDED", "line": None,
            "message": "the encounter was cancelled before any version went out: nothing to void"}])
    return _lifecycle(void, entry["version"] + 1, VOID, entry["payer_claim_control_number"])


def version_claim(built: dict, store: state.Store, cancelled: bool = False) -> dict | None:
    """The ClaimBuilt to emit for `built` (a fresh `build_claim` result with the encounter's
    secondary payer), recording it in `store`; None when there is nothing to emit (a cancel of a
    claim never built, or a stale redelivery)."""
    entry = store.get(built["claim_id"])
    if entry is None or entry["claim"] is None:  # never built (a remittance may have come first)
        if cancelled:
            return None
        claim = _lifecycle(built, 1, ORIGINAL, None)
        _remember(store, claim, entry, [built["source_event_id"]])
        return claim
    last = decode_claim(entry["claim"])
    source = built["source_event_id"]
    if source == last["source_event_id"]:
        return last  # a redelivery: the same record again
    if source in _sources(entry):
        return None  # an older event redelivered after a newer one was built
    if cancelled:
        if last["frequency_code"] == VOID:
            return None
        claim = _void(last, built, entry)
    else:
        if content_hash(built) == entry["content_hash"] and last["frequency_code"] != VOID:
            return last  # same content from another event: no new version
        frequency = REPLACEMENT if entry["sent_clean"] else ORIGINAL
        claim = _lifecycle(built, entry["version"] + 1, frequency,
                           entry["payer_claim_control_number"])
    _remember(store, claim, entry, [*_sources(entry), source])
    return claim


def _sources(entry: dict) -> list[str]:
    return list(entry.get("sources") or [])


def _remember(store: state.Store, claim: dict, entry: dict | None, sources: list[str]) -> None:
    entry = entry or {}
    store.put({
        "claim_id": claim["claim_id"], "account_id": claim["account_id"],
        "version": claim["version"], "content_hash": content_hash(claim),
        "claim": codec.encode(T.CLAIMS.value_schema, claim),
        "sent_clean": bool(entry.get("sent_clean")) or (
            claim["status"] == "CLEAN" and claim["frequency_code"] != VOID),
        "payer_claim_control_number": entry.get("payer_claim_control_number"),
        "secondary_billed_by": entry.get("secondary_billed_by"),
        "waiting_remittance": entry.get("waiting_remittance"),
        "sources": sources[-20:],
    })
