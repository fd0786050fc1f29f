"""Code encounters, and release reviewed ones with the codes a coder chose.

Consumes: encounters        (key: account_id, value: EncounterReceived)
          coding-decisions  (key: account_id, value: CodingDecision)
Produces: encounters-coded  (EncounterCoded) | coding-review (CodingReviewRequested) | dead-letters
          coding-pending    (PendingCoding: the state between review and decision)
          claims, claim-state, ... (each coded encounter's claim, built in the same pass:
                            processors.claims.agent.build)
Rule:     processors.coding.rules.validate_encounter, code_encounter;
          processors.coding.decisions.validate_decision, on_encounter, on_decision
Owns the dead letters of `encounters` and `coding-decisions`.
"""
from __future__ import annotations

from functools import partial

from prometheus_client import Counter

from processors import state as S
from processors.context import Context
from processors.stage import Rejected, Stage, record, send
from schemas import topics as T

OUTCOMES = Counter("rcm_coding_outcomes_total",
                   "Encounters by how coding ended: auto (coded without a person), review (sent to "
                   "a coder), released (coded with a coder's decision)", ["outcome"])
DECISIONS = Counter("rcm_coding_decisions_total",
                    "Coders' decisions applied, by agreement with the automatic suggestions "
                    "(exact: the same set of codes)", ["agreement"])
DECISION_CODES = Counter("rcm_coding_decision_codes_total",
                         "Codes in applied decisions against the suggestions: kept (suggested and "
                         "chosen), added (chosen only), dropped (suggested only)", ["kind"])


def _observe(release) -> None:
    for topic, _ in release.records:
        if topic is T.CODING_REVIEW:
            OUTCOMES.labels("review").inc()
    a = release.agreement
    if a is not None:
        OUTCOMES.labels("released").inc()
        DECISIONS.labels("exact" if a.exact else "changed").inc()
        DECISION_CODES.labels("kept").inc(a.kept)
        DECISION_CODES.labels("added").inc(a.added)
        DECISION_CODES.labels("dropped").inc(a.dropped)


def _send(ctx: Context, release, store) -> list:
    """The release's records and the coding state's changes; each coded encounter's claim is
    built in the same pass (claims.agent.build: keyed by the account like the encounter, so its
    state is on this partition) and the coded record says so (HANDLED_BY), so `build_claims`
    does not build it again when it reads `encounters-coded`."""
    from processors.claims.agent import BUILD_CLAIMS, build

    _observe(release)
    out = []
    for topic, rec in release.records:
        if topic is T.ENCOUNTERS_CODED:
            out.append(record(topic, rec, handled_by=(BUILD_CLAIMS,)))
            out.extend(build(ctx, rec))
        else:
            out.append(record(topic, rec))
    return send((store,), out)


def handle(ctx: Context, enc: dict):
    from processors.coding.decisions import on_encounter
    from processors.coding.rules import code_encounter, validate_encounter

    coder, charge_master = ctx.reference()
    problems = validate_encounter(enc, charge_master, coder)
    if problems:
        raise Rejected("; ".join(problems))
    kind, rec = code_encounter(enc, charge_master, coder, ctx.settings.coding_threshold)
    store = ctx.store(S.CODING_PENDING)
    release = on_encounter(enc, kind, rec, store, coder, charge_master)
    if kind == "coded" and release.agreement is None:
        OUTCOMES.labels("auto").inc()
    return _send(ctx, release, store)


def handle_decision(ctx: Context, dec: dict):
    from processors.coding.decisions import NotApplicable, on_decision, validate_decision

    coder, charge_master = ctx.reference()
    problems = validate_decision(dec, coder)
    if problems:
        raise Rejected("; ".join(problems))
    store = ctx.store(S.CODING_PENDING)
    try:
        release = on_decision(dec, store, coder, charge_master)
    except NotApplicable as exc:
        raise Rejected(str(exc)) from exc
    return _send(ctx, release, store)


PENDING = (S.CODING_PENDING,)


def stages(ctx: Context) -> tuple[Stage, ...]:
    from processors.claims.agent import STATE as CLAIMS

    states = (*PENDING, *CLAIMS)  # the claims built in the same pass (_send)
    return (
        Stage("code_encounters", T.ENCOUNTERS, partial(handle, ctx), owner=True, reads=states,
              writes=states, broadcast=(T.SCRUB_RULES,)),
        Stage("release_coding", T.CODING_DECISIONS, partial(handle_decision, ctx), owner=True,
              reads=states, writes=states, broadcast=(T.SCRUB_RULES,)),
    )
