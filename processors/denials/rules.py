"""Classify remittance adjustments and flag the denials among them.

An adjustment is one of four things to the ledger: a contractual write-down, a transfer to the
patient, a denial (the money stays open in insurance until it is appealed or written off), or some
other adjustment. Category names and their meanings below are this project's own words; no X12
descriptor text is shipped.

Pure: standard library, schemas and the payer table only.
"""
from __future__ import annotations

from datetime import timedelta

from processors.payers import payer

CONTRACTUAL = "CONTRACTUAL"
PATIENT = "PATIENT"
DENIAL = "DENIAL"
OTHER = "OTHER"

CONTRACTUAL_CARCS = frozenset({"45", "253"})
DENIAL_GROUPS = frozenset({"CO", "PI", "OA"})

# CARC -> category, grouped by the work a billing team does to fix and appeal the denial. Keep this
# list and the synthetic hospital's ground truth in step: a CARC added here moves its money from
# OTHER_ADJUSTMENT to open insurance, so a truth computed from an older list stops reconciling.
_CATEGORY_OF: dict[str, str] = {}
for _category, _carcs in {
    "ELIGIBILITY": ("27", "31", "109", "22"),
    "AUTHORIZATION": ("197", "15", "62"),
    "CODING": ("4", "11", "146", "167"),
    "MEDICAL_NECESSITY": ("50", "151"),
    "TIMELY_FILING": ("29",),
    "DUPLICATE": ("18",),
    "MISSING_INFORMATION": ("16", "252"),
    "BUNDLING": ("97", "234"),
    "NON_COVERED": ("96", "204"),
}.items():
    for _carc in _carcs:
        _CATEGORY_OF[_carc] = _category

DENIAL_CARCS = frozenset(_CATEGORY_OF)

# Front-end (registration, eligibility, authorization), documentation and coding causes can be
# caught before the claim leaves; a benefit the plan simply does not cover usually cannot.
_PREVENTABLE = {
    "ELIGIBILITY": True,
    "AUTHORIZATION": True,
    "CODING": True,
    "MEDICAL_NECESSITY": True,
    "TIMELY_FILING": True,
    "DUPLICATE": True,
    "MISSING_INFORMATION": True,
    "BUNDLING": True,
    "NON_COVERED": False,
    "OTHER": False,
}


# The team that works each category first: front-end registration fixes coverage; utilization
# management holds authorizations and clinical appeals; coders fix codes and bundling; billing
# handles the claim itself; patient financial services bills a benefit the plan does not cover.
OWNER_QUEUE: dict[str, str] = {
    "ELIGIBILITY": "REGISTRATION",
    "AUTHORIZATION": "UTILIZATION_MANAGEMENT",
    "MEDICAL_NECESSITY": "UTILIZATION_MANAGEMENT",
    "CODING": "CODING",
    "BUNDLING": "CODING",
    "MISSING_INFORMATION": "BILLING",
    "DUPLICATE": "BILLING",
    "TIMELY_FILING": "BILLING",
    "NON_COVERED": "PATIENT_FINANCIAL_SERVICES",
    "OTHER": "BILLING",
}


def _norm(carc: object) -> str:
    return str(carc).strip().lstrip("0") or "0"


def classify_adjustment(group_code: str, carc: str) -> str:
    """CONTRACTUAL | PATIENT | DENIAL | OTHER, exactly as the balance semantics in the spec."""
    group, code = str(group_code).upper(), _norm(carc)
    if group == "PR":
        return PATIENT
    if group == "CO" and code in CONTRACTUAL_CARCS:
        return CONTRACTUAL
    if group in DENIAL_GROUPS and code in DENIAL_CARCS:
        return DENIAL
    return OTHER


def denial_category(group_code: str, carc: str) -> tuple[str, bool]:
    """(category, preventable) for a denied adjustment; unknown reasons are OTHER, not preventable."""
    category = _CATEGORY_OF.get(_norm(carc), "OTHER")
    return category, _PREVENTABLE[category]


REVERSAL = "22"


def flag_denials(remit: dict) -> list[dict]:
    """One DenialFlagged per denial adjustment, service lines first, then claim level (line null).

    A reversal (CLP02 22) takes back an earlier adjudication: its negative adjustments undo the
    earlier ones and flag nothing new (the corrected claim that follows is judged on its own)."""
    if str(remit.get("claim_status")) == REVERSAL:
        return []
    denied_on = remit["occurred_at"].date()
    deadline = denied_on + timedelta(days=payer(remit["payer_id"]).appeal_window_days)
    claim_remarks = list(remit.get("remarks") or [])
    flagged = []
    for line in remit["lines"]:
        remarks = list(line.get("remarks") or []) + claim_remarks
        for i, adj in enumerate(line["adjustments"]):
            flagged += _flag(remit, line["line"], i, adj, denied_on, deadline, remarks)
    for i, adj in enumerate(remit["claim_adjustments"]):
        flagged += _flag(remit, None, i, adj, denied_on, deadline, claim_remarks)
    return flagged


def _flag(remit, line, i, adj, denied_on, deadline, remarks) -> list[dict]:
    group, carc = str(adj["group_code"]), str(adj["reason_code"])
    if classify_adjustment(group, carc) != DENIAL or adj["amount_cents"] == 0:
        return []
    category, preventable = denial_category(group, carc)
    event_id = f"{remit['event_id']}:denial:{line or 0}:{i}"
    return [{
        "event_id": event_id,
        "source_event_id": remit["event_id"],
        "source_emitted_at": remit["emitted_at"],
        "denial_id": event_id,
        "remittance_id": remit["remittance_id"],
        "claim_id": remit["claim_id"],
        "account_id": remit["account_id"],
        "payer_id": remit["payer_id"],
        "line": line,
        "group_code": group,
        "reason_code": carc,
        "category": category,
        "preventable": preventable,
        "owner_queue": OWNER_QUEUE[category],
        "amount_cents": int(adj["amount_cents"]),
        "denied_on": denied_on,
        "appeal_deadline": deadline,
        "remarks": list(remarks),
    }]
