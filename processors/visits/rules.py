"""Assemble visits: merge a visit's VisitEvents and emit its EncounterReceived once it is final.

Events are kept per visit number (the `visits-pending` table) and folded in event-time order
(`occurred_at`, then arrival), so the order they arrive in does not matter:

- scalar fields: the later non-null value wins; a non-empty diagnoses or ICD-10-PCS list replaces
  the earlier list; charges merge by transaction id (the first wins, so a re-sent DFT adds nothing);
- an event id seen before is ignored (redelivery, a re-sent message);
- ADMIT / REGISTER open the visit, UPDATE updates it, DISCHARGE records the discharge (its event
  time becomes `discharged_at`, for discharged-not-final-billed), CHARGES add charge lines; any of
  them may come first; CANCEL_DISCHARGE (A13) undoes a discharge earlier in event time (the visit
  is open again, its discharge date gone); after billing it is refused, for a person to decide;
- CANCEL (A11) on a visit not yet billed cancels it: nothing is emitted, later events for it are
  refused (dead letter) with the reason;
- the visit is final when it is discharged and has at least one charge, whichever comes last: one
  EncounterReceived (event id `visit:<visit number>`, encounter id = visit number) goes to
  `encounters`, and the visit is BILLED. A final visit missing a required field is kept (state
  saved) and dead-lettered naming the fields, so a later UPDATE completes it;
- after billing, a new charge or any other change sends the encounter again with the visit as it
  now is (event id `visit:<visit number>:<n>`, n the number of events applied): the ledger posts
  the difference and the claim becomes its next version (a corrected claim, frequency 7); a cancel
  (A11) sends it with `cancelled` set (the charges come off, the claim is voided, frequency 8)
  and later events are refused; a late event that changes nothing on the billed visit (an A04
  arriving after its DFT and A03, a re-sent DFT) is accepted and ignored.

Pure functions over decoded records and a `visits-pending` store (processors.state); the agent
passes the table, tests a store in memory.
"""
from __future__ import annotations

from processors import state
from processors.outcome import Outcome
from schemas import codec
from schemas import topics as T
from schemas.accounts import account_id_fault

SCALARS = ("patient_age", "patient_sex", "encounter_class", "payer_id", "plan_type",
           "provider_npi", "facility_id", "service_start", "service_end", "discharge_status")
REQUIRED = ("patient_age", "patient_sex", "encounter_class", "payer_id", "plan_type",
            "provider_npi", "facility_id", "service_start", "service_end", "diagnoses")


class Refused(ValueError):
    """The event cannot apply; nothing changed (dead letter with the reason)."""


def merge(events: list[dict]) -> dict:
    """The visit as its events describe it (event-time order, then arrival order)."""
    visit: dict = {name: None for name in SCALARS}
    visit.update(diagnoses=[], procedures_pcs=[], charges={}, discharged_at=None,
                 occurred_at=None, emitted_at=None)
    ordered = sorted(enumerate(events), key=lambda ie: (ie[1]["occurred_at"], ie[0]))
    for _, ev in ordered:
        for name in SCALARS:
            if ev.get(name) is not None:
                visit[name] = ev[name]
        for name in ("diagnoses", "procedures_pcs"):
            if ev.get(name):
                visit[name] = list(ev[name])
        for charge in ev.get("charges") or []:
            visit["charges"].setdefault(charge["transaction_id"], charge)
        if ev["kind"] == "DISCHARGE":
            visit["discharged_at"] = ev["occurred_at"]
        elif ev["kind"] == "CANCEL_DISCHARGE":  # A13: the discharge before it did not happen
            visit["discharged_at"] = visit["service_end"] = None
        visit["occurred_at"] = ev["occurred_at"]
    charges = list(visit["charges"].values())
    visit["charges"] = charges
    if visit["service_start"] is None and charges:
        visit["service_start"] = min(c["service_date"] for c in charges)
    if visit["service_end"] is None and visit["discharged_at"] is not None:
        visit["service_end"] = visit["discharged_at"].date()
    return visit


def missing_fields(visit: dict) -> list[str]:
    return [name for name in REQUIRED if visit.get(name) in (None, [])]


