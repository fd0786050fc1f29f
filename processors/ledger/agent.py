"""Update balances: turn charges, remittances and patient payments into ledger entries.

Consumes: encounters, remittances, payments  (key: account_id)
Produces: ledger-entries (LedgerEntriesPosted: one record per source event, signed cents,
          deterministic entry ids) | dead-letters
Rule:     processors.ledger.rules.entries_for_encounter / _remittance / _payment
The sink applies each entry id once, in the transaction that records its progress, and publishes
the committed balance to `account-balances`: that is what keeps balances exact after redelivery.
Owns the dead letters of `remittances` and `payments`; skips encounters the coding stage rejects.
"""
from __future__ import annotations

from processors import app as A
from processors.stage import Rejected, record, run_batch
from schemas import topics as T


def on_encounter(enc: dict):
    from processors.coding.rules import validate_encounter
    from processors.ledger.rules import entries_for_encounter, journals

    coder, charge_master = A.reference()
    if validate_encounter(enc, charge_master, coder):
        raise Rejected("encounter rejected by coding validation", owner=False)
    return [record(T.LEDGER_ENTRIES, j) for j in journals(entries_for_encounter(enc))]


def on_remittance(remit: dict):
    from processors.ledger.rules import entries_for_remittance, journals, validate_remittance

    problems = validate_remittance(remit)
    if problems:
        raise Rejected("; ".join(problems))
    return [record(T.LEDGER_ENTRIES, j) for j in journals(entries_for_remittance(remit))]


def on_payment(payment: dict):
    from processors.ledger.rules import entries_for_payment, journals, validate_payment

    problems = validate_payment(payment)
    if problems:
        raise Rejected("; ".join(problems))
    return [record(T.LEDGER_ENTRIES, j) for j in journals(entries_for_payment(payment))]


@A.app.agent(A.topic(T.ENCOUNTERS), name="post_charges")
async def post_charges(stream):
    async for events in stream.take_events(A.BATCH_MAX, A.BATCH_WITHIN_S):
        await run_batch("post_charges", T.ENCOUNTERS, events, on_encounter, A.emitter(), owner=False)


@A.app.agent(A.topic(T.REMITTANCES), name="post_remittances")
async def post_remittances(stream):
    async for events in stream.take_events(A.BATCH_MAX, A.BATCH_WITHIN_S):
        await run_batch("post_remittances", T.REMITTANCES, events, on_remittance, A.emitter())


@A.app.agent(A.topic(T.PAYMENTS), name="post_payments")
async def post_payments(stream):
    async for events in stream.take_events(A.BATCH_MAX, A.BATCH_WITHIN_S):
        await run_batch("post_payments", T.PAYMENTS, events, on_payment, A.emitter())
