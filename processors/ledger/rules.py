"""Balance arithmetic: validate money events and turn them into signed ledger entries.

Each entry carries deltas to the account's insurance part and patient part (positive raises what
is owed). Entry ids derive from the source event id and the position inside it, so a redelivered
source yields the same ids and the sink applies each at most once. Zero-amount entries are not
emitted: they change no balance.

Pure: standard library, schemas, the payer table and the denial rules only.
"""
from __future__ import annotations

from processors.denials.rules import CONTRACTUAL, DENIAL, PATIENT, classify_adjustment
from schemas.accounts import account_id_fault

SELF_PAY = "SELF_PAY"
REVERSAL = "22"  # 835 CLP02: the payer reverses an earlier claim payment
PRIOR_PAYER = "23"  # CARC 23: the impact of earlier payers' adjudication
SECONDARY_CLAIM_SUFFIX = "-S"  # claim id of a secondary claim the pipeline billed: primary id + -S
_ADJUSTMENT_KIND = {
    CONTRACTUAL: "CONTRACTUAL_ADJUSTMENT",
    PATIENT: "TRANSFER_TO_PATIENT",
}


def _account_reasons(account_id: str) -> list[str]:
    # The account id itself stays out of the reason: reasons reach logs and dashboards.
    fault = account_id_fault(account_id)
    return [fault] if fault else []


def validate_remittance(r: dict) -> list[str]:
    """Reasons the remittance cannot be posted; empty when it balances.

    A reversal (claim status 22: the payer takes back an earlier payment) carries the original's
    amounts negated, so its charges and payments must not be positive instead of not negative.
    The claim balances as an 835 does: total paid = line payments - claim-level adjustments, or,
    for a claim paid as a whole (no service lines), charge = paid + claim-level adjustments."""
    reasons = _account_reasons(r["account_id"])
    reversal = r["claim_status"] == REVERSAL
    for ln in r["lines"]:
        n, charge, paid = ln["line"], ln["charge_cents"], ln["paid_cents"]
        adjusted = sum(a["amount_cents"] for a in ln["adjustments"])
        if ln["units"] <= 0:
            reasons.append(f"line {n}: units {ln['units']} is not positive")
        if reversal:
            if charge > 0 or paid > 0:
                reasons.append(f"line {n}: a reversal (claim status 22) with positive amounts")
        else:
            if charge < 0:
                reasons.append(f"line {n}: negative charge {charge}")
            if paid < 0:
                reasons.append(f"line {n}: negative paid {paid}")
        if charge != paid + adjusted:
            reasons.append(f"line {n}: charge {charge} != paid {paid} + adjustments {adjusted}")
    claim_adjusted = sum(a["amount_cents"] for a in r["claim_adjustments"])
    if r["lines"]:
        line_paid = sum(ln["paid_cents"] for ln in r["lines"])
        if r["total_paid_cents"] != line_paid - claim_adjusted:
            reasons.append(f"claim: total paid {r['total_paid_cents']} != sum of line paid "
                           f"{line_paid}" + (f" - claim adjustments {claim_adjusted}"
                                             if claim_adjusted else ""))
    elif r["total_charge_cents"] != r["total_paid_cents"] + claim_adjusted:
        reasons.append(f"claim: charge {r['total_charge_cents']} != paid {r['total_paid_cents']}"
                       f" + claim adjustments {claim_adjusted} (no service lines)")
    if reversal and r["total_paid_cents"] > 0:
        reasons.append("claim: a reversal (claim status 22) with a positive payment")
    return reasons


def validate_payment(p: dict) -> list[str]:
    reasons = _account_reasons(p["account_id"])
    if p["amount_cents"] <= 0:
        reasons.append(f"amount {p['amount_cents']} is not positive")
    return reasons


def _entry(source: dict, suffix: str, kind: str, insurance: int, patient: int, reference: str,
           payer_id: str | None = None, reason: str | None = None) -> dict:
    return {
        "event_id": f"{source['event_id']}:{suffix}",
        "source_event_id": source["event_id"],
        "source_emitted_at": source["emitted_at"],
        "account_id": source["account_id"],
        "kind": kind,
        "insurance_delta_cents": int(insurance),
        "patient_delta_cents": int(patient),
        "posted_at": source["occurred_at"],
        "reference": reference,
        "payer_id": payer_id,
        "reason": reason,
    }


def entries_for_encounter(enc: dict) -> list[dict]:
    """One CHARGE per charge line, owed by insurance unless the patient pays for themselves."""
    self_pay = enc["plan_type"] == SELF_PAY
    entries = []
    for ch in enc["charges"]:
        amount = ch["units"] * ch["unit_price_cents"]
        if amount == 0:
            continue
        entries.append(_entry(enc, f"charge:{ch['line']}", "CHARGE",
                              0 if self_pay else amount, amount if self_pay else 0,
                              enc["encounter_id"], enc["payer_id"]))
    return entries


