"""Coders' decisions: hold reviewed encounters, release them with the codes a coder chose.

An encounter the automatic coder could not finish goes to `coding-review`; the processor keeps it
(in the `coding-pending` table, keyed by encounter id) until a `CodingDecision` for it arrives on
`coding-decisions`. The decision releases it as an EncounterCoded with the coder's codes (and
`coded_by`), which builds the claim like any other. The two may arrive in either order: a decision
that comes first waits in the table for its encounter. A coder's decision always wins: if the
encounter would have coded automatically, the coder's codes are used.

Releasing is idempotent. The coded record's id is the encounter event id + ":coded" whoever chose
the codes, so a redelivered decision or encounter re-emits the same record and the sinks keep
one. A second, different decision for a released encounter is refused, unless it says it corrects
the claim (`corrects_claim_id`, e.g. a held claim fixed from the console): then the encounter is
coded again with its codes under the decision's id (`<decision>:coded`, source the decision), so
the claim builder sees a new source event and builds the claim's next version. For that the table
keeps every encounter it coded (automatically: released with no decision), its latest version,
for as long as a claim for it can still be billed: a correction decided more than
CORRECTION_WINDOW_DAYS after the date of service is refused, and the `coding-pending` topic
deletes an entry not written again for longer than that (schemas.topics).

Pure functions over decoded records and a `coding-pending` store (processors.state); the agents
pass the table, the tests a store in memory.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from processors import state
from processors.coding import drg as msdrg_adapter
from processors.coding.rules import coded_record, date_of_service
from processors.outcome import Outcome
from processors.payers import DEFAULT, PAYERS
from schemas import codec
from schemas import topics as T
from schemas.accounts import account_id_fault

MAX_DIAGNOSES = 25
# How long after its date of service a coded encounter can still be corrected: the longest timely
# filing limit of the payers the pipeline knows (processors.payers, a deployment's contracts).
# Replacement claims count from the same date (Medicare: one calendar year, 42 CFR 424.44, type of
# bill xx7 included); past it no payer takes the claim or its replacement.
CORRECTION_WINDOW_DAYS = max(p.timely_filing_days for p in (*PAYERS.values(), DEFAULT))
PROFESSIONAL_CLASSES = frozenset({"OFFICE"})  # as processors.claims bills them (no revenue code)


@dataclass
class Release(Outcome):
    """What a hold or a decision produced: records to send, and how the codes compared."""

    agreement: Agreement | None = None


@dataclass(frozen=True)
class Agreement:
    """A coder's codes against the automatic suggestions (sets of codes, order ignored)."""

    kept: int      # suggested and chosen
    added: int     # chosen, not suggested
    dropped: int   # suggested, not chosen

    @property
    def exact(self) -> bool:
        return self.added == 0 and self.dropped == 0

    @property
    def jaccard(self) -> float:
        union = self.kept + self.added + self.dropped
        return self.kept / union if union else 1.0


def agreement(suggested: list[str], chosen: list[str]) -> Agreement:
    s, c = {_plain(x) for x in suggested}, {_plain(x) for x in chosen}
    return Agreement(kept=len(s & c), added=len(c - s), dropped=len(s - c))


def _plain(code: str) -> str:
    return code.strip().upper().replace(".", "")


