"""What an 835 remittance posts: the badx12 samples balance to the cent, claim-level payments,
and reversals (CLP02 = 22) that reopen what the original closed instead of being dead-lettered."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from processors.denials.rules import DENIAL, classify_adjustment, flag_denials
from processors.ledger.rules import entries_for_remittance, validate_remittance
from producers.x12.remit835 import remittances
from producers.x12.tokens import read
from schemas.accounts import make_account_id
from tests.samples import x12_samples
from tests.unit.test_x12_835 import a_check, adj, claim

ACCOUNT = make_account_id(7)
NOW = datetime(2026, 3, 2, tzinfo=UTC)


def matched(text: str) -> list[dict]:
    [tx] = read(text, "t.edi").transactions
    return [{**r, "account_id": ACCOUNT} for r in remittances(tx, NOW)]


def deltas(entries) -> tuple[int, int]:
    return (sum(e["insurance_delta_cents"] for e in entries),
            sum(e["patient_delta_cents"] for e in entries))


def denied(r) -> int:
    adjs = r["claim_adjustments"] + [a for ln in r["lines"] for a in ln["adjustments"]]
    return sum(a["amount_cents"] for a in adjs
               if classify_adjustment(a["group_code"], a["reason_code"]) == DENIAL)


@pytest.mark.parametrize("path", x12_samples("X221"), ids=lambda p: p.name)
def test_every_sample_remittance_posts_and_closes_exactly_its_charge(path):
    for r in matched(path.read_text()):
        assert validate_remittance(r) == [], (path.name, r["claim_id"])
        insurance, patient = deltas(entries_for_remittance(r))
        pr = sum(a["amount_cents"] for a in r["claim_adjustments"] + [
            a for ln in r["lines"] for a in ln["adjustments"]] if a["group_code"] == "PR")
        # all of the charge leaves insurance except what is denied (open pending appeal)
        assert insurance == -(r["total_charge_cents"] - denied(r))
        assert patient == pr
        flag_denials(r)  # unknown payers fall back to the default appeal window


def test_claim_level_adjustments_reduce_the_payment_as_the_835_says():
    path = next(p for p in x12_samples("X221") if "sent-separate" in p.name)
    first = matched(path.read_text())[0]  # charge 800, line paid 500, CO-A2 50 at claim level
    entries = entries_for_remittance(first)
    paid = [e for e in entries if e["kind"] == "PAYER_PAYMENT"]
    assert -sum(e["insurance_delta_cents"] for e in paid) == first["total_paid_cents"] == 45000
    assert [e["event_id"].rsplit(":", 2)[-2:] for e in paid] == [["paid", "1"], ["paid", "0"]]


def test_a_claim_without_service_lines_posts_its_payment_at_claim_level():
    path = next(p for p in x12_samples("X221") if "sent-together" in p.name)
    r = matched(path.read_text())[0]
    entries = entries_for_remittance(r)
    assert [(e["kind"], e["insurance_delta_cents"]) for e in entries] == [
        ("PAYER_PAYMENT", -13801840), ("CONTRACTUAL_ADJUSTMENT", -7334857)]


def test_a_claim_without_lines_that_does_not_balance_is_refused():
    path = next(p for p in x12_samples("X221") if "sent-together" in p.name)
    r = matched(path.read_text())[0]
    r["total_paid_cents"] += 1
    assert any("no service lines" in reason for reason in validate_remittance(r))


def _reversal_of(c: dict) -> dict:
    neg = {**c, "claim_status": "22", "lines": [
        {**ln, "charge_cents": -ln["charge_cents"], "paid_cents": -ln["paid_cents"],
         "adjustments": [{**a, "amount_cents": -a["amount_cents"]} for a in ln["adjustments"]]}
        for ln in c["lines"]],
        "claim_adjustments": [{**a, "amount_cents": -a["amount_cents"]}
                              for a in c["claim_adjustments"]]}
    for k in ("total_charge_cents", "total_paid_cents", "patient_responsibility_cents"):
        neg[k] = -c[k]
    return neg


def test_a_reversal_posts_as_a_reversal_and_restores_the_balance():
    original = claim(claim_adjustments=[adj("OA", "23", 400)])
    corrected = claim()
    r_orig, r_rev, r_corr = matched(a_check([original, _reversal_of(original), corrected]))
    assert validate_remittance(r_rev) == []
    first, back = entries_for_remittance(r_orig), entries_for_remittance(r_rev)
    assert deltas(first) == (-(20500 - 6000), 2000)  # the CO-50 line stays open (denied)
    assert deltas(back) == (20500 - 6000, -2000)  # everything the original closed reopens
    pays = [e for e in back if e["kind"] == "PAYER_PAYMENT"]
    assert pays and all(e["reason"] == "REVERSAL" for e in pays)
    assert sum(e["insurance_delta_cents"] for e in pays) == r_orig["total_paid_cents"] == 8600
    assert {e["event_id"] for e in first}.isdisjoint({e["event_id"] for e in back})
    assert deltas(entries_for_remittance(r_corr)) == (-(20500 - 6000), 2000)


def test_a_reversal_with_positive_amounts_is_refused():
    r = matched(a_check([claim()]))[0]
    r["claim_status"] = "22"
    reasons = validate_remittance(r)
    assert any("reversal" in reason for reason in reasons)


def test_negative_amounts_outside_a_reversal_are_still_refused():
    r = matched(a_check([_reversal_of(claim())]))[0]
    r["claim_status"] = "1"
    assert any("negative paid" in reason for reason in validate_remittance(r))
