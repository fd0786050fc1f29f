"""`rcm report`: the revenue-cycle KPIs of one event-time day and the A/R aging, from PostgreSQL.

The KPIs are kpi_values(day) (sinks/postgres/views/50_kpis.sql): the same SQL, on the same event
time, as the `kpis` topic, named and explained by sinks.postgres.kpi_catalog. The day is --as-of,
or else the latest day with events (kpi_event_day()), never the wall clock.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from decimal import Decimal

import psycopg2

from infra.money import money
from sinks.postgres.kpi_catalog import BY_NAME, CATALOG

BUCKETS = ("0-30", "31-60", "61-90", "91-120", ">120")
WINDOWS = ("DAILY", "ROLLING_30D")

KPI_SQL = ("SELECT kpi, time_window, numerator, denominator, value, unit FROM kpi_values(%(day)s)"
           " ORDER BY kpi, time_window")
STAGES_SQL = "SELECT stage, items, cents FROM kpi_stage_dollars_as_of(%(day)s)"
# Aging totals by payer and by responsibility, from date of service or from last activity.
AGING_SQL = {
    "service": "SELECT * FROM ar_aging_summary_as_of(%(day)s)",
    "activity": """SELECT payer_id, responsibility, bucket, count(DISTINCT account_id),
                         sum(open_cents)::bigint AS open_cents
                    FROM ar_aging_by_activity_as_of(%(day)s)
                   GROUP BY GROUPING SETS ((payer_id, bucket), (responsibility, bucket))""",
}


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _kpis(rows: list[dict]) -> dict[str, dict]:
    """kpi_values rows as {kpi: {hfma, definition, unit, DAILY: {...}, ROLLING_30D: {...}}}."""
    out: dict[str, dict] = {}
    for r in rows:
        if r["kpi"].startswith("stage_dollars."):
            continue  # shown as the stage table
        k = BY_NAME[r["kpi"]]
        entry = out.setdefault(k.name, {"hfma": k.hfma, "unit": k.unit,
                                        "definition": f"{k.numerator} / {k.denominator}"})
        entry[r["time_window"]] = {"numerator": r["numerator"], "denominator": r["denominator"],
                                   "value": r["value"]}
    return out


def collect(dsn: str, as_of: date | None = None, aged_from: str = "service") -> dict:
    """Every KPI of the day (kpi_values) and the aging tables, as plain JSON values. Money stays
    integer cents; rates and days are numbers. A/R is aged from the date of service, or from the
    account's last activity with aged_from="activity"."""
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            if as_of is None:
                cur.execute("SELECT kpi_event_day()")
                as_of = cur.fetchone()[0] or date.today()  # an empty database has no event day

            def rows(sql: str) -> list[dict]:
                cur.execute(sql, {"day": as_of})
                names = [d.name for d in cur.description]
                return [{n: _plain(v) for n, v in zip(names, r, strict=True)} for r in cur.fetchall()]

            kpis = _kpis(rows(KPI_SQL))
            summary = rows(AGING_SQL[aged_from])
            stages = rows(STAGES_SQL)
    finally:
        conn.close()
    return {"as_of": as_of.isoformat(), "kpis": kpis, "stage_dollars": stages,
            "aging": {"aged_from": aged_from, "buckets": list(BUCKETS), **aging_tables(summary)}}


def aging_tables(summary: list[dict]) -> dict[str, dict]:
    """ar_aging_summary_as_of's rows as two tables of open cents per bucket: by responsibility and
    by payer (a row of the payer grouping set has no responsibility). Payers sort by id; a row
    without a payer (the tables' payer_id is NOT NULL, so none is expected) sorts last."""
    by_resp: dict[str | None, dict[str, int]] = {}
    by_payer: dict[str | None, dict[str, int]] = {}
    for r in summary:
        table, key = (by_payer, r["payer_id"]) if r["responsibility"] is None \
            else (by_resp, r["responsibility"])
        table.setdefault(key, dict.fromkeys(BUCKETS, 0))[r["bucket"]] = int(r["open_cents"])
    return {"by_responsibility": dict(sorted(by_resp.items())),
            "by_payer": dict(sorted(by_payer.items(), key=lambda kv: (kv[0] is None, kv[0] or "")))}


def value_text(unit: str, part: dict | None) -> str:
    if part is None or part["value"] is None:
        return "n/a"
    if unit == "RATIO":
        return f"{part['value'] * 100:.1f}%"
    return f"{part['value']:.1f} days"


# KPIs whose numerator and denominator are cents (the others count claims).
CENTS_PARTS = frozenset({"remittance_denial_rate_dollars", "net_collection_rate", "net_days_in_ar",
                         "aged_ar_over_90_rate", "dnfb_days", "fbns_days", "dnsp_days"})


def parts_text(name: str, part: dict | None) -> str:
    if part is None:
        return ""
    if name in CENTS_PARTS:
        return f"{money(part['numerator'])} / {money(part['denominator'])}"
    return f"{part['numerator']}/{part['denominator']}"


def _kpi_lines(kpis: dict[str, dict]) -> list[str]:
    lines = [f"  {'KPI':<32}{'day':>10}{'30 days':>10}  parts (30 days, else the day)"]
    for k in CATALOG:
        got = kpis.get(k.name)
        if got is None:
            continue
        day, month = got.get("DAILY"), got.get("ROLLING_30D")
        lines.append(f"  {k.name:<32}{value_text(k.unit, day):>10}{value_text(k.unit, month):>10}  "
                     f"{parts_text(k.name, month or day)}"
                     + (f"  [HFMA: {k.hfma}]" if k.hfma else ""))
    return lines


def render(report: dict) -> str:
    lines = [f"Revenue cycle on {report['as_of']} (event time; the same values as the kpis topic)",
             "", *_kpi_lines(report["kpis"]),
             "", "Dollars waiting in each stage",
             *(f"  {s['stage']:<24}{money(s['cents']):>14}  {s['items']}"
               for s in report.get("stage_dollars", [])),
             "", "A/R aging (days from " + ("last activity" if report["aging"]["aged_from"] ==
                                           "activity" else "date of service") + ")"]
    head = f"  {'':<20}" + "".join(f"{b:>14}" for b in BUCKETS) + f"{'total':>14}"
    aging = report["aging"]
    for title, table in (("by responsibility", aging["by_responsibility"]),
                         ("by payer", aging["by_payer"])):
        lines += [f" {title}", head]
        for key, cents in table.items():
            lines.append(f"  {key or '(no payer)':<20}" + "".join(f"{money(cents[b]):>14}" for b in BUCKETS)
                         + f"{money(sum(cents.values())):>14}")
        if not table:
            lines.append("  (no open A/R)")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--as-of", type=date.fromisoformat, default=None,
                        help="the event-time day YYYY-MM-DD (default: the latest day with events)")
    parser.add_argument("--by-activity", action="store_true",
                        help="age A/R from each account's last ledger entry, not the date of service")


def cmd_report(args: argparse.Namespace) -> int:
    from infra.settings import load

    dsn = load().report_dsn  # reads only: rcm_report, which cannot write (migration 0027)
    try:
        report = collect(dsn, args.as_of, "activity" if getattr(args, "by_activity", False)
                         else "service")
    except psycopg2.Error as failure:
        print(f"rcm report: cannot read PostgreSQL ({failure}); is it running (rcm up)?",
              file=sys.stderr)
        return 1
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0