def entries_for_remittance(r: dict) -> list[dict]:
    """Payer payment per line, then each non-denial adjustment; claim-level adjustments use line 0.

    The claim's payment is its total: what claim-level adjustments take off the line payments (or
    the whole payment of a claim without service lines) posts as a claim-level payment, `paid:0`.
    A reversal (claim status 22) posts the same entries with the signs its amounts carry, so the
    payment and adjustments it takes back reopen the balance; its payments say REVERSAL."""
    reason = "REVERSAL" if r["claim_status"] == REVERSAL else None
    entries = []
    for ln in r["lines"]:
        if ln["paid_cents"]:
            entries.append(_entry(r, f"paid:{ln['line']}", "PAYER_PAYMENT", -ln["paid_cents"], 0,
                                  r["claim_id"], r["payer_id"], reason))
        entries += _adjustment_entries(r, ln["line"], ln["adjustments"])
    unassigned = r["total_paid_cents"] - sum(ln["paid_cents"] for ln in r["lines"])
    if unassigned and (not r["lines"] or r["claim_adjustments"]):
        entries.append(_entry(r, "paid:0", "PAYER_PAYMENT", -unassigned, 0, r["claim_id"],
                              r["payer_id"], reason))
    entries += _adjustment_entries(r, 0, r["claim_adjustments"])
    return entries


def _adjustment_entries(r: dict, line: int, adjustments: list[dict]) -> list[dict]:
    entries = []
    secondary = r["claim_id"].strip().endswith(SECONDARY_CLAIM_SUFFIX)
    for i, adj in enumerate(adjustments):
        group, carc, amount = str(adj["group_code"]), str(adj["reason_code"]), adj["amount_cents"]
        cls = classify_adjustment(group, carc)
        if cls == DENIAL or amount == 0 or (carc.lstrip("0") == PRIOR_PAYER and secondary):
            # A denied amount stays open in insurance until appealed or written off. On the 835 of
            # a secondary claim the pipeline billed, CARC 23 repeats what the primary paid and
            # adjusted: its own 835 posted that, and the secondary holds only the transferred PR.
            continue
        kind = _ADJUSTMENT_KIND.get(cls, "OTHER_ADJUSTMENT")
        entries.append(_entry(r, f"adj:{line}:{i}", kind, -amount, amount if cls == PATIENT else 0,
                              r["claim_id"], r["payer_id"], f"{group}-{carc}"))
    return entries


def entries_for_payment(p: dict) -> list[dict]:
    """A patient payment lowers the patient part; a refund raises it back."""
    amount = p["amount_cents"]
    if p["kind"] == "REFUND":
        return [_entry(p, "payment", "PATIENT_REFUND", 0, amount, p["payment_id"])]
    return [_entry(p, "payment", "PATIENT_PAYMENT", 0, -amount, p["payment_id"])]


def entries_for_write_off(step: dict, payer_id: str, reason: str) -> list[dict]:
    """A denied amount the hospital gives up (an accepted WRITTEN_OFF step of the appeal stage)
    leaves open insurance; the patient owes none of it."""
    source = {"event_id": step["event_id"], "emitted_at": step["source_emitted_at"],
              "account_id": step["account_id"], "occurred_at": step["occurred_at"]}
    return [_entry(source, "writeoff", "DENIAL_WRITE_OFF", -step["amount_cents"], 0,
                   step["claim_id"], payer_id, reason)]


def journals(entries: list[dict]) -> list[dict]:
    """Pack flat entries into one LedgerEntriesPosted record per source event, in order.

    One record per source event keeps the entries of a remittance together on the wire (and costs
    a fraction of a record per entry); each entry keeps its own id for the sink's idempotency.
    """
    packed: dict[str, dict] = {}
    for e in entries:
        j = packed.get(e["source_event_id"])
        if j is None:
            j = packed[e["source_event_id"]] = {
                "event_id": f"{e['source_event_id']}:ledger", "source_event_id": e["source_event_id"],
                "source_emitted_at": e["source_emitted_at"], "account_id": e["account_id"],
                "posted_at": e["posted_at"], "reference": e["reference"], "payer_id": e["payer_id"],
                "entries": [],
            }
        j["entries"].append({"entry_id": e["event_id"], "kind": e["kind"],
                             "insurance_delta_cents": e["insurance_delta_cents"],
                             "patient_delta_cents": e["patient_delta_cents"], "reason": e["reason"]})
    return list(packed.values())
