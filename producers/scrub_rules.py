"""`rcm rules`: the proposed scrub rules (from PostgreSQL) and a person's decision on one.

`rcm rules list` reads `scrub_rule_proposals`; `rcm rules accept|reject RULE_ID` publishes a
ScrubRuleDecision on `scrub-rule-decisions` for the processor to apply. A rule id that is not in
the list is refused (a typo would otherwise wait in the processor for a proposal that never comes);
`--force` publishes it anyway, for a rule decided ahead of its proposal. A producer: it reads
PostgreSQL only to list, and acts only by publishing the decision (the processor applies it).
"""
from __future__ import annotations

import getpass
import json
import sys
from datetime import UTC, datetime

from infra.money import money
from infra.report import query
from schemas import topics as T

STATUSES = ("PROPOSED", "ACTIVE", "REJECTED")
_COLUMNS = ("rule_id", "status", "category", "preventable", "denial_count", "denied_cents",
            "proposed_at", "decided_by", "role", "decided_at")


def add_arguments(parser, name: str) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    ls = sub.add_parser("list", help="proposed scrub rules, undecided first, the most money first")
    ls.add_argument("--status", choices=STATUSES, default=None, help="only rules in this status")
    ls.add_argument("--json", action="store_true", help="one JSON object per line (cents as integers)")
    for verb in ("accept", "reject"):
        p = sub.add_parser(verb, help=f"{verb} a proposed rule (publishes on scrub-rule-decisions)")
        p.add_argument("rule_id", help="payer/reason/procedure, as `rcm rules list` shows it")
        p.add_argument("--by", default=None, help="your staff id (default: the login name)")
        p.add_argument("--role", default="BILLING_MANAGER", help="your role (default BILLING_MANAGER)")
        p.add_argument("--note", default=None, help="why, in a sentence")
        p.add_argument("--force", action="store_true",
                       help="publish even when the rule is not among the proposals")


def proposals(dsn: str, status: str | None = None) -> list[dict]:
    rows = query(dsn, f"select {', '.join(_COLUMNS)} from scrub_rule_proposals"
                      + (" where status = %s" if status else ""), (status,) if status else ())
    return [dict(zip(_COLUMNS, row)) for row in rows]


def render(rows: list[dict]) -> str:
    if not rows:
        return "no proposed scrub rules"
    table = [("rule", "status", "category", "denials", "denied", "decided by")]
    table += [(r["rule_id"], r["status"], r["category"], str(r["denial_count"]),
               money(r["denied_cents"]), f"{r['decided_by']} ({r['role']})" if r["decided_by"] else "")
              for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table)


def decision(rule_id: str, verdict: str, by: str, role: str, note: str | None,
             now: datetime | None = None) -> dict:
    now = now or datetime.now(UTC)
    return {"event_id": f"{rule_id}:{verdict}:{by}:{int(now.timestamp() * 1000)}",
            "rule_id": rule_id, "decision": verdict, "decided_by": by, "role": role,
            "decided_at": now, "emitted_at": now, "note": note}


def publish_decision(settings, dec: dict) -> None:
    from producers.publish import publish
    from schemas.envelope import record

    publish([record(T.SCRUB_RULE_DECISIONS, dec)], settings, service="console")


def cmd_rules(args) -> int:
    from infra.settings import load
    from processors.patterns.rules import validate_decision

    settings = load()
    if args.action == "list":
        rows = proposals(settings.report_dsn, args.status)
        if args.json:
            for r in rows:
                print(json.dumps(r, default=lambda v: v.isoformat()))
        else:
            print(render(rows))
        return 0
    verdict = "ACCEPT" if args.action == "accept" else "REJECT"
    dec = decision(args.rule_id, verdict, args.by or getpass.getuser(), args.role, args.note)
    problems = validate_decision(dec)
    if problems:
        print("; ".join(problems), file=sys.stderr)
        return 2
    known = {r["rule_id"]: r for r in proposals(settings.report_dsn)}
    if args.rule_id not in known and not args.force:
        print(f"{args.rule_id} is not a proposed rule (see `rcm rules list`; --force to publish "
              "anyway)", file=sys.stderr)
        return 1
    publish_decision(settings, dec)
    print(f"{verdict} {args.rule_id} published on {T.SCRUB_RULE_DECISIONS.name}", file=sys.stderr)
    return 0
