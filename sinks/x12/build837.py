"""ClaimBuilt -> 5010 837 text: PROFESSIONAL as 837P (005010X222A1), INSTITUTIONAL as 837I (005010X223A2).

Pure: the caller passes the claims, the envelope (control numbers already allocated) and the
directory that supplies the demographics the pipeline does not keep. One interchange, one group
and one transaction per file; one billing provider HL (the organisation, RCM_BILLING_*), a
subscriber HL per claim (the subscriber is the patient, SBR02 = 18). The claim's practitioner
(ClaimBuilt.billing_provider_npi, the encounter's provider) is the 837P rendering provider (2310B)
and the 837I attending provider (2310A). Money is integer cents written as X12 decimals.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from processors.payers import payer as payer_of
from sinks.x12.directory import BillingDirectory

PROFESSIONAL, INSTITUTIONAL = "PROFESSIONAL", "INSTITUTIONAL"
VERSION = {PROFESSIONAL: "005010X222A1", INSTITUTIONAL: "005010X223A2"}
ELEMENT, COMPONENT, REPETITION, SEGMENT = "*", ":", "^", "~"
PLACE_OF_SERVICE = "11"  # professional claims are built for office encounters only
FACILITY_INPATIENT, FACILITY_OUTPATIENT = "11", "13"  # hospital inpatient / outpatient (type of bill)
FREQUENCY_ORIGINAL = "1"
# CL1 for a stay: ClaimBuilt has no admission type, point of origin or discharge status yet, so
# admission type and point of origin say "information not available" (9) and the stay is reported
# as discharged home (01). See README, X12 837P / 837I out.
CL1_INPATIENT = ("9", "9", "01")
CL1_OUTPATIENT = ("", "", "01")
MAX_DX = {PROFESSIONAL: 12, INSTITUTIONAL: 25}  # 837I: ABK + 2 x 12 ABF
MAX_PCS = 25  # BBR + 2 x 12 BBQ
MAX_LINES = {PROFESSIONAL: 50, INSTITUTIONAL: 999}
FILING = {"MEDICARE": {PROFESSIONAL: "MB", INSTITUTIONAL: "MA"}, "MEDICAID": "MC", "COMMERCIAL": "CI"}


@dataclass(frozen=True)
class Envelope:
    sender_id: str  # ISA06 / GS02 / 1000A NM109
    receiver_id: str  # ISA08 / GS03 / 1000B NM109
    receiver_name: str
    isa13: int
    gs06: int
    st02: int
    created: datetime
    usage: str = "T"  # ISA15: T test, P production


def money(cents: int) -> str:
    """12345 -> '123.45', 14500 -> '145', 14550 -> '145.5' (X12 R: no needless zeros)."""
    if cents < 0:
        return "-" + money(-cents)
    dollars, rest = divmod(int(cents), 100)
    return str(dollars) if rest == 0 else f"{dollars}.{rest:02d}".rstrip("0")


def _d8(day: date) -> str:
    return day.strftime("%Y%m%d")


def _text(value: str, limit: int = 60) -> str:
    """Upper case, delimiters and control characters out, spaces squeezed."""
    cleaned = re.sub(r"[*~:^\x00-\x1f]", " ", str(value)).upper()
    return re.sub(r"\s+", " ", cleaned).strip()[:limit]


def _dx(code: str) -> str:
    return code.replace(".", "").upper()


def filing_indicator(claim: dict) -> str:
    found = FILING[claim["plan_type"]]
    return found[claim["claim_type"]] if isinstance(found, dict) else found


def is_inpatient(claim: dict) -> bool:
    """An institutional claim for a stay: grouped to a DRG, or carrying ICD-10-PCS procedures."""
    return claim["claim_type"] == INSTITUTIONAL and bool(claim.get("drg") or claim.get("pcs_codes"))


def unsendable(claim: dict) -> str | None:
    """Why this claim cannot go out as an 837 (None when it can)."""
    kind = claim["claim_type"]
    if claim["status"] != "CLEAN":
        return "not CLEAN"
    if claim["plan_type"] not in FILING:
        return "self-pay: no payer to bill"
    if not claim["diagnosis_codes"]:
        return "no diagnosis"
    if len(claim["diagnosis_codes"]) > MAX_DX[kind]:
        return f"more than {MAX_DX[kind]} diagnoses"
    if len(claim.get("pcs_codes") or []) > MAX_PCS:
        return f"more than {MAX_PCS} ICD-10-PCS procedures"
    if not claim["lines"] or len(claim["lines"]) > MAX_LINES[kind]:
        return f"needs 1 to {MAX_LINES[kind]} service lines"
    if any(len(line["modifiers"]) > 4 for line in claim["lines"]):
        return "a line has more than 4 modifiers"
    if len(claim["claim_id"]) > 20:
        return "claim id longer than 20 characters (CLM01)"
    return None


class _Segments:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, *elements) -> None:
        values = ["" if e is None else str(e) for e in elements]
        while values and values[-1] == "":
            values.pop()
        self.items.append(ELEMENT.join(values))


def _composite(*parts) -> str:
    values = ["" if p is None else str(p) for p in parts]
    while values and values[-1] == "":
        values.pop()
    return COMPONENT.join(values)


def _hi(segs: _Segments, pairs: list[tuple[str, ...]], per_segment: int = 12) -> None:
    for start in range(0, len(pairs), per_segment):
        segs.add("HI", *(_composite(*p) for p in pairs[start:start + per_segment]))


def _practitioner(segs: _Segments, qualifier: str, claim: dict, directory: BillingDirectory) -> None:
    # The hospital's provider id (an NPI or a local id, issue 9): the directory supplies the NPI of
    # a local id; without one the loop is left out and the billing provider (2010AA) stands.
    provider = claim["billing_provider_npi"]
    if provider:
        who = directory.practitioner(provider)
        npi = who.npi or (provider if _is_npi(provider) else None)
        if npi:
            segs.add("NM1", qualifier, "1", _text(who.last_name), _text(who.first_name, 35), "",
                     "", "", "XX", npi)


def _is_npi(value: str) -> bool:
    return len(value) == 10 and value.isdigit()  # its check digit is the payer's front end's edit


def frequency(claim: dict) -> str:
    return claim.get("frequency_code") or FREQUENCY_ORIGINAL


def _original_reference(segs: _Segments, claim: dict) -> None:
    # 2300 REF*F8: the payer's control number of the claim a replacement (7) or void (8) replaces.
    if frequency(claim) != FREQUENCY_ORIGINAL and claim.get("original_reference"):
        segs.add("REF", "F8", _text(claim["original_reference"], 50))


def _other_payer(segs: _Segments, claim: dict, directory: BillingDirectory,
                 professional: bool) -> None:
    """2320 / 2330A / 2330B: what the primary payer did, on a secondary claim (SBR01 S)."""
    other = claim.get("other_payer")
    if not other:
        return
    segs.add("SBR", "P", "18", "", "", "", "", "", "", filing_indicator(
        {"plan_type": other["plan_type"], "claim_type": claim["claim_type"]}))
    by_group: dict[str, list[dict]] = {}
    for adj in other["adjustments"]:
        by_group.setdefault(adj["group_code"], []).append(adj)
    for group, adjs in by_group.items():
        for start in range(0, len(adjs), 6):  # CAS carries at most six reason/amount/quantity triplets
            triplets = [(a["reason_code"], money(a["amount_cents"]), "") for a in adjs[start:start + 6]]
            segs.add("CAS", group, *(x for t in triplets for x in t))
    segs.add("AMT", "D", money(other["paid_cents"]))
    segs.add("AMT", "EAF", money(other["patient_responsibility_cents"]))
    if professional:
        segs.add("OI", "", "", "Y", "P", "", "Y")
    else:
        segs.add("OI", "", "", "Y", "", "", "Y")
    who = directory.subscriber(claim["account_id"], other["payer_id"])
    segs.add("NM1", "IL", "1", _text(who.last_name), _text(who.first_name, 35), "", "", "", "MI",
             _text(who.member_id, 80))
    segs.add("NM1", "PR", "2", _text(payer_of(other["payer_id"]).name), "", "", "", "", "PI",
             _text(other["payer_id"], 80))
    segs.add("DTP", "573", "D8", _d8(other["adjudicated_on"]))
    if other.get("payer_claim_control_number"):
        segs.add("REF", "F8", _text(other["payer_claim_control_number"], 50))


def _claim_837p(segs: _Segments, claim: dict, directory: BillingDirectory) -> None:
    segs.add("CLM", claim["claim_id"], money(claim["total_charge_cents"]), "", "",
             _composite(PLACE_OF_SERVICE, "B", frequency(claim)), "Y", "A", "Y", "Y")
    _original_reference(segs, claim)
    if claim.get("account_id"):
        segs.add("REF", "EA", _text(claim["account_id"], 50))
    codes = claim["diagnosis_codes"]
    _hi(segs, [("ABK" if n == 0 else "ABF", _dx(c)) for n, c in enumerate(codes)])
    _practitioner(segs, "82", claim, directory)  # 2310B rendering provider
    _other_payer(segs, claim, directory, professional=True)
    for n, line in enumerate(claim["lines"], start=1):
        segs.add("LX", n)
        segs.add("SV1", _composite("HC", line["procedure_code"], *line["modifiers"]),
                 money(line["charge_cents"]), "UN", line["units"], "", "",
                 _composite(*line["diagnosis_pointers"][:4]))
        segs.add("DTP", "472", "D8", _d8(line["service_date"]))
        segs.add("REF", "6R", line["line"])


def _claim_837i(segs: _Segments, claim: dict, directory: BillingDirectory) -> None:
    inpatient = is_inpatient(claim)
    facility = FACILITY_INPATIENT if inpatient else FACILITY_OUTPATIENT
    segs.add("CLM", claim["claim_id"], money(claim["total_charge_cents"]), "", "",
             _composite(facility, "A", frequency(claim)), "", "A", "Y", "Y")
    segs.add("DTP", "434", "RD8", f"{_d8(claim['service_start'])}-{_d8(claim['service_end'])}")
    if inpatient:
        segs.add("DTP", "435", "D8", _d8(claim["service_start"]))
    segs.add("CL1", *(CL1_INPATIENT if inpatient else CL1_OUTPATIENT))
    _original_reference(segs, claim)
    if claim.get("account_id"):
        segs.add("REF", "EA", _text(claim["account_id"], 50))
    codes = claim["diagnosis_codes"]
    segs.add("HI", _composite("ABK", _dx(codes[0])))
    if claim.get("drg"):
        segs.add("HI", _composite("DR", claim["drg"]["drg"]))
    _hi(segs, [("ABF", _dx(c)) for c in codes[1:]])
    pcs = claim.get("pcs_codes") or []
    # ClaimBuilt has no procedure dates; the guide requires one, so the stay's first day stands in.
    when = _d8(claim["service_start"])
    if pcs:
        segs.add("HI", _composite("BBR", pcs[0], "D8", when))
    _hi(segs, [("BBQ", p, "D8", when) for p in pcs[1:]])
    _practitioner(segs, "71", claim, directory)  # 2310A attending provider
    _other_payer(segs, claim, directory, professional=False)
    for n, line in enumerate(claim["lines"], start=1):
        segs.add("LX", n)
        procedure = (_composite("HC", line["procedure_code"], *line["modifiers"])
                     if line["procedure_code"] else "")
        segs.add("SV2", line["revenue_code"], procedure, money(line["charge_cents"]), "UN",
                 line["units"])
        segs.add("DTP", "472", "D8", _d8(line["service_date"]))
        segs.add("REF", "6R", line["line"])


def write_837(claims: Iterable[dict], claim_type: str, envelope: Envelope,
              directory: BillingDirectory) -> str:
    """One 837 file (ISA..IEA) holding `claims`, all of `claim_type`, each sendable."""
    claims = list(claims)
    if not claims:
        raise ValueError("an 837 needs at least one claim")
    for claim in claims:
        if claim["claim_type"] != claim_type:
            raise ValueError(f"{claim['claim_id']} is {claim['claim_type']}, not {claim_type}")
        if (why := unsendable(claim)) is not None:
            raise ValueError(f"{claim['claim_id']} cannot go out: {why}")
    version, created = VERSION[claim_type], envelope.created
    provider = directory.billing_provider()
    st = f"{envelope.st02:04d}"
    body = _Segments()
    body.add("ST", "837", st, version)
    body.add("BHT", "0019", "00", f"{envelope.isa13:09d}", _d8(created), created.strftime("%H%M"),
             "CH")
    body.add("NM1", "41", "2", _text(provider.name), "", "", "", "", "46", envelope.sender_id)
    body.add("PER", "IC", _text(provider.contact_name), "TE", provider.contact_phone)
    body.add("NM1", "40", "2", _text(envelope.receiver_name), "", "", "", "", "46",
             envelope.receiver_id)
    body.add("HL", "1", "", "20", "1")
    body.add("NM1", "85", "2", _text(provider.name), "", "", "", "", "XX", provider.npi)
    body.add("N3", _text(provider.address.line1, 55))
    body.add("N4", _text(provider.address.city, 30), provider.address.state, provider.address.zip)
    body.add("REF", "EI", provider.tax_id)
    write_claim = _claim_837p if claim_type == PROFESSIONAL else _claim_837i
    for hl, claim in enumerate(claims, start=2):
        who = directory.subscriber(claim["account_id"], claim["payer_id"])
        body.add("HL", hl, "1", "22", "0")
        body.add("SBR", "S" if claim.get("payer_sequence") == "SECONDARY" else "P", "18", "", "", "", "", "", "", filing_indicator(claim))
        body.add("NM1", "IL", "1", _text(who.last_name), _text(who.first_name, 35), "", "", "",
                 "MI", _text(who.member_id, 80))
        body.add("N3", _text(who.address.line1, 55))
        body.add("N4", _text(who.address.city, 30), who.address.state, who.address.zip)
        body.add("DMG", "D8", _d8(who.birth_date), who.gender)
        body.add("NM1", "PR", "2", _text(payer_of(claim["payer_id"]).name), "", "", "", "",
                 "PI", _text(claim["payer_id"], 80))
        write_claim(body, claim, directory)
    body.add("SE", len(body.items) + 1, st)
    out = _Segments()
    out.add("ISA", "00", " " * 10, "00", " " * 10, "ZZ", f"{envelope.sender_id:<15}"[:15],
            "ZZ", f"{envelope.receiver_id:<15}"[:15], created.strftime("%y%m%d"),
            created.strftime("%H%M"), REPETITION, "00501", f"{envelope.isa13:09d}", "0",
            envelope.usage, COMPONENT)
    out.add("GS", "HC", envelope.sender_id, envelope.receiver_id, _d8(created),
            created.strftime("%H%M"), envelope.gs06, "X", version)
    out.items.extend(body.items)
    out.add("GE", "1", envelope.gs06)
    out.add("IEA", "1", f"{envelope.isa13:09d}")
    return SEGMENT.join(out.items) + SEGMENT + "\n"
