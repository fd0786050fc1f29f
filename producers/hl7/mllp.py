"""`rcm listen mllp --port P [--host 127.0.0.1]`: an MLLP listener for HL7 v2 ADT, BAR and DFT.

Each framed message (0x0b <message> 0x1c 0x0d) is parsed; its VisitEvent(s) are published with
kafka-python (acks=all) and every record's future must succeed before the ACK goes back, so AA
means "on Kafka":

- AA: accepted and published (ADT events with nothing to bill, e.g. A28/A31 person updates: accepted, counted as ignored);
- AE: parsed, but a required field is missing or invalid (e.g. no account or visit number);
- AR: rejected: not HL7, or an unsupported message type.

AE and AR messages also go to `dead-letters` (stage hl7_adapter). When Kafka does not acknowledge a
message within RCM_MLLP_ACK_TIMEOUT_S the listener answers AE "not stored: the broker is
unavailable" (RCM_MLLP_UNAVAILABLE=AE, the default) or closes the connection without an ACK
(=close); either way the sender resends it, and it never waits longer. The broker not running yet
at start is no fault: the producer is made at the first message, and again after each failure.
`/healthz` and `/readyz` on RCM_MLLP_METRICS_PORT say whether a broker accepts connections. Listens on 127.0.0.1 unless told otherwise; logs carry counts only (never message
contents, names or account numbers). SIGTERM or SIGINT stop it cleanly.
"""
from __future__ import annotations

import asyncio
import signal
import sys
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime

from kafka.errors import KafkaError

from infra.delivery import Deliverer
from infra.health import Health, serve
from infra.reconnect import EXIT_CONFIG, broker_reachable
from infra.settings import Settings
from producers.hl7.parse import Header, MessageError, header, parse_message, visit_events
from producers.hl7.records import dead_letter
from schemas import topics as T
from schemas.envelope import record

START, END = b"\x0b", b"\x1c\r"
MAX_FRAME = 8 * 1024 * 1024


class FrameError(ValueError):
    pass


def frame(payload: bytes) -> bytes:
    return START + payload + END


class Deframer:
    """Collects bytes from a stream and yields complete MLLP frames' payloads. Bytes outside a
    frame (line noise, a stray newline between frames) are skipped."""

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self.buf = bytearray()
        self.max_frame = max_frame

    def feed(self, data: bytes) -> list[bytes]:
        self.buf += data
        out = []
        while True:
            start = self.buf.find(START)
            if start < 0:
                self.buf.clear()
                break
            end = self.buf.find(END, start + 1)
            if end < 0:
                del self.buf[:start]
                if len(self.buf) > self.max_frame:
                    raise FrameError(f"frame longer than {self.max_frame} bytes")
                break
            out.append(bytes(self.buf[start + 1:end]))
            del self.buf[:end + len(END)]
        return out


def escape(text: str) -> str:
    """HL7 escapes for text placed in a field (default delimiters)."""
    return (text.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\")
            .replace("~", "\\R\\").replace("&", "\\T\\").replace("\r", " ").replace("\n", " "))


def build_ack(code: str, h: Header | None, text: str = "", now: datetime | None = None) -> str:
    """ACK for a message: MSA-1 the code, MSA-2 its control id, MSA-3 the reason (AE/AR)."""
    now = now or datetime.now(UTC)
    h = h or Header("", "", "", "", "", "")
    msh = ["MSH", "^~\\&", "RCM", "RCM", escape(h.application), escape(h.facility),
           now.strftime("%Y%m%d%H%M%S"), "", f"ACK^{escape(h.trigger)}^ACK",
           uuid.uuid4().hex[:20], "P", escape(h.version) or "2.5"]
    msa = ["MSA", code, escape(h.control_id)] + ([escape(text)] if text else [])
    return "\r".join(["|".join(msh), "|".join(msa)]) + "\r"


class NotDelivered(KafkaError):
    """The broker did not acknowledge a message's records within RCM_MLLP_ACK_TIMEOUT_S."""


class Publisher:
    """kafka-python producer (acks=all, idempotent); `send` returns once the broker acknowledged
    every record, or raises NotDelivered within `timeout_s` (a stalled producer is replaced)."""

    def __init__(self, settings: Settings, producer=None, timeout_s: float = 30.0,
                 health: Health | None = None) -> None:
        from producers.publish import make_producer

        self.deliverer = Deliverer(lambda: make_producer(settings, timeout_s, "hl7"), timeout_s,
                                   attempts=1, producer=producer)
        self.lock = threading.Lock()  # connections publish from executor threads
        self.health = health

    def send(self, records) -> None:
        with self.lock:
            report = self.deliverer.deliver(records)
        if self.health is not None:
            self.health.set_connected("kafka", report.ok)
            if report.ok:
                self.health.commit()
        if not report.ok:
            raise NotDelivered(f"{len(report.missing)} of {report.total} records not "
                               f"acknowledged ({', '.join(report.errors)})")

    def close(self) -> None:
        self.deliverer.close()


UNAVAILABLE_TEXT = "not stored: the broker is unavailable; send the message again"


