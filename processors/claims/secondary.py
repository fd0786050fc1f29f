"""Secondary claims: when the primary payer leaves patient responsibility and the account has a
secondary payer, bill the secondary.

Runs on each remittance (its account's partition), against the claim's `claim-state` entry:

- every remittance for a known claim records its payer claim control number (835 CLP07), which a
  later corrected (7) or void (8) claim quotes in REF*F8;
- a primary remittance (CLP02 1) for a PRIMARY claim whose encounter named a secondary payer,
  with PR adjustments (deductible, coinsurance, copay...), produces one secondary ClaimBuilt
  (claim id + "-S", payer_sequence SECONDARY, the full charge, the primary's payment and
  adjustments for the 837 COB loops) and one TRANSFER_TO_SECONDARY ledger entry moving the PR
  amount from the patient part back to insurance: the secondary payer owes it now, and its own
  remittance pays, adjusts or leaves it to the patient as any remittance does;
- nothing else triggers it: no secondary payer, no PR, a reversal (22), a denial (4), a payment
  as secondary or tertiary (2, 3), a void, or a secondary claim's own remittance;
- a primary remittance with PR for a claim not built yet (remittances and coded encounters come
  through different agents, so it can overtake its claim) waits in the entry, and is judged when
  the builder builds the claim (`release_waiting`).

Once per claim: the entry keeps the remittance that billed the secondary. That remittance
redelivered re-emits the same records (same ids: the sinks change nothing); any later primary
remittance (a reversal and re-payment) bills nothing more.
Pure: standard library, schemas, the payer table.
"""
from __future__ import annotations

from datetime import UTC, datetime

from processors import state
from processors.claims.versions import PRIMARY, SECONDARY, VOID, decode_claim
from processors.ledger.rules import SECONDARY_CLAIM_SUFFIX
from processors.payers import payer
from schemas import codec
from schemas import topics as T

PRIMARY_PAID = "1"  # 835 CLP02: processed as primary
SUFFIX = SECONDARY_CLAIM_SUFFIX


def _adjustments(remit: dict) -> list[dict]:
    return [*remit["claim_adjustments"], *(a for ln in remit["lines"] for a in ln["adjustments"])]


def patient_responsibility(remit: dict) -> int:
    return sum(a["amount_cents"] for a in _adjustments(remit) if str(a["group_code"]) == "PR")


def _summed(remit: dict) -> list[dict]:
    total: dict[tuple[str, str], int] = {}
    for a in _adjustments(remit):
        key = (str(a["group_code"]), str(a["reason_code"]))
        total[key] = total.get(key, 0) + a["amount_cents"]
    return [{"group_code": g, "reason_code": r, "amount_cents": c}
            for (g, r), c in sorted(total.items()) if c]


def secondary_claim(claim: dict, remit: dict, pr: int) -> dict:
    secondary = claim["secondary_payer_id"]
    return {
        **claim,
        "event_id": f"{remit['event_id']}:secondary", "source_event_id": remit["event_id"],
        "source_emitted_at": remit["emitted_at"], "occurred_at": remit["occurred_at"],
        "claim_id": claim["claim_id"] + SUFFIX,
        "payer_id": secondary, "plan_type": payer(secondary).plan_type,
        "status": "CLEAN", "edits": [],
        "frequency_code": "1", "version": 1, "original_reference": None,
        "payer_sequence": SECONDARY, "primary_claim_id": claim["claim_id"],
        "secondary_payer_id": None,
        "other_payer": {
            "payer_id": remit["payer_id"], "plan_type": claim["plan_type"],
            "claim_id": claim["claim_id"],
            "payer_claim_control_number": remit["payer_claim_control_number"],
            "adjudicated_on": datetime.fromtimestamp(
                remit["occurred_at"].timestamp(), UTC).date(),
            "paid_cents": remit["total_paid_cents"], "patient_responsibility_cents": pr,
            "adjustments": _summed(remit)},
    }


