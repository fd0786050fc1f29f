"""Flag denials, and work them: the appeal lifecycle and the deadline timers.

Consumes: remittances  (key: account_id, value: RemittanceReceived)
          denials      (key: account_id, value: DenialFlagged)
          appeals      (key: account_id, value: AppealEvent)
Produces: denials      (DenialFlagged, one per denied adjustment)
          denial-lifecycle (DenialStatusChanged) | ledger-entries (a write-off)
          denial-deadline-approaching | denial-expired (DenialDeadline) | dead-letters
          denials-open (OpenDenial: each denial's state, the table's changelog)
Rule:     processors.denials.rules.flag_denials;
          processors.denials.appeals.validate_appeal, on_denial, on_appeal
The ledger stage owns the dead letters of `remittances` (flagging skips what it rejects); the
appeal stages own those of `denials` and `appeals`.
"""
from __future__ import annotations

from functools import partial

from prometheus_client import Counter

from processors import state as S
from processors.context import Context
from processors.stage import Outgoing, Rejected, Stage, partition_for, record, send
from schemas import topics as T

APPLY = "apply_appeals"
HOLDS = Counter("rcm_appeal_holds_total", "Appeal events that arrived before their denial (held) "
                "and were applied when it came (released)", ["event"])


def handle(remit: dict):
    from processors.denials.rules import flag_denials
    return [record(T.DENIALS, d) for d in flag_denials(remit)]


def _send(outcome, store) -> list[Outgoing]:
    if outcome.held > 0:
        HOLDS.labels("held").inc(outcome.held)
    elif outcome.held < 0:
        HOLDS.labels("released").inc(-outcome.held)
    # an appeal event the lifecycle refused while the stage kept other state: a kept dead letter
    return send((store,), outcome.records, rejected=outcome.rejected, refused_by=(T.APPEALS, APPLY))


def on_denial(ctx: Context, den: dict):
    from processors.denials import appeals

    store, clocks = ctx.store(S.DENIALS_OPEN), ctx.denial_clocks()
    partition = partition_for(den["account_id"].encode(), T.DENIALS.partitions)
    return _send(appeals.on_denial(den, store, clocks, partition,
                                   ctx.settings.appeal_warning_days),
                 store)


def on_appeal(ctx: Context, ev: dict):
    from processors.denials import appeals

    problems = appeals.validate_appeal(ev)
    if problems:
        raise Rejected("; ".join(problems))
    store, clocks = ctx.store(S.DENIALS_OPEN), ctx.denial_clocks()
    partition = (ev["partition"] if ev["action"] == appeals.TICK
                 else partition_for(ev["account_id"].encode(), T.APPEALS.partitions))
    return _send(appeals.on_appeal(ev, store, clocks, partition,
                                   ctx.settings.appeal_warning_days),
                 store)


OPEN = (S.DENIALS_OPEN,)


def stages(ctx: Context) -> tuple[Stage, ...]:
    return (
        Stage("flag_denials", T.REMITTANCES, handle, owner=False),
        Stage("work_denials", T.DENIALS, partial(on_denial, ctx), owner=True, reads=OPEN,
              writes=OPEN),
        Stage(APPLY, T.APPEALS, partial(on_appeal, ctx), owner=True, reads=OPEN, writes=OPEN),
    )
