"""What every stage shares: decode, dead-letter, emit, count.

A stage handles a batch of records (processors.runtime); for each it decodes the value against its input topic,
calls a pure rule, and collects outgoing records. Bad input becomes one dead letter with the reason
and never stops the partition.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from aiokafka.errors import KafkaError
from aiokafka.partitioner import murmur2
from prometheus_client import Counter, Histogram

from processors.state import STATES, State
from schemas import codec, deadletter
from schemas.envelope import HANDLED_BY, Outgoing, record
from schemas.topics import DEAD_LETTERS, Topic

log = logging.getLogger("rcm.stage")

EVENTS_IN = Counter("rcm_stage_events_in_total", "Records read by a stage", ["stage"])
EVENTS_OUT = Counter("rcm_stage_events_out_total", "Records written, per input topic and output topic",
                     ["source", "topic"])
ERRORS = Counter("rcm_stage_errors_total", "Records a stage dead-lettered or skipped", ["stage", "error"])
LATENCY = Histogram(
    "rcm_stage_latency_seconds", "Source emit to stage output, per record", ["stage"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


class Rejected(Exception):
    """A record that decodes but breaks a rule; `owner` says whether this stage dead-letters it."""

    def __init__(self, reason: str, owner: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.owner = owner


class Emitter(Protocol):
    async def send_many(self, out: Sequence[Outgoing]) -> None: ...


@functools.lru_cache(maxsize=1 << 16)
def partition_for(key: bytes, partitions: int) -> int:
    """Kafka's default partitioner (murmur2), as Java, kafka-python and aiokafka compute it, so a
    record lands on the same partition whoever produces it. Cached: an account's or a claim's
    records are placed again and again, and murmur2 is pure Python."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


class ProducerEmitter:
    """Hands records to an aiokafka producer one batch per partition, and returns only once the
    broker acknowledged every batch.

    A batch resolves one future instead of one per record, which was a tenth of the worker's time.
    A batch that failed or was not acknowledged within `timeout_s` (RCM_DELIVERY_TIMEOUT_S) is sent
    again, up to `attempts` (RCM_DELIVERY_ATTEMPTS) times. When every attempt failed `give_up` runs: by default the worker
    exits at once, without a commit, and its input is redelivered from the last committed offset
    (ids are deterministic, so that is harmless).
    """

    def __init__(self, producer, timeout_s: float, attempts: int,
                 give_up: Callable[[str], None] | None = None):
        self.producer = producer
        self.timeout_s = timeout_s
        self.attempts = max(1, attempts)
        self.give_up = give_up or _exit_undelivered

    async def send_many(self, out: Sequence[Outgoing]) -> None:
        """Deliver `out`: first the results, then, once the broker acknowledged every one of
        them, the state changes (the changelogs of processors.state). A worker killed between
        the two leaves the old state, so the redelivered input produces its results again (the
        same ids); never a state that says "done" for results that are not on the broker (the
        matcher's "known" claim, whose released remittances were lost with the kill)."""
        state = {st.topic.name for st in STATES}
        results = [o for o in out if o.topic.name not in state]
        changes = [o for o in out if o.topic.name in state]
        for part in (results, changes):
            if part:
                await self._deliver(part)

    async def _deliver(self, out: Sequence[Outgoing]) -> None:
        by_tp: dict[tuple[str, int], list[Outgoing]] = {}
        for o in out:
            partition = o.partition if o.partition is not None else partition_for(o.key, o.topic.partitions)
            by_tp.setdefault((o.topic.name, partition), []).append(o)
        errors: set[str] = set()
        for attempt in range(1, self.attempts + 1):
            try:
                # handing the batches over is bounded too: aiokafka waits for a partition's
                # previous batch (one the broker keeps refusing) before it takes the next
                sent = await asyncio.wait_for(self._send(by_tp), timeout=self.timeout_s)
            except (TimeoutError, KafkaError) as exc:
                # e.g. no metadata: everything goes again (ids make it safe)
                name = "send blocked" if isinstance(exc, TimeoutError) \
                    else type(exc).__name__
                errors.add(name)
                log.warning("delivery attempt %d of %d failed to send (%s)", attempt,
                            self.attempts, name)
                continue
            done, _ = await asyncio.wait([f for _, f in sent], timeout=self.timeout_s) \
                if sent else (set(), set())
            failed: dict[tuple[str, int], list[Outgoing]] = {}
            for (tp, items), future in sent:
                if future in done and future.exception() is None:
                    continue
                errors.add(type(future.exception()).__name__ if future in done else "no ack")
                failed.setdefault(tp, []).extend(items)
            if not failed:
                return
            UNDELIVERED.inc(sum(len(items) for items in failed.values()))
            log.warning("delivery attempt %d of %d: %d records on %d partitions not acknowledged "
                        "(%s)", attempt, self.attempts, sum(map(len, failed.values())),
                        len(failed), ", ".join(sorted(errors)))
            by_tp = failed
        self.give_up(f"{sum(map(len, by_tp.values()))} records not acknowledged after "
                     f"{self.attempts} attempts ({', '.join(sorted(errors))})")

    async def _send(self, by_tp: dict[tuple[str, int], list[Outgoing]]) -> list:
        """One batch per partition (more when full); returns ((topic, partition), records), future."""
        producer = self.producer
        sent = []
        for (topic, partition), items in by_tp.items():
            batch, held = producer.create_batch(), []
            for o in items:
                headers = [(HANDLED_BY, ",".join(o.handled_by).encode())] if o.handled_by else []
                if batch.append(key=o.key, value=o.value, timestamp=None, headers=headers) is None:
                    future = await producer.send_batch(batch, topic, partition=partition)
                    sent.append((((topic, partition), held), future))
                    batch, held = producer.create_batch(), []
                    batch.append(key=o.key, value=o.value, timestamp=None, headers=headers)
                held.append(o)
            future = await producer.send_batch(batch, topic, partition=partition)
            sent.append((((topic, partition), held), future))
        return sent


