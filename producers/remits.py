"""How a synthetic payer adjudicates a claim: allowed amounts, patient share, denials.

Per line: allowed = a payer-specific share of the charge; CO-45 takes charge - allowed; the
patient's copay (PR-3), deductible (PR-1) and coinsurance (PR-2) come out of the allowed amount;
paid = allowed - patient share. A denied line is paid 0 and carries one denial adjustment for its
whole charge. All integer cents.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from producers.encounters import pick

DENIAL_SHARE = 0.11  # initial denial rate of claims, 10-12% in published hospital figures
# (carc, weight %, group, scope, rarc). Eligibility (27, 31, 109) is ~27% of denials.
DENIAL_MIX = (
    ("27", 14, "CO", "claim", "N30"), ("31", 5, "CO", "claim", "N382"),
    ("109", 8, "CO", "claim", "N418"), ("197", 12, "CO", "either", "N54"),
    ("16", 14, "CO", "either", "M51"), ("50", 10, "CO", "line", "N115"),
    ("97", 9, "CO", "line", "M15"), ("18", 7, "OA", "claim", "N111"),
    ("29", 4, "CO", "claim", "N211"), ("96", 6, "CO", "line", "N130"),
    ("204", 4, "CO", "line", "N130"), ("11", 4, "CO", "line", "M76"),
    ("4", 3, "CO", "line", "M20"),
)
# Allowed share of charges in basis points (low, high) per payer.
ALLOWED_BP = {"MEDICARE": (3600, 4400), "MEDICAID": (2800, 3400), "COMM-ACME": (5200, 5800),
              "COMM-BLUE": (6000, 6600), "COMM-NORTH": (4800, 5400), "COMM-UNITY": (5600, 6200)}


@dataclass(frozen=True)
class Terms:
    """What the patient owes on this claim under the plan."""
    copay: int
    deductible: int
    coinsurance_bp: int


def terms_for(rng: random.Random, plan: str, cls: str) -> Terms:
    if plan == "MEDICARE":
        if cls == "INPATIENT":
            return Terms(0, 167_600 if rng.random() < 0.4 else 0, 0)
        return Terms(0, rng.randint(0, 25_700) if rng.random() < 0.25 else 0, 2000)
    if plan == "MEDICAID":
        return Terms(rng.choice((0, 100, 200, 400)) if cls == "OFFICE" else 0, 0, 0)
    if cls == "OFFICE":
        return Terms(rng.choice((2000, 2500, 3000, 4000, 5000)) if rng.random() < 0.7 else 0, 0, 0)
    deductible = rng.randrange(10_000, 150_000, 100) if rng.random() < 0.35 else 0
    return Terms(rng.choice((0, 15_000)) if cls == "EMERGENCY" else 0, deductible,
                 rng.choice((1000, 1500, 2000, 3000)))


def _adj(group: str, carc: str, amount: int) -> dict:
    return {"group_code": group, "reason_code": carc, "amount_cents": amount}


def adjudicate(rng: random.Random, payer_id: str, lines: list[tuple[str, int, int]],
               terms: Terms) -> tuple[str, list[dict], list[str]]:
    """lines: (procedure_code, units, charge) -> (claim_status, remittance lines, claim remarks)."""
    denial = pick(rng, [(d, d[1]) for d in DENIAL_MIX]) if rng.random() < DENIAL_SHARE else None
    whole = denial is not None and (denial[3] == "claim" or (denial[3] == "either" and rng.random() < 0.5))
    denied_line = -1
    if denial is not None and not whole:
        denied_line = rng.randrange(1, len(lines)) if denial[0] == "97" and len(lines) > 1 \
            else rng.randrange(len(lines))
    low, high = ALLOWED_BP[payer_id]
    bp = rng.randint(low, high)
    copay, deductible = terms.copay, terms.deductible
    out = []
    for n, (proc, units, charge) in enumerate(lines):
        line = {"line": n + 1, "procedure_code": proc, "units": units, "charge_cents": charge,
                "paid_cents": 0, "adjustments": [], "remarks": []}
        out.append(line)
        if whole or n == denied_line:
            line["adjustments"].append(_adj(denial[2], denial[0], charge))
            line["remarks"].append(denial[4])
            continue
        allowed = charge * bp // 10_000
        if charge > allowed:
            line["adjustments"].append(_adj("CO", "45", charge - allowed))
        left = allowed
        for carc, owed in (("3", copay), ("1", deductible)):
            share = min(owed, left)
            if share > 0:
                line["adjustments"].append(_adj("PR", carc, share))
                left -= share
                if carc == "3":
                    copay -= share
                else:
                    deductible -= share
        coins = left * terms.coinsurance_bp // 10_000
        if coins > 0:
            line["adjustments"].append(_adj("PR", "2", coins))
            left -= coins
        line["paid_cents"] = left
    return ("4" if whole else "1"), out, ([denial[4]] if whole else [])
