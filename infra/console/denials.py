"""Denials: the work queue (nearest deadline first, by owner queue) with each denial's root cause,
and the appeal steps (file, overturned, upheld, write off), each an AppealEvent on `appeals`."""
from __future__ import annotations

from starlette.responses import RedirectResponse

from infra.console import actions, money_input
from infra.console.web import Ctx, allowed, new_action_id, page

STEPS = {"FILED": "File appeal", "OVERTURNED": "Record overturned", "UPHELD": "Record upheld",
         "WRITTEN_OFF": "Write off"}


@page("denials")
def queue(ctx: Ctx):
    owner = ctx.request.query_params.get("queue", "").strip()
    rows = ctx.db.rows("""select q.owner_queue, q.denial_id, q.claim_id, q.account_id, q.payer_id,
                                 q.category, q.reason_code, q.preventable, q.open_cents,
                                 q.appeal_deadline, q.days_left, q.status,
                                 r.diagnosis_codes, r.procedure_codes, r.claim_status,
                                 r.claim_edits, r.coded_by, r.coder_id
                          from denial_work_queue q
                          left join denial_root_causes r on r.denial_id = q.denial_id
                          where (%(q)s = '' or q.owner_queue = %(q)s)
                          order by q.appeal_deadline, q.open_cents desc, q.denial_id
                          limit 200""", {"q": owner})
    queues = ctx.db.rows("select owner_queue, open_denials, open_cents, due_within_7_days "
                         "from denial_queue_summary")
    return ctx.render("denials.html", rows=rows, queues=queues, owner=owner,
                      can_act=allowed(ctx.user.role, "appeal"),
                      action_ids=[new_action_id() for _ in rows], steps=STEPS)


@page("appeal")
def step(ctx: Ctx):
    denial_id = ctx.request.path_params["denial_id"]
    action = str(ctx.form.get("action", ""))
    den = ctx.db.one("select denial_id, claim_id, account_id, amount_cents from denials "
                     "where denial_id = %s", (denial_id,))
    errors = []
    if den is None:
        errors.append("No such denial.")
    if action not in STEPS:
        errors.append("Choose one of: " + ", ".join(STEPS.values()) + ".")
    amount = None
    if action == "WRITTEN_OFF" and str(ctx.form.get("amount", "")).strip():
        try:
            amount = money_input.cents(str(ctx.form["amount"]))
        except ValueError as exc:
            errors.append(str(exc))
    reference = str(ctx.form.get("reference", "")).strip()[:50] or None
    try:
        eid = actions.event_id("appeal", str(ctx.form.get("action_id", "")))
    except ValueError as exc:
        errors.append(str(exc))
    if errors:
        return ctx.render("error.html", 400, message=" ".join(errors), back="/denials")
    now = actions.now()
    record = {"event_id": eid, "account_id": den["account_id"], "occurred_at": now,
              "emitted_at": now, "action": action, "claim_id": den["claim_id"],
              "denial_id": denial_id, "partition": None, "amount_cents": amount,
              "reference": reference, "reason_code": None}
    try:
        actions.publish(ctx.settings, "appeal", record)
    except actions.NotPublished:
        ctx.audit(f"appeal_{action.lower()}", denial_id, eid, "undelivered")
        return ctx.render("error.html", 503, back="/denials",
                          message="The broker did not confirm the step: nothing was recorded. "
                                  "Send it again (it is safe).")
    ctx.audit(f"appeal_{action.lower()}", denial_id, eid, "published")
    return RedirectResponse(f"/actions/appeal/{eid}", status_code=303)
