"""Entries -> records: VisitEvent on visit-events, RemittanceReceived on remittances-unmatched,
and one DeadLetter on dead-letters (stage fhir_adapter, the raw entry as payload) per entry that
cannot be read, validated or mapped, and per Claim line whose code is not in the charge master
(the Claim's other lines still post). Context resources (Patient, Coverage, Condition,
MessageHeader, ...) make no event of their own; other resource types are reported as ignored."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from producers.fhir import charges, model, remits, visits
from producers.fhir.common import CHARGE_SYSTEM, MappingError, Skipped, content_hash
from producers.fhir.read import Entry
from schemas import codec, deadletter
from schemas.envelope import Outgoing, record
from schemas.topics import DEAD_LETTERS, REMITTANCES_UNMATCHED, VISIT_EVENTS

STAGE = "fhir_adapter"
MAX_PAYLOAD = 1 << 20  # a dead letter keeps at most this much of a huge broken file
TARGET = {"ClaimResponse": REMITTANCES_UNMATCHED, "ExplanationOfBenefit": REMITTANCES_UNMATCHED}


@dataclass
class Result:
    records: list[Outgoing] = field(default_factory=list)  # events, then dead letters, in input order
    problems: list[str] = field(default_factory=list)  # "file: entry N (Type/id): reason"
    skipped: list[str] = field(default_factory=list)
    ignored: dict[str, int] = field(default_factory=dict)  # resource type -> entries
    events: int = 0
    dead_letters: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def dead_letter(entry: Entry, reason: str, kind: str, now_ms: int, part: str = "") -> Outgoing:
    """`part` tells apart several dead letters of one entry (its Claim lines)."""
    topic = TARGET.get(entry.resource_type, VISIT_EVENTS)
    payload = entry.payload[:MAX_PAYLOAD]
    if len(entry.payload) > MAX_PAYLOAD:
        reason += f" (payload: first {MAX_PAYLOAD} of {len(entry.payload)} bytes)"
    rec = deadletter.dead_letter(f"{topic.name}:fhir:{content_hash(entry.payload)}{part}:{STAGE}",
                                 topic.name, STAGE, kind, reason, payload=payload,
                                 offset=entry.index, at=now_ms)
    return record(DEAD_LETTERS, rec)


def convert(entries: list[Entry], charge_master=None, charge_system: str = CHARGE_SYSTEM,
            now_ms: int | None = None) -> Result:
    from processors.chargemaster import load_charge_master

    now_ms = now_ms if now_ms is not None else time.time_ns() // 1_000_000
    charge_master = charge_master if charge_master is not None else load_charge_master()
    for e in entries:
        model.validate(e)
    index = model.Index(entries)
    out, dead = Result(), []
    for e in entries:
        try:
            if e.error is not None:
                raise MappingError(e.error)
            kind, unmapped = e.resource_type, []
            if kind == "Encounter":
                rec, topic = visits.encounter_event(e, index, now_ms), VISIT_EVENTS
            elif kind == "Claim":
                (rec, unmapped), topic = visits.claim_event(e, index, now_ms, charge_master,
                                                            charge_system), VISIT_EVENTS
            elif kind == "ChargeItem":
                rec, topic = charges.charge_item_event(e, index, now_ms, charge_master,
                                                       charge_system), VISIT_EVENTS
            elif kind in TARGET:
                rec, topic = remits.remittance_event(e, index, now_ms, charge_master), TARGET[kind]
            else:
                if kind not in model.CONTEXT:
                    out.ignored[kind] = out.ignored.get(kind, 0) + 1
                continue
            value = codec.encode(topic.value_schema, rec)
        except Skipped as exc:
            out.skipped.append(f"{e.label}: {exc}")
        except (MappingError, ValueError, TypeError) as exc:
            reason = f"{e.label}: {exc}"
            out.problems.append(reason)
            dead.append(dead_letter(e, reason, e.error_kind if e.error else "INVALID", now_ms))
        else:
            out.records.append(Outgoing(topic, codec.key_of(topic, rec), value))
            for n, why in enumerate(unmapped, 1):
                reason = f"{e.label}: {why}"
                out.problems.append(reason)
                dead.append(dead_letter(e, reason, "INVALID", now_ms, f"#line{n}:{content_hash(why.encode())}"))
    out.events, out.dead_letters = len(out.records), len(dead)
    out.records += dead
    return out
