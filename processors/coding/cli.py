"""`rcm code` codes clinician statements; `rcm eval coding` measures the coder on the dev set.

rcm code "DM2 w/ CKD 3a; h/o breast ca" --age 67 --sex F    one readable line per statement
rcm code --jsonl < in.jsonl > out.jsonl                     one JSON line out per line in
  in:  {"id": ..., "text": ..., "age": ..., "sex": ..., "date": ...}   (age, sex, date optional)
The date of service (--date, or "date") picks the ICD-10-CM release in force then (FY2026 to
2026-09-30, FY2027 from 2026-10-01); without one, the release simple-icd-10-cm carries codes it.
  out: {"id": ..., "codes": [{"code": ..., "confidence": ...}], "review": bool, "reason": ...}
       review is true when there is no code or a confidence is below the threshold; "reason"
       only then. A bad line gives {"id": <id or null>, "error": ...} and the run goes on; the
       exit code is 1 only when there were lines and every one of them failed.
The threshold is RCM_CODING_THRESHOLD (infra.settings) unless --threshold is given. The code set
loads once per run; nothing here imports faust or kafka.
"""
from __future__ import annotations

import argparse
import datetime as dt
import inspect
import json
import sys

from processors.coding import evaluate

SEXES = ("F", "M", "U")
MAX_AGE = 125


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("--threshold", type=float, default=None,
                        help="auto-code threshold (default: RCM_CODING_THRESHOLD, 0.80)")
    if name == "code":
        parser.add_argument("statements", nargs="*",
                            help="clinician statements; ';' separates several in one argument")
        parser.add_argument("--age", type=int, default=None)
        parser.add_argument("--sex", type=str.upper, choices=SEXES, default="U")
        parser.add_argument("--date", type=dt.date.fromisoformat, default=None,
                            help="date of service, YYYY-MM-DD")
        parser.add_argument("--jsonl", action="store_true",
                            help="read JSON lines on stdin, write JSON lines on stdout")
    elif name == "eval":
        parser.add_argument("what", choices=("coding",))
        parser.add_argument("--devset", default=str(evaluate.DEVSET))
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument("--misses", type=int, default=10, help="how many misses to list")
        parser.add_argument("--date", type=dt.date.fromisoformat, default=None,
                            help="date of service for lines without one, YYYY-MM-DD: the "
                                 "ICD-10-CM release in force then codes them")


def _threshold(args, settings) -> float:
    return settings.coding_threshold if args.threshold is None else args.threshold


def _coder(settings):
    from processors.coding.coder import Coder  # loads the code set: only once a command runs

    return Coder(releases_folder=settings.icd10cm_releases)


class _Caller:
    """Calls the coder with the date of service only when its `code` accepts one."""

    def __init__(self, coder):
        self.coder = coder
        params = inspect.signature(coder.code).parameters
        self.date_param = next((p for p in ("date", "service_date", "on") if p in params), None)

    def __call__(self, text: str, age: int | None, sex: str, date: dt.date | None):
        extra = {self.date_param: date} if date and self.date_param else {}
        return evaluate.run_coder(self.coder, text, age, sex, **extra)


def _line(text: str, coded: evaluate.Coded, threshold: float) -> str:
    auto = evaluate.is_auto(coded, threshold)
    codes = ", ".join(f"{c} ({conf:.2f})" for c, conf, _ in coded.codes) or "no code"
    evidence = "; ".join(dict.fromkeys(e for _, _, e in coded.codes if e))
    parts = [f"[{'auto' if auto else 'review'}] {text} -> {codes}"]
    if evidence:
        parts.append(f"evidence: {evidence}")
    if coded.reason:
        parts.append(coded.reason)
    return " | ".join(parts)


def _record(d, threshold: float, call: _Caller) -> dict:
    if not isinstance(d, dict):
        raise TypeError("a line must be a JSON object")
    text = d.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("'text' must be a non-empty string")
    age = d.get("age")
    if age is not None and (isinstance(age, bool) or not isinstance(age, int)
                            or not 0 <= age <= MAX_AGE):
        raise ValueError(f"'age' must be an integer 0..{MAX_AGE}")
    sex = d.get("sex") or "U"
    if not isinstance(sex, str) or sex.upper() not in SEXES:
        raise ValueError("'sex' must be F, M or U")
    date = d.get("date")
    if date is not None:
        try:
            date = dt.date.fromisoformat(date)
        except (TypeError, ValueError):
            raise ValueError("'date' must be YYYY-MM-DD") from None
    coded = call(text, age, sex.upper(), date)
    out = {"id": d.get("id"),
           "codes": [{"code": c, "confidence": round(conf, 4)} for c, conf, _ in coded.codes],
           "review": not evaluate.is_auto(coded, threshold)}
    if out["review"]:
        out["reason"] = coded.reason or "no code"
    return out


def _code_jsonl(threshold: float, call: _Caller) -> int:
    lines = failed = 0
    for raw in sys.stdin:
        if not raw.strip():
            continue
        lines += 1
        d = None
        try:
            d = json.loads(raw)
            out = _record(d, threshold, call)
        except (TypeError, ValueError) as exc:  # json.JSONDecodeError is a ValueError
            failed += 1
            ident = d.get("id") if isinstance(d, dict) else None
            out = {"id": ident, "error": str(exc)}
        sys.stdout.write(json.dumps(out) + "\n")
    return 1 if lines and failed == lines else 0


def cmd_code(args) -> int:
    from infra.settings import load

    settings = load()
    threshold = _threshold(args, settings)
    if not args.jsonl and not args.statements:
        print("rcm code: give a statement, or --jsonl with JSON lines on stdin", file=sys.stderr)
        return 2
    if args.age is not None and not 0 <= args.age <= MAX_AGE:
        print(f"rcm code: --age must be 0..{MAX_AGE}", file=sys.stderr)
        return 2
    call = _Caller(_coder(settings))
    if args.jsonl:
        return _code_jsonl(threshold, call)
    for arg in args.statements:
        for text in (t.strip() for t in arg.split(";")):
            if text:
                print(_line(text, call(text, args.age, args.sex, args.date), threshold))
    return 0


def cmd_eval(args) -> int:
    from infra.settings import load

    settings = load()
    threshold = _threshold(args, settings)
    predictions = evaluate.predict(_coder(settings), evaluate.load_devset(args.devset), args.date)
    report = evaluate.score(predictions, threshold)
    misses = evaluate.worst_misses(predictions, threshold, args.misses)
    if args.json:
        print(json.dumps({**report, "worst_misses": misses}, indent=2))
    else:
        print(evaluate.format_report(report, misses))
    return 0
