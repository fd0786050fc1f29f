"""Work denials: the appeal lifecycle and the event-time deadline timers.

Each denial's state is one `OpenDenial` entry (the `denials-open` table). Appeal events from the
billing system move it: FILED (an open denial, filed on or before its deadline), OVERTURNED or
UPHELD (only after FILED), WRITTEN_OFF (an open, expired or upheld denial; at most what is open).
A write-off posts a DENIAL_WRITE_OFF ledger entry that takes the amount out of open insurance;
an overturn changes no balance (the payer pays on a later remittance).

An appeal event that arrives before its denial is held in the entry and applied, in event order,
when the denial arrives. A redelivered event (same event_id), or a redelivered denial, re-emits the
records it produced (the same ids, which the sinks keep once) and changes nothing.

Timers run on event time. Each partition's clock is the highest event time the stage has seen on
it (denials at their denial date, appeal events and ticks at occurred_at). When it passes
deadline - warning days, an open denial gets one APPROACHING alert; when it passes the deadline
(the day after the last day to appeal), one EXPIRED alert and the status EXPIRED. Filing cancels
both. The flags live in the entry, so a redelivery or a restart never alerts twice.

Pure: standard library, schemas and the ledger rules only.
"""
from __future__ import annotations

import heapq
from datetime import UTC, date, datetime, timedelta

from processors.ledger.rules import entries_for_write_off, journals
from processors.outcome import Outcome
from schemas import codec
from schemas import topics as T
from schemas.accounts import account_id_fault

TICK = "TICK"


class NotApplicable(ValueError):
    """An appeal event that decodes but breaks the lifecycle rules (dead letter, reason given)."""


def midnight_ms(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1000)


def warn_at(deadline: date, warning_days: int) -> int:
    return midnight_ms(deadline - timedelta(days=warning_days))


def expire_at(deadline: date) -> int:
    """The deadline is the last day to appeal: it has passed at the next midnight (UTC)."""
    return midnight_ms(deadline + timedelta(days=1))


class Clocks:
    """Per-partition event-time clocks and the timers due on them (an in-memory index over the
    table; `rebuild` refills it from the entries after a restart, the flags decide what fires)."""

    def __init__(self) -> None:
        self.now: dict[int, int] = {}
        self.timers: dict[int, list[tuple[int, str]]] = {}

    def schedule(self, partition: int, at_ms: int, denial_id: str) -> None:
        heapq.heappush(self.timers.setdefault(partition, []), (at_ms, denial_id))

    def advance(self, partition: int, t_ms: int) -> list[str]:
        """Move the clock to `t_ms` if later; the denial ids whose timers are now due."""
        now = max(self.now.get(partition, t_ms), t_ms)
        self.now[partition] = now
        heap, due = self.timers.get(partition, []), []
        while heap and heap[0][0] <= now:
            due.append(heapq.heappop(heap)[1])
        return due

    def rebuild(self, entries, partition_of, warning_days: int) -> None:
        for entry in entries:
            if entry["status"] == "OPEN":
                self.schedule_denial(entry, partition_of(entry["account_id"]), warning_days)

    def schedule_denial(self, entry: dict, partition: int, warning_days: int) -> None:
        den = codec.decode_for(T.DENIALS, entry["denial"])
        self.schedule(partition, warn_at(den["appeal_deadline"], warning_days), entry["denial_id"])
        self.schedule(partition, expire_at(den["appeal_deadline"]), entry["denial_id"])


def validate_appeal(ev: dict) -> list[str]:
    """Why the event cannot apply to any denial (dead letter); empty when it is well formed."""
    if ev["action"] == TICK:
        p = ev.get("partition")
        return [] if p is not None and 0 <= p < T.APPEALS.partitions else [
            f"a TICK needs a partition in 0..{T.APPEALS.partitions - 1}"]
    problems = []
    if fault := account_id_fault(ev["account_id"]):
        problems.append(fault)
    if not ev.get("denial_id"):
        problems.append(f"{ev['action']} names no denial")
    if not ev.get("claim_id"):
        problems.append(f"{ev['action']} names no claim")
    amount = ev.get("amount_cents")
    if amount is not None and ev["action"] != "WRITTEN_OFF":
        problems.append(f"{ev['action']} carries an amount (only WRITTEN_OFF does)")
    elif amount is not None and amount <= 0:
        problems.append(f"write-off amount {amount} is not positive")
    return problems


