"""Read a 5010 837P / 837I back into ClaimBuilt-like dicts, saying what it could not carry.

`parse_837(text)` returns one `ParsedClaim` per CLM: the claim in ClaimBuilt's shape (the fields an
837 carries, see `as_sent`) and `problems`, the things in the file that a ClaimBuilt cannot hold
(ICD-9 codes, other payers, drug lines, unit bases other than units...) so a reader can tell a
lossless claim from a lossy one. Money is parsed with Decimal into integer cents.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sinks.x12.build837 import INSTITUTIONAL, PLACE_OF_SERVICE, PROFESSIONAL

PLAN_OF_FILING = {"MA": "MEDICARE", "MB": "MEDICARE", "MC": "MEDICAID"}  # every other: COMMERCIAL
ICD10_DX = {"ABK", "ABF", "ABJ", "APR", "ABN"}
ICD9_DX = {"BK", "BF", "BJ", "PR", "BN"}
PRINCIPAL_DX, OTHER_DX = {"ABK", "BK"}, {"ABF", "BF"}
PCS = {"BBR": True, "BBQ": False, "BR": True, "BQ": False}  # qualifier -> principal
# Segments of the claim and line loops this parser maps; anything else there is a problem.
_MAPPED = {"CLM", "HI", "LX", "SV1", "SV2", "DTP*472", "DTP*434", "DTP*435", "CL1", "REF*EA",
           "REF*6R"}


class X12Error(ValueError):
    """The text is not an X12 837 this parser can read."""


@dataclass
class ParsedClaim:
    claim: dict
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Parsed837:
    version: str  # GS08
    isa13: str
    gs06: str
    st02: list[str]
    claims: list[ParsedClaim]


def _cents(amount: str) -> int:
    cents = Decimal(amount) * 100
    if cents != cents.to_integral_value():
        raise X12Error(f"amount {amount} has fractions of a cent")
    return int(cents)


def _day(value: str) -> date:
    return datetime.strptime(value, "%Y%m%d").date()


def _dx(code: str, icd10: bool) -> str:
    return f"{code[:3]}.{code[3:]}" if icd10 and len(code) > 3 else code


def segments(text: str) -> list[list[str]]:
    """Split X12 text by the delimiters its ISA declares."""
    text = text.lstrip()
    if not text.startswith("ISA") or len(text) < 106:
        raise X12Error("no ISA header")
    element, terminator = text[3], text[105]
    return [s.strip().split(element) for s in text.split(terminator) if s.strip()]


def as_sent(claim: dict) -> dict:
    """The part of a ClaimBuilt an 837 carries, in the shape `parse_837` returns it."""
    professional = claim["claim_type"] == PROFESSIONAL
    lines = [{"line": line["line"], "procedure_code": line["procedure_code"],
              "modifiers": list(line["modifiers"]),
              "revenue_code": "" if professional else line["revenue_code"],
              "units": line["units"], "charge_cents": line["charge_cents"],
              "service_date": line["service_date"],
              "diagnosis_pointers": list(line["diagnosis_pointers"][:4]) if professional else []}
             for line in claim["lines"]]
    days = [line["service_date"] for line in claim["lines"]]
    return {
        "claim_id": claim["claim_id"], "claim_type": claim["claim_type"],
        "payer_id": claim["payer_id"], "plan_type": claim["plan_type"],
        "billing_provider_npi": claim["billing_provider_npi"], "account_id": claim["account_id"],
        "service_start": min(days) if professional else claim["service_start"],
        "service_end": max(days) if professional else claim["service_end"],
        "diagnosis_codes": list(claim["diagnosis_codes"]), "lines": lines,
        "total_charge_cents": claim["total_charge_cents"],
        "pcs_codes": list(claim.get("pcs_codes") or []),
        "drg": claim["drg"]["drg"] if claim.get("drg") else None,
        "frequency_code": claim.get("frequency_code") or "1",
        "original_reference": (claim.get("original_reference")
                               if (claim.get("frequency_code") or "1") != "1" else None),
        "payer_sequence": claim.get("payer_sequence") or "PRIMARY",
        "other_payer": _other_sent(claim.get("other_payer")),
    }


def _other_sent(other: dict | None) -> dict | None:
    """The part of ClaimBuilt.other_payer an 837 carries (the primary claim id is not sent)."""
    if not other:
        return None
    return {"payer_id": other["payer_id"], "plan_type": other["plan_type"],
            "payer_claim_control_number": other.get("payer_claim_control_number") or None,
            "adjudicated_on": other["adjudicated_on"], "paid_cents": other["paid_cents"],
            "patient_responsibility_cents": other["patient_responsibility_cents"],
            "adjustments": sorted(({"group_code": a["group_code"], "reason_code": a["reason_code"],
                                    "amount_cents": a["amount_cents"]}
                                   for a in other["adjustments"]),
                                  key=lambda a: (a["group_code"], a["reason_code"]))}


_COB_CARRIED = {"CAS", "AMT*D", "AMT*EAF", "OI", "NM1*IL", "NM1*PR", "DTP*573", "REF*F8"}


class _Reader:
    def __init__(self, component: str):
        self.component = component
        self.claims: list[ParsedClaim] = []
        self.npi = self.payer_id = self.plan_type = ""
        self.claim_type = PROFESSIONAL
        self.current: ParsedClaim | None = None
        self.line: dict | None = None
        self.pending_dependent = False
        self.sequence = "PRIMARY"
        self.cob: dict | None = None  # the 2320/2330 loop being read
        self.cob_lossy = False  # the loop holds what other_payer cannot

    def parts(self, value: str) -> list[str]:
        return value.split(self.component)

    def problem(self, text: str) -> None:
        if self.current is not None and text not in self.current.problems:
            self.current.problems.append(text)

    def start_claim(self, seg: list[str]) -> None:
        self.finish_claim()
        clm05 = self.parts(seg[5]) if len(seg) > 5 else [""]
        claim = {"claim_id": seg[1], "claim_type": self.claim_type, "payer_id": self.payer_id,
                 "plan_type": self.plan_type, "billing_provider_npi": self.npi,
                 "account_id": None, "service_start": None, "service_end": None,
                 "diagnosis_codes": [], "lines": [], "total_charge_cents": _cents(seg[2]),
                 "pcs_codes": [], "drg": None, "frequency_code": "1",
                 "original_reference": None, "payer_sequence": self.sequence,
                 "other_payer": None}
        self.current, self.line, self.cob = ParsedClaim(claim), None, None
        if self.claim_type == PROFESSIONAL and clm05[0] != PLACE_OF_SERVICE:
            self.problem(f"place of service {clm05[0]} (ClaimBuilt professional claims are {PLACE_OF_SERVICE})")
        if len(clm05) > 2 and clm05[2]:
            claim["frequency_code"] = clm05[2]
            if clm05[2] not in ("1", "7", "8"):
                self.problem(f"claim frequency {clm05[2]} (ClaimBuilt claims are 1, 7 or 8)")

    def finish_claim(self) -> None:
        if self.current is None:
            return
        self.finish_cob()
        claim = self.current.claim
        days = [line["service_date"] for line in claim["lines"] if line["service_date"]]
        if claim["service_start"] is None and days:
            claim["service_start"], claim["service_end"] = min(days), max(days)
        self.claims.append(self.current)
        self.current = self.line = None

    def hi(self, seg: list[str]) -> None:
        claim = self.current.claim
        for value in seg[1:]:
            if not value:
                continue
            qual, code, *_ = self.parts(value)
            if qual in ICD10_DX | ICD9_DX:
                if qual in ICD9_DX:
                    self.problem("ICD-9-CM diagnosis codes (BK/BF); the pipeline bills ICD-10-CM")
                if qual in PRINCIPAL_DX | OTHER_DX:
                    claim["diagnosis_codes"].append(_dx(code, qual in ICD10_DX))
                else:
                    self.problem(f"HI {qual} diagnosis (admitting, reason for visit, external cause)")
            elif qual in PCS:
                claim["pcs_codes"].append(code)
                if qual in ("BR", "BQ"):
                    self.problem("ICD-9-CM procedure codes (BR/BQ)")
            elif qual == "DR":
                claim["drg"] = code
            else:
                self.problem(f"HI {qual} (occurrence, value, condition or other codes)")

    def service(self, seg: list[str]) -> None:
        professional = seg[0] == "SV1"
        code_at, charge_at, basis_at, units_at = (1, 2, 3, 4) if professional else (2, 3, 4, 5)
        procedure = self.parts(seg[code_at]) if len(seg) > code_at and seg[code_at] else ["", ""]
        if procedure[0] not in ("HC", ""):
            self.problem(f"procedure code qualifier {procedure[0]} (not HCPCS/CPT)")
        if len(procedure) > 6 and procedure[6]:
            self.problem("procedure description (SV101-7)")
        basis, units = seg[basis_at], Decimal(seg[units_at])
        if basis != "UN":
            self.problem(f"unit basis {basis} (ClaimBuilt counts units, UN)")
        if units != units.to_integral_value():
            self.problem(f"fractional units {units}")
        pointers = ([int(p) for p in self.parts(seg[7]) if p]
                    if professional and len(seg) > 7 and seg[7] else [])
        self.line = {"line": len(self.current.claim["lines"]) + 1,
                     "procedure_code": procedure[1] if len(procedure) > 1 else "",
                     "modifiers": [m for m in procedure[2:6] if m],
                     "revenue_code": "" if professional else seg[1],
                     "units": int(units), "charge_cents": _cents(seg[charge_at]),
                     "service_date": None, "diagnosis_pointers": pointers}
        self.current.claim["lines"].append(self.line)

    def dtp(self, seg: list[str]) -> None:
        qual, fmt, value = seg[1], seg[2], seg[3]
        first, _, last = value.partition("-")
        if qual == "472" and self.line is not None:
            self.line["service_date"] = _day(first)
            if fmt == "RD8" and last != first:
                self.problem("line service date range (ClaimBuilt lines have one date)")
        elif qual == "434" and self.line is None:
            self.current.claim["service_start"] = _day(first)
            self.current.claim["service_end"] = _day(last or first)
        elif qual == "435" and self.line is None:
            pass  # admission date: the stay's start, already in the statement dates
        else:
            self.problem(f"DTP {qual}")

    def read(self, seg: list[str]) -> None:
        sid = seg[0]
        if sid == "GS":
            self.claim_type = INSTITUTIONAL if "X223" in seg[8] else PROFESSIONAL
        elif sid == "HL":
            self.finish_claim()
            self.pending_dependent = seg[3] == "23"
        elif sid == "NM1" and seg[1] == "85" and self.current is None:
            self.npi = seg[9] if len(seg) > 9 else ""
        elif sid == "SBR" and self.current is None:
            self.sequence = {"P": "PRIMARY", "S": "SECONDARY"}.get(seg[1], seg[1])
            self.plan_type = PLAN_OF_FILING.get(seg[9] if len(seg) > 9 else "", "COMMERCIAL")
        elif sid == "NM1" and seg[1] == "PR" and self.current is None:
            self.payer_id = seg[9] if len(seg) > 9 else ""
        elif sid == "CLM":
            self.start_claim(seg)
            if self.pending_dependent:
                self.problem("patient is a dependent of the subscriber (2000C)")
            self.pending_dependent = False
        elif sid in ("SE", "GE", "IEA", "ST"):
            self.finish_claim()
        elif self.current is not None:
            self.claim_segment(seg)

    def claim_segment(self, seg: list[str]) -> None:
        sid = seg[0]
        key = f"{sid}*{seg[1]}" if sid in ("DTP", "REF", "NM1") and len(seg) > 1 else sid
        if self.cob is not None and sid != "LX":
            self.cob_segment(seg)
        elif sid == "HI":
            self.hi(seg)
        elif sid in ("SV1", "SV2"):
            self.service(seg)
        elif sid == "LX":
            self.finish_cob()
            self.line = None
        elif sid == "DTP":
            self.dtp(seg)
        elif key in ("NM1*82", "NM1*71") and self.line is None and len(seg) > 9:
            # the rendering (837P) / attending (837I) provider: ClaimBuilt's practitioner NPI
            self.current.claim["billing_provider_npi"] = seg[9]
        elif key == "REF*F8" and self.line is None:
            self.current.claim["original_reference"] = seg[2]
        elif key == "REF*EA" and self.line is None:
            self.current.claim["account_id"] = seg[2]
        elif key == "REF*6R" and self.line is not None and seg[2].isdigit():
            self.line["line"] = int(seg[2])
        elif sid == "CL1":
            pass  # admission type, source, discharge status: not on ClaimBuilt
        elif sid == "SBR" and self.line is None and self.current.claim["other_payer"] is None:
            self.start_cob(seg)
        elif sid == "SBR":
            self.problem("other payer (COB loop 2320)")
        elif key not in _MAPPED:
            where = "line" if self.line is not None else "claim"
            self.problem(f"{where} segment {key} not carried")

    def start_cob(self, seg: list[str]) -> None:
        """2320: the one other payer a secondary claim reports (what the writer sends)."""
        self.cob = {"payer_id": "", "plan_type": PLAN_OF_FILING.get(seg[9] if len(seg) > 9 else "",
                                                                    "COMMERCIAL"),
                    "payer_claim_control_number": None, "adjudicated_on": None, "paid_cents": 0,
                    "patient_responsibility_cents": 0, "adjustments": []}
        self.cob_lossy = seg[1] != "P" or self.current.claim["payer_sequence"] != "SECONDARY"

    def cob_segment(self, seg: list[str]) -> None:
        cob = self.cob
        key = f"{seg[0]}*{seg[1]}" if seg[0] in ("AMT", "DTP", "REF", "NM1") and len(seg) > 1 else seg[0]
        if seg[0] == "CAS":
            for i in range(2, len(seg), 3):
                if seg[i]:
                    cob["adjustments"].append({"group_code": seg[1], "reason_code": seg[i],
                                               "amount_cents": _cents(seg[i + 1])})
        elif key == "AMT*D":
            cob["paid_cents"] = _cents(seg[2])
        elif key == "AMT*EAF":
            cob["patient_responsibility_cents"] = _cents(seg[2])
        elif key == "NM1*PR" and len(seg) > 9:
            cob["payer_id"] = seg[9]
        elif key == "DTP*573":
            cob["adjudicated_on"] = _day(seg[3])
        elif key == "REF*F8":
            cob["payer_claim_control_number"] = seg[2]
        elif key not in _COB_CARRIED:
            self.cob_lossy = True
        if seg[0] == "SBR":
            self.cob_lossy = True  # a second other payer

    def finish_cob(self) -> None:
        if self.cob is None or self.current is None:
            return
        if self.cob_lossy or not self.cob["payer_id"] or self.cob["adjudicated_on"] is None:
            self.problem("other payer (COB loop 2320)")
        else:
            self.cob["adjustments"].sort(key=lambda a: (a["group_code"], a["reason_code"]))
            self.current.claim["other_payer"] = self.cob
        self.cob = None


def parse_837(text: str) -> Parsed837:
    """Every claim in an 837P or 837I file, with its problems."""
    segs = segments(text)
    isa = segs[0]
    reader = _Reader(component=isa[16][:1] if len(isa) > 16 else ":")
    version = isa13 = gs06 = ""
    st02 = []
    for seg in segs:
        if seg[0] == "ISA":
            isa13 = seg[13]
        elif seg[0] == "GS":
            version, gs06 = seg[8], seg[6]
            if not version.startswith(("005010X222", "005010X223")):
                raise X12Error(f"GS08 {version} is not a 5010 837P or 837I")
        elif seg[0] == "ST":
            if seg[1] != "837":
                raise X12Error(f"ST01 {seg[1]} is not an 837")
            st02.append(seg[2])
        try:
            reader.read(seg)
        except (IndexError, ValueError) as exc:
            raise X12Error(f"cannot read {seg[0]} segment: {type(exc).__name__}") from exc
    reader.finish_claim()
    return Parsed837(version, isa13, gs06, st02, reader.claims)
