"""KPIs and A/R: the dashboard of infra.kpis (one definition each) with charts (Chart.js) and CSV
export of every table. Aggregates only: no account-level rows."""
from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

from starlette.responses import Response

from infra.console.web import Ctx, page

# Each day's clean-claim and denial rates from kpi_flow_window, the one definition of both KPIs.
DAILY_SQL = """
    with days as (
        select generate_series(min((built_at at time zone 'UTC')::date), kpi_event_day(),
                               interval '1 day')::date as day
          from claim_versions)
    select days.day,
           max(w.denominator) filter (where w.kpi = 'clean_claim_rate') as claims_built,
           max(w.numerator) filter (where w.kpi = 'clean_claim_rate') as clean,
           max(w.value) filter (where w.kpi = 'clean_claim_rate') as clean_claim_rate,
           max(w.denominator) filter (where w.kpi = 'remittance_denial_rate') as remitted_claims,
           max(w.numerator) filter (where w.kpi = 'remittance_denial_rate') as denied_claims,
           max(w.value) filter (where w.kpi = 'remittance_denial_rate') as denial_rate
      from days cross join lateral kpi_flow_window(days.day, days.day) w
     group by days.day order by days.day"""
CATEGORY_SQL = """select category, count(*) as denials, sum(amount_cents)::bigint as amount_cents
                  from denials group by category order by sum(amount_cents) desc, category"""


def _collect(ctx: Ctx) -> dict:
    from infra import kpis

    report = kpis.collect(ctx.settings.console_dsn)
    report["daily"] = ctx.db.rows(DAILY_SQL)
    report["categories"] = ctx.db.rows(CATEGORY_SQL)
    return report


WINDOWS = ("DAILY", "ROLLING_30D")


def kpi_rows(report: dict) -> list[dict]:
    """The KPI table as `rcm report` shows it: the day's and the 30 days' value, and the parts of
    the 30 days (else the day), money in dollars."""
    from infra.kpis import parts_text, value_text

    return [{"name": name, "hfma": k["hfma"], "definition": k["definition"],
             "day": value_text(k["unit"], k.get("DAILY")),
             "month": value_text(k["unit"], k.get("ROLLING_30D")) if "ROLLING_30D" in k else "",
             "parts": parts_text(name, k.get("ROLLING_30D") or k.get("DAILY"))}
            for name, k in report["kpis"].items()]


def tables(report: dict) -> dict[str, tuple[list[str], list[list]]]:
    """Every exportable table: name -> (header, rows). Money in cents, rates as fractions."""
    buckets = report["aging"]["buckets"]
    kpi_rows = [[name, window, k[window]["numerator"], k[window]["denominator"],
                 k[window]["value"], k["unit"], k["definition"]]
                for name, k in report["kpis"].items() for window in WINDOWS if window in k]
    return {
        "kpis": (["kpi", "window", "numerator", "denominator", "value", "unit", "definition"],
                 kpi_rows),
        "ar_aging_by_responsibility": (["responsibility", *buckets],
                                       [[r, *(v[b] for b in buckets)] for r, v in
                                        report["aging"]["by_responsibility"].items()]),
        "ar_aging_by_payer": (["payer_id", *buckets],
                              [[p, *(v[b] for b in buckets)] for p, v in
                               report["aging"]["by_payer"].items()]),
        "daily_claim_rates": (["day", "claims_built", "clean", "clean_claim_rate",
                               "remitted_claims", "denied_claims", "denial_rate"],
                              [[r[k] for k in ("day", "claims_built", "clean", "clean_claim_rate",
                                               "remitted_claims", "denied_claims", "denial_rate")]
                               for r in report["daily"]]),
        "denials_by_category": (["category", "denials", "amount_cents"],
                                [[r["category"], r["denials"], r["amount_cents"]]
                                 for r in report["categories"]]),
        "stage_dollars": (["stage", "items", "cents"],
                          [[r["stage"], r["items"], r["cents"]] for r in report["stage_dollars"]]),
    }


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    return value.isoformat() if hasattr(value, "isoformat") else value


def charts(report: dict) -> dict:
    """The charts' data. Money series are integer cents, as the database has them: the page's
    script shows them as dollars only in the axis ticks and tooltips (console.js `dollars`)."""
    buckets = report["aging"]["buckets"]
    return {
        "aging": {"labels": buckets, "series": {
            r: [v[b] for b in buckets]
            for r, v in report["aging"]["by_responsibility"].items()}},
        "payers": {"labels": list(report["aging"]["by_payer"]), "buckets": buckets,
                   "series": {b: [v[b] for v in report["aging"]["by_payer"].values()]
                              for b in buckets}},
        "daily": {"labels": [r["day"].isoformat() for r in report["daily"]],
                  "clean": [_percent(r["clean_claim_rate"]) for r in report["daily"]],
                  "denial": [_percent(r["denial_rate"]) for r in report["daily"]]},
        "categories": {"labels": [r["category"] for r in report["categories"]],
                       "counts": [r["denials"] for r in report["categories"]]},
    }


def _percent(rate: Decimal | None) -> str | None:
    """A rate (a fraction, numeric in PostgreSQL) as an exact percentage string for a chart."""
    return None if rate is None else format(rate * 100, "f")


@page("kpis")
def dashboard(ctx: Ctx):
    report = _collect(ctx)
    return ctx.render("kpis.html", report=report, kpis=kpi_rows(report), tables=tables(report),
                      chart_json=json.dumps(charts(report)))


@page("kpis")
def export(ctx: Ctx):
    name = ctx.request.path_params["name"]
    found = tables(_collect(ctx)).get(name)
    if found is None:
        return ctx.render("error.html", 404, message="No such table.", back="/kpis")
    header, rows = found
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([[_plain(v) for v in row] for row in rows])
    ctx.audit("export_csv", name)
    return Response(out.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"',
                             "Cache-Control": "no-store"})