def _step(entry: dict, den: dict, ev: dict, action: str, status: str, amount: int,
          event_id: str | None = None) -> dict:
    return {"event_id": event_id or ev["event_id"], "denial_id": den["denial_id"],
            "claim_id": den["claim_id"], "account_id": den["account_id"],
            "version": len(entry["history"]) + 1, "action": action, "status": status,
            "amount_cents": amount, "open_cents": entry["open_cents"] - amount,
            "occurred_at": ev["occurred_at"], "reference": ev.get("reference"),
            "reason_code": ev.get("reason_code"),
            "source_emitted_at": ev.get("emitted_at") or ev.get("source_emitted_at")}


def _records_of(step: dict, den: dict) -> list[tuple[T.Topic, dict]]:
    out: list[tuple[T.Topic, dict]] = [(T.DENIAL_LIFECYCLE, step)]
    if step["action"] == "WRITTEN_OFF":
        entries = entries_for_write_off(step, den["payer_id"],
                                        f"{den['group_code']}-{den['reason_code']}")
        out += [(T.LEDGER_ENTRIES, j) for j in journals(entries)]
    return out


def _transition(entry: dict, den: dict, ev: dict) -> tuple[str, int]:
    """(new status, amount written off) or NotApplicable."""
    action, status = ev["action"], entry["status"]
    if ev["account_id"] != den["account_id"] or ev["claim_id"] != den["claim_id"]:
        raise NotApplicable("the event's account or claim is not the denial's")
    if action == "FILED":
        if status not in ("OPEN", "EXPIRED"):
            raise NotApplicable(f"an appeal can only be filed on an open denial; it is {status}")
        filed_on = datetime.fromtimestamp(ev["occurred_at"].timestamp(), UTC).date()
        if filed_on > den["appeal_deadline"]:
            raise NotApplicable(f"filed on {filed_on}, after the appeal deadline "
                                f"{den['appeal_deadline']}")
        return "APPEALED", 0
    if action in ("OVERTURNED", "UPHELD"):
        if status != "APPEALED":
            raise NotApplicable(f"{action} needs a filed appeal; the denial is {status}")
        return action, 0
    if action == "WRITTEN_OFF":
        if status not in ("OPEN", "EXPIRED", "UPHELD"):
            raise NotApplicable(f"only an open, expired or upheld denial can be written off; "
                                f"it is {status}")
        amount = ev.get("amount_cents")
        amount = entry["open_cents"] if amount is None else amount
        if amount <= 0 or amount > entry["open_cents"]:
            raise NotApplicable(f"write-off of {amount} cents, but {entry['open_cents']} are open")
        return ("WRITTEN_OFF" if amount == entry["open_cents"] else status), amount
    raise NotApplicable(f"unknown action {action}")


def _apply(entry: dict, den: dict, ev: dict) -> list[tuple[T.Topic, dict]]:
    """Apply one appeal event to `entry` (changed in place); its records."""
    for raw in entry["history"]:
        done = codec.decode_for(T.DENIAL_LIFECYCLE, raw)
        if done["event_id"] == ev["event_id"]:
            return _records_of(done, den)  # a redelivery: the same records again
    status, amount = _transition(entry, den, ev)
    step = _step(entry, den, ev, ev["action"], status, amount)
    entry.update(status=status, open_cents=step["open_cents"],
                 history=[*entry["history"], codec.encode(T.DENIAL_LIFECYCLE.value_schema, step)])
    return _records_of(step, den)