def handle_message(payload: bytes, publisher, counts: Counter, charge_master=None,
                   unavailable: str = "close") -> bytes:
    """Parse, publish, and return the ACK to send. charge_master: what FT1 lines are looked up in
    (default: the packaged one). When Kafka did not take the records: with unavailable="AE", an AE
    saying so (nothing stored, the sender resends); with "close", the error is raised."""
    counts["messages"] += 1
    h = None
    try:
        h = header(parse_message(payload))
        events = visit_events(payload, datetime.now(UTC), charge_master)
    except MessageError as err:
        where = f"mllp message {counts['messages']}"
        if not _published(publisher, [record(T.DEAD_LETTERS, dead_letter(payload, err, where))],
                          counts, unavailable):
            return build_ack("AE", h, UNAVAILABLE_TEXT).encode()
        counts[err.ack] += 1
        return build_ack(err.ack, h, f"{err.segment}: {err.reason}").encode()
    if events and not _published(publisher, [record(T.VISIT_EVENTS, ev) for ev in events],
                                 counts, unavailable):
        return build_ack("AE", h, UNAVAILABLE_TEXT).encode()
    if not events:
        counts["ignored"] += 1  # an ADT event with nothing to bill (A28/A31, A40...)
    counts["AA"] += 1
    return build_ack("AA", h).encode()


def _published(publisher, records, counts: Counter, unavailable: str) -> bool:
    try:
        publisher.send(records)
    except (KafkaError, OSError):
        counts["unpublished"] += 1
        if unavailable.upper() != "AE":
            raise
        return False
    return True


async def serve_connection(reader, writer, publisher, counts: Counter, charge_master=None,
                           unavailable: str = "close") -> None:
    loop = asyncio.get_running_loop()
    deframer = Deframer()
    try:
        while data := await reader.read(65536):
            for payload in deframer.feed(data):
                ack = await loop.run_in_executor(None, handle_message, payload, publisher, counts,
                                                 charge_master, unavailable)
                writer.write(frame(ack))
                await writer.drain()
    except FrameError:
        counts["oversized"] += 1
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    except (KafkaError, OSError) as exc:  # Kafka unavailable: no ACK, the sender resends
        print(f"mllp: a message was not published ({type(exc).__name__}); connection closed "
              "without ACK", file=sys.stderr, flush=True)
    finally:
        writer.close()


async def listen(host: str, port: int, publisher, stop: asyncio.Event,
                 counts: Counter | None = None, charge_master=None, unavailable: str = "close",
                 health: Health | None = None, bootstrap: str = "") -> Counter:
    counts = counts if counts is not None else Counter()
    server = await asyncio.start_server(
        lambda r, w: serve_connection(r, w, publisher, counts, charge_master, unavailable),
        host, port)
    bound = server.sockets[0].getsockname()
    print(f"mllp: listening on {bound[0]}:{bound[1]}", file=sys.stderr, flush=True)
    watch = asyncio.create_task(watch_broker(health, bootstrap, stop)) if health else None
    async with server:
        await stop.wait()
    if watch is not None:
        await watch
    return counts


async def watch_broker(health: Health, bootstrap: str, stop: asyncio.Event,
                       every_s: float = 5.0) -> None:
    """Keep the listener's health current: its loop turns, and some broker accepts connections."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        health.beat()
        health.set_connected("kafka", await loop.run_in_executor(None, broker_reachable, bootstrap))
        try:
            await asyncio.wait_for(stop.wait(), every_s)
        except TimeoutError:
            pass


def add_arguments(parser, name: str) -> None:
    sub = parser.add_subparsers(dest="protocol", required=True, metavar="PROTOCOL")
    p = sub.add_parser("mllp", help="HL7 v2 over MLLP (ADT A01/A03/A04/A08/A11, DFT^P03)")
    p.add_argument("--port", type=int, default=2575, help="TCP port (default 2575)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--metrics-port", type=int, default=None,
                   help="metrics and /healthz, /readyz on 127.0.0.1 (0: off; default "
                        "RCM_MLLP_METRICS_PORT)")


def cmd_listen(args) -> int:
    from infra.settings import load
    from processors.chargemaster import load_charge_master

    settings = load()
    unavailable = settings.mllp_unavailable.strip()
    if unavailable.upper() not in ("AE", "CLOSE"):
        print(f"rcm listen: RCM_MLLP_UNAVAILABLE must be AE or close, not {unavailable!r}",
              file=sys.stderr, flush=True)
        return EXIT_CONFIG
    charge_master = load_charge_master(settings.charge_master or None)
    health = Health("mllp", needs=("kafka",), consumer=False)
    publisher = Publisher(settings, timeout_s=settings.mllp_ack_timeout_s, health=health)
    port = settings.mllp_metrics_port if args.metrics_port is None else args.metrics_port
    server = serve(health, port)

    async def main() -> Counter:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        return await listen(args.host, args.port, publisher, stop, charge_master=charge_master,
                            unavailable=unavailable, health=health, bootstrap=settings.bootstrap)

    try:
        counts = asyncio.run(main())
    finally:
        publisher.close()
        if server is not None:
            server.shutdown()
    print("mllp: stopped; " + ", ".join(f"{k} {counts[k]}" for k in
                                        ("messages", "AA", "AE", "AR", "ignored", "unpublished")),
          file=sys.stderr, flush=True)
    return 0
