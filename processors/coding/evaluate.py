"""Measure a coder against a labelled dev set (tests/data/coding_devset.jsonl by default; the
held-apart tests/data/coding_heldout.jsonl is in the same layout).

Each dev-set line is {"id", "text", "age", "sex", "gold": [codes], "tags": [...]}, and optionally
"date" (YYYY-MM-DD, the date of service: the statement is coded with the ICD-10-CM release in force
then; `rcm eval coding --date` gives one to lines without it); gold [] means nothing should be
coded (negation, or an uncertain diagnosis with no symptom stated).

Definitions, per statement, then summed over the dev set (micro-average over codes):
  predicted    every code the coder returns for the statement, whatever its confidence
  full code    TP = predicted codes in gold, FP = predicted codes not in gold, FN = gold codes not
               predicted; precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2PR/(P+R)
  category     the same after cutting every code to its 3-character category (E11.22 -> E11),
               gold and predicted each taken as a set of categories
  auto-coded   the statement has at least one code and every code is at or above the threshold
               (what the pipeline would code without a human); auto-code rate = auto-coded /
               all statements
  auto precision  auto-coded statements whose codes are all in gold / auto-coded statements
               (a missing second code is a recall miss, not an auto-code error); "exact" also
               requires every gold code
  abstained    statements with gold [] that were not auto-coded (nothing was wrongly billed)
A metric with an empty denominator is reported as null. The coder is any object with
`code(text, age, sex)` returning a Suggestion-like object (code, confidence, evidence, reason,
optionally `also`: further codes at the same confidence), a list of them, or an object whose
`codes` holds them; a fake one makes these sums unit-testable.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

DEVSET = Path(__file__).resolve().parents[2] / "tests" / "data" / "coding_devset.jsonl"
# Statements written the way the Alphabetic Index words conditions, kept apart from the dev set:
# measured (`rcm eval coding --devset ...coding_heldout.jsonl`), never tuned on.
HELDOUT = DEVSET.with_name("coding_heldout.jsonl")


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    age: int | None
    sex: str
    gold: tuple[str, ...]
    tags: tuple[str, ...] = ()
    date: dt.date | None = None


@dataclass(frozen=True)
class Coded:
    codes: tuple[tuple[str, float, str], ...]  # (dotted code, confidence, evidence)
    reason: str


@dataclass(frozen=True)
class Prediction:
    example: Example
    coded: Coded


def dotted(code: str) -> str:
    plain = code.strip().upper().replace(".", "")
    return plain if len(plain) <= 3 else f"{plain[:3]}.{plain[3:]}"


def run_coder(coder, text: str, age: int | None = None, sex: str = "U", **extra) -> Coded:
    """Call the coder and flatten whatever shape it returns into (code, confidence, evidence)."""
    result = coder.code(text, age, sex, **extra)
    items = getattr(result, "codes", None)
    if items is None:
        items = result if isinstance(result, list | tuple) else [result]
    codes, reasons = [], []
    for item in items:
        if getattr(item, "reason", ""):
            reasons.append(item.reason)
        if getattr(item, "code", None):
            confidence, evidence = float(item.confidence), getattr(item, "evidence", "")
            codes.append((dotted(item.code), confidence, evidence))
            # codes named beside the condition ("CAD s/p CABG": Z95.1) share its confidence
            codes.extend((dotted(c), confidence, evidence) for c in getattr(item, "also", ()))
    return Coded(tuple(codes), "; ".join(dict.fromkeys(reasons)))


def is_auto(coded: Coded, threshold: float) -> bool:
    return bool(coded.codes) and all(conf >= threshold for _, conf, _ in coded.codes)


def load_devset(path: Path | str = DEVSET) -> list[Example]:
    examples = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            examples.append(Example(d["id"], d["text"], d.get("age"), d.get("sex") or "U",
                                    tuple(dotted(c) for c in d["gold"]), tuple(d.get("tags", ())),
                                    dt.date.fromisoformat(d["date"]) if d.get("date") else None))
    return examples


def predict(coder, examples: Iterable[Example], date: dt.date | None = None) -> list[Prediction]:
    """Each example coded on its own date, else on `date` (else with the coder's default release)."""
    out = []
    for e in examples:
        day = e.date or date
        extra = {"date": day} if day else {}
        out.append(Prediction(e, run_coder(coder, e.text, e.age, e.sex, **extra)))
    return out


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, predicted: set[str], gold: set[str]) -> None:
        self.tp += len(predicted & gold)
        self.fp += len(predicted - gold)
        self.fn += len(gold - predicted)

    def summary(self) -> dict:
        p, r = _ratio(self.tp, self.tp + self.fp), _ratio(self.tp, self.tp + self.fn)
        f1 = round(2 * p * r / (p + r), 4) if p is not None and r is not None and p + r else None
        return {"precision": p, "recall": r, "f1": f1, "tp": self.tp, "fp": self.fp, "fn": self.fn}


