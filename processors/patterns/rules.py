"""Denial patterns -> proposed scrub rules -> a person's decision.

A pattern is a payer, a CARC and the procedure code of the denied service line; its rule id
(`payer/reason/procedure`) names it everywhere. Each denied line is counted once by its denial id
(a redelivered remittance counts nothing new); when a pattern's distinct denials reach the
threshold the pipeline proposes a scrub rule, once, and stops counting it. Nothing is held until a
person accepts the proposal: the accepted rule goes into the scrub-rules table, which the claim
scrubber reads (processors.claims.rules.payer_rule_edits). A decision that arrives before its
proposal (a replay from scratch reads the decisions topic before the denials are counted again)
waits in the pattern's entry and is applied when the proposal is made.

Claim-level denials (no service line) name no procedure and form no pattern: a rule keyed on the
payer alone would hold every claim to it.

Pure: standard library, schemas, the state stores and the denial rules.
"""
from __future__ import annotations

from processors import state
from processors.denials.rules import denial_category, flag_denials
from processors.outcome import Outcome
from schemas import codec
from schemas import topics as T

SEPARATOR = "/"  # not "|": a rule id is typed on a shell command line (`rcm rules accept ID`)
EXAMPLES = 5


class NotDecidable(ValueError):
    """A decision or pattern record that decodes but cannot be applied (dead letter)."""


def normal_carc(carc: object) -> str:
    return str(carc).strip().lstrip("0") or "0"


def rule_id(payer_id: str, reason_code: str, procedure_code: str) -> str:
    return SEPARATOR.join((payer_id.strip(), normal_carc(reason_code), procedure_code.strip()))


def parse_rule_id(rid: str) -> tuple[str, str, str] | None:
    """(payer, reason, procedure), or None when `rid` is not a rule id. The payer may contain the
    separator; reason and procedure codes never do."""
    parts = str(rid).rsplit(SEPARATOR, 2)
    if len(parts) != 3 or not all(p and p == p.strip() for p in parts):
        return None
    if rule_id(*parts) != rid:
        return None
    return parts[0], parts[1], parts[2]


def observe(remit: dict) -> list[dict]:
    """One DenialPattern per denied service line of the remittance (with its procedure code)."""
    procedures = {line["line"]: str(line["procedure_code"]).strip() for line in remit["lines"]}
    observed = []
    for d in flag_denials(remit):
        procedure = procedures.get(d["line"], "") if d["line"] is not None else ""
        if not procedure:
            continue
        observed.append({
            "event_id": d["denial_id"],
            "rule_id": rule_id(d["payer_id"], d["reason_code"], procedure),
            "payer_id": d["payer_id"].strip(), "reason_code": normal_carc(d["reason_code"]),
            "procedure_code": procedure, "category": d["category"],
            "preventable": d["preventable"], "source_emitted_at": d["source_emitted_at"],
            "denials": [{"denial_id": d["denial_id"], "claim_id": d["claim_id"],
                         "amount_cents": d["amount_cents"], "denied_on": d["denied_on"]}],
            "proposed": False, "waiting_decision": None,
        })
    return observed


def validate_observed(rec: dict) -> list[str]:
    problems = []
    if parse_rule_id(rec["rule_id"]) != (rec["payer_id"], rec["reason_code"], rec["procedure_code"]):
        problems.append(f"rule id {rec['rule_id']!r} does not name the record's pattern")
    if not rec["denials"]:
        problems.append("the record carries no denial")
    if any(d["amount_cents"] < 0 for d in rec["denials"]):
        problems.append("a denied amount is negative")
    return problems


def _empty_entry(rid: str, payer: str, reason: str, procedure: str, emitted_at) -> dict:
    category, preventable = denial_category("CO", reason)
    return {"event_id": rid, "rule_id": rid, "payer_id": payer, "reason_code": reason,
            "procedure_code": procedure, "category": category, "preventable": preventable,
            "source_emitted_at": emitted_at, "denials": [], "proposed": False,
            "waiting_decision": None}


