"""Deliberately bad records: each kind is something a real feed sends sooner or later, and each must
end as exactly one dead letter. A kind maps to the reason category a stage reports for it.
"""
from __future__ import annotations

import copy
import random
import struct

from schemas import codec
from schemas.topics import ENCOUNTERS, PAYMENTS, REMITTANCES, Topic

# kind -> (category, topics it is sent on; several = rotate over them)
KINDS: dict[str, tuple[str, tuple[Topic, ...]]] = {
    "garbage": ("MALFORMED", (ENCOUNTERS, REMITTANCES, PAYMENTS)),
    "truncated": ("MALFORMED", (ENCOUNTERS, REMITTANCES, PAYMENTS)),
    "unknown_schema": ("UNKNOWN_SCHEMA", (ENCOUNTERS, REMITTANCES, PAYMENTS)),
    "invalid_diagnosis_code": ("INVALID_CODE", (ENCOUNTERS,)),
    "unknown_charge_code": ("INVALID_CODE", (ENCOUNTERS,)),
    "zero_units": ("IMPOSSIBLE_AMOUNT", (ENCOUNTERS,)),
    "negative_price": ("IMPOSSIBLE_AMOUNT", (ENCOUNTERS,)),
    "unbalanced_remittance_line": ("IMPOSSIBLE_AMOUNT", (REMITTANCES,)),
    "negative_paid": ("IMPOSSIBLE_AMOUNT", (REMITTANCES,)),
    "nonpositive_payment": ("IMPOSSIBLE_AMOUNT", (PAYMENTS,)),
    "blank_account_id": ("BAD_ACCOUNT_ID", (ENCOUNTERS, REMITTANCES, PAYMENTS)),
}
UNKNOWN_SCHEMA_ID = 999
INVALID_DIAGNOSIS = "ZZZ.99"
UNKNOWN_CHARGE = "CM-NOSUCH"


def corrupt(rng: random.Random, kind: str, rec: dict) -> dict | None:
    """A copy of a good record with the defect of `kind`; None for the kinds that are bytes-level."""
    rec = copy.deepcopy(rec)
    if kind == "invalid_diagnosis_code":
        rec["diagnoses"][0]["code"] = INVALID_DIAGNOSIS
    elif kind == "unknown_charge_code":
        rec["charges"][-1]["charge_code"] = UNKNOWN_CHARGE
    elif kind == "zero_units":
        rec["charges"][0]["units"] = 0
    elif kind == "negative_price":
        rec["charges"][0]["unit_price_cents"] = -rec["charges"][0]["unit_price_cents"]
    elif kind == "unbalanced_remittance_line":
        rec["lines"][0]["charge_cents"] += rng.randint(1, 5000)
        rec["total_charge_cents"] = sum(ln["charge_cents"] for ln in rec["lines"])
    elif kind == "negative_paid":
        line, refund = rec["lines"][0], rng.randint(100, 5000)
        line["paid_cents"] -= line["paid_cents"] + refund
        line["adjustments"].append({"group_code": "CO", "reason_code": "45",
                                    "amount_cents": line["charge_cents"] + refund
                                    - sum(a["amount_cents"] for a in line["adjustments"])})
        rec["total_paid_cents"] = sum(ln["paid_cents"] for ln in rec["lines"])
    elif kind == "nonpositive_payment":
        rec["amount_cents"] = -rng.randint(0, 5000)
    elif kind == "blank_account_id":  # a fixed-width feed that left the field as spaces
        rec["account_id"] = " " * len(rec["account_id"])
    else:
        return None
    return rec


def bad_bytes(rng: random.Random, kind: str, schema_name: str, rec: dict) -> bytes:
    if kind == "garbage":
        return bytes([rng.randint(1, 255)]) + rng.randbytes(rng.randint(0, 80))
    good = codec.encode(schema_name, rec)
    if kind == "truncated":  # Avro is self-delimiting: no strict prefix of a record decodes
        return good[:rng.randint(5, len(good) - 1)]
    if kind == "unknown_schema":
        return struct.pack(">bI", 0, UNKNOWN_SCHEMA_ID) + good[5:]
    raise ValueError(kind)
