"""`rcm report`: the A/R aging and revenue-cycle KPI dashboard, read from the PostgreSQL views."""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from decimal import Decimal

import psycopg2

from infra.report import money

BUCKETS = ("0-30", "31-60", "61-90", "91-120", ">120")

# name -> (SQL returning one row, one-line definition). %(as_of)s is the report date.
KPIS: dict[str, tuple[str, str]] = {
    "clean_claim_rate": ("SELECT * FROM kpi_clean_claim_rate",
                         "claims CLEAN at their first build / claims built"),
    "first_pass_acceptance": ("SELECT * FROM kpi_first_pass_acceptance",
                              ("claims whose first front-end acknowledgement (277CA, or a 999 "
                               "set rejection) accepted them / acknowledged claims")),
    "denial_rate": ("SELECT * FROM kpi_denial_rate",
                    "claims with a denial / remitted claims; denied $ / charges of remitted claims"),
    "first_pass_resolution": ("SELECT * FROM kpi_first_pass_resolution",
                              "claims settled by their first remittance / remitted claims"),
    "net_collection_rate": ("SELECT * FROM kpi_net_collection_rate",
                            "payments net of refunds / (charges - contractual adjustments)"),
    "days_in_ar": ("SELECT * FROM kpi_days_in_ar_as_of(%(as_of)s)",
                   "open A/R / average daily net charges of the last 90 days"),
    "ar_over_90": ("SELECT * FROM kpi_ar_over_90_as_of(%(as_of)s)",
                   "open A/R aged > 90 days from service / open A/R"),
    "last_30_days": ("""SELECT coalesce(sum(claims_built), 0)::bigint AS claims_built,
                              coalesce(sum(clean), 0)::bigint AS clean,
                              round(sum(clean)::numeric / nullif(sum(claims_built), 0), 4)
                                  AS clean_claim_rate,
                              coalesce(sum(remitted_claims), 0)::bigint AS remitted_claims,
                              coalesce(sum(denied_claims), 0)::bigint AS denied_claims,
                              round(sum(denied_claims)::numeric / nullif(sum(remitted_claims), 0),
                                    4) AS denial_rate
                         FROM kpi_daily_claim_rates
                        WHERE day > %(as_of)s::date - 30 AND day <= %(as_of)s""",
                     "clean claim rate and initial denial rate of the 30 days ending on the date"),
    "time_to_bill": ("SELECT * FROM kpi_time_to_bill",
                     "average days from last service date to claim built / to 837 sent"),
    "dnfb": ("SELECT * FROM kpi_dnfb_as_of(%(as_of)s)",
             ("gross $ discharged with no claim built (DNFB), built not submitted (FBNS) / "
              "average daily gross charges of the last 90 days")),
}
STAGES_SQL = "SELECT stage, items, cents FROM kpi_stage_dollars_as_of(%(as_of)s)"


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


# Aging totals by payer and by responsibility, from date of service or from last activity.
AGING_SQL = {
    "service": "SELECT * FROM ar_aging_summary_as_of(%(as_of)s)",
    "activity": """SELECT payer_id, responsibility, bucket, count(DISTINCT account_id),
                         sum(open_cents)::bigint AS open_cents
                    FROM ar_aging_by_activity_as_of(%(as_of)s)
                   GROUP BY GROUPING SETS ((payer_id, bucket), (responsibility, bucket))""",
}


def collect(dsn: str, as_of: date | None = None, aged_from: str = "service") -> dict:
    """Every KPI row and the aging tables as of a date (today by default), as plain JSON values.
    Money stays integer cents; rates and days are numbers. A/R is aged from the date of service,
    or from the account's last activity with aged_from="activity"."""
    as_of = as_of or date.today()
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            def rows(sql: str) -> list[dict]:
                cur.execute(sql, {"as_of": as_of})
                names = [d.name for d in cur.description]
                return [{n: _plain(v) for n, v in zip(names, r, strict=True)} for r in cur.fetchall()]

            kpis = {name: {"definition": definition, **rows(sql)[0]}
                    for name, (sql, definition) in KPIS.items()}
            summary = rows(AGING_SQL[aged_from])
            stages = rows(STAGES_SQL)
    finally:
        conn.close()
    by_resp: dict[str, dict[str, int]] = {}
    by_payer: dict[str, dict[str, int]] = {}
    for r in summary:
        table, key = (by_payer, r["payer_id"]) if r["responsibility"] is None \
            else (by_resp, r["responsibility"])
        table.setdefault(key, dict.fromkeys(BUCKETS, 0))[r["bucket"]] = int(r["open_cents"])
    return {"as_of": as_of.isoformat(), "kpis": kpis, "stage_dollars": stages,
            "aging": {"aged_from": aged_from, "buckets": list(BUCKETS),
                      "by_responsibility": dict(sorted(by_resp.items())),
                      "by_payer": dict(sorted(by_payer.items()))}}


