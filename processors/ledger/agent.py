"""Update balances: turn charges, remittances and patient payments into ledger entries.

Consumes: encounters, remittances, payments  (key: account_id)
Produces: ledger-entries (LedgerEntriesPosted: one record per source event, signed cents,
          deterministic entry ids) | dead-letters
Rule:     processors.ledger.rules.entries_for_encounter / _remittance / _payment;
          processors.ledger.corrections (a corrected or cancelled re-send posts the difference,
          state in `encounter-charges`)
The sink applies each entry id once, in the transaction that records its progress, and publishes
the committed balance to `account-balances`: that is what keeps balances exact after redelivery.
Owns the dead letters of `remittances` and `payments`; receives only the encounters the coding
stage accepted (processors.stage.run_batch), so it needs no code set.
"""
from __future__ import annotations

from functools import partial

from processors import state as S
from processors.context import Context
from processors.stage import Rejected, Stage, record, send
from schemas import topics as T


def on_encounter(ctx: Context, enc: dict):
    from processors.ledger.corrections import entries_for_encounter_version
    from processors.ledger.rules import journals

    store = ctx.store(S.ENCOUNTER_CHARGES)
    entries = entries_for_encounter_version(enc, store)
    return send((store,), ((T.LEDGER_ENTRIES, j) for j in journals(entries)))


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


def stages(ctx: Context) -> tuple[Stage, ...]:
    return (
        Stage("post_charges", T.ENCOUNTERS, partial(on_encounter, ctx), owner=False,
              reads=(S.ENCOUNTER_CHARGES,), writes=(S.ENCOUNTER_CHARGES,)),
        Stage("post_remittances", T.REMITTANCES, on_remittance, owner=True),
        Stage("post_payments", T.PAYMENTS, on_payment, owner=True),
    )
