"""HL7 v2 ADT and DFT^P03 messages -> VisitEvent records (schemas/avro/VisitEvent.avsc).

Parsing is the `hl7` package's; this module only reads fields and checks them. A message that is
not HL7 or has an unsupported type raises MessageError with ack "AR" (rejected); one that parses but
lacks or breaks a required field raises it with ack "AE" (application error). Either names the
segment and field. The birth date is read only to compute the age on the first day of service and
is not kept.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

import hl7

from processors.payers import payer
from schemas.accounts import account_id_fault

KINDS: dict[tuple[str, str], str] = {
    ("ADT", "A01"): "ADMIT", ("ADT", "A04"): "REGISTER", ("ADT", "A08"): "UPDATE",
    ("ADT", "A03"): "DISCHARGE", ("ADT", "A11"): "CANCEL", ("DFT", "P03"): "CHARGES",
}
# PV1-2 patient class (HL7 table 0004) -> encounter class. O is OUTPATIENT unless PV1-18 (patient
# type) says OFFICE/CLINIC; R (recurring) is outpatient; B (obstetrics) and P (preadmit) inpatient.
PATIENT_CLASS = {"I": "INPATIENT", "B": "INPATIENT", "P": "INPATIENT", "E": "EMERGENCY",
                 "O": "OUTPATIENT", "R": "OUTPATIENT"}
OFFICE_TYPES = {"OFFICE", "CLINIC", "OFF"}
# IN1-15 plan type (user-defined table 0086) -> plan type; empty: the payer table's plan type.
PLAN_TYPES = {"MC": "MEDICARE", "MA": "MEDICARE", "MB": "MEDICARE", "MEDICARE": "MEDICARE",
              "MD": "MEDICAID", "MCD": "MEDICAID", "MEDICAID": "MEDICAID",
              "SP": "SELF_PAY", "SELF": "SELF_PAY", "SELFPAY": "SELF_PAY", "SELF_PAY": "SELF_PAY",
              "CO": "COMMERCIAL", "COMMERCIAL": "COMMERCIAL", "HMO": "COMMERCIAL",
              "PPO": "COMMERCIAL"}
ICD10CM_SYSTEMS = {"I10", "I10C", "ICD10", "ICD10CM", "ICD-10-CM"}
ICD10PCS_SYSTEMS = {"I10P", "ICD10PCS", "ICD-10-PCS"}
DTM = re.compile(r"^\d{4}(\d{2}){0,5}(\.\d{1,4})?([+-]\d{4})?$")
SEX = {"F": "F", "M": "M"}  # anything else (O, A, N, U) is U


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
    text = raw.replace("\r\n", "\r").replace("\n", "\r").strip("\r\x0b\x1c ")
    try:
        msg = hl7.parse(text)
        msg.segment("MSH")
    except (hl7.HL7Exception, ValueError, KeyError, IndexError) as exc:
        raise MessageError("AR", "MSH", f"not an HL7 v2 message ({exc})") from exc
    return msg


def header(msg) -> Header:
    msh = msg.segment("MSH")
    return Header(field(msh, 9), field(msh, 9, 2), field(msh, 10), field(msh, 4) or field(msh, 3),
                  field(msh, 3), field(msh, 12))


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


def visit_events(raw: str | bytes, emitted_at: datetime) -> list[dict]:
    """The VisitEvent(s) one message carries. Raises MessageError."""
    msg = parse_message(raw)
    h = header(msg)
    if not h.control_id:
        raise MessageError("AR", "MSH-10", "message control id is empty", "", h.facility)
    kind = KINDS.get((h.message_type, h.trigger))
    if kind is None:
        raise MessageError("AR", "MSH-9", f"unsupported message type {h.message_type}^{h.trigger} "
                           f"(accepted: {', '.join(f'{t}^{e}' for t, e in KINDS)})",
                           h.control_id, h.facility)
    if not h.facility:
        raise _ae(h, "MSH-4", "sending facility is empty")
    segs = {sid: _segments(msg, sid) for sid in ("EVN", "PID", "PV1", "IN1", "DG1", "PR1", "FT1")}
    for required in ("PID", "PV1") + (("FT1",) if kind == "CHARGES" else ()):
        if not segs[required]:
            raise _ae(h, required, f"segment missing (required in {h.message_type}^{h.trigger}; "
                                   "a truncated message?)")
    pid, pv1 = segs["PID"][0], segs["PV1"][0]
    account_id = field(pid, 18)
    if not account_id:
        raise _ae(h, "PID-18", "patient account number is empty")
    if fault := account_id_fault(account_id):
        raise _ae(h, "PID-18", fault)
    visit_number = field(pv1, 19)
    if not visit_number:
        raise _ae(h, "PV1-19", "visit number is empty")
    msh = msg.segment("MSH")
    occurred = (hl7_datetime(field(segs["EVN"][0], 2), "EVN-2", h) if segs["EVN"] else None) \
        or hl7_datetime(field(msh, 7), "MSH-7", h)
    if occurred is None:
        raise _ae(h, "MSH-7", "message date/time is empty (and no EVN-2)")
    admitted = hl7_datetime(field(pv1, 44), "PV1-44", h)
    discharged = hl7_datetime(field(pv1, 45), "PV1-45", h)
    rec = {
        "event_id": f"hl7v2:{h.facility}:{h.control_id}", "kind": kind,
        "source": f"hl7v2 {h.message_type}^{h.trigger}", "visit_number": visit_number,
        "account_id": account_id, "occurred_at": occurred, "emitted_at": emitted_at,
        "patient_age": None, "patient_sex": None, "encounter_class": None, "payer_id": None,
        "plan_type": None, "provider_npi": None, "facility_id": None,
        "service_start": admitted.date() if admitted else None,
        "service_end": discharged.date() if discharged else None,
        "discharge_status": field(pv1, 36) or None,
        "diagnoses": _diagnoses(segs["DG1"], h), "procedures_pcs": _procedures(segs["PR1"], h),
        "charges": _charges(segs["FT1"], h) if kind == "CHARGES" else [],
    }
    birth = hl7_datetime(field(pid, 7), "PID-7", h)
    if birth is not None:
        first_day = rec["service_start"] or occurred.date()
        if birth.date() > first_day:
            raise _ae(h, "PID-7", "birth date is after the visit")
        rec["patient_age"] = age_on(birth.date(), first_day)
    if field(pid, 8):
        rec["patient_sex"] = SEX.get(field(pid, 8).upper(), "U")
    rec.update(_visit(pv1, h))
    if segs["IN1"]:
        rec.update(_insurance(segs["IN1"], h))
    return [rec]


def _segments(msg, sid: str) -> list:
    return [seg for seg in msg if str(seg[0]) == sid]


def _visit(pv1, h: Header) -> dict:
    out: dict = {}
    patient_class = field(pv1, 2).upper()
    if patient_class:
        if patient_class not in PATIENT_CLASS:
            raise _ae(h, "PV1-2", f"patient class {patient_class!r} is not one of "
                                  f"{', '.join(sorted(PATIENT_CLASS))}")
        out["encounter_class"] = PATIENT_CLASS[patient_class]
        if patient_class == "O" and field(pv1, 18).upper() in OFFICE_TYPES:
            out["encounter_class"] = "OFFICE"
    facility = field(pv1, 3, 4) or field(pv1, 3, 1)
    if facility:
        out["facility_id"] = facility
    npi = field(pv1, 7)
    if npi:
        if not (len(npi) == 10 and npi.isdigit()):
            raise _ae(h, "PV1-7", "attending doctor id is not a 10-digit NPI")
        out["provider_npi"] = npi
    return out


def _insurance(in1s: list, h: Header) -> dict:
    primary = min(in1s, key=lambda s: int(field(s, 1)) if field(s, 1).isdigit() else 99)
    payer_id = field(primary, 3)
    if not payer_id:
        raise _ae(h, "IN1-3", "insurance company id is empty")
    code = field(primary, 15).upper()
    if code and code not in PLAN_TYPES:
        raise _ae(h, "IN1-15", f"plan type {code!r} is not one of {', '.join(sorted(PLAN_TYPES))}")
    return {"payer_id": payer_id, "plan_type": PLAN_TYPES[code] if code else payer(payer_id).plan_type}


def _diagnoses(dg1s: list, h: Header) -> list[dict]:
    out = []
    for i, seg in enumerate(dg1s, 1):
        where = f"DG1[{i}]"
        code, system = field(seg, 3, 1), field(seg, 3, 3).upper()
        text = field(seg, 4) or field(seg, 3, 2)
        if code and system and system not in ICD10CM_SYSTEMS:
            raise _ae(h, f"{where}-3", f"coding system {system!r} is not ICD-10-CM (I10)")
        if not code and not text:
            raise _ae(h, where, "neither a code (DG1-3) nor a description (DG1-4)")
        priority = field(seg, 15) or field(seg, 1) or str(i)
        if not priority.isdigit():
            raise _ae(h, f"{where}-15", "diagnosis priority is not a number")
        out.append({"sequence": int(priority), "text": text, "code": code or None})
    out.sort(key=lambda d: d["sequence"])
    if len({d["sequence"] for d in out}) != len(out):
        raise _ae(h, "DG1-15", "two diagnoses share a priority")
    return out


def _procedures(pr1s: list, h: Header) -> list[dict]:
    out = []
    for i, seg in enumerate(pr1s, 1):
        where = f"PR1[{i}]-3"
        code, system = field(seg, 3, 1).replace(".", "").upper(), field(seg, 3, 3).upper()
        if system and system not in ICD10PCS_SYSTEMS:
            raise _ae(h, where, f"coding system {system!r} is not ICD-10-PCS (I10P)")
        if not (len(code) == 7 and code.isalnum()):
            raise _ae(h, where, "procedure code is not a 7-character ICD-10-PCS code")
        seq = field(seg, 1) or str(i)
        out.append({"sequence": int(seq) if seq.isdigit() else i, "code": code})
    return sorted(out, key=lambda p: p["sequence"])


def _charges(ft1s: list, h: Header) -> list[dict]:
    out = []
    for i, seg in enumerate(ft1s, 1):
        where = f"FT1[{i}]"
        txn, code = field(seg, 2), field(seg, 7)
        if not txn:
            raise _ae(h, f"{where}-2", "transaction id is empty")
        if not code:
            raise _ae(h, f"{where}-7", "transaction (charge) code is empty")
        day = hl7_datetime(field(seg, 4), f"{where}-4", h)
        if day is None:
            raise _ae(h, f"{where}-4", "transaction date is empty")
        qty = field(seg, 10) or "1"
        try:
            units = Decimal(qty)
        except InvalidOperation:
            units = Decimal(-1)
        if units != units.to_integral_value() or units < 1:
            raise _ae(h, f"{where}-10", "quantity is not a whole number of at least 1")
        if field(seg, 12):
            unit_cents = cents(field(seg, 12), f"{where}-12", h)
        elif field(seg, 11):
            total = cents(field(seg, 11), f"{where}-11", h)
            if total % int(units):
                raise _ae(h, f"{where}-11", "extended amount does not divide into whole cents per unit")
            unit_cents = total // int(units)
        else:
            raise _ae(h, f"{where}-11", "neither an extended (FT1-11) nor a unit (FT1-12) amount")
        if unit_cents <= 0:
            raise _ae(h, f"{where}-12", "charge amount must be positive (credits are not supported)")
        out.append({"transaction_id": txn, "charge_code": code, "units": int(units),
                    "unit_price_cents": unit_cents, "service_date": day.date()})
    return out
