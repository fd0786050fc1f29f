"""Match remittances to accounts: repartition claims by claim id, join them with the remittances.

Consumes: claims                (key: account_id, value: ClaimBuilt)
          claim-index           (key: claim_id, value: ClaimAccount, waiting empty)
          remittances-unmatched (key: claim_id, value: RemittanceReceived, account_id "")
Produces: claim-index           (index_claims: each built claim's id and account, re-keyed)
          remittances           (RemittanceReceived with its account, re-keyed by account)
          claim-accounts        (ClaimAccount: the state, claim id -> account + waiting remittances)
          dead-letters
Rule:     processors.matching.rules.index, on_claim, on_unmatched
The join runs where both halves sit: `claim-index`, `remittances-unmatched` and `claim-accounts`
are keyed by claim id with the same partition count and partitioner, so one worker owns a claim's
entry, its index record and its remittances.
Owns the dead letters of `claims` (index_claims), `claim-index` (learn_claim_accounts) and
`remittances-unmatched` (match_remittances).
"""
from __future__ import annotations

from functools import partial

from prometheus_client import Counter

from processors import state as S
from processors.context import Context
from processors.stage import Outgoing, Rejected, Stage, record, send
from processors.state import TableStore
from schemas import topics as T

OUTCOMES = Counter("rcm_matching_total",
                   "Remittances and claims by matching outcome: matched (account known), waiting "
                   "(claim not built yet), released (claim built, waiting remittances sent), "
                   "indexed, known, duplicate", ["outcome"])


def _send(outcome, store: TableStore) -> list[Outgoing]:
    OUTCOMES.labels(outcome.label).inc()
    return send((store,), outcome.records)


def _join(ctx: Context, rule, rec: dict):
    """Apply `rule` (on_unmatched or on_claim) to `rec` and its claim-accounts entry."""
    from processors.matching.rules import NotMatchable

    store = ctx.store(S.CLAIM_ACCOUNTS)
    try:
        return _send(rule(rec, store), store)
    except NotMatchable as exc:
        raise Rejected(str(exc)) from exc


def handle_unmatched(ctx: Context, remit: dict):
    from processors.matching.rules import on_unmatched

    return _join(ctx, on_unmatched, remit)


def handle_claim(claim: dict):
    from processors.matching.rules import NotMatchable, index

    try:
        return [record(T.CLAIM_INDEX, index(claim))]
    except NotMatchable as exc:
        raise Rejected(str(exc)) from exc


def handle_index(ctx: Context, entry: dict):
    from processors.matching.rules import on_claim

    return _join(ctx, on_claim, entry)


ACCOUNTS = (S.CLAIM_ACCOUNTS,)


def stages(ctx: Context) -> tuple[Stage, ...]:
    return (
        Stage("match_remittances", T.REMITTANCES_UNMATCHED, partial(handle_unmatched, ctx),
              owner=True, reads=ACCOUNTS, writes=ACCOUNTS),
        Stage("index_claims", T.CLAIMS, handle_claim, owner=True),
        Stage("learn_claim_accounts", T.CLAIM_INDEX, partial(handle_index, ctx), owner=True,
              reads=ACCOUNTS, writes=ACCOUNTS),
    )
