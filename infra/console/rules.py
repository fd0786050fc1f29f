"""Scrub rules: the proposals with the denials behind them; accept or reject (ScrubRuleDecision)."""
from __future__ import annotations

from starlette.responses import RedirectResponse

from infra.console import actions
from infra.console.web import Ctx, allowed, new_action_id, page

VERDICTS = ("ACCEPT", "REJECT")


@page("rules")
def proposals(ctx: Ctx):
    rows = ctx.db.rows("""select rule_id, status, payer_id, reason_code, procedure_code, category,
                                 preventable, denial_count, denied_cents, example_claim_ids,
                                 first_denied_on, last_denied_on, decided_by, role, decided_at
                          from scrub_rule_proposals""")
    evidence = {r["rule_id"]: ctx.db.rows(
        """select denial_id, claim_id, category, amount_cents, denied_on, denial_status
           from denial_root_causes where rule_id = %s order by denied_on desc limit 10""",
        (r["rule_id"],)) for r in rows}
    return ctx.render("rules.html", rows=rows, evidence=evidence,
                      action_ids=[new_action_id() for _ in rows],
                      can_decide=allowed(ctx.user.role, "rule_decision"))


@page("rule_decision")
def decide(ctx: Ctx):
    rule_id = str(ctx.form.get("rule_id", ""))
    verdict = str(ctx.form.get("verdict", ""))
    errors = []
    if not ctx.db.one("select 1 from proposed_scrub_rules where rule_id = %s", (rule_id,)):
        errors.append("No such proposed rule.")
    if verdict not in VERDICTS:
        errors.append("Choose accept or reject.")
    try:
        eid = actions.event_id("rule", str(ctx.form.get("action_id", "")))
    except ValueError as exc:
        errors.append(str(exc))
    if errors:
        return ctx.render("error.html", 400, message=" ".join(errors), back="/rules")
    now = actions.now()
    record = {"event_id": eid, "rule_id": rule_id, "decision": verdict,
              "decided_by": ctx.user.username, "role": ctx.user.role.upper(), "decided_at": now,
              "emitted_at": now, "note": None}
    try:
        actions.publish(ctx.settings, "rule", record)
    except actions.NotPublished:
        ctx.audit(f"scrub_rule_{verdict.lower()}", rule_id, eid, "undelivered")
        return ctx.render("error.html", 503, back="/rules",
                          message="The broker did not confirm the decision: send it again.")
    ctx.audit(f"scrub_rule_{verdict.lower()}", rule_id, eid, "published")
    return RedirectResponse(f"/actions/rule/{eid}", status_code=303)
