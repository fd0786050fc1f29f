"""One account: balance and its history (insurance and patient parts), ledger, claims with their
status history, denials and payments; a form posts a patient payment or refund (PaymentReceived).
Every view of an account is audited."""
from __future__ import annotations

from urllib.parse import quote

from starlette.responses import RedirectResponse

from infra.console import actions, money_input
from infra.console.web import Ctx, new_action_id, page

KINDS = ("PAYMENT", "REFUND")
METHODS = ("CASH", "CARD", "CHECK", "ONLINE")


@page("account")
def find(ctx: Ctx):
    account = ctx.request.query_params.get("account", "").strip()
    if account:
        return RedirectResponse(f"/accounts/{quote(account, safe='')}", status_code=303)
    return ctx.render("account_find.html")


def _load(ctx: Ctx, account: str) -> dict | None:
    db = ctx.db
    balance = db.one("select * from account_balances where account_id = %s", (account,))
    if balance is None:
        return None
    ledger = db.rows("""select entry_id, kind, insurance_delta_cents, patient_delta_cents,
                               posted_at, reference, payer_id, reason, source_event_id,
                               sum(insurance_delta_cents) over w as insurance_cents,
                               sum(patient_delta_cents) over w as patient_cents
                        from ledger_entries where account_id = %s
                        window w as (order by posted_at, entry_id)
                        order by posted_at, entry_id""", (account,))
    claims = db.rows("""select claim_id, encounter_id, payer_id, claim_type, status,
                               total_charge_cents, diagnosis_codes, edits, built_at
                        from claims where account_id = %s order by built_at""", (account,))
    history = db.rows("""select h.claim_id, h.status, h.at from claim_status_history h
                         join claims c on c.claim_id = h.claim_id
                         where c.account_id = %s order by h.claim_id, h.at, h.step""", (account,))
    denials = db.rows("""select denial_id, claim_id, category, reason_code, amount_cents,
                                written_off_cents, appeal_deadline, status
                         from denials where account_id = %s order by denied_on, denial_id""",
                      (account,))
    payments = [e for e in ledger if e["kind"] in ("PAYER_PAYMENT", "PATIENT_PAYMENT",
                                                   "PATIENT_REFUND")]
    return {"balance": balance, "ledger": ledger, "claims": claims, "history": history,
            "denials": denials, "payments": payments}


@page("account")
def show(ctx: Ctx):
    account = ctx.request.path_params["account_id"]
    found = _load(ctx, account)
    ctx.audit("view_account", account, outcome="ok" if found else "not_found")
    if found is None:
        return ctx.render("error.html", 404, message="No account with that id has any entries.",
                          back="/accounts")
    return _page(ctx, account, found, [], {})


def _page(ctx: Ctx, account: str, found: dict, errors: list[str], values: dict, status=200):
    return ctx.render("account.html", status, account=account, errors=errors, values=values,
                      can_pay=ctx.user.role in ("biller", "admin"), action_id=new_action_id(),
                      kinds=KINDS, methods=METHODS, **found)


@page("payment")
def pay(ctx: Ctx):
    account = ctx.request.path_params["account_id"]
    found = _load(ctx, account)
    if found is None:
        return ctx.render("error.html", 404, message="No account with that id has any entries.",
                          back="/accounts")
    kind, method = str(ctx.form.get("kind", "")), str(ctx.form.get("method", ""))
    errors = []
    if kind not in KINDS:
        errors.append("Choose payment or refund.")
    if method not in METHODS:
        errors.append("Choose how it was paid.")
    amount = 0
    try:
        amount = money_input.cents(str(ctx.form.get("amount", "")))
    except ValueError as exc:
        errors.append(f"Amount: {exc}.")
    action_id = str(ctx.form.get("action_id", ""))
    try:
        eid = actions.event_id("payment", action_id)
    except ValueError as exc:
        errors.append(str(exc))
    if errors:
        ctx.audit("view_account", account)
        return _page(ctx, account, found, errors, dict(ctx.form), 400)
    now = actions.now()
    record = {"event_id": eid, "payment_id": eid, "account_id": account, "occurred_at": now,
              "emitted_at": now, "kind": kind, "method": method, "amount_cents": amount}
    try:
        actions.publish(ctx.settings, "payment", record)
    except actions.NotPublished:
        ctx.audit("payment", account, eid, "undelivered")
        unsent = "The broker did not confirm the payment: nothing was posted. Send it again."
        return _page(ctx, account, found, [unsent], dict(ctx.form), 503)
    ctx.audit(f"payment_{kind.lower()}", account, eid, "published")
    return RedirectResponse(f"/actions/payment/{eid}", status_code=303)
