"""Held claims: each with its edits and its versions, and the coding correction that rebuilds one.

A correction is a CodingDecision on `coding-decisions` that names the claim it corrects
(`corrects_claim_id`): the coding stage codes the encounter again with the chosen codes and the
claim builder builds the claim's next version, scrubbed like any other. The page then shows the
rebuilt claim (a new row in its versions).
"""
from __future__ import annotations

from starlette.responses import RedirectResponse

from infra.console import actions, codes
from infra.console.coding import check_query
from infra.console.web import Ctx, allowed, new_action_id, page


@page("held")
def queue(ctx: Ctx):
    rows = ctx.db.rows("""select claim_id, account_id, encounter_id, payer_id, claim_type,
                                 total_charge_cents, edits, built_at, days_since_service
                          from held_claims order by built_at, claim_id limit 200""")
    return ctx.render("held.html", rows=rows)


def _claim(ctx: Ctx, claim_id: str) -> dict | None:
    return ctx.db.one("""select claim_id, account_id, encounter_id, payer_id, plan_type, claim_type,
                                status, total_charge_cents, edits, lines, diagnosis_codes,
                                service_start, service_end, built_at, version
                         from claims where claim_id = %s""", (claim_id,))


def _patient(ctx: Ctx, claim: dict) -> dict:
    """Age, sex and date of service of the claim's encounter, as last coded (coding needs them)."""
    row = ctx.db.one("""select patient_age, patient_sex,
                               case when encounter_class = 'INPATIENT' then service_end
                                    else service_start end as date_of_service
                        from encounters_coded where encounter_id = %s
                        order by coded_at desc, applied_at desc limit 1""",
                     (claim["encounter_id"],))
    return row or {}


@page("held")
def claim(ctx: Ctx):
    claim_id = ctx.request.path_params["claim_id"]
    row = _claim(ctx, claim_id)
    if row is None:
        return ctx.render("error.html", 404, message="No such claim.", back="/held")
    ctx.audit("view_claim", claim_id)
    return _page(ctx, row, " ".join(row["diagnosis_codes"]), [], new_action_id())


def _page(ctx: Ctx, row: dict, codes_text: str, errors: list[str], action_id: str, status=200):
    versions = ctx.db.rows("""select version, frequency_code, status, total_charge_cents, built_at,
                                     edits
                              from claim_versions where claim_id = %s order by version""",
                           (row["claim_id"],))
    pending = ctx.db.one("""select event_id from console_audit where action = 'claim_correction'
                            and target = %s and outcome = 'published' order by at desc limit 1""",
                         (row["claim_id"],))
    can_correct = row["status"] == "HELD" and allowed(ctx.user.role, "correction")
    patient = _patient(ctx, row) if can_correct else {}
    return ctx.render("claim.html", status, claim=row, versions=versions,
                      can_correct=can_correct, patient=patient, codes_text=codes_text,
                      check_query=check_query(patient), errors=errors, action_id=action_id,
                      pending=pending["event_id"] if pending else None)


@page("correction")
def correct(ctx: Ctx):
    claim_id = ctx.request.path_params["claim_id"]
    row = _claim(ctx, claim_id)
    if row is None:
        return ctx.render("error.html", 404, message="No such claim.", back="/held")
    text = str(ctx.form.get("codes", ""))
    action_id = str(ctx.form.get("action_id", ""))
    chosen = codes.parse_codes(text)
    patient = _patient(ctx, row)
    errors = codes.problems(chosen, patient.get("patient_age"), patient.get("patient_sex") or "U",
                            patient.get("date_of_service"))
    dotted = [codes.coder().dotted(c) for c in chosen]
    if row["status"] != "HELD":
        errors.insert(0, f"This claim is {row['status']}, not held: there is nothing to correct.")
    elif not errors and dotted == list(row["diagnosis_codes"]):
        errors.append("These are the claim's codes already: change at least one.")
    try:
        eid = actions.event_id("recode", action_id)
    except ValueError as exc:
        errors.append(str(exc))
    if errors:
        return _page(ctx, row, text, errors, action_id or new_action_id(), 400)
    now = actions.now()
    record = {"event_id": eid, "encounter_id": row["encounter_id"], "account_id": row["account_id"],
              "coder_id": ctx.user.username, "decided_at": now, "emitted_at": now,
              "diagnoses": [{"sequence": i, "code": c} for i, c in enumerate(dotted, 1)],
              "procedures": [], "corrects_claim_id": claim_id}
    try:
        actions.publish(ctx.settings, "recode", record)
    except actions.NotPublished:
        ctx.audit("claim_correction", claim_id, eid, "undelivered")
        unsent = "The broker did not confirm the correction: nothing was recorded. Submit again."
        return _page(ctx, row, text, [unsent], action_id, 503)
    ctx.audit("claim_correction", claim_id, eid, "published")
    return RedirectResponse(f"/actions/recode/{eid}", status_code=303)