def validate_decision(dec: dict, coder) -> list[str]:
    """Why this decision cannot be applied at all (dead letter); empty when it is valid."""
    problems: list[str] = []
    if fault := account_id_fault(dec["account_id"]):
        problems.append(fault)
    if not dec["coder_id"].strip():
        problems.append("coder_id is empty")
    dxs = dec["diagnoses"]
    if not dxs:
        problems.append("the decision chooses no diagnosis code")
    if len(dxs) > MAX_DIAGNOSES:
        problems.append(f"{len(dxs)} diagnosis codes (at most {MAX_DIAGNOSES})")
    seqs = [d["sequence"] for d in dxs]
    if len(set(seqs)) != len(seqs):
        problems.append("diagnosis sequences repeat")
    seen: set[str] = set()
    for d in sorted(dxs, key=lambda d: d["sequence"]):
        code = _plain(d["code"])
        # a code of any loaded release: whether it is in force is settled against the encounter
        if not (coder.is_valid(code) or coder.is_known(code)):
            problems.append(f"dx {d['sequence']}: {d['code']!r} is not an ICD-10-CM code")
        elif not (coder.is_billable(code) or coder.is_known(code)):
            problems.append(f"dx {d['sequence']}: {d['code']!r} is a category with subcodes, "
                            "not billable")
        if code in seen:
            problems.append(f"dx {d['sequence']}: {d['code']!r} is chosen twice")
        seen.add(code)
    lines = [p["line"] for p in dec.get("procedures") or []]
    if len(set(lines)) != len(lines):
        problems.append("procedure overrides name a line twice")
    for p in dec.get("procedures") or []:
        if not p["procedure_code"].strip() and not (p.get("charge_code") or "").strip():
            problems.append(f"procedure override for line {p['line']} has no code")
    return problems


def _released(enc: dict, dec: dict, suggested: list[str], coder, charge_master: Mapping) -> dict:
    """The EncounterCoded for `enc` with the decision's codes. Raises ValueError when the decision
    does not fit the encounter (a line it overrides is not on the encounter)."""
    codes = [coder.dotted(_plain(d["code"]))
             for d in sorted(dec["diagnoses"], key=lambda d: d["sequence"])]
    day = date_of_service(enc)
    stale = [why for code in codes if (why := coder.not_in_release(code, day))]
    if stale:
        raise ValueError("; ".join(stale))
    coded = [{"sequence": i + 1, "code": code, "confidence": 1.0,
              "evidence": f"coder {dec['coder_id']} (decision {dec['event_id']})"}
             for i, code in enumerate(codes)]
    drg = None
    if enc["encounter_class"] == "INPATIENT":
        drg = msdrg_adapter.group(codes[0], codes[1:],
                                  [p["code"] for p in sorted(enc.get("procedures_pcs") or [],
                                                             key=lambda p: p["sequence"])],
                                  enc["patient_age"], enc["patient_sex"],
                                  enc.get("discharge_status"), enc["service_end"])
    rec = coded_record(enc, coded, charge_master, drg)
    by_line = {p["line"]: p for p in rec["procedures"]}
    for o in dec.get("procedures") or []:
        if o["line"] not in by_line:
            raise ValueError(f"procedure override names line {o['line']}, which the encounter "
                             f"does not have (lines {sorted(by_line)})")
        _override(by_line[o["line"]], o, charge_master, enc["encounter_class"])
    missing = [n for n, p in sorted(by_line.items()) if not p["procedure_code"] and not p["revenue_code"]]
    if missing:
        raise ValueError(f"the decision gives no code to line {', '.join(map(str, missing))}, whose "
                         "code the charge master lacks (procedures: charge_code or procedure_code)")
    rec["coded_by"] = {"decision_id": dec["event_id"], "coder_id": dec["coder_id"],
                       "decided_at": dec["decided_at"], "suggested": list(suggested)}
    return rec


def _override(line: dict, o: dict, charge_master: Mapping, encounter_class: str) -> None:
    """Apply a coder's override to a billed line. A charge-master item (charge_code) brings its
    procedure, modifiers and revenue code; a procedure code alone keeps the line's revenue code,
    or, on a line the charge master lacked, takes the one charge-master items with that code share
    (an institutional claim needs one). The line's units and charge never change."""
    proc, mods = o["procedure_code"].strip(), list(o.get("modifiers") or [])
    code = (o.get("charge_code") or "").strip()
    if code:
        item = charge_master.get(code)
        if item is None:
            raise ValueError(f"line {o['line']}: charge code {code} is not in the charge master")
        line.update(charge_code=item.charge_code, procedure_code=proc or item.procedure_code,
                    modifiers=mods or list(item.modifiers), revenue_code=item.revenue_code)
        return
    if not line["revenue_code"] and not line["procedure_code"]:  # the charge master lacked it
        revenues = {i.revenue_code for i in charge_master.values() if i.procedure_code == proc}
        if len(revenues) == 1:
            line["revenue_code"] = revenues.pop()
        elif encounter_class not in PROFESSIONAL_CLASSES:
            raise ValueError(f"line {o['line']}: {proc} has no single revenue code in the charge "
                             "master, which an institutional claim needs: give a charge_code")
    line.update(procedure_code=proc, modifiers=mods)


