"""Small hand-built events for the fast test layers (the synthetic hospital feeds the slow ones)."""
from __future__ import annotations

from datetime import UTC, date, datetime

from schemas.accounts import make_account_id

T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
DOS = date(2026, 3, 2)


def encounter(n: int = 1, *, plan_type: str = "COMMERCIAL", payer_id: str = "COMM-ACME",
              diagnoses=None, charges=None, age: int = 54, sex: str = "F",
              encounter_class: str = "OFFICE", em: dict | None = None) -> dict:
    return {
        "event_id": f"enc-evt-{n}",
        "encounter_id": f"E{n:07d}",
        "account_id": make_account_id(n),
        "occurred_at": T0,
        "emitted_at": T0,
        "patient_age": age,
        "patient_sex": sex,
        "payer_id": payer_id,
        "plan_type": plan_type,
        "provider_npi": "1234567893",
        "facility_id": "FAC01",
        "encounter_class": encounter_class,
        "service_start": DOS,
        "service_end": DOS,
        "diagnoses": diagnoses if diagnoses is not None else [
            {"sequence": 1, "text": "essential hypertension", "code": "I10"}],
        "charges": charges if charges is not None else [
            {"line": 1, "charge_code": "CM100113", "units": 1, "unit_price_cents": 14500,
             "service_date": DOS}],
        "em": em,
    }


def adjustment(group: str, carc: str, cents: int) -> dict:
    return {"group_code": group, "reason_code": carc, "amount_cents": cents}


def remittance(n: int = 1, *, lines=None, claim_adjustments=(), status: str = "1",
               payer_id: str = "COMM-ACME") -> dict:
    lines = lines if lines is not None else [{
        "line": 1, "procedure_code": "99213", "units": 1, "charge_cents": 14500,
        "paid_cents": 9000,
        "adjustments": [adjustment("CO", "45", 3500), adjustment("PR", "3", 2000)],
        "remarks": [],
    }]
    return {
        "event_id": f"rem-evt-{n}",
        "remittance_id": f"R{n:07d}",
        "account_id": make_account_id(n),
        "claim_id": f"CLM-E{n:07d}",
        "occurred_at": T0,
        "emitted_at": T0,
        "payer_id": payer_id,
        "payer_claim_control_number": f"PCN{n}",
        "trace_number": f"TRN{n}",
        "claim_status": status,
        "total_charge_cents": sum(ln["charge_cents"] for ln in lines),
        "total_paid_cents": sum(ln["paid_cents"] for ln in lines),
        "patient_responsibility_cents": sum(
            a["amount_cents"] for ln in lines for a in ln["adjustments"] if a["group_code"] == "PR"),
        "claim_adjustments": list(claim_adjustments),
        "lines": lines,
        "remarks": [],
    }


def payment(n: int = 1, *, cents: int = 2000, kind: str = "PAYMENT", account_id: str | None = None) -> dict:
    return {
        "event_id": f"pay-evt-{n}",
        "payment_id": f"P{n:07d}",
        "account_id": account_id or make_account_id(n),
        "occurred_at": T0,
        "emitted_at": T0,
        "kind": kind,
        "method": "CARD",
        "amount_cents": cents,
    }


def denial(n: int = 1, *, cents: int = 14500, payer_id: str = "COMM-NORTH") -> dict:
    """The DenialFlagged a fully denied one-line remittance yields (COMM-NORTH: 60-day window,
    so denied 2026-03-02 -> last day to appeal 2026-05-01)."""
    from processors.denials.rules import flag_denials

    line = {"line": 1, "procedure_code": "99213", "units": 1, "charge_cents": cents,
            "paid_cents": 0, "adjustments": [adjustment("CO", "50", cents)], "remarks": ["N115"]}
    [d] = flag_denials(remittance(n, lines=[line], status="4", payer_id=payer_id))
    return d


def appeal(action: str, den: dict, *, n: int = 1, at: datetime = T0, cents: int | None = None,
           reference: str | None = "APL-1") -> dict:
    return {"event_id": f"apl-evt-{action.lower()}-{n}", "action": action,
            "account_id": den["account_id"], "claim_id": den["claim_id"],
            "denial_id": den["denial_id"], "partition": None, "occurred_at": at, "emitted_at": at,
            "amount_cents": cents, "reference": reference, "reason_code": None}


def tick(partition: int, at: datetime) -> dict:
    return {"event_id": f"tick-{partition}-{int(at.timestamp())}", "action": "TICK",
            "account_id": "", "claim_id": None, "denial_id": None, "partition": partition,
            "occurred_at": at, "emitted_at": at, "amount_cents": None, "reference": None,
            "reason_code": None}
