"""A simulated coding team: decisions for the encounters waiting in coding review.

`rcm produce decisions` and `rcm demo` use it to close the loop the way a coding team's tools
would: read the open queue (`coding_review_queue` in PostgreSQL), decide, publish CodingDecision
records on `coding-decisions`. The simulated coder is simple and says so:

  - a statement with a suggested code keeps it (and its paired codes);
  - a statement flagged with no usable suggestion gets R69 (illness, unspecified): the
    documentation did not support more, and a real coder would query the physician first; a
    negated statement (no code, not flagged) stays uncoded;
  - an Excludes1 pair keeps the code sequenced first;
  - a "code first" finding moves the named code ahead;
  - an E/M level the documentation does not support is billed at the supported level.

Decision ids derive from the review id, so deciding the same queue twice publishes the same
decisions (the processor applies each once).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from schemas import topics as T

UNSPECIFIED = "R69"
_STATEMENT = re.compile(r"^dx (\d+): ")
_EXCLUDES1 = re.compile(r"^(\S+) and (\S+) are an Excludes1 pair")
_CODE_FIRST = re.compile(r"^(\S+): code first (\S+)")
_EM = re.compile(r"^E/M: line (\d+) bills \d{5}.*?documentation supports (\d{5})")


def decide(review: dict, coder_id: str, now: datetime | None = None) -> dict:
    """One CodingDecision for a review row: {review_id, encounter_id, account_id, reasons,
    suggestions}."""
    flagged = {int(m[1]) for r in review["reasons"] if (m := _STATEMENT.match(r))}
    codes: list[str] = []
    for s in sorted(review["suggestions"], key=lambda s: s["sequence"]):
        found = [c for c in (s.get("code"), *(s.get("also") or [])) if c]
        if not found and s["sequence"] in flagged:  # unflagged and codeless: a negated statement
            found = [UNSPECIFIED]
        codes += [c for c in found if c not in codes]
    overrides = []
    for reason in review["reasons"]:
        if m := _EXCLUDES1.match(reason):
            second = max((m[1], m[2]), key=lambda c: codes.index(c) if c in codes else -1)
            codes = [c for c in codes if c != second]
        elif (m := _CODE_FIRST.match(reason)) and m[1] in codes and m[2] in codes:
            codes.remove(m[2])
            codes.insert(codes.index(m[1]), m[2])
        elif m := _EM.match(reason):
            overrides.append({"line": int(m[1]), "procedure_code": m[2], "modifiers": []})
    if not codes:
        codes = [UNSPECIFIED]
    now = now or datetime.now(UTC)
    return {"event_id": f"{review['review_id']}:decision", "encounter_id": review["encounter_id"],
            "account_id": review["account_id"], "coder_id": coder_id, "decided_at": now,
            "emitted_at": now,
            "diagnoses": [{"sequence": i, "code": c} for i, c in enumerate(codes, 1)],
            "procedures": overrides}


def open_reviews(dsn: str, limit: int | None = None) -> list[dict]:
    """The queue as the coding team sees it, the most money first."""
    from infra.report import query

    rows = query(dsn, "select review_id, encounter_id, account_id, reasons, suggestions "
                      "from coding_review_queue" + (" limit %s" if limit else ""),
                 (limit,) if limit else ())
    return [{"review_id": r[0], "encounter_id": r[1], "account_id": r[2], "reasons": list(r[3]),
             "suggestions": r[4]} for r in rows]


def as_records(decisions: Iterable[dict]) -> list:
    from schemas.envelope import record

    return [record(T.CODING_DECISIONS, d) for d in decisions]