def _suggested(review: dict) -> list[str]:
    out: list[str] = []
    for s in review.get("suggestions") or []:
        for code in (s.get("code"), *(s.get("also") or [])):
            if code and code not in out:
                out.append(code)
    return out


def _release(entry: dict, enc: dict, dec: dict, coder, charge_master) -> Release:
    rec = _released(enc, dec, entry["suggested"], coder, charge_master)
    codes = [d["code"] for d in rec["diagnoses"]]
    return Release([(T.ENCOUNTERS_CODED, rec)], agreement=agreement(entry["suggested"], codes))


def on_encounter(enc: dict, kind: str, rec: dict, store: state.Store, coder,
                 charge_master) -> Release:
    """After the automatic coder: `kind`/`rec` are what `code_encounter` returned.

    Without a decision on file, an auto-coded encounter passes through untouched and a reviewed one
    is kept for its decision. With one, the encounter is released with the coder's codes."""
    entry = store.get(enc["encounter_id"])
    if entry is None or entry["decision"] is None:
        if kind == "coded":  # kept, released, for a decision that corrects its claim later
            _keep(store, entry, enc, [d["code"] for d in rec["diagnoses"]], released=True)
            return Release([(T.ENCOUNTERS_CODED, rec)])
        _keep(store, entry, enc, _suggested(rec), released=False)
        return Release([(T.CODING_REVIEW, rec)])
    # A decision was waiting for this encounter (or this is a redelivery after release).
    dec = codec.decode_for(T.CODING_DECISIONS, entry["decision"])
    suggested = _suggested(rec) if kind == "review" else [d["code"] for d in rec["diagnoses"]]
    stored, entry = entry, {**entry, "encounter": codec.encode_as_read(T.ENCOUNTERS.value_schema, enc),
                            "suggested": suggested}
    try:
        released = _release(entry, enc, dec, coder, charge_master)
    except ValueError:
        # The early decision does not fit: the machine's result stands and the review (if any)
        # stays open for a decision that does fit.
        entry["decision"] = None
        store.put(entry)
        return Release([(T.CODING_REVIEW if kind == "review" else T.ENCOUNTERS_CODED, rec)])
    out = [(T.CODING_REVIEW, rec)] if kind == "review" else []
    if entry["released"]:  # a redelivered encounter: the same records again, counted once
        if entry != stored:  # a re-sent one is kept: a later correction codes its latest version
            store.put(entry)
        return Release(out + released.records)
    store.put({**entry, "released": True})
    return Release(out + released.records, agreement=released.agreement)


def _keep(store: state.Store, entry: dict | None, enc: dict, suggested: list[str],
          released: bool) -> None:
    """Hold the encounter's latest version (written only when it changed: a redelivery writes
    nothing)."""
    kept = {"encounter_id": enc["encounter_id"], "account_id": enc["account_id"],
            "encounter": codec.encode_as_read(T.ENCOUNTERS.value_schema, enc),
            "suggested": suggested,
            "decision": None, "released": released}
    if entry != kept:
        store.put(kept)


class NotApplicable(ValueError):
    """A decision that decodes and validates but cannot apply to its encounter."""