def _due(store, clocks: Clocks, partition: int, t_ms: int, emitted_at, warning_days: int):
    out: list[tuple[T.Topic, dict]] = []
    now = None
    for denial_id in clocks.advance(partition, t_ms):
        now = clocks.now[partition]
        entry = store.get(denial_id)
        if entry is None or entry["status"] != "OPEN":
            continue  # filed, written off or already expired: the timer is cancelled
        den = codec.decode_for(T.DENIALS, entry["denial"])
        deadline = den["appeal_deadline"]
        if now >= expire_at(deadline) and not entry["expired"]:
            ev = {"occurred_at": datetime.fromtimestamp(now / 1000, UTC),
                  "emitted_at": emitted_at}
            step = _step(entry, den, ev, "EXPIRED", "EXPIRED", 0, f"{denial_id}:EXPIRED")
            entry.update(status="EXPIRED", expired=True, warned=True, history=[
                *entry["history"], codec.encode(T.DENIAL_LIFECYCLE.value_schema, step)])
            out += [(T.DENIAL_EXPIRED, _alert("EXPIRED", entry, den, now, emitted_at)),
                    (T.DENIAL_LIFECYCLE, step)]
            store.put(entry)
        elif now >= warn_at(deadline, warning_days) and not entry["warned"]:
            entry["warned"] = True
            out.append((T.DEADLINE_APPROACHING, _alert("APPROACHING", entry, den, now, emitted_at)))
            store.put(entry)
    return out


def _alert(kind: str, entry: dict, den: dict, now: int, emitted_at) -> dict:
    return {"event_id": f"{den['denial_id']}:{kind}", "kind": kind, "denial_id": den["denial_id"],
            "claim_id": den["claim_id"], "account_id": den["account_id"],
            "payer_id": den["payer_id"], "owner_queue": den.get("owner_queue") or "BILLING",
            "open_cents": entry["open_cents"], "appeal_deadline": den["appeal_deadline"],
            "clock_at": datetime.fromtimestamp(now / 1000, UTC), "source_emitted_at": emitted_at}


def on_denial(den: dict, store, clocks: Clocks, partition: int, warning_days: int) -> Outcome:
    """A flagged denial: open it, apply appeal events that waited for it, then run the timers."""
    entry = store.get(den["denial_id"])
    out = Outcome()
    if entry is None or entry["denial"] is None:
        held = [codec.decode_for(T.APPEALS, raw) for raw in (entry or {}).get("held", [])]
        out.held = -len(held)
        entry = {"denial_id": den["denial_id"], "account_id": den["account_id"],
                 "denial": codec.encode(T.DENIALS.value_schema, den), "status": "OPEN",
                 "open_cents": den["amount_cents"], "warned": False, "expired": False,
                 "held": [], "history": []}
        for ev in sorted(held, key=lambda e: (e["occurred_at"], e["event_id"])):
            try:
                out.records += _apply(entry, den, ev)
            except NotApplicable as exc:
                out.rejected.append((ev, str(exc)))
        store.put(entry)
        if entry["status"] == "OPEN":
            clocks.schedule_denial(entry, partition, warning_days)
    else:  # a redelivery: what it released may not have reached Kafka before a crash
        for raw in entry["history"]:
            out.records += _records_of(codec.decode_for(T.DENIAL_LIFECYCLE, raw), den)
    out.records += _due(store, clocks, partition, midnight_ms(den["denied_on"]),
                        den["source_emitted_at"], warning_days)
    return out


def on_appeal(ev: dict, store, clocks: Clocks, partition: int, warning_days: int) -> Outcome:
    """An appeal event (validated) or a tick. A refused event comes back in `rejected`."""
    t_ms = int(ev["occurred_at"].timestamp() * 1000)
    out = Outcome()
    if ev["action"] != TICK:
        entry = store.get(ev["denial_id"])
        if entry is None or entry["denial"] is None:  # before its denial: hold it
            entry = entry or {"denial_id": ev["denial_id"], "account_id": ev["account_id"],
                              "denial": None, "status": "WAITING", "open_cents": 0,
                              "warned": False, "expired": False, "held": [], "history": []}
            ids = {codec.decode_for(T.APPEALS, raw)["event_id"] for raw in entry["held"]}
            if ev["event_id"] not in ids:
                entry["held"] = [*entry["held"], codec.encode(T.APPEALS.value_schema, ev)]
                store.put(entry)
                out.held = 1
        else:
            den = codec.decode_for(T.DENIALS, entry["denial"])
            before = len(entry["history"])
            try:
                out.records += _apply(entry, den, ev)
            except NotApplicable as exc:  # refused, but its event time still moves the clock
                out.rejected.append((ev, str(exc)))
            if len(entry["history"]) != before:
                store.put(entry)
    out.records += _due(store, clocks, partition, t_ms, ev["emitted_at"], warning_days)
    return out