def encounter_of(visit_number: str, account_id: str, visit: dict, emitted_at) -> dict:
    return {
        "event_id": f"visit:{visit_number}", "encounter_id": visit_number,
        "account_id": account_id, "occurred_at": visit["occurred_at"], "emitted_at": emitted_at,
        **{name: visit[name] for name in SCALARS if name != "discharge_status"},
        "diagnoses": [{"sequence": d["sequence"], "text": d["text"], "code": d["code"]}
                      for d in visit["diagnoses"]],
        "charges": [{"line": i, "charge_code": c["charge_code"], "units": c["units"],
                     "unit_price_cents": c["unit_price_cents"], "service_date": c["service_date"],
                     "source_code": c.get("source_code")}
                    for i, c in enumerate(visit["charges"], 1)],
        "procedures_pcs": list(visit["procedures_pcs"]),
        "discharge_status": visit["discharge_status"], "em": None,
        "discharged_at": visit["discharged_at"],
    }


def _correct(entry: dict, events: list[dict], ev: dict, store: state.Store) -> Outcome:
    """A change to a billed visit: the encounter again as the visit now is (a corrected claim
    follows), or cancelled (its claim is voided)."""
    events = [*events, ev]
    entry = {**entry, "events": [*entry["events"], codec.encode(T.VISIT_EVENTS.value_schema, ev)]}
    number = entry["visit_number"]
    enc = encounter_of(number, ev["account_id"], merge(events), ev["emitted_at"])
    enc["event_id"] = f"visit:{number}:{len(events)}"
    if ev["kind"] == "CANCEL":
        enc["cancelled"] = True
    store.put({**entry, "status": "CANCELLED" if ev["kind"] == "CANCEL" else "BILLED",
               "encounter_event_id": enc["event_id"]})
    return Outcome([(T.ENCOUNTERS, enc)])


def assemble(ev: dict, store: state.Store) -> Outcome:
    """Apply one VisitEvent to its visit. Raises Refused when it cannot apply."""
    if fault := account_id_fault(ev["account_id"]):
        raise Refused(fault)
    number = ev["visit_number"]
    entry = store.get(number) or {"visit_number": number, "account_id": ev["account_id"],
                                  "events": [], "status": "OPEN", "encounter_event_id": None}
    if entry["account_id"] != ev["account_id"]:
        raise Refused("the visit number belongs to another account")
    events = [codec.decode_for(T.VISIT_EVENTS, raw) for raw in entry["events"]]
    if any(e["event_id"] == ev["event_id"] for e in events):
        return Outcome()  # redelivered or re-sent: already applied
    status, kind = entry["status"], ev["kind"]
    if status == "CANCELLED":
        raise Refused(f"the visit was cancelled (A11); a {kind} event after the cancel is not applied")
    if status == "BILLED":
        if kind == "CANCEL_DISCHARGE":
            raise Refused("the discharge was cancelled (A13) after the visit was billed: the claim "
                          "stands; void or correct it by hand if the stay goes on")
        if kind == "CHARGES":
            billed = {c["transaction_id"] for e in events for c in e.get("charges") or []}
            if all(c["transaction_id"] in billed for c in ev["charges"]):
                return Outcome()  # a re-sent DFT: every transaction is already on the claim
        elif kind != "CANCEL":
            before, after = merge(events), merge([*events, ev])
            if all(before[k] == after[k] for k in (*SCALARS, "diagnoses", "procedures_pcs")):
                return Outcome()  # a late ADT that says nothing new about the billed visit
        return _correct(entry, events, ev, store)
    events.append(ev)
    entry = {**entry, "events": [*entry["events"], codec.encode(T.VISIT_EVENTS.value_schema, ev)]}
    if kind == "CANCEL":
        store.put({**entry, "status": "CANCELLED"})
        return Outcome()
    visit = merge(events)
    entry["status"] = "DISCHARGED" if visit["discharged_at"] is not None else "OPEN"
    if entry["status"] != "DISCHARGED" or not visit["charges"]:
        store.put(entry)
        return Outcome()
    missing = missing_fields(visit)
    if missing:
        store.put(entry)
        # the state changed, but the visit cannot be billed yet: a kept dead letter says why
        why = (f"visit is discharged and charged but lacks {', '.join(missing)}; kept until an "
               "update supplies them")
        return Outcome(rejected=[(ev, why)])
    enc = encounter_of(number, ev["account_id"], visit, ev["emitted_at"])
    store.put({**entry, "status": "BILLED", "encounter_event_id": enc["event_id"]})
    return Outcome([(T.ENCOUNTERS, enc)])