def on_decision(dec: dict, store: state.Store, coder, charge_master) -> Release:
    """A coder's decision: release the held encounter, or keep the decision until it arrives."""
    entry = store.get(dec["encounter_id"])
    if entry is not None and entry["account_id"] != dec["account_id"]:
        raise NotApplicable("the decision's account does not match the encounter's")
    if dec.get("corrects_claim_id"):
        return _correct(dec, entry, store, coder, charge_master)
    if entry is None or entry["encounter"] is None:
        if entry is not None and entry["decision"] is not None:
            earlier = codec.decode_for(T.CODING_DECISIONS, entry["decision"])
            if earlier["event_id"] != dec["event_id"]:
                raise NotApplicable(f"decision {earlier['event_id']} is already waiting for "
                                    "this encounter")
        store.put({"encounter_id": dec["encounter_id"], "account_id": dec["account_id"],
                   "encounter": None, "suggested": [],
                   "decision": codec.encode(T.CODING_DECISIONS.value_schema, dec),
                   "released": False})
        return Release([])
    if entry["released"] and entry["decision"] is None:
        # Coded automatically: as always, a decision (not a correction) waits for the encounter
        # to be sent again, which releases it with these codes.
        store.put({**entry, "decision": codec.encode(T.CODING_DECISIONS.value_schema, dec)})
        return Release([])
    if entry["released"] and entry["decision"] is not None:
        earlier = codec.decode_for(T.CODING_DECISIONS, entry["decision"])
        if earlier["event_id"] != dec["event_id"]:
            raise NotApplicable(f"the encounter was already released by decision "
                                f"{earlier['event_id']}; a change now corrects its claim "
                                "(corrects_claim_id)")
    released = _release_kept(entry, dec, coder, charge_master)
    if entry["released"]:  # a redelivered decision: the same record again, counted once
        return Release(released.records)
    store.put({**entry, "decision": codec.encode(T.CODING_DECISIONS.value_schema, dec),
               "released": True})
    return released


def _release_kept(entry: dict, dec: dict, coder, charge_master) -> Release:
    """The kept encounter released with the decision's codes; NotApplicable when they do not fit."""
    enc = codec.decode_for(T.ENCOUNTERS, entry["encounter"])
    try:
        return _release(entry, enc, dec, coder, charge_master)
    except ValueError as exc:
        raise NotApplicable(str(exc)) from exc


def too_late_to_correct(enc: dict, dec: dict) -> str | None:
    """Why the correcting decision `dec` comes too late for the encounter `enc`, or None: decided
    more than CORRECTION_WINDOW_DAYS after its date of service (a stay's discharge)."""
    day = date_of_service(enc)
    if (dec["decided_at"].date() - day).days <= CORRECTION_WINDOW_DAYS:
        return None
    return (f"the decision comes more than {CORRECTION_WINDOW_DAYS} days after the date of service "
            f"({day}): past every payer's timely filing limit, no corrected claim can be billed")


def _correct(dec: dict, entry: dict | None, store: state.Store, coder, charge_master) -> Release:
    """A decision that corrects a coded encounter's claim: the encounter coded again with the
    decision's codes, as a new source event (the decision) for the claim builder."""
    claim_id = "CLM-" + dec["encounter_id"]  # as processors.claims.rules names it
    if dec["corrects_claim_id"] != claim_id:
        raise NotApplicable(f"the decision corrects claim {dec['corrects_claim_id']}, but the "
                            f"encounter's claim is {claim_id}")
    if entry is None or entry["encounter"] is None:
        raise NotApplicable("the coding stage holds no coded encounter to correct: it has not "
                            "arrived, was coded before encounters were kept (sending it again "
                            "keeps it), or its correction window closed long ago")
    if not entry["released"]:
        raise NotApplicable("the encounter is in coding review, not coded yet: there is no claim "
                            "to correct (a decision on its review releases it)")
    if late := too_late_to_correct(codec.decode_for(T.ENCOUNTERS, entry["encounter"]), dec):
        raise NotApplicable(late)
    released = _release_kept(entry, dec, coder, charge_master)
    (topic, rec), = released.records
    rec.update(event_id=f"{dec['event_id']}:coded", source_event_id=dec["event_id"],
               source_emitted_at=dec["emitted_at"], occurred_at=dec["decided_at"])
    earlier = entry["decision"] and codec.decode_for(T.CODING_DECISIONS, entry["decision"])
    if earlier and earlier["event_id"] == dec["event_id"]:  # redelivered: the same record again
        return Release([(topic, rec)])
    store.put({**entry, "decision": codec.encode(T.CODING_DECISIONS.value_schema, dec)})
    return Release([(topic, rec)], agreement=released.agreement)
