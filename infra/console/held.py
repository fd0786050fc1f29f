"""Held claims: each with its edits and its versions (a rebuilt claim shows as a new version)."""
from __future__ import annotations

from infra.console.web import Ctx, page


@page("held")
def queue(ctx: Ctx):
    rows = ctx.db.rows("""select claim_id, account_id, encounter_id, payer_id, claim_type,
                                 total_charge_cents, edits, built_at, days_since_service
                          from held_claims order by built_at, claim_id limit 200""")
    return ctx.render("held.html", rows=rows)


@page("held")
def claim(ctx: Ctx):
    claim_id = ctx.request.path_params["claim_id"]
    row = ctx.db.one("""select claim_id, account_id, encounter_id, payer_id, plan_type, claim_type,
                               status, total_charge_cents, edits, lines, diagnosis_codes,
                               service_start, service_end, built_at
                        from claims where claim_id = %s""", (claim_id,))
    if row is None:
        return ctx.render("error.html", 404, message="No such claim.", back="/held")
    versions = ctx.db.rows("""select version, frequency_code, status, total_charge_cents, built_at
                              from claim_versions where claim_id = %s order by version""",
                           (claim_id,))
    ctx.audit("view_claim", claim_id)
    return ctx.render("claim.html", claim=row, versions=versions)
