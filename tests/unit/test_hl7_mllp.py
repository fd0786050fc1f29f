"""MLLP framing, ACK building, and the listener answering AA / AE / AR over a real socket."""
from __future__ import annotations

import asyncio
from collections import Counter

import hl7

from producers.hl7.mllp import END, START, Deframer, build_ack, frame, handle_message, listen
from producers.hl7.parse import header, parse_message
from schemas import codec
from tests import factories as F
from tests.support import hl7_compose as compose

ENC = F.encounter(6) | {"procedures_pcs": [], "discharge_status": None}
GOOD = compose.adt(ENC, "REGISTER", "C1", F.T0).encode()


class FakePublisher:
    def __init__(self):
        self.sent = []

    def send(self, records):
        self.sent.extend((r.topic.name, codec.decode(r.value)[1]) for r in records)


def test_frames_are_found_across_reads_and_noise_between_them_is_skipped():
    d = Deframer()
    data = b"\n" + frame(b"one") + b"junk" + frame(b"two")
    assert d.feed(data[:4]) == [] and d.feed(data[4:9]) == [b"one"]
    assert d.feed(data[9:]) == [b"two"]
    assert frame(b"x") == START + b"x" + END == b"\x0bx\x1c\r"


def test_an_ack_echoes_the_control_id_and_parses_as_hl7():
    h = header(parse_message(GOOD))
    ack = hl7.parse(build_ack("AE", h, "PID-18: fails | check"))
    assert str(ack.segment("MSH")[9]) == "ACK^A04^ACK"
    assert ack.extract_field("MSA", 1, 1) == "AE" and ack.extract_field("MSA", 1, 2) == "C1"
    assert ack.extract_field("MSA", 1, 3) == "PID-18: fails | check"
    assert hl7.parse(build_ack("AR", None)).extract_field("MSA", 1, 1) == "AR"


def test_each_message_gets_aa_ae_or_ar_and_bad_ones_a_dead_letter():
    pub, counts = FakePublisher(), Counter()
    bad_account = GOOD.replace(ENC["account_id"].encode(), b"9" * 51)  # longer than any account
    codes = [hl7.parse(handle_message(m, pub, counts).decode()).extract_field("MSA", 1, 1)
             for m in (GOOD, bad_account, b"not hl7 at all",
                       GOOD.replace(b"ADT^A04", b"ORU^R01"))]
    assert codes == ["AA", "AE", "AR", "AR"]
    assert [t for t, _ in pub.sent] == ["visit-events"] + ["dead-letters"] * 3
    assert [r["error"] for t, r in pub.sent[1:]] == ["INVALID", "MALFORMED", "MALFORMED"]
    assert counts == Counter(messages=4, AA=1, AE=1, AR=2)


def test_a_person_update_is_acknowledged_and_counted_and_a_bom_before_msh_is_dropped():
    pub, counts = FakePublisher(), Counter()
    person = GOOD.replace(b"ADT^A04", b"ADT^A31").replace(b"|C1|", b"|C2|")
    codes = [hl7.parse(handle_message(m, pub, counts).decode()).extract_field("MSA", 1, 2)
             for m in (person, b"\xef\xbb\xbf" + GOOD)]
    assert codes == ["C2", "C1"]  # both AA, each echoing its control id
    assert [(t, r["event_id"], r["account_id"]) for t, r in pub.sent] == [
        ("visit-events", "hl7v2:GENHOSP:C1", ENC["account_id"])]
    assert counts == Counter(messages=2, AA=2, ignored=1)


def test_the_listener_answers_over_tcp_and_stops_when_told():
    async def scenario():
        pub, stop = FakePublisher(), asyncio.Event()
        server = asyncio.create_task(listen("127.0.0.1", 0, pub, stop))
        await asyncio.sleep(0.2)
        port = _port()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(frame(GOOD) + frame(b"garbage"))
        await writer.drain()
        d, acks = Deframer(), []
        while len(acks) < 2:
            acks += d.feed(await asyncio.wait_for(reader.read(4096), 5))
        writer.close()
        stop.set()
        counts = await asyncio.wait_for(server, 5)
        return [hl7.parse(a.decode()).extract_field("MSA", 1, 1) for a in acks], counts

    codes, counts = asyncio.run(scenario())
    assert codes == ["AA", "AR"] and counts["messages"] == 2


def _port() -> int:
    import gc

    servers = [o for o in gc.get_objects() if isinstance(o, asyncio.base_events.Server)]
    return servers[-1].sockets[0].getsockname()[1]


class AwayPublisher:
    """A broker that does not acknowledge anything (it is down)."""

    def send(self, records):
        from producers.hl7.mllp import NotDelivered

        raise NotDelivered("0 of 1 records acknowledged")


def test_with_the_broker_away_the_sender_gets_ae_or_a_closed_connection_never_aa():
    counts = Counter()
    ack = handle_message(GOOD, AwayPublisher(), counts, unavailable="AE").decode()
    msa = next(s for s in ack.split("\r") if s.startswith("MSA")).split("|")
    assert msa[1:3] == ["AE", "C1"] and "broker is unavailable" in msa[3]
    assert (counts["AA"], counts["unpublished"]) == (0, 1)
    import pytest
    from kafka.errors import KafkaError

    with pytest.raises(KafkaError):
        handle_message(GOOD, AwayPublisher(), counts, unavailable="close")
    assert counts["AA"] == 0 and counts["unpublished"] == 2
