"""Match remittances to accounts by claim id.

An 835 names the claim (CLP01, the claim id the pipeline sent in CLM01), not the account. The
processor learns claim id -> account from every built claim (`claims`, keyed by account,
repartitioned by claim id into `claim-index`) and keeps it, with the remittances that arrived
before their claim, in one `ClaimAccount` entry per claim id, on the claim id's partition: the
partition of `remittances-unmatched` that carries the claim's remittances. A
remittance whose claim is known leaves for `remittances` with the account filled in; one whose
claim is not known yet waits in the entry and leaves when the claim is built.

Idempotent: a released remittance keeps its event id (ledger entry and denial ids derive from it),
so a redelivered remittance or claim re-emits records the sinks already hold; a remittance already
waiting is not stored twice.

Pure functions over decoded records and a `claim-accounts` store (processors.state); the agent
passes the table, the tests a store in memory.
"""
from __future__ import annotations

from processors import state
from processors.outcome import Outcome
from schemas import codec
from schemas import topics as T


class NotMatchable(ValueError):
    """A record that decodes but cannot take part in matching (dead letter)."""


def _remittance(raw: bytes) -> dict:
    return codec.decode_for(T.REMITTANCES_UNMATCHED, raw)


def with_account(remit: dict, account_id: str) -> dict:
    return {**remit, "account_id": account_id}


def index(claim: dict) -> dict:
    """A built claim as its `claim-index` record (claim id -> account), keyed by claim id so it
    reaches the partition that holds the claim's entry and its unmatched remittances."""
    claim_id = claim["claim_id"].strip()
    if not claim_id:
        raise NotMatchable("claim has no claim id")
    return {"claim_id": claim_id, "account_id": claim["account_id"], "waiting": []}


def on_claim(claim: dict, store: state.Store) -> Outcome:
    """A claim was built (a `claims` or `claim-index` record: its claim id and account): remember
    its account and release the remittances waiting for it."""
    claim_id, account = claim["claim_id"].strip(), claim["account_id"]
    if not claim_id:
        raise NotMatchable("claim has no claim id")
    entry = store.get(claim_id)
    if entry is not None and entry["account_id"] not in (None, account):
        raise NotMatchable(f"claim {claim_id} already belongs to another account")
    if entry is not None and entry["account_id"] == account and not entry["waiting"]:
        return Outcome([], "known")  # a rebuilt or redelivered claim
    waiting = [_remittance(raw) for raw in (entry["waiting"] if entry else [])]
    store.put({"claim_id": claim_id, "account_id": account, "waiting": []})
    return Outcome([(T.REMITTANCES, with_account(r, account)) for r in waiting],
                 "released" if waiting else "indexed")


def on_unmatched(remit: dict, store: state.Store) -> Outcome:
    """A remittance without its account: send it on with the claim's account, or keep it."""
    claim_id = remit["claim_id"].strip()
    if not claim_id:
        raise NotMatchable("remittance has no claim id (CLP01)")
    entry = store.get(claim_id)
    if entry is not None and entry["account_id"]:
        return Outcome([(T.REMITTANCES, with_account(remit, entry["account_id"]))], "matched")
    if remit["account_id"]:  # the sender knew the account: nothing to wait for
        return Outcome([(T.REMITTANCES, remit)], "matched")
    waiting = list(entry["waiting"]) if entry else []
    if any(_remittance(raw)["event_id"] == remit["event_id"] for raw in waiting):
        return Outcome([], "duplicate")
    waiting.append(codec.encode(T.REMITTANCES_UNMATCHED.value_schema, remit))
    store.put({"claim_id": claim_id, "account_id": None, "waiting": waiting})
    return Outcome([], "waiting")