def _rate(value) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _days(value) -> str:
    return "n/a" if value is None else f"{value:.1f} days"


def render(report: dict) -> str:
    k = report["kpis"]
    c, f, d, n = k["clean_claim_rate"], k["first_pass_acceptance"], k["denial_rate"], \
        k["net_collection_rate"]
    a, o, t = k["days_in_ar"], k["ar_over_90"], k["time_to_bill"]
    r, m, b = k["first_pass_resolution"], k["last_30_days"], k["dnfb"]
    lines = [
        f"Revenue cycle as of {report['as_of']}", "",
        (f"  clean claim rate       {_rate(c['rate']):>10}  {c['clean']}/{c['claims_built']}; "
        f"{c['definition']}"),
        (f"  first-pass acceptance  {_rate(f['rate']):>10}  {f['accepted_first_pass']}/{f['claims']}; "
        f"{f['definition']}"),
        (f"  initial denial rate    {_rate(d['rate_by_count']):>10}  {d['denied_claims']}/"
        f"{d['remitted_claims']} claims, {_rate(d['rate_by_dollars'])} of "
        f"{money(d['remitted_charge_cents'])}; {d['definition']}"),
        (f"  first-pass resolution  {_rate(r['rate']):>10}  {r['resolved_first_pass']}/"
         f"{r['remitted_claims']}; {r['definition']}"),
        (f"  last 30 days           {_rate(m['clean_claim_rate']):>10}  clean ({m['clean']}/"
         f"{m['claims_built']}), {_rate(m['denial_rate'])} denied ({m['denied_claims']}/"
         f"{m['remitted_claims']}); {m['definition']}"),
        (f"  net collection rate    {_rate(n['rate']):>10}  {money(n['payments_cents'])} / "
        f"({money(n['charges_cents'])} - {money(n['contractual_cents'])}); {n['definition']}"),
        (f"  net days in A/R        {_days(a['days_in_ar']):>10}  {money(a['open_ar_cents'])} open, "
        f"{money(a['net_charges_90d_cents'])} net charges in 90 days; {a['definition']}"),
        (f"  A/R over 90 days       {_rate(o['share']):>10}  {money(o['over_90_cents'])} of "
        f"{money(o['open_cents'])}; {o['definition']}"),
        (f"  time to bill           {_days(t['avg_days_to_build']):>10}  to build "
        f"({t['claims_built']} claims), {_days(t['avg_days_to_send'])} to 837 "
        f"({t['claims_sent']} sent); {t['definition']}"),
        (f"  DNFB days              {_days(b['dnfb_days']):>10}  {money(b['dnfb_cents'])} in "
         f"{b['dnfb_encounters']} encounters; FBNS {_days(b['fbns_days'])} ({money(b['fbns_cents'])}"
         f" in {b['fbns_claims']} claims); DNSP {_days(b['dnsp_days'])}; {b['definition']}"),
        "", "Dollars waiting in each stage",
        *(f"  {s['stage']:<24}{money(s['cents']):>14}  {s['items']}"
          for s in report.get("stage_dollars", [])),
        "", "A/R aging (days from " + ("last activity" if report["aging"]["aged_from"] == "activity"
                                      else "date of service") + ")",
    ]
    head = f"  {'':<20}" + "".join(f"{b:>14}" for b in BUCKETS) + f"{'total':>14}"
    aging = report["aging"]
    for title, table in (("by responsibility", aging["by_responsibility"]),
                         ("by payer", aging["by_payer"])):
        lines += [f" {title}", head]
        for key, cents in table.items():
            lines.append(f"  {key:<20}" + "".join(f"{money(cents[b]):>14}" for b in BUCKETS)
                         + f"{money(sum(cents.values())):>14}")
        if not table:
            lines.append("  (no open A/R)")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--as-of", type=date.fromisoformat, default=None,
                        help="age A/R and compute days in A/R as of YYYY-MM-DD (default today)")
    parser.add_argument("--by-activity", action="store_true",
                        help="age A/R from each account's last ledger entry, not the date of service")


def cmd_report(args: argparse.Namespace) -> int:
    from infra.settings import load

    dsn = load().dsn
    try:
        report = collect(dsn, args.as_of, "activity" if getattr(args, "by_activity", False)
                         else "service")
    except psycopg2.Error as failure:
        print(f"rcm report: cannot read PostgreSQL ({failure}); is it running (rcm up)?",
              file=sys.stderr)
        return 1
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0