def proposal(entry: dict, threshold: int) -> dict:
    denials = entry["denials"]
    claims: list[str] = []
    for d in denials:
        if d["claim_id"] not in claims:
            claims.append(d["claim_id"])
    return {
        "event_id": f"{entry['rule_id']}:proposed", "rule_id": entry["rule_id"],
        "payer_id": entry["payer_id"], "reason_code": entry["reason_code"],
        "procedure_code": entry["procedure_code"], "category": entry["category"],
        "preventable": entry["preventable"], "denial_count": len(denials),
        "denied_cents": sum(d["amount_cents"] for d in denials), "threshold": threshold,
        "example_denial_ids": [d["denial_id"] for d in denials[:EXAMPLES]],
        "example_claim_ids": claims[:EXAMPLES],
        "first_denied_on": min(d["denied_on"] for d in denials),
        "last_denied_on": max(d["denied_on"] for d in denials),
        "source_emitted_at": entry["source_emitted_at"],
    }


def count(observed: dict, patterns: state.Store, rules: state.Store, threshold: int) -> Outcome:
    """Add the observed denials to their pattern; propose the rule once the threshold is reached."""
    rid = observed["rule_id"]
    entry = patterns.get(rid)
    if entry is None:
        entry = _empty_entry(rid, observed["payer_id"], observed["reason_code"],
                             observed["procedure_code"], observed["source_emitted_at"])
    if entry["proposed"]:
        return Outcome([], "closed")
    known = {d["denial_id"] for d in entry["denials"]}
    new = [d for d in observed["denials"] if d["denial_id"] not in known]
    if not new:
        return Outcome([], "duplicate")
    entry = {**entry, "denials": [*entry["denials"], *new],
             "source_emitted_at": observed["source_emitted_at"]}
    if len(entry["denials"]) < max(1, threshold):
        patterns.put(entry)
        return Outcome([], "counted")
    proposed = proposal(entry, threshold)
    waiting = entry["waiting_decision"]
    patterns.put({**entry, "proposed": True, "waiting_decision": None})
    if waiting is not None:
        _apply(codec.decode_for(T.SCRUB_RULE_DECISIONS, waiting), proposed, rules)
    return Outcome([(T.SCRUB_RULE_PROPOSALS, proposed)], "proposed")


def validate_decision(dec: dict) -> list[str]:
    problems = []
    if parse_rule_id(dec["rule_id"]) is None:
        problems.append(f"{dec['rule_id']!r} is not a rule id (payer/reason/procedure)")
    if not dec["decided_by"].strip():
        problems.append("the decision names no person (decided_by)")
    if not dec["role"].strip():
        problems.append("the decision names no role")
    return problems


def decide(dec: dict, patterns: state.Store, rules: state.Store, threshold: int) -> Outcome:
    """Apply a person's decision to a proposed rule, or keep it until the proposal is made."""
    problems = validate_decision(dec)
    if problems:
        raise NotDecidable("; ".join(problems))
    rid = dec["rule_id"]
    entry = patterns.get(rid)
    if entry is None or not entry["proposed"]:
        payer, reason, procedure = parse_rule_id(rid)  # type: ignore[misc]
        entry = entry or _empty_entry(rid, payer, reason, procedure, dec["emitted_at"])
        raw = codec.encode(T.SCRUB_RULE_DECISIONS.value_schema, dec)
        if entry["waiting_decision"] == raw:
            return Outcome([], "duplicate")
        patterns.put({**entry, "waiting_decision": raw})  # a later decision replaces an earlier one
        return Outcome([], "waiting")
    current = rules.get(rid)
    if current is not None and current["event_id"] == dec["event_id"]:
        return Outcome([], "duplicate")
    _apply(dec, proposal(entry, threshold), rules)
    return Outcome([], "accepted" if dec["decision"] == "ACCEPT" else "rejected")


def _apply(dec: dict, proposed: dict, rules: state.Store) -> None:
    rules.put({
        "event_id": dec["event_id"], "rule_id": proposed["rule_id"],
        "payer_id": proposed["payer_id"], "reason_code": proposed["reason_code"],
        "procedure_code": proposed["procedure_code"], "category": proposed["category"],
        "status": "ACTIVE" if dec["decision"] == "ACCEPT" else "REJECTED",
        "denial_count": proposed["denial_count"], "denied_cents": proposed["denied_cents"],
        "decided_by": dec["decided_by"], "role": dec["role"], "decided_at": dec["decided_at"],
        "source_emitted_at": dec["emitted_at"],
    })
