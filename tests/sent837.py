"""The 837s the pipeline writes, read back with the pipeline's one 837 reader
(producers.x12.claims837, what `rcm produce x12` runs on a hospital's 837), so the sink's tests
check the writer against the reader real feeds go through.

`read_back(text)` returns the envelope's control numbers and each claim in the shape `carried`
gives a ClaimBuilt: what an 837 carries of it. The writer puts the claim id in CLM01 and the
account in 2300 REF*EA (which the reader passes over: in 837s from hospitals it is the medical
record number), so the account is taken from REF*EA here.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from producers.x12.claims837 import claims
from producers.x12.tokens import read

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Read837:
    version: str  # GS08
    isa13: str
    gs06: str
    st02: list[str]
    claims: list[dict]  # `carried` shape, file order
    read: list[dict]  # the ClaimBuilt dicts claims837 made


def carried(claim: dict, account_id: str | None = None) -> dict:
    """The part of a ClaimBuilt an 837 carries; `account_id` overrides the claim's own (REF*EA)."""
    professional = claim["claim_type"] == "PROFESSIONAL"
    lines = [{"line": ln["line"], "procedure_code": ln["procedure_code"],
              "modifiers": list(ln["modifiers"]),
              "revenue_code": "" if professional else ln["revenue_code"],
              "units": ln["units"], "charge_cents": ln["charge_cents"],
              "service_date": ln["service_date"],
              "diagnosis_pointers": list(ln["diagnosis_pointers"][:4]) if professional else []}
             for ln in claim["lines"]]
    days = [ln["service_date"] for ln in claim["lines"]]
    frequency = claim.get("frequency_code") or "1"
    other = claim.get("other_payer")
    drg = claim.get("drg")
    return {
        "claim_id": claim["claim_id"], "claim_type": claim["claim_type"],
        "account_id": account_id if account_id is not None else claim["account_id"],
        "payer_id": claim["payer_id"], "plan_type": claim["plan_type"],
        "billing_provider_npi": claim["billing_provider_npi"],
        "service_start": min(days) if professional else claim["service_start"],
        "service_end": max(days) if professional else claim["service_end"],
        "diagnosis_codes": list(claim["diagnosis_codes"]), "lines": lines,
        "total_charge_cents": claim["total_charge_cents"],
        "pcs_codes": list(claim.get("pcs_codes") or []),
        "drg": (drg["drg"] if isinstance(drg, dict) else drg) if drg else None,
        "frequency_code": frequency,
        "original_reference": claim.get("original_reference") if frequency != "1" else None,
        "payer_sequence": claim.get("payer_sequence") or "PRIMARY",
        "other_payer": None if not other else {
            "payer_id": other["payer_id"], "plan_type": other["plan_type"],
            "payer_claim_control_number": other.get("payer_claim_control_number") or "",
            "adjudicated_on": other["adjudicated_on"], "paid_cents": other["paid_cents"],
            "patient_responsibility_cents": other["patient_responsibility_cents"],
            "adjustments": sorted(({"group_code": a["group_code"], "reason_code": a["reason_code"],
                                    "amount_cents": a["amount_cents"]} for a in other["adjustments"]),
                                  key=lambda a: (a["group_code"], a["reason_code"]))},
    }


def read_back(text: str) -> Read837:
    """Every claim of an 837 file the pipeline wrote; fails on any envelope error or refused claim."""
    parsed = read(text, "sent.837")
    assert parsed.errors == [], [str(e) for e in parsed.errors]
    out, accounts = [], {}
    for tx in parsed.transactions:
        assert tx.errors == [], [str(e) for e in tx.errors]
        good, refused = claims(tx, NOW)
        assert refused == [], [str(e) for e in refused]
        out += good
        accounts.update(_ref_ea(tx))
    [tx, *_] = parsed.transactions
    return Read837(tx.gs.el(8), tx.isa.el(13), tx.gs.el(6), [t.control for t in parsed.transactions],
                   [carried(c, accounts.get(c["claim_id"], "")) for c in out], out)


def _ref_ea(tx) -> dict[str, str]:
    """{CLM01: 2300 REF*EA} (the account, where the pipeline's writer puts it)."""
    found, claim_id = {}, None
    for seg in tx.segments:
        if seg.id == "CLM":
            claim_id = seg.el(1)
        elif seg.id == "LX":
            claim_id = None
        elif seg.id == "REF" and seg.el(1) == "EA" and claim_id is not None:
            found[claim_id] = seg.el(2)
    return found
