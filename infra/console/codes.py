"""The code picker: ICD-10-CM search by code or words, and the checks a decision must pass.

Uses the pipeline's own code set (processors.coding.coder.Coder: the releases in force, billability,
titles and the age/sex table), loaded once per process on first use (a few seconds).
"""
from __future__ import annotations

import functools
import re
import threading
from datetime import date

CODE_LIKE = re.compile(r"^[A-Za-z][0-9][0-9A-Za-z.]*$")
_lock = threading.Lock()
_releases_folder = ""  # RCM_ICD10CM_RELEASES, set by the console's build(settings) before any request


def use_releases(folder: str) -> None:
    """The extra ICD-10-CM releases folder the code set loads (the console's settings, once)."""
    global _releases_folder
    _releases_folder = folder or ""
    _coder.cache_clear()
    _catalogue.cache_clear()


@functools.cache
def _coder():
    from processors.coding.coder import Coder

    return Coder(releases_folder=_releases_folder)


def coder():
    with _lock:  # two first requests must not load the code set twice
        return _coder()


@functools.cache
def _catalogue() -> tuple[tuple[str, str, str], ...]:
    """(plain code, dotted code, lower-case title) of every billable code of any loaded release."""
    c = coder()
    codes = sorted(set().union(*(r.billable for r in c.releases)))
    return tuple((p, c.dotted(p), c.describe(p).lower()) for p in codes)


def search(query: str, limit: int = 25) -> list[dict]:
    """Billable codes whose code starts with the query, or whose title holds every word of it."""
    query = (query or "").strip()
    if len(query) < 2:
        return []
    c = coder()
    if CODE_LIKE.match(query):
        prefix = query.upper().replace(".", "")
        found = [(p, d) for p, d, _t in _catalogue() if p.startswith(prefix)]
    else:
        words = [w for w in re.split(r"[^a-z0-9]+", query.lower()) if w]
        found = [(p, d) for p, d, t in _catalogue()
                 if all(re.search(rf"\b{re.escape(w)}", t) for w in words)]
        found.sort(key=lambda pd: (len(c.describe(pd[0])), pd[0]))
    return [{"code": d, "title": c.describe(p)} for p, d in found[:limit]]


def parse_codes(text: str) -> list[str]:
    return [c for c in re.split(r"[\s,;]+", (text or "").strip().upper()) if c]


def problems(codes: list[str], age: int | None = None, sex: str = "U",
             day: date | None = None) -> list[str]:
    """Why these codes cannot be submitted as a decision; empty when they can."""
    c = coder()
    found: list[str] = []
    if not codes:
        found.append("choose at least one diagnosis code")
    seen: set[str] = set()
    for n, code in enumerate(codes, 1):
        shown = c.dotted(code)
        if not (c.is_valid(code) or c.is_known(code)):
            found.append(f"dx {n}: {shown} is not an ICD-10-CM code")
            continue
        if not (c.is_billable(code) or c.is_known(code)):
            found.append(f"dx {n}: {shown} is a category with subcodes, not billable: pick one of "
                         "its codes")
            continue
        if day is not None and (why := c.not_in_release(code, day)):
            found.append(f"dx {n}: {why}")
        found += [f"dx {n}: {message}" for _edit, message in c.conflicts(code, age, sex)]
        if shown in seen:
            found.append(f"dx {n}: {shown} is chosen twice")
        seen.add(shown)
    found += [f"{a} and {b} are an Excludes1 pair: they cannot be coded together"
              for a, b in c.excludes1_conflicts(codes)] if len(codes) > 1 else []
    return found


def fit(code: str, age: int | None, sex: str = "U", day: date | None = None) -> list[str]:
    """Why a billable code does not fit this patient or date (the picker marks it)."""
    c = coder()
    found = [message for _edit, message in c.conflicts(code, age, sex)]
    if day is not None and (why := c.not_in_release(code, day)):
        found.append(why)
    return found


def describe(code: str) -> str:
    return coder().describe(code)
