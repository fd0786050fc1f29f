"""Every dead letter is built by schemas.deadletter: the stage's, the sink's and the producers' keep
the ids and fields they had, and each encodes as a DeadLetter."""
from datetime import UTC, datetime
from types import SimpleNamespace

from processors.stage import dead_letter as stage_dead_letter
from schemas import codec
from schemas import topics as T
from schemas.deadletter import dead_letter, offset_id
from sinks.postgres.service import dead_letter as sink_dead_letter


def test_a_dead_letter_read_back_has_every_field_it_was_given():
    rec = dead_letter("x:1", "encounters", "code_encounters", "INVALID", "no codes",
                      payload=b"raw", key=b"A1", partition=3, offset=42, at=1_700_000_000_000)
    back = codec.decode_for(T.DEAD_LETTERS, codec.encode("DeadLetter", rec))
    assert back["event_id"] == "x:1" and back["source_topic"] == "encounters"
    assert (back["source_partition"], back["source_offset"]) == (3, 42)
    assert (back["stage"], back["error"], back["reason"]) == ("code_encounters", "INVALID", "no codes")
    assert (back["key"], back["payload"]) == (b"A1", b"raw")


def test_a_producer_dead_letter_never_reached_kafka():
    rec = dead_letter("hl7v2:F:1:hl7_adapter", "visit-events", "hl7_adapter", "INVALID", "bad", payload=b"m")
    assert (rec["source_partition"], rec["source_offset"], rec["key"]) == (-1, -1, None)
    assert isinstance(rec["dead_lettered_at"], int)


def test_stage_and_sink_dead_letters_are_named_by_their_offset():
    msg = SimpleNamespace(topic="encounters", partition=2, offset=17, key=b"A9", value=b"\x00bad")
    out = stage_dead_letter(T.ENCOUNTERS, msg, "code_encounters", "MALFORMED", "truncated")
    rec = codec.decode_for(T.DEAD_LETTERS, out.value)
    assert rec["event_id"] == offset_id("encounters", 2, 17, "code_encounters") == "encounters:2:17:code_encounters"
    assert (rec["key"], rec["payload"], rec["source_offset"]) == (b"A9", b"\x00bad", 17)
    sink = sink_dead_letter(msg, "MALFORMED", "truncated")
    assert sink["event_id"] == "encounters:2:17:sink"
    assert isinstance(sink["dead_lettered_at"], datetime) and sink["dead_lettered_at"].tzinfo == UTC



def test_a_kept_dead_letter_is_named_by_its_event_and_lands_on_its_accounts_partition():
    from processors.stage import kept_dead_letter, partition_for
    from tests import factories as F

    ev = F.appeal("FILED", F.denial(7))
    out = kept_dead_letter(T.APPEALS, ev, "apply_appeals", "no such denial")
    back = codec.decode_for(T.DEAD_LETTERS, out.value)
    key = ev["account_id"].encode()
    assert back["event_id"] == f"appeals:{ev['event_id']}:apply_appeals"
    assert back["source_partition"] == partition_for(key, T.APPEALS.partitions)
    assert (back["source_offset"], back["key"], back["reason"]) == (-1, key, "no such denial")
    assert codec.decode_for(T.APPEALS, back["payload"]) == codec.decode_for(
        T.APPEALS, codec.encode(T.APPEALS.value_schema, ev))
