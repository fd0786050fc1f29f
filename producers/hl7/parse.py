"""HL7 v2 ADT, BAR and DFT messages -> VisitEvent records (schemas/avro/VisitEvent.avsc).

Parsing is the `hl7` package's (delimiters from MSH-1/MSH-2); this module only reads fields and
checks them. A message that is not HL7 or has an unsupported type raises MessageError with ack "AR"
(rejected); one that parses but lacks or breaks a field it cannot do without raises it with ack
"AE" (application error). Either names the segment and field. Optional fields real feeds leave
empty are defaulted as the README says (issue 9). The birth date is read only to compute the age on
the first day of service and is not kept.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache

import hl7

from processors.chargemaster import load_charge_master
from processors.payers import payer
from producers.hl7 import charges, codes
from producers.hl7.charges import Coded
from schemas.accounts import account_id_fault

# Message types -> VisitEvent kind. A02 transfer, A06/A07 class changes and BAR^P05/P06 update the
# visit (PV1 says what it is now), as BAR^P12 updates its diagnoses and procedures; A05 pre-admit
# and BAR^P01 open it; A13 cancels its discharge.
KINDS: dict[tuple[str, str], str] = {
    ("ADT", "A01"): "ADMIT", ("ADT", "A04"): "REGISTER", ("ADT", "A05"): "REGISTER",
    ("ADT", "A08"): "UPDATE", ("ADT", "A02"): "UPDATE", ("ADT", "A06"): "UPDATE",
    ("ADT", "A07"): "UPDATE", ("ADT", "A03"): "DISCHARGE", ("ADT", "A13"): "CANCEL_DISCHARGE",
    ("ADT", "A11"): "CANCEL", ("BAR", "P01"): "REGISTER", ("BAR", "P05"): "UPDATE",
    ("BAR", "P06"): "UPDATE", ("BAR", "P12"): "UPDATE", ("DFT", "P03"): "CHARGES",
    ("DFT", "P11"): "CHARGES",
}
# An ADT feed sends every event of the hospital; those with nothing to bill are accepted (AA) and
# counted, with no event: person updates (A28/A31), tracking and pending events (A09/A10, A14-A16,
# A25-A27, A32/A33), allergies (A60), and BAR^P02 (purge). Merges and identifier changes (A34-A51)
# are counted too and not applied: the pipeline keeps each account number it was sent.
IGNORED_TYPES = {"ADT"}
IGNORED = {("BAR", "P02")}
# PV1-2 patient class (HL7 table 0004) -> encounter class. O is OUTPATIENT unless PV1-18 (patient
# type) says OFFICE/CLINIC; R (recurring) is outpatient; B (obstetrics) and P (preadmit) inpatient.
# Anything else (C commercial account, N not applicable, U unknown, local codes) leaves the class
# unknown: the visit waits for an update that says it.
PATIENT_CLASS = {"I": "INPATIENT", "B": "INPATIENT", "P": "INPATIENT", "E": "EMERGENCY",
                 "O": "OUTPATIENT", "R": "OUTPATIENT"}
OFFICE_TYPES = {"OFFICE", "CLINIC", "OFF"}
# IN1-15 plan type (user-defined table 0086) -> plan type; empty or not in this table: the payer
# table's plan type.
PLAN_TYPES = {"MC": "MEDICARE", "MA": "MEDICARE", "MB": "MEDICARE", "MEDICARE": "MEDICARE",
              "MD": "MEDICAID", "MCD": "MEDICAID", "MEDICAID": "MEDICAID",
              "SP": "SELF_PAY", "SELF": "SELF_PAY", "SELFPAY": "SELF_PAY", "SELF_PAY": "SELF_PAY",
              "CO": "COMMERCIAL", "COMMERCIAL": "COMMERCIAL", "HMO": "COMMERCIAL",
              "PPO": "COMMERCIAL"}
DTM = re.compile(r"^\d{4}(\d{2}){0,5}(\.\d{1,4})?([+-]\d{4})?$")
SEX = {"F": "F", "M": "M"}  # anything else (O, A, N, U) is U


@cache
def packaged_charge_master() -> Mapping:
    return load_charge_master()


class MessageError(ValueError):
    """A message the adapter refuses: `ack` AR (not HL7 / unsupported) or AE (a field is wrong)."""

    def __init__(self, ack: str, segment: str, reason: str, control_id: str = "",
                 facility: str = ""):
        super().__init__(f"{segment}: {reason}")
        self.ack, self.segment, self.reason = ack, segment, reason
        self.control_id, self.facility = control_id, facility

    @property
    def error(self) -> str:
        """The DeadLetter error kind."""
        return "MALFORMED" if self.ack == "AR" else "INVALID"


@dataclass(frozen=True)
class Header:
    message_type: str
    trigger: str
    control_id: str
    facility: str
    application: str
    version: str


def field(seg, n: int, comp: int = 1, sub: int = 1, rep: int = 1) -> str:
    """HL7 field n (component, subcomponent) of a segment, '' when absent."""
    try:
        return str(seg.extract_field(1, n, rep, comp, sub)).strip()
    except IndexError:
        return ""


def repetitions(seg, n: int) -> int:
    try:
        return len(seg(n)) if n < len(seg) else 0
    except (IndexError, TypeError):
        return 0


def parse_message(raw: str | bytes) -> hl7.Message:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    text = raw.lstrip("\ufeff\x0b").replace("\r\n", "\r").replace("\n", "\r").strip("\r\x0b\x1c ")
    text = "\r".join(seg for seg in text.split("\r") if seg.strip())
    try:
        msg = hl7.parse(text)
        msg.segment("MSH")
    except (hl7.HL7Exception, ValueError, KeyError, IndexError) as exc:
        raise MessageError("AR", "MSH", f"not an HL7 v2 message ({exc})") from exc
    return msg


def header(msg) -> Header:
    msh = msg.segment("MSH")
    evn = _segments(msg, "EVN")
    trigger = field(msh, 9, 2) or (field(evn[0], 1) if evn else "")  # v2.2 and older: EVN-1
    application = field(msh, 3) or field(msh, 3, 2)
    facility = field(msh, 4) or field(msh, 4, 2) or application
    return Header(field(msh, 9).upper(), trigger.upper(), field(msh, 10), facility, application,
                  field(msh, 12))


def is_ignored(h: Header) -> bool:
    """A message accepted with nothing to bill (ADT^A28/A31 person updates, tracking, merges...)."""
    pair = (h.message_type, h.trigger)
    return pair not in KINDS and (pair in IGNORED or h.message_type in IGNORED_TYPES)
def hl7_datetime(value: str, where: str, ack_ctx: Header) -> datetime | None:
    if not value:
        return None
    if not DTM.match(value):
        raise _ae(ack_ctx, where, "is not an HL7 date/time (YYYYMMDD[HHMM[SS]][+ZZZZ])")
    try:
        dt = hl7.parse_datetime(value)
    except (ValueError, TypeError) as exc:
        raise _ae(ack_ctx, where, "is not an HL7 date/time (YYYYMMDD[HHMM[SS]][+ZZZZ])") from exc
    # No offset: the sending system's clock is taken as UTC (document your interface's zone).
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def cents(value: str, where: str, h: Header) -> int:
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise _ae(h, where, "amount is not a number") from exc
    if not amount.is_finite() or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise _ae(h, where, "amount is not in whole cents")
    return int(amount * 100)


def _ae(h: Header, where: str, reason: str) -> MessageError:
    return MessageError("AE", where, reason, h.control_id, h.facility)


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def visit_events(raw: str | bytes, emitted_at: datetime, charge_master: Mapping | None = None) -> list[dict]:
    """The VisitEvent(s) one message carries ([] for a person update). Raises MessageError.
    charge_master: the one FT1 lines are looked up in (default: the packaged one)."""
    msg = parse_message(raw)
    h = header(msg)
    if not h.control_id:
        raise MessageError("AR", "MSH-10", "message control id is empty", "", h.facility)
    if is_ignored(h):
        return []
    kind = KINDS.get((h.message_type, h.trigger))
    if kind is None:
        accepted = ", ".join(f"{t}^{e}" for t, e in KINDS) + ", any other ADT (ignored), BAR^P02"
        raise MessageError("AR", "MSH-9", f"unsupported message type {h.message_type}^{h.trigger} "
                           f"(accepted: {accepted})", h.control_id, h.facility)
    if not h.facility:
        raise _ae(h, "MSH-4", "sending facility and application (MSH-3) are both empty")
    segs = [seg for seg in msg if str(seg[0]) != "MSH"]
    required = ("PID",) + (("PV1",) if h.message_type == "ADT" else ()) \
        + (("FT1",) if kind == "CHARGES" else ())
    for sid in required:
        if not any(str(seg[0]) == sid for seg in segs):
            raise _ae(h, sid, f"segment missing (required in {h.message_type}^{h.trigger}; "
                              "a truncated message?)")
    pid = next(seg for seg in segs if str(seg[0]) == "PID")
    evn = [seg for seg in segs if str(seg[0]) == "EVN"]
    occurred = (hl7_datetime(field(evn[0], 2), "EVN-2", h) if evn else None) \
        or hl7_datetime(field(msg.segment("MSH"), 7), "MSH-7", h)
    if occurred is None:
        raise _ae(h, "MSH-7", "message date/time is empty (and no EVN-2)")
    groups = _visit_groups(segs, h)
    if charge_master is None:
        charge_master = packaged_charge_master()
    events = [_event(h, kind, pid, group, occurred, emitted_at, charge_master) for group in groups]
    if len(events) > 1:  # BAR^P01/P05 with several visits: one event each, ids stay stable
        for n, ev in enumerate(events, 1):
            ev["event_id"] += f":{n}"
    return events


def _segments(msg, sid: str) -> list:
    return [seg for seg in msg if str(seg[0]) == sid]


def _visit_groups(segs: list, h: Header) -> list[dict[str, list]]:
    """The message's visits: segment lists by id. A BAR carries one VISIT group per PV1; other
    messages one visit. In a DFT^P11, DG1/PR1/IN1 after the first FT1 belong to that transaction
    (its FINANCIAL group), not to the visit."""
    def by_id(chunk: list) -> dict[str, list]:
        out: dict[str, list] = {sid: [] for sid in ("PV1", "IN1", "DG1", "PR1", "FT1")}
        for seg in chunk:
            if str(seg[0]) in out:
                out[str(seg[0])].append(seg)
        return out

    if h.message_type == "BAR":
        starts = [i for i, seg in enumerate(segs) if str(seg[0]) == "PV1"]
        if len(starts) > 1:
            return [by_id(segs[a:b]) for a, b in zip(starts, [*starts[1:], len(segs)], strict=True)]
    if h.trigger == "P11":
        first_ft1 = next(i for i, seg in enumerate(segs) if str(seg[0]) == "FT1")
        group = by_id(segs[:first_ft1])
        group["FT1"] = [seg for seg in segs[first_ft1:] if str(seg[0]) == "FT1"]
        return [group]
    return [by_id(segs)]


def _event(h: Header, kind: str, pid, segs: dict[str, list], occurred: datetime,
           emitted_at: datetime, charge_master: Mapping) -> dict:
    pv1 = segs["PV1"][0] if segs["PV1"] else None
    account_id, visit_number = _account_and_visit(h, pid, pv1)
    admitted = hl7_datetime(field(pv1, 44), "PV1-44", h) if pv1 else None
    discharged = hl7_datetime(field(pv1, 45), "PV1-45", h) if pv1 else None
    rec = {
        "event_id": f"hl7v2:{h.facility}:{h.control_id}", "kind": kind,
        "source": f"hl7v2 {h.message_type}^{h.trigger}", "visit_number": visit_number,
        "account_id": account_id, "occurred_at": occurred, "emitted_at": emitted_at,
        "patient_age": None, "patient_sex": None, "encounter_class": None, "payer_id": None,
        "plan_type": None, "provider_npi": None, "facility_id": None,
        "service_start": admitted.date() if admitted else None,
        "service_end": discharged.date() if discharged else None,
        "discharge_status": (field(pv1, 36) or None) if pv1 else None,
        "diagnoses": _diagnoses(segs["DG1"], h), "procedures_pcs": _procedures(segs["PR1"], h),
        "charges": _charges(segs["FT1"], h, charge_master) if kind == "CHARGES" else [],
    }
    birth = hl7_datetime(field(pid, 7), "PID-7", h)
    if birth is not None:
        first_day = rec["service_start"] or occurred.date()
        if birth.date() > first_day:
            raise _ae(h, "PID-7", "birth date is after the visit")
        rec["patient_age"] = age_on(birth.date(), first_day)
    if field(pid, 8):
        rec["patient_sex"] = SEX.get(field(pid, 8).upper(), "U")
    if pv1 is not None:
        rec.update(_visit(pv1))
    if segs["IN1"]:
        rec.update(_insurance(segs["IN1"]))
    return rec


def _account_and_visit(h: Header, pid, pv1) -> tuple[str, str]:
    """PID-18 account and PV1-19 visit number; either stands for the other when only one is sent
    (many feeds bill by visit number, and a DFT or BAR may come without PV1)."""
    account = field(pid, 18)
    visit = field(pv1, 19) if pv1 is not None else ""
    if not account and not visit:
        raise _ae(h, "PID-18", "neither a patient account number (PID-18) nor a visit number "
                               "(PV1-19)")
    for value, where in ((account, "PID-18"), (visit, "PV1-19")):
        if value and (fault := account_id_fault(value)):
            raise _ae(h, where, fault)
    return account or visit, visit or account


def _visit(pv1) -> dict:
    out: dict = {}
    patient_class = field(pv1, 2).upper()
    if patient_class in PATIENT_CLASS:
        out["encounter_class"] = PATIENT_CLASS[patient_class]
        if patient_class == "O" and field(pv1, 18).upper() in OFFICE_TYPES:
            out["encounter_class"] = "OFFICE"
    facility = field(pv1, 3, 4) or field(pv1, 3, 1)
    if facility:
        out["facility_id"] = facility
    ids = [(field(pv1, 7, 1, rep=r), field(pv1, 7, 9, rep=r), field(pv1, 7, 13, rep=r))
           for r in range(1, repetitions(pv1, 7) + 1)]
    if provider := codes.provider_id(ids):
        out["provider_npi"] = provider
    return out


def _insurance(in1s: list) -> dict:
    """The primary plan: the lowest IN1-1 that names a payer, by IN1-3 (company id), else IN1-2
    (plan id), else IN1-4 (company name). IN1-15 names the plan type, else the payer table does.
    No payer named at all: the payer stays unknown (the visit waits for an update)."""
    plans = [(int(field(s, 1)) if field(s, 1).isdigit() else 99, i, s) for i, s in enumerate(in1s)]
    for _, _, seg in sorted(plans, key=lambda p: p[:2]):
        if payer_id := field(seg, 3) or field(seg, 2) or field(seg, 4):
            plan_type = PLAN_TYPES.get(field(seg, 15).upper()) or payer(payer_id).plan_type
            return {"payer_id": payer_id, "plan_type": plan_type}
    return {}


def _diagnoses(dg1s: list, h: Header) -> list[dict]:
    """Ordered by DG1-15 priority (else DG1-1, else the order sent; 0 = not ranked goes last);
    diagnoses sharing a priority keep the order sent. Sequences are then 1, 2, 3..."""
    ranked = []
    for i, seg in enumerate(dg1s, 1):
        where = f"DG1[{i}]"
        text, code = codes.diagnosis(
            field(seg, 3, 1), field(seg, 3, 3), field(seg, 4) or field(seg, 3, 2),
            (field(seg, 3, 4), field(seg, 3, 6), field(seg, 3, 5)))
        if not code and not text:
            raise _ae(h, where, "neither a code (DG1-3) nor a description (DG1-4)")
        priority = field(seg, 15) or field(seg, 1) or str(i)
        if not priority.isdigit():
            raise _ae(h, f"{where}-15", "diagnosis priority is not a number")
        rank = int(priority) or 10**6
        ranked.append((rank, i, text, code))
    ranked.sort()
    return [{"sequence": n, "text": text, "code": code}
            for n, (_, _, text, code) in enumerate(ranked, 1)]


def _procedures(pr1s: list, h: Header) -> list[dict]:
    """ICD-10-PCS procedures (inpatient). PR1s in CPT, SNOMED or other systems are not carried:
    professional and outpatient procedures are billed from the charge lines."""
    out = []
    for i, seg in enumerate(pr1s, 1):
        code = field(seg, 3, 1).replace(".", "").upper()
        pcs = codes.is_pcs(code, field(seg, 3, 3))
        if pcs is None:
            raise _ae(h, f"PR1[{i}]-3", "procedure code is not a 7-character ICD-10-PCS code")
        if pcs:
            seq = field(seg, 1) or str(i)
            out.append({"sequence": int(seq) if seq.isdigit() else i, "code": code})
    return sorted(out, key=lambda p: p["sequence"])


def _charges(ft1s: list, h: Header, charge_master: Mapping) -> list[dict]:
    """FT1 lines. One the charge master has (FT1-7, or the CPT/HCPCS of FT1-25/FT1-7 matching one
    item) takes its code, and its price when FT1-11/12 are empty; one it lacks keeps its code and
    words as sent (source_code) at the price sent, for coding review (producers.hl7.charges)."""
    out = []
    for i, seg in enumerate(ft1s, 1):
        where = f"FT1[{i}]"
        # FT1-2 is optional: a stable id from the message control id and FT1-1 (else the order).
        txn = field(seg, 2) or f"{h.control_id}-{field(seg, 1) or i}"
        sent = Coded(field(seg, 7), field(seg, 7, 2), field(seg, 7, 3))
        proc = Coded(field(seg, 25), field(seg, 25, 2), field(seg, 25, 3))
        modifiers = tuple(m for r in range(1, repetitions(seg, 26) + 1) if (m := field(seg, 26, rep=r)))
        src = charges.source_code(sent, proc, field(seg, 8))
        if src is None:
            raise _ae(h, f"{where}-7", "transaction (charge) code is empty, and neither a "
                                       "description (FT1-8) nor a procedure code (FT1-25) says what it is")
        day = hl7_datetime(field(seg, 4), f"{where}-4", h)
        if day is None:
            raise _ae(h, f"{where}-4", "transaction date is empty")
        units = _units(seg, where, h)
        unit_cents = _unit_price(seg, where, units, h)
        code = charges.known(charge_master, sent, proc, modifiers, unit_cents)
        if code is None and unit_cents is None:
            raise _ae(h, f"{where}-11", "neither an extended (FT1-11) nor a unit (FT1-12) amount, "
                                        "and the charge master lacks the line's code to price it")
        if unit_cents is None:
            unit_cents = charge_master[code].unit_price_cents
        if unit_cents <= 0:
            raise _ae(h, f"{where}-12", "charge amount must be positive (credits are not supported)")
        out.append({"transaction_id": txn, "charge_code": code or "", "units": units,
                    "unit_price_cents": unit_cents, "service_date": day.date(),
                    "source_code": None if code else src})
    return out


def _units(seg, where: str, h: Header) -> int:
    try:
        units = Decimal(field(seg, 10) or "1")
    except InvalidOperation:
        units = Decimal(-1)
    if units != units.to_integral_value() or units < 1:
        raise _ae(h, f"{where}-10", "quantity is not a whole number of at least 1")
    return int(units)


def _unit_price(seg, where: str, units: int, h: Header) -> int | None:
    """FT1-12 unit amount, else FT1-11 extended amount / units; None when neither is sent."""
    if field(seg, 12):
        return cents(field(seg, 12), f"{where}-12", h)
    if not field(seg, 11):
        return None
    total = cents(field(seg, 11), f"{where}-11", h)
    if total % units:
        raise _ae(h, f"{where}-11", "extended amount does not divide into whole cents per unit")
    return total // units