@dataclass
class _Tally:
    statements: int = 0
    exact: int = 0
    auto: int = 0
    full: Counts = field(default_factory=Counts)


def score(predictions: list[Prediction], threshold: float) -> dict:
    full, category = Counts(), Counts()
    auto = auto_right = auto_exact = empty_gold = abstained = 0
    tags: dict[str, _Tally] = {}
    for o in predictions:
        predicted = {c for c, _, _ in o.coded.codes}
        gold = set(o.example.gold)
        full.add(predicted, gold)
        category.add({c[:3] for c in predicted}, {c[:3] for c in gold})
        automatic = is_auto(o.coded, threshold)
        auto += automatic
        auto_right += automatic and predicted <= gold
        auto_exact += automatic and predicted == gold
        empty_gold += not gold
        abstained += not gold and not automatic
        for tag in o.example.tags:
            t = tags.setdefault(tag, _Tally())
            t.statements += 1
            t.exact += predicted == gold
            t.auto += automatic
            t.full.add(predicted, gold)
    n = len(predictions)
    return {
        "statements": n, "threshold": threshold,
        "full_code": full.summary(), "category": category.summary(),
        "auto_coded": {"count": auto, "rate": _ratio(auto, n), "correct": auto_right,
                       "precision": _ratio(auto_right, auto), "exact": auto_exact,
                       "exact_precision": _ratio(auto_exact, auto)},
        "gold_empty": {"count": empty_gold, "abstained": abstained,
                       "rate": _ratio(abstained, empty_gold)},
        "by_tag": {tag: {"statements": t.statements, "exact": t.exact, "auto": t.auto,
                         "f1": t.full.summary()["f1"]} for tag, t in sorted(tags.items())},
    }


def worst_misses(predictions: list[Prediction], threshold: float, limit: int = 10) -> list[dict]:
    """Statements whose codes differ from gold: confident (auto-coded) errors first."""
    misses = [o for o in predictions if {c for c, _, _ in o.coded.codes} != set(o.example.gold)]
    misses.sort(key=lambda o: (not is_auto(o.coded, threshold),
                               -max((conf for _, conf, _ in o.coded.codes), default=0.0)))
    return [{"id": o.example.id, "text": o.example.text, "gold": list(o.example.gold),
             "predicted": [[c, round(conf, 2)] for c, conf, _ in o.coded.codes],
             "auto": is_auto(o.coded, threshold), "reason": o.coded.reason}
            for o in misses[:limit]]


def _fmt(x: float | None) -> str:
    return "  n/a" if x is None else f"{x:.3f}"


def format_report(report: dict, misses: list[dict]) -> str:
    head = f"coding dev set: {report['statements']} statements, threshold {report['threshold']:.2f}"
    lines = [head, ""]
    lines.append(f"{'level':<10} {'precision':>9} {'recall':>7} {'F1':>6}   TP   FP   FN")
    for label, key in (("full code", "full_code"), ("category", "category")):
        m = report[key]
        lines.append(f"{label:<10} {_fmt(m['precision']):>9} {_fmt(m['recall']):>7} "
                     f"{_fmt(m['f1']):>6} {m['tp']:>4} {m['fp']:>4} {m['fn']:>4}")
    a, g = report["auto_coded"], report["gold_empty"]
    lines += ["",
              f"auto-coded       {a['count']}/{report['statements']} = {_fmt(a['rate'])}",
              (f"  precision      {a['correct']}/{a['count']} = {_fmt(a['precision'])}"
               f"   (exact {a['exact']}/{a['count']} = {_fmt(a['exact_precision'])})"),
              f"nothing to code  {g['abstained']}/{g['count']} left uncoded = {_fmt(g['rate'])}",
              "", f"{'tag':<15} {'n':>4} {'exact':>6} {'auto':>5} {'F1':>6}"]
    for tag, t in report["by_tag"].items():
        lines.append(f"{tag:<15} {t['statements']:>4} {t['exact']:>6} {t['auto']:>5} "
                     f"{_fmt(t['f1']):>6}")
    if misses:
        lines += ["", "worst misses (auto-coded errors first):"]
        for m in misses:
            got = ", ".join(f"{c} {conf:.2f}" for c, conf in m["predicted"]) or "-"
            flag = "AUTO " if m["auto"] else "     "
            lines.append(f"  {flag}{m['id']} {m['text']!r}: gold {', '.join(m['gold']) or '-'}; "
                         f"got {got}")
    return "\n".join(lines)
