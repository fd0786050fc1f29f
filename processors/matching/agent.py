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
from processors.stage import Outgoing, Rejected, Stage, record
from processors.state import TableStore
from schemas import topics as T

OUTCOMES = Counter("rcm_matching_total",
                   "Remittances and claims by matching outcome: matched (account known), waiting "
                   "(claim not built yet), released (claim built, waiting remittances sent), "
                   "indexed, known, duplicate", ["outcome"])


def _send(match, store: TableStore) -> list[Outgoing]:
    OUTCOMES.labels(match.outcome).inc()
    return [*store.writes, *(record(topic, rec) for topic, rec in match.records)]


def handle_unmatched(remit: dict):
    from processors.matching.rules import NotMatchable, on_unmatched

    store = TableStore(A.claim_accounts_table, T.CLAIM_ACCOUNTS)
    try:
        return _send(on_unmatched(remit, store), store)
    except NotMatchable as exc:
        raise Rejected(str(exc)) from exc


def handle_claim(claim: dict):
    from processors.matching.rules import NotMatchable, on_claim

    store = TableStore(A.claim_accounts_table, T.CLAIM_ACCOUNTS)
    try:
        return _send(on_claim(claim, store), store)
    except NotMatchable as exc:
        raise Rejected(str(exc)) from exc


MATCH_REMITTANCES = Stage("match_remittances", T.REMITTANCES_UNMATCHED, handle_unmatched, owner=True)
INDEX_CLAIMS = Stage("index_claims", T.CLAIMS, handle_claim, owner=True)
