"""The console's writes: events on the pipeline's input topics, and what became of them.

An action publishes one event with the project's producer (producers.publish: Avro, confirmed
delivery). Its event id derives from the form's action id, so a form submitted twice publishes the
same event and the pipeline applies it once. Whether the pipeline applied it is read back from the
sink's tables; whether it refused it, from `dead_letters` (the row whose payload is this event).
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from schemas import codec
from schemas import topics as T

ACTION_ID = re.compile(r"^[0-9a-f]{32}$")
PUBLISH_TIMEOUT_S = 15.0  # a person waits on the page: fail fast, the form can be sent again

# kind -> (topic, SQL that finds the event applied; %s is the event id)
KINDS: dict[str, tuple[T.Topic, str]] = {
    "coding": (T.CODING_DECISIONS, "select 1 from encounters_coded where decision_id = %s"),
    # a held claim's correction is applied once its rebuilt version (sourced by it) is written
    "recode": (T.CODING_DECISIONS, "select 1 from claim_versions where source_event_id = %s"),
    "appeal": (T.APPEALS, "select 1 from denial_events where event_id = %s"),
    "payment": (T.PAYMENTS, "select 1 from ledger_entries where source_event_id = %s"),
    "rule": (T.SCRUB_RULE_DECISIONS, "select 1 from scrub_rule_decisions where decision_id = %s"),
}


class NotPublished(RuntimeError):
    """The broker did not acknowledge the event; sending the form again is safe."""


def event_id(kind: str, action_id: str) -> str:
    if not ACTION_ID.match(action_id or ""):
        raise ValueError("the form carries no valid action id: reload the page")
    return f"console:{kind}:{action_id}"


def publish(settings, kind: str, record: dict) -> None:
    from infra.console import broker
    from producers.publish import Undelivered
    from producers.synthetic import Outgoing

    topic = KINDS[kind][0]
    out = Outgoing(topic, codec.key_of(topic, record), codec.encode(topic.value_schema, record))
    try:
        broker.send(settings, [out], min(settings.delivery_timeout_s, PUBLISH_TIMEOUT_S))
    except Undelivered as exc:
        raise NotPublished(str(exc)) from exc


def status(db, kind: str, eid: str, since: datetime | None = None) -> tuple[str, str | None]:
    """('applied' | 'refused' | 'pending', the dead letter's reason when refused)."""
    topic, applied_sql = KINDS[kind]
    if db.one(applied_sql, (eid,)):
        return "applied", None
    reason = dead_letter_reason(db, topic, eid, since)
    return ("refused", reason) if reason else ("pending", None)


# kind -> what an applied action changed, for the person who sent it (%s: the event id)
RESULTS: dict[str, str] = {
    "coding": """select c.claim_id as id, c.status from encounters_coded e
                 join claims c on c.encounter_id = e.encounter_id
                 where e.decision_id = %s order by c.built_at""",
    "recode": """select claim_id as id, status, version from claim_versions
                 where source_event_id = %s order by version""",
    "appeal": """select d.denial_id as id, d.status from denial_events e
                 join denials d on d.denial_id = e.denial_id where e.event_id = %s""",
    "payment": """select b.account_id as id, b.patient_cents, b.total_cents
                  from ledger_entries e join account_balances b on b.account_id = e.account_id
                  where e.source_event_id = %s limit 1""",
    "rule": """select p.rule_id as id, p.status from scrub_rule_decisions d
               join scrub_rule_proposals p on p.rule_id = d.rule_id where d.decision_id = %s""",
}


def results(db, kind: str, eid: str) -> list[dict]:
    return db.rows(RESULTS[kind], (eid,))


def dead_letter_reason(db, topic: T.Topic, eid: str, since: datetime | None = None) -> str | None:
    since = since or datetime.now(UTC) - timedelta(days=1)
    rows = db.rows("""select reason, payload from dead_letters
                      where source_topic = %s and dead_lettered_at >= %s
                      order by dead_lettered_at desc limit 500""",
                   (topic.name, since - timedelta(minutes=5)))
    for row in rows:
        try:
            _name, record = codec.decode(bytes(row["payload"]))
        except Exception:  # noqa: BLE001, S112 - a malformed dead letter is not ours
            continue
        if record.get("event_id") == eid:
            return row["reason"]
    return None


def now() -> datetime:
    return datetime.now(UTC)