UNDELIVERED = Counter("rcm_stage_undelivered_total",
                      "Records a delivery attempt of the processor did not get acknowledged")


def _exit_undelivered(reason: str) -> None:
    log.critical("stopping without a commit: %s; the input is redelivered on restart", reason)
    logging.shutdown()
    os._exit(EXIT_UNDELIVERED)


EXIT_UNDELIVERED = 75  # EX_TEMPFAIL: the broker did not take the output; run the worker again


def handled_by(message) -> frozenset[str]:
    """The stages a record's HANDLED_BY header names (none for a record without it)."""
    for name, value in getattr(message, "headers", None) or ():
        if name == HANDLED_BY and value:
            return frozenset(value.decode().split(","))
    return frozenset()


def dead_letter(source: Topic, message, stage: str, error: str, reason: str) -> Outgoing:
    partition = getattr(message, "partition", None) or 0
    offset = getattr(message, "offset", None) or 0
    return record(DEAD_LETTERS, deadletter.dead_letter(
        deadletter.offset_id(source.name, partition, offset, stage), source.name, stage, error, reason,
        key=message.key if isinstance(message.key, bytes) else None,
        payload=message.value if isinstance(message.value, bytes) else b"",
        partition=partition, offset=offset))


def kept_dead_letter(source: Topic, ev: dict, stage: str, reason: str) -> Outgoing:
    """A dead letter for an event (keyed by account) whose stage kept other state, so it cannot
    raise Rejected. Its id is the event's, so a redelivery writes the same one; the offset is
    unknown here (-1)."""
    key = ev["account_id"].encode()
    ERRORS.labels(stage, "INVALID").inc()
    return record(DEAD_LETTERS, deadletter.dead_letter(
        f"{source.name}:{ev['event_id']}:{stage}", source.name, stage, "INVALID", reason, key=key,
        payload=codec.encode(source.value_schema, ev), partition=partition_for(key, source.partitions)))


def send(stores: Iterable, *records: Iterable[tuple[Topic, dict] | Outgoing],
         rejected: Iterable[tuple[dict, str]] = (), refused_by: tuple[Topic, str] | None = None,
         ) -> list[Outgoing]:
    """What a stage hands on for one input: the state changes its `stores` collected (their
    `writes`), then `records` in order (each (topic, record) encoded; an Outgoing as it is), then
    one kept dead letter per event the rule refused (`rejected`: (event, reason), dead-lettered
    as the stage `refused_by` = (its input topic, its name) names).

    The order of the list is not the order of delivery: the emitter delivers every result first
    and the state changes only once those are acknowledged (ProducerEmitter.send_many)."""
    out = [w for store in stores for w in store.writes]
    for part in records:
        out.extend(r if isinstance(r, Outgoing) else record(*r) for r in part)
    rejected = list(rejected)
    if rejected:
        if refused_by is None:
            raise TypeError("refused events need the stage that dead-letters them (refused_by)")
        source, stage = refused_by
        out.extend(kept_dead_letter(source, ev, stage, reason) for ev, reason in rejected)
    return out


