"""Coding review: the queue (oldest first), one encounter, the code picker, the decision.

A decision publishes a CodingDecision on `coding-decisions`. The row stays in the queue until the
pipeline released the encounter (the `coding_review_queue` view drops it once it is coded).
"""
from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from starlette.responses import RedirectResponse

from infra.console import actions, codes
from infra.console.web import Ctx, new_action_id, page

CLASSES = ("OFFICE", "EMERGENCY", "OUTPATIENT", "INPATIENT")


@page("coding")
def queue(ctx: Ctx):
    payer = ctx.request.query_params.get("payer", "").strip()
    klass = ctx.request.query_params.get("class", "").strip().upper()
    rows = ctx.db.rows("""select review_id, encounter_id, payer_id, encounter_class,
                                 total_charge_cents, cardinality(reasons) as reasons, requested_at
                          from coding_review_queue
                          where (%(payer)s = '' or payer_id = %(payer)s)
                            and (%(class)s = '' or encounter_class = %(class)s)
                          order by requested_at, review_id limit 200""",
                       {"payer": payer, "class": klass})
    payers = [r["payer_id"] for r in ctx.db.rows(
        "select distinct payer_id from coding_review_queue order by 1")]
    return ctx.render("coding_queue.html", rows=rows, payer=payer, klass=klass, payers=payers,
                      classes=CLASSES)


def _review(ctx: Ctx, review_id: str) -> dict | None:
    return ctx.db.one("""select r.review_id, r.encounter_id, r.account_id, r.payer_id,
                                r.encounter_class, r.total_charge_cents, r.reasons, r.suggestions,
                                r.requested_at, r.patient_age, r.patient_sex, r.date_of_service,
                                exists (select 1 from coding_review_queue q
                                        where q.review_id = r.review_id) as open
                         from coding_review r where r.review_id = %s""", (review_id,))


def suggested_codes(review: dict) -> list[str]:
    out: list[str] = []
    for s in sorted(review["suggestions"], key=lambda s: s["sequence"]):
        for code in (s.get("code"), *(s.get("also") or [])):
            if code and code not in out:
                out.append(code)
    return out


@page("coding")
def review(ctx: Ctx):
    review_id = ctx.request.path_params["review_id"]
    row = _review(ctx, review_id)
    if row is None:
        return ctx.render("error.html", 404, message="No such coding review.")
    return _form(ctx, row, " ".join(suggested_codes(row)), [], new_action_id())


def _form(ctx: Ctx, row: dict, codes_text: str, errors: list[str], action_id: str, status=200):
    pending = ctx.db.one("""select event_id from console_audit where action = 'coding_decision'
                            and target = %s and outcome = 'published' order by at desc limit 1""",
                         (row["encounter_id"],))
    return ctx.render("coding_review.html", status, review=row, codes_text=codes_text,
                      errors=errors, action_id=action_id, check_query=check_query(row),
                      pending=pending["event_id"] if pending else None)


@page("coding")
def decide(ctx: Ctx):
    review_id = ctx.request.path_params["review_id"]
    row = _review(ctx, review_id)
    if row is None:
        return ctx.render("error.html", 404, message="No such coding review.")
    text = str(ctx.form.get("codes", ""))
    action_id = str(ctx.form.get("action_id", ""))
    chosen = codes.parse_codes(text)
    errors = codes.problems(chosen, *patient(row))
    if not row["open"]:
        errors.insert(0, "This encounter has already been released.")
    try:
        eid = actions.event_id("coding", action_id)
    except ValueError as exc:
        errors.append(str(exc))
    if errors:
        return _form(ctx, row, text, errors, action_id or new_action_id(), 400)
    now = actions.now()
    record = {"event_id": eid, "encounter_id": row["encounter_id"], "account_id": row["account_id"],
              "coder_id": ctx.user.username, "decided_at": now, "emitted_at": now,
              "diagnoses": [{"sequence": i, "code": codes.coder().dotted(c)}
                            for i, c in enumerate(chosen, 1)],
              "procedures": []}
    try:
        actions.publish(ctx.settings, "coding", record)
    except actions.NotPublished:
        ctx.audit("coding_decision", row["encounter_id"], eid, "undelivered")
        unsent = "The broker did not confirm the decision: nothing was recorded. Submit again."
        return _form(ctx, row, text, [unsent], action_id, 503)
    ctx.audit("coding_decision", row["encounter_id"], eid, "published")
    return RedirectResponse(f"/actions/coding/{eid}", status_code=303)


@page("codes")
def code_search(ctx: Ctx):
    q = ctx.request.query_params.get("q", "")
    age, sex, day = _query_patient(ctx.request.query_params)
    results = [{**r, "problems": codes.fit(r["code"], age, sex, day)} for r in codes.search(q)]
    return ctx.render("code_results.html", results=results, q=q)


def patient(row: dict) -> tuple:
    """(age, sex, date of service) of a review or claim row, for the code checks: unknown ones are
    None / 'U' (reviews requested before the pipeline carried them)."""
    return row.get("patient_age"), row.get("patient_sex") or "U", row.get("date_of_service")


def check_query(row: dict) -> str:
    age, sex, day = patient(row)
    return urlencode({k: v for k, v in (("age", age), ("sex", sex), ("day", day)) if v is not None})


def _query_patient(params) -> tuple:
    """The age, sex and date of service the picker's page put in the check's URL."""
    age, sex, day = params.get("age", ""), params.get("sex", "U"), params.get("day", "")
    try:
        return (int(age) if age.isdigit() else None, sex if sex in ("F", "M") else "U",
                date.fromisoformat(day) if day else None)
    except ValueError:
        return None, "U", None


@page("codes")
def code_check(ctx: Ctx):
    chosen = codes.parse_codes(ctx.request.query_params.get("codes", ""))
    found = codes.problems(chosen, *_query_patient(ctx.request.query_params))
    described = [(codes.coder().dotted(c), codes.describe(c)) for c in chosen]
    return ctx.render("code_check.html", problems=found, described=described)