def transfer(remit: dict, secondary: dict, pr: int) -> dict:
    """The LedgerEntriesPosted moving `pr` from the patient part to insurance (the secondary)."""
    source = f"{remit['event_id']}:secondary"
    return {"event_id": f"{source}:ledger", "source_event_id": source,
            "source_emitted_at": remit["emitted_at"], "account_id": remit["account_id"],
            "posted_at": remit["occurred_at"], "reference": secondary["claim_id"],
            "payer_id": secondary["payer_id"],
            "entries": [{"entry_id": f"{source}:transfer", "kind": "TRANSFER_TO_SECONDARY",
                         "insurance_delta_cents": pr, "patient_delta_cents": -pr,
                         "reason": "COB"}]}


def _should_bill(claim: dict, remit: dict, pr: int) -> bool:
    return (remit["claim_status"] == PRIMARY_PAID and pr > 0
            and claim.get("payer_sequence", PRIMARY) == PRIMARY
            and bool(claim.get("secondary_payer_id"))
            and claim["frequency_code"] != VOID
            and payer(claim["secondary_payer_id"]).plan_type != "SELF_PAY")


def _wait(remit: dict, entry: dict | None, store: state.Store) -> str:
    """Keep what a remittance for a claim not built yet tells (its payer claim control number,
    and itself when it could bill a secondary) in a stub entry."""
    if remit["claim_id"].strip().endswith(SUFFIX):
        return "unknown_claim"  # a secondary claim's own remittance: nothing to follow up
    stub = dict(entry) if entry else {
        "claim_id": remit["claim_id"].strip(), "account_id": remit["account_id"], "version": 0,
        "content_hash": "", "claim": None, "sent_clean": False,
        "payer_claim_control_number": None, "secondary_billed_by": None,
        "waiting_remittance": None, "sources": []}
    if remit["payer_claim_control_number"] and remit["claim_status"] != "22":
        stub["payer_claim_control_number"] = remit["payer_claim_control_number"]
    could_bill = remit["claim_status"] == PRIMARY_PAID and patient_responsibility(remit) > 0
    if could_bill and stub["waiting_remittance"] is None:
        stub["waiting_remittance"] = codec.encode_as_read(T.REMITTANCES.value_schema, remit)
    if stub != entry:
        store.put(stub)
    return "waiting"


def release_waiting(claim_id: str, store: state.Store) -> list[tuple[T.Topic, dict]]:
    """After a build: judge the primary remittance that waited for the claim (if any)."""
    entry = store.get(claim_id)
    if entry is None or entry["claim"] is None or entry["waiting_remittance"] is None:
        return []
    remit = codec.decode_for(T.REMITTANCES, entry["waiting_remittance"])
    store.put({**entry, "waiting_remittance": None})
    return on_remittance(remit, store)[0]


def on_remittance(remit: dict, store: state.Store) -> tuple[list[tuple[T.Topic, dict]], str]:
    """(records to emit, outcome): outcome is unknown_claim, waiting, noted, billed or rebilled."""
    entry = store.get(remit["claim_id"].strip())
    if entry is None or entry["claim"] is None:
        return [], _wait(remit, entry, store)
    claim = decode_claim(entry["claim"])
    pr = patient_responsibility(remit)
    if entry["secondary_billed_by"] == remit["event_id"]:  # a redelivery: the same records again
        sec = secondary_claim(claim, remit, pr)
        return [(T.CLAIMS, sec), (T.LEDGER_ENTRIES, transfer(remit, sec, pr))], "rebilled"
    updated = dict(entry)
    pccn = remit["payer_claim_control_number"]
    if pccn and remit["claim_status"] != "22":
        updated["payer_claim_control_number"] = pccn
    records: list[tuple[T.Topic, dict]] = []
    outcome = "noted"
    if entry["secondary_billed_by"] is None and _should_bill(claim, remit, pr):
        sec = secondary_claim(claim, remit, pr)
        records = [(T.CLAIMS, sec), (T.LEDGER_ENTRIES, transfer(remit, sec, pr))]
        updated["secondary_billed_by"] = remit["event_id"]
        outcome = "billed"
    if updated != entry:
        store.put(updated)
    return records, outcome