Handler = Callable[[dict], Iterable[Outgoing]]


@dataclass(frozen=True)
class Stage:
    """One piece of specialist work on one input topic.

    `owner`: this stage validates the topic's records and dead-letters the bad ones (exactly one
    stage owns each input topic, so a bad record yields exactly one dead letter). It runs first;
    the other stages on the topic receive only the records it accepted.
    `reads`, `writes`: the states (tables) the handler gets and puts; each must be co-partitioned
    with `source` (placed by the source's key field, same partition count), so the entry a record
    needs is on a partition its worker owns. `broadcast`: compacted topics every worker reads
    whole (small reference data such as `scrub-rules`), exempt from that rule.
    """

    name: str
    source: Topic
    handle: Handler
    owner: bool = True
    reads: tuple[State, ...] = ()
    writes: tuple[State, ...] = ()
    broadcast: tuple[Topic, ...] = ()


class NotCopartitioned(Exception):
    """A stage declares a table its input topic's partitions do not hold: a worker holding some
    partitions would read or write entries on partitions it does not own."""


def copartitioning_errors(stages: Sequence[Stage]) -> list[str]:
    """One line per (stage, state) whose state is not co-partitioned with the stage's stream:
    entries placed by another field than the stream's key, or another partition count."""
    errors = []
    for stage in stages:
        for verb, states in (("reads", stage.reads), ("writes", stage.writes)):
            for state in states:
                src = stage.source
                if state.field != src.key:
                    errors.append(f"stage {stage.name} {verb} table {state.name} (placed by "
                                  f"{state.field}) from stream {src.name} (keyed by {src.key})")
                elif state.topic.partitions != src.partitions:
                    errors.append(f"stage {stage.name} {verb} table {state.name} "
                                  f"({state.topic.partitions} partitions) from stream {src.name} "
                                  f"({src.partitions} partitions)")
    return errors


def check_copartitioned(stages: Sequence[Stage]) -> None:
    """Raise NotCopartitioned naming every table and stream that do not line up."""
    errors = copartitioning_errors(stages)
    if errors:
        raise NotCopartitioned("state not co-partitioned with the stream that uses it: "
                               + "; ".join(errors))


async def run_batch(source: Topic, events, stages: Sequence[Stage], emitter: Emitter) -> None:
    """Decode each event once, hand it to every stage on `source` (the owner first: a record it
    rejects goes no further), then emit everything in order."""
    stages = sorted(stages, key=lambda s: not s.owner)
    out: list[Outgoing] = []
    now = time.time()
    latency = {stage.name: LATENCY.labels(stage.name) for stage in stages}
    skipped: dict[str, int] = {}
    everyone = stages
    for i, event in enumerate(events):
        if i and not i % 256:
            await asyncio.sleep(0)  # let heartbeats and timers run during a long batch
        message = getattr(event, "message", event)  # a faust event or an aiokafka record
        done = handled_by(message)
        if done:
            stages = [s for s in everyone if s.name not in done]
            for name in done:
                skipped[name] = skipped.get(name, 0) + 1
        else:
            stages = everyone
        if not stages:
            continue  # a fused stage ran every stage of this topic on it already
        try:
            rec = codec.decode_for(source, message.value)
        except codec.DecodeError as exc:
            for stage in stages:
                ERRORS.labels(stage.name, exc.kind).inc()
                if stage.owner:
                    out.append(dead_letter(source, message, stage.name, exc.kind, exc.reason))
            continue
        emitted = rec.get("emitted_at") or rec.get("source_emitted_at")
        codec.handling(rec, message.value, source.value_schema)
        for stage in stages:
            try:
                out.extend(stage.handle(rec))
            except Rejected as exc:
                ERRORS.labels(stage.name, "INVALID").inc()
                if stage.owner and exc.owner:
                    out.append(dead_letter(source, message, stage.name, "INVALID", exc.reason))
                if stage.owner:
                    break  # the record is bad: no other stage sees it
                continue
            if emitted is not None:
                latency[stage.name].observe(max(0.0, now - emitted.timestamp()))
        codec.handling(None)
    for stage in everyone:
        EVENTS_IN.labels(stage.name).inc(len(events) - skipped.get(stage.name, 0))
    await emitter.send_many(out)
    sent: dict[str, int] = {}
    for o in out:
        sent[o.topic.name] = sent.get(o.topic.name, 0) + 1
    for topic_name, n in sent.items():
        EVENTS_OUT.labels(source.name, topic_name).inc(n)
