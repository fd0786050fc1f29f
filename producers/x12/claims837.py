"""X12 837P (005010X222A1) / 837I (005010X223A2) -> ClaimBuilt, status SUBMITTED, one per CLM.

A hospital that keeps its own billing system sends the claims it already submitted; the pipeline
takes each as billed (no re-coding, no scrubbing) so 277s, 835s, denials, appeals, A/R and KPIs
work for it. The claim id is CLM01, the patient control number the payer echoes in 835 CLP01 and
277 TRN02; it is also the account (UB-04 FL3a / CMS-1500 item 26: the provider's patient account
number). The README section "X12 837P / 837I in" lists every element read and ignored.

The claim's practitioner (2310B rendering / 2310A attending NPI, else the billing provider) is
`billing_provider_npi`, as on claims the pipeline builds; a line's REF*6R, when it is a line
number, is its `line`, as the 835 reader takes it; a secondary claim's 2320/2330 loops for the
primary payer (with 2430 line adjudication) are its `other_payer`.

Context loops (2000A billing provider, 2000B subscriber and payer, 2000C patient) apply to every
CLM under them, so several claims per subscriber or patient loop are read. A claim with a true
fault (ICD-9 codes, CLM02 that is not the sum of its lines, a pointer to no diagnosis, a bad date)
is refused alone: its X12Error names the segment; the other claims of the transaction go through.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from infra.money import money
from producers.x12.tokens import (
    Segment,
    Transaction,
    X12Error,
    amount_cents,
    at_midnight,
    ccyymmdd,
    line_number,
)
from schemas.accounts import account_id_fault

PROFESSIONAL, INSTITUTIONAL = "PROFESSIONAL", "INSTITUTIONAL"
PLAN_OF_FILING = {"MA": "MEDICARE", "MB": "MEDICARE", "MC": "MEDICAID", "09": "SELF_PAY"}
SEQUENCE = {"P": "PRIMARY", "S": "SECONDARY"}
DIAGNOSES = {"ABK", "ABF"}  # principal, other: what SV107 points at, in file order
ICD9 = {"BK": "principal diagnosis", "BF": "other diagnosis", "BJ": "admitting diagnosis",
        "PR": "reason for visit", "BN": "external cause", "BR": "principal procedure",
        "BQ": "other procedure"}
PCS = ("BBR", "BBQ")
# The claim's practitioner (what pipeline-built claims carry as billing_provider_npi): 2310B
# rendering provider on an 837P, 2310A attending provider on an 837I.
PRACTITIONER = {"PROFESSIONAL": "82", "INSTITUTIONAL": "71"}
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
        self.practitioner = ""  # 2310B rendering (837P) / 2310A attending (837I) NPI
        self.lines: list[dict] = []
        self.line: dict | None = None
        self.others: list[dict] = []  # 2320/2330 loops: the other payers and what they did
        self.cob: dict | None = None  # the 2320 loop being read (until the first LX)
        self.fault: X12Error | None = None  # the first fault read; the rest of the claim is skipped

    def read(self, seg: Segment) -> None:
        sid, q = seg.id, seg.el(1).strip()
        if sid == "LX":
            self.line, self.cob = {"line": int(seg.el(1).strip() or len(self.lines) + 1),
                                   "adjudications": []}, None
            self.lines.append(self.line)
        elif self.line is not None:
            self.line_segment(seg, sid, q)
        elif sid == "SBR":
            self.cob = {"sequence": q, "filing": seg.el(9).strip(), "payer_id": "", "paid": None,
                        "remaining": None, "on": None, "control_number": "", "adjustments": []}
            self.others.append(self.cob)
        elif self.cob is not None:
            self.cob_segment(seg, sid, q)
        elif sid == "HI":
            self.hi(seg)
        elif sid == "DTP" and q == "434":
            self.statement = _date(self.tx, seg)
        elif sid == "REF" and q == "F8":
            self.reference = seg.el(2).strip() or None
        elif sid == "NM1" and q == "77":
            self.facility = seg.el(9).strip()
        elif sid == "NM1" and q == PRACTITIONER[self.ctx["claim_type"]] and seg.el(8).strip() == "XX":
            self.practitioner = seg.el(9).strip()

    def line_segment(self, seg: Segment, sid: str, q: str) -> None:
        line = self.line
        if sid in ("SV1", "SV2"):
            self.service(seg)
        elif sid == "DTP" and q == "472":
            line["service_date"] = _date(self.tx, seg)[0]
        elif sid == "REF" and q == "6R":
            line["control_number"] = seg.el(2).strip()
        elif sid == "SVD":  # 2430: what another payer did with this line
            line["adjudications"].append({"payer_id": q, "paid": amount_cents(self.tx, seg, 2),
                                          "adjustments": [], "on": None})
        elif sid == "CAS" and line["adjudications"]:
            _cas_of(self.tx, line["adjudications"][-1]["adjustments"], seg)
        elif sid == "DTP" and q == "573" and line["adjudications"]:
            line["adjudications"][-1]["on"] = _date(self.tx, seg)[0]

    def cob_segment(self, seg: Segment, sid: str, q: str) -> None:
        cob = self.cob
        if sid == "CAS":
            _cas_of(self.tx, cob["adjustments"], seg)
        elif sid == "AMT" and q == "D":
            cob["paid"] = amount_cents(self.tx, seg, 2)
        elif sid == "AMT" and q == "EAF":
            cob["remaining"] = amount_cents(self.tx, seg, 2)
        elif sid == "NM1" and q == "PR":
            cob["payer_id"] = seg.el(9).strip() or seg.el(3).strip()
        elif sid == "DTP" and q == "573":
            cob["on"] = _date(self.tx, seg)[0]
        elif sid == "REF" and q == "F8":
            cob["control_number"] = seg.el(2).strip()

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
                                f"({money(sum(ln['charge_cents'] for ln in lines))})")
        for ln in lines:
            bad = [p for p in ln["diagnosis_pointers"] if not 1 <= p <= len(self.diagnoses)]
            if bad:
                raise tx.error(ln.pop("segment"), f"SV107 pointer {bad[0]} names no diagnosis (the "
                                                  f"claim has {len(self.diagnoses)})")
        days = [ln["service_date"] for ln in lines if "service_date" in ln]
        start, end = self.statement or (min(days, default=ctx["day"]), max(days, default=ctx["day"]))
        other = self.primary_adjudication()
        numbers = [line_number(ln.get("control_number") or "", ln["line"]) for ln in lines]
        if len(set(numbers)) < len(numbers):  # control numbers that repeat name no line
            numbers = [ln["line"] for ln in lines]
        for ln, number in zip(lines, numbers, strict=True):
            for key in ("segment", "control_number", "adjudications"):
                ln.pop(key, None)
            ln["line"] = number
            ln.setdefault("service_date", start)
        clm05 = clm.components(5) + ["", "", ""]
        event_id = f"x837:{ctx['sender']}:{ctx['isa13']}:{tx.control.strip()}:{n}"
        return {
            "event_id": event_id, "source_event_id": event_id,
            "source_emitted_at": ctx["emitted_at"], "claim_id": claim_id,
            "encounter_id": claim_id, "account_id": claim_id, "occurred_at": ctx["occurred_at"],
            "claim_type": ctx["claim_type"], "payer_id": ctx["payer_id"],
            "plan_type": ctx["plan_type"], "billing_provider_npi": self.practitioner or ctx["npi"],
            "facility_id": self.facility or ctx["npi"], "service_start": start,
            "service_end": end, "diagnosis_codes": self.diagnoses, "lines": lines,
            "total_charge_cents": total, "status": "SUBMITTED", "edits": [], "warnings": [],
            "pcs_codes": self.pcs,
            "drg": ({"drg": self.drg, "mdc": None, "description": None, "grouper_version": ""}
                    if self.drg else None),
            "frequency_code": clm05[2].strip() or "1", "version": 1,
            "original_reference": self.reference, "payer_sequence": SEQUENCE[ctx["sequence"]],
            "primary_claim_id": None, "secondary_payer_id": None, "other_payer": other,
        }

    def primary_adjudication(self) -> dict | None:
        """ClaimBuilt.other_payer of a secondary claim: its 2320 loop with SBR01 P (the primary
        payer) and the 2430 lines that payer adjudicated (SVD01 its id). Adjustments of the claim
        (2320 CAS) and of the lines (2430 CAS) summed per group and reason; paid from AMT*D, else
        the lines' SVD02; the patient's part from AMT*EAF, else the PR adjustments; the date from
        2330B DTP*573, else the latest 2430 DTP*573. None for a primary claim, and when no
        adjudication date is given (the primary has not adjudicated it)."""
        if self.ctx["sequence"] != "S":
            return None
        cob = next((c for c in self.others if c["sequence"] == "P" and c["payer_id"]), None)
        if cob is None:
            return None
        mine = [a for ln in self.lines for a in ln.get("adjudications", [])
                if a["payer_id"] == cob["payer_id"] or len(self.others) == 1]
        on = cob["on"] or max((a["on"] for a in mine if a["on"]), default=None)
        if on is None:
            return None
        summed: dict[tuple[str, str], int] = {}
        for group, reason, cents in cob["adjustments"] + [x for a in mine for x in a["adjustments"]]:
            summed[(group, reason)] = summed.get((group, reason), 0) + cents
        adjustments = [{"group_code": g, "reason_code": r, "amount_cents": c}
                       for (g, r), c in sorted(summed.items()) if c]
        paid = cob["paid"] if cob["paid"] is not None else sum(a["paid"] for a in mine)
        remaining = cob["remaining"] if cob["remaining"] is not None else \
            sum(a["amount_cents"] for a in adjustments if a["group_code"] == "PR")
        return {"payer_id": cob["payer_id"],
                "plan_type": PLAN_OF_FILING.get(cob["filing"], "COMMERCIAL"),
                "claim_id": "",  # the primary claim's id is not in the 837
                "payer_claim_control_number": cob["control_number"], "adjudicated_on": on,
                "paid_cents": paid, "patient_responsibility_cents": remaining,
                "adjustments": adjustments}


def _cas_of(tx: Transaction, into: list, seg: Segment) -> None:
    """CAS01 group with up to six reason / amount / quantity triplets, as (group, reason, cents)."""
    group = seg.el(1).strip()
    for i in range(2, 20, 3):
        if seg.el(i).strip():
            into.append((group, seg.el(i).strip(), amount_cents(tx, seg, i + 1)))


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
