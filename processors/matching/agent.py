"""Match remittances to accounts: learn claim -> account from claims, release what waited.

Consumes: remittances-unmatched (key: claim_id, value: RemittanceReceived, account_id "")
          claims                (key: account_id, value: ClaimBuilt)
Produces: remittances           (RemittanceReceived with its account) | dead-letters
          claim-accounts        (ClaimAccount: the state, claim id -> account + waiting remittances)
Rule:     processors.matching.rules.on_unmatched, on_claim
Owns the dead letters of `remittances-unmatched` (match_remittances) and `claims` (index_claims).
"""
from __future__ import annotations

from prometheus_client import Counter

from processors import app as A
from processors.stage import Outgoing, Rejected, Stage, partition_for, record
from schemas import codec
from schemas import topics as T

OUTCOMES = Counter("rcm_matching_total",
                   "Remittances and claims by matching outcome: matched (account known), waiting "
                   "(claim not built yet), released (claim built, waiting remittances sent), "
                   "indexed, known, duplicate", ["outcome"])


class ClaimAccounts:
    """The claim-accounts table as a processors.matching.rules.ClaimStore.

    Like processors.app.TableStore: `put` changes the local copy at once and queues the changelog
    record, sent with the stage's other output before the offsets that caused it are committed.
    The entry goes to its claim id's partition, the same as the unmatched remittances it holds."""

    def __init__(self, table) -> None:
        self.table = table
        self.writes: list[Outgoing] = []

    def get(self, claim_id: str) -> dict | None:
        raw = self.table.data.get(claim_id.encode())
        return None if raw is None else codec.decode_for(T.CLAIM_ACCOUNTS, raw)

    def put(self, rec: dict) -> None:
        key = rec["claim_id"].encode()
        value = codec.encode(T.CLAIM_ACCOUNTS.value_schema, rec)
        self.table.data[key] = value
        self.writes.append(Outgoing(T.CLAIM_ACCOUNTS, key, value,
                                    partition_for(key, T.CLAIM_ACCOUNTS.partitions)))


def _send(match, store: ClaimAccounts) -> list[Outgoing]:
    OUTCOMES.labels(match.outcome).inc()
    return [*store.writes, *(record(topic, rec) for topic, rec in match.records)]


def handle_unmatched(remit: dict):
    from processors.matching.rules import NotMatchable, on_unmatched

    store = ClaimAccounts(A.claim_accounts_table)
    try:
        return _send(on_unmatched(remit, store), store)
    except NotMatchable as exc:
        raise Rejected(str(exc)) from exc


def handle_claim(claim: dict):
    from processors.matching.rules import NotMatchable, on_claim

    store = ClaimAccounts(A.claim_accounts_table)
    try:
        return _send(on_claim(claim, store), store)
    except NotMatchable as exc:
        raise Rejected(str(exc)) from exc


MATCH_REMITTANCES = Stage("match_remittances", T.REMITTANCES_UNMATCHED, handle_unmatched, owner=True)
INDEX_CLAIMS = Stage("index_claims", T.CLAIMS, handle_claim, owner=True)
