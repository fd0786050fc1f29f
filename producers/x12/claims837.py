"""X12 837P (005010X222A1) / 837I (005010X223A2) -> ClaimBuilt, status SUBMITTED, one per CLM.

A hospital that keeps its own billing system sends the claims it already submitted; the pipeline
takes each as billed (no re-coding, no scrubbing) so 277s, 835s, denials, appeals, A/R and KPIs
work for it. The claim id is CLM01, the patient control number the payer echoes in 835 CLP01 and
277 TRN02; it is also the account (UB-04 FL3a / CMS-1500 item 26: the provider's patient account
number). The README section "X12 837P / 837I in" lists every element read and ignored.

Context loops (2000A billing provider, 2000B subscriber and payer, 2000C patient) apply to every
CLM under them, so several claims per subscriber or patient loop are read. A claim with a true
fault (ICD-9 codes, CLM02 that is not the sum of its lines, a pointer to no diagnosis, a bad date)
is refused alone: its X12Error names the segment; the other claims of the transaction go through.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from producers.x12.tokens import Segment, Transaction, X12Error, amount_cents, at_midnight, ccyymmdd
from schemas.accounts import account_id_fault

PROFESSIONAL, INSTITUTIONAL = "PROFESSIONAL", "INSTITUTIONAL"
PLAN_OF_FILING = {"MA": "MEDICARE", "MB": "MEDICARE", "MC": "MEDICAID", "09": "SELF_PAY"}
SEQUENCE = {"P": "PRIMARY", "S": "SECONDARY"}
DIAGNOSES = {"ABK", "ABF"}  # principal, other: what SV107 points at, in file order
ICD9 = {"BK": "principal diagnosis", "BF": "other diagnosis", "BJ": "admitting diagnosis",
        "PR": "reason for visit", "BN": "external cause", "BR": "principal procedure",
        "BQ": "other procedure"}
PCS = ("BBR", "BBQ")
UNIT_BASES = {"UN", "MJ", "DA"}  # units, anesthesia minutes (837P), days (837I)


def _date(tx: Transaction, seg: Segment) -> tuple[date, date]:
    fmt, text = seg.el(2).strip(), seg.el(3).strip()
    if fmt == "RD8":
        first, _, last = text.partition("-")
        return ccyymmdd(tx, seg, first), ccyymmdd(tx, seg, last or first)
    if fmt == "D8":
        day = ccyymmdd(tx, seg, text)
        return day, day
    raise tx.error(seg, f"DTP02 {fmt!r} is not a date format of the 837 (D8, RD8)")


def _units(tx: Transaction, seg: Segment, basis_at: int) -> int:
    basis, text = seg.el(basis_at).strip(), seg.el(basis_at + 1).strip()
    if basis not in UNIT_BASES:
        raise tx.error(seg, f"{seg.id}{basis_at:02d} {basis!r} is not a unit basis of the 837 "
                            "(UN, MJ, DA)")
    try:
        units = Decimal(text)
    except InvalidOperation as exc:
        raise tx.error(seg, f"{seg.id}{basis_at + 1:02d} {text!r} is not a quantity") from exc
    if units <= 0 or units != units.to_integral_value():
        raise tx.error(seg, f"{seg.id}{basis_at + 1:02d} {text!r}: the pipeline carries whole, "
                            "positive units only")
    return int(units)


class _Claim:
    """One CLM and the segments after it, up to the next CLM, HL or SE."""

    def __init__(self, tx: Transaction, ctx: dict, clm: Segment):
        self.tx, self.ctx, self.clm = tx, ctx, clm
        self.diagnoses: list[str] = []
        self.pcs: list[str] = []
        self.drg: str | None = None
        self.statement: tuple[date, date] | None = None
        self.reference: str | None = None
        self.facility = ""
        self.lines: list[dict] = []
        self.line: dict | None = None
        self.cob = False  # inside 2320/2330: the other payers' loops are not this claim's
        self.fault: X12Error | None = None  # the first fault read; the rest of the claim is skipped

    def read(self, seg: Segment) -> None:
        sid, q = seg.id, seg.el(1).strip()
        if sid == "LX":
            self.line, self.cob = {"line": int(seg.el(1).strip() or len(self.lines) + 1)}, False
            self.lines.append(self.line)
        elif self.line is not None:
            if sid in ("SV1", "SV2"):
                self.service(seg)
            elif sid == "DTP" and q == "472":
                self.line["service_date"] = _date(self.tx, seg)[0]
        elif sid == "SBR":
            self.cob = True
        elif self.cob:
            return
        elif sid == "HI":
            self.hi(seg)
        elif sid == "DTP" and q == "434":
            self.statement = _date(self.tx, seg)
        elif sid == "REF" and q == "F8":
            self.reference = seg.el(2).strip() or None
        elif sid == "NM1" and q == "77":
            self.facility = seg.el(9).strip()

    def hi(self, seg: Segment) -> None:
        for i in range(1, len(seg.elements)):
            if not seg.el(i).strip():
                continue
            qual, code = (seg.components(i) + [""])[:2]
            qual, code = qual.strip(), code.strip().replace(".", "")
            if qual in ICD9:
                raise self.tx.error(seg, f"HI{i:02d}-1 {qual}: an ICD-9-CM {ICD9[qual]}; the "
                                         "pipeline bills ICD-10 (ICD-9 ended for services from "
                                         "2015-10-01)")
            if qual in DIAGNOSES:
                self.diagnoses.append(f"{code[:3]}.{code[3:]}" if len(code) > 3 else code)
            elif qual in PCS:
                self.pcs.append(code)
            elif qual == "DR":
                self.drg = code

    def service(self, seg: Segment) -> None:
        professional = seg.id == "SV1"
        code_at, charge_at = (1, 2) if professional else (2, 3)
        procedure = seg.components(code_at) if seg.el(code_at).strip() else ["", ""]
        if professional and len(procedure) < 2:
            raise self.tx.error(seg, "SV101 has no procedure code (SV101-2)")
        pointers = [p.strip() for p in seg.components(7)] if professional else []
        if any(not p.isdigit() for p in pointers if p):
            raise self.tx.error(seg, f"SV107 {seg.el(7)!r} is not a list of diagnosis pointers")
        self.line.update({
            "procedure_code": procedure[1].strip() if len(procedure) > 1 else "",
            "modifiers": [m.strip() for m in procedure[2:6] if m.strip()],
            "revenue_code": "" if professional else seg.el(1).strip(),
            "units": _units(self.tx, seg, charge_at + 1),
            "charge_cents": amount_cents(self.tx, seg, charge_at),
            "diagnosis_pointers": [int(p) for p in pointers if p],
            "segment": seg})

    def build(self, n: int) -> dict:
        tx, clm, ctx = self.tx, self.clm, self.ctx
        claim_id = clm.el(1).strip()
        fault = account_id_fault(claim_id)
        if fault:
            raise tx.error(clm, f"CLM01 (patient control number): {fault}")
        if ctx["sequence"] not in SEQUENCE:
            raise tx.error(clm, f"SBR01 {ctx['sequence']!r}: only primary (P) and secondary (S) "
                                "claims are carried")
        if not ctx["payer_id"]:
            raise tx.error(clm, "no payer (2010BB NM1*PR) before this claim")
        lines = [ln for ln in self.lines if "segment" in ln]
        if not lines:
            raise tx.error(clm, "the claim has no service line (LX with SV1/SV2)")
        total = amount_cents(tx, clm, 2)
        if total != sum(ln["charge_cents"] for ln in lines):
            raise tx.error(clm, f"CLM02 {clm.el(2)!r} is not the sum of the service line charges "
                                f"({Decimal(sum(ln['charge_cents'] for ln in lines)) / 100})")
        for ln in lines:
            bad = [p for p in ln["diagnosis_pointers"] if not 1 <= p <= len(self.diagnoses)]
            if bad:
                raise tx.error(ln.pop("segment"), f"SV107 pointer {bad[0]} names no diagnosis (the "
                                                  f"claim has {len(self.diagnoses)})")
        days = [ln["service_date"] for ln in lines if "service_date" in ln]
        start, end = self.statement or (min(days, default=ctx["day"]), max(days, default=ctx["day"]))
        for ln in lines:
            ln.pop("segment", None)
            ln.setdefault("service_date", start)
        clm05 = clm.components(5) + ["", "", ""]
        event_id = f"x837:{ctx['sender']}:{ctx['isa13']}:{tx.control.strip()}:{n}"
        return {
            "event_id": event_id, "source_event_id": event_id,
            "source_emitted_at": ctx["emitted_at"], "claim_id": claim_id,
            "encounter_id": claim_id, "account_id": claim_id, "occurred_at": ctx["occurred_at"],
            "claim_type": ctx["claim_type"], "payer_id": ctx["payer_id"],
            "plan_type": ctx["plan_type"], "billing_provider_npi": ctx["npi"],
            "facility_id": self.facility or ctx["npi"], "service_start": start,
            "service_end": end, "diagnosis_codes": self.diagnoses, "lines": lines,
            "total_charge_cents": total, "status": "SUBMITTED", "edits": [], "warnings": [],
            "pcs_codes": self.pcs,
            "drg": ({"drg": self.drg, "mdc": None, "description": None, "grouper_version": ""}
                    if self.drg else None),
            "frequency_code": clm05[2].strip() or "1", "version": 1,
            "original_reference": self.reference, "payer_sequence": SEQUENCE[ctx["sequence"]],
            "primary_claim_id": None, "secondary_payer_id": None, "other_payer": None,
        }


def claims(tx: Transaction, emitted_at: datetime) -> tuple[list[dict], list[X12Error]]:
    """(the ClaimBuilt dicts of one 837 transaction, the X12Error of each refused claim)."""
    version = tx.version.strip()
    ctx = {"sender": tx.isa.el(6).strip(), "isa13": tx.isa.el(13).strip(),
           "emitted_at": emitted_at, "npi": "", "payer_id": "", "plan_type": "COMMERCIAL",
           "sequence": "P",
           "claim_type": INSTITUTIONAL if version.startswith("005010X223") else PROFESSIONAL}
    bht = next((s for s in tx.segments if s.id == "BHT"), None)
    when = bht.el(4).strip() if bht is not None else (tx.gs.el(4).strip() if tx.gs else "")
    if not when:
        raise tx.error(tx.segments[0], "no creation date (BHT04 or GS04)")
    ctx["day"] = ccyymmdd(tx, bht or tx.gs, when)
    ctx["occurred_at"] = at_midnight(ctx["day"])
    out: list[dict] = []
    refused: list[X12Error] = []
    current: _Claim | None = None
    n = 0

    def finish() -> None:
        if current is not None:
            try:
                if current.fault:
                    raise current.fault
                out.append(current.build(n))
            except X12Error as exc:
                refused.append(exc)

    for seg in tx.segments[1:]:
        q = seg.el(1).strip()
        if seg.id in ("HL", "CLM", "SE"):
            finish()
            current = None
        if seg.id == "CLM":
            n += 1
            current = _Claim(tx, dict(ctx), seg)
        elif current is not None:
            try:
                if current.fault is None:
                    current.read(seg)
            except X12Error as exc:
                current.fault = exc
        elif seg.id == "NM1" and q == "85":
            ctx["npi"] = seg.el(9).strip()
        elif seg.id == "SBR":
            ctx["sequence"] = q
            ctx["plan_type"] = PLAN_OF_FILING.get(seg.el(9).strip(), "COMMERCIAL")
        elif seg.id == "NM1" and q == "PR":
            ctx["payer_id"] = seg.el(9).strip() or seg.el(3).strip()
    return out, refused
