"""The batch loop of `rcm process`: read the input topics a batch at a time, run the stages, deliver,
commit.

One aiokafka consumer in the group `RCM_APP_ID` reads every input topic (`getmany`, manual
commits). Each batch is decoded once per record and run through the stages of its topic
(processors.stage.run_batch: the owner first); everything it produced is handed to the producer
(processors.stage.ProducerEmitter: results, then state changes, each acknowledged by the broker,
or the worker exits 75 without a commit); only then does each partition's next offset advance,
and the commit is that offset. Records of one partition are processed strictly in offset order
(`Offsets`): a record below the next offset was processed already, a record beyond it means
records were skipped, so the partition is sought back.

Assignment uses Kafka's range assignor: with every worker subscribed to the same topics, all of
them with the same partition count, a worker holds the same partition numbers of every topic, so
the state a stage reads is on a partition it holds (processors.stage.check_copartitioned).
When partitions are assigned, each is placed at its committed offset (or its log start), and
the partitions of every state topic that its stages use are restored (read from the start to the
end offset) before any of its records is processed; when they are revoked, the batch in flight
finishes (delivered and committed) first. State partitions the worker keeps across a rebalance
(held in generation G, assigned again in G+1, the last commit accepted: nobody else held them in
between) are not read again; those it lost are dropped, those newly assigned restored
(`StateBook`).

faust stays the worker shell (lifecycle, signals, timers); it consumes nothing.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import CommitFailedError, KafkaError
from mode import Service

from processors.context import Context
from processors.stage import Outgoing, ProducerEmitter, Stage, run_batch
from schemas.topics import Topic

log = logging.getLogger("rcm.runtime")

BATCH_MAX = 2000  # records per getmany
POLL_MS = 100
COMMIT_EVERY_S = 0.5
RESEEK_AFTER_S = 1.0
EXIT_FAILED = 70  # EX_SOFTWARE: the loop itself failed; the supervisor starts the worker again


def client_options(settings) -> dict:
    """The options every Kafka client of the processor shares: its principal's credentials
    (infra.kafka_auth), the bootstrap servers and its client id."""
    from infra.kafka_auth import client_options as kafka_options

    return {**kafka_options("processor", flavour="aiokafka", settings=settings),
            "bootstrap_servers": settings.bootstrap.split(","), "client_id": settings.app_id}


def instance_id(settings) -> str | None:
    """The worker's static group member id (KIP-345): RCM_APP_ID, host and worker index, the same
    every time that worker starts; None (a dynamic member) without an index."""
    if not settings.processor_instance:
        return None
    return f"{settings.app_id}-{socket.gethostname()}-{settings.processor_instance}"


def consumer_options(settings) -> dict:
    """A static member (with an instance id) restarted after a crash gets its partitions back at
    once, without a rebalance and without waiting for the session timeout to expire its former
    self; the other workers keep theirs."""
    static = instance_id(settings)
    return {**client_options(settings), "group_id": settings.app_id, "enable_auto_commit": False,
            **({"group_instance_id": static} if static else {}),
            "auto_offset_reset": "earliest", "isolation_level": "read_uncommitted",
            "partition_assignment_strategy": (RangePartitionAssignor,),
            "max_poll_records": BATCH_MAX, "fetch_max_wait_ms": 50,
            # heartbeats share the event loop with the stages: a batch of encounters the coder
            # meets for the first time can hold it for seconds on a busy machine
            "session_timeout_ms": 60000, "heartbeat_interval_ms": 3000,
            "max_partition_fetch_bytes": 1024 * 1024}


def producer_options(settings) -> dict:
    return {**client_options(settings), "acks": "all", "linger_ms": 5,
            "max_batch_size": 256 * 1024}




class Offsets:
    """Next offset to process per assigned input partition. A partition without an entry is not
    ready (not yet placed, or revoked): its records are not processed and nothing is committed
    for it."""

    def __init__(self) -> None:
        self.next: dict[TopicPartition, int] = {}
        self.sought_at: dict[TopicPartition, float] = {}

    def admit(self, records: Sequence) -> tuple[list, dict, dict]:
        """The records to process now, in order: those at the next offset of their partition and
        the ones following it without a hole. Returns (admitted, tp -> next offset after them,
        tp -> offset to seek back to, for partitions that jumped)."""
        admitted, ahead, jumped = [], {}, {}
        for r in records:
            tp = TopicPartition(r.topic, r.partition)
            expected = ahead.get(tp, self.next.get(tp))
            if expected is None or tp in jumped or r.offset < expected:
                continue  # not ready, already skipping, or processed already
            if r.offset > expected:
                jumped[tp] = expected
                continue
            admitted.append(r)
            ahead[tp] = r.offset + 1
        return admitted, ahead, jumped

    def advance(self, start: dict, ahead: dict) -> None:
        """The admitted records were processed and delivered. `start` is each partition's next
        offset when they were admitted: a partition placed again meanwhile keeps its place."""
        for tp, nxt in ahead.items():
            if tp in self.next and self.next[tp] == start.get(tp):
                self.next[tp] = nxt

    def due_seeks(self, jumped: dict, now: float) -> dict:
        due = {}
        for tp, offset in jumped.items():
            if now - self.sought_at.get(tp, float("-inf")) >= RESEEK_AFTER_S:
                self.sought_at[tp] = now
                due[tp] = offset
        return due

    def forget(self) -> None:
        self.next.clear()
        self.sought_at.clear()


class StateBook:
    """Which state partitions the worker's tables hold exactly, and for which group generation.

    A state partition is exact once restored (read to its end offset) and stays so while the
    worker holds its input partitions: everything the worker wrote to it was delivered before the
    input that caused it was committed (processors.stage.ProducerEmitter; the worker exits 75
    otherwise). With eager rebalancing every member gives up all its partitions before a new
    generation is formed, so a partition held in generation G and assigned to the same member in
    G + 1 was held by nobody in between: its state is still exact and is kept. Anything else
    (a generation skipped: the member was out of the group while another held its partitions; a
    revocation whose commit failed; a partition lost and regained later; a restore that failed
    half-way) is read again."""

    def __init__(self) -> None:
        self.exact: set[TopicPartition] = set()
        self.generation: int | None = None
        self.intact = True  # every revocation since `generation` committed

    def revoked(self, committed: bool) -> None:
        self.intact = self.intact and committed

    def assigned(self, generation: int | None, wanted) -> set[TopicPartition]:
        """A new assignment in `generation` needing the state partitions `wanted`: returns those
        kept (still exact); every other one is no longer exact."""
        continuous = (self.intact and generation is not None and self.generation is not None
                      and generation == self.generation + 1)
        kept = self.exact & set(wanted) if continuous else set()
        self.exact, self.generation, self.intact = set(kept), generation, True
        return kept

    def restoring(self, tps) -> None:
        self.exact.difference_update(tps)

    def restored(self, tps) -> None:
        self.exact.update(tps)


class Runtime(Service):
    """The batch loop as a service of the faust worker."""

    def __init__(self, ctx: Context, stages: Sequence[Stage], settings, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ctx, self.settings = ctx, settings
        self.sources: dict[str, Topic] = {}
        self.stages: dict[str, tuple[Stage, ...]] = {}
        for stage in stages:
            self.sources[stage.source.name] = stage.source
            self.stages[stage.source.name] = (*self.stages.get(stage.source.name, ()), stage)
        self.offsets = Offsets()
        self.book = StateBook()
        self.lock = asyncio.Lock()
        self.assigned: frozenset = frozenset()
        self.unplaced: frozenset = frozenset()  # assigned, placing failed: tried again
        self.rebalancing = False
        self.committed: dict[TopicPartition, int] = {}
        self.committed_at = 0.0
        self.commits = 0
        self.stopping = False
        self.consumer: AIOKafkaConsumer | None = None
        self.producer: AIOKafkaProducer | None = None
        self.emitter: ProducerEmitter | None = None

    async def on_start(self) -> None:
        self.producer = AIOKafkaProducer(**producer_options(self.settings))
        await self.producer.start()
        self.emitter = ProducerEmitter(self.producer, self.settings.delivery_timeout_s,
                                       self.settings.delivery_attempts)
        self.consumer = AIOKafkaConsumer(**consumer_options(self.settings))
        await self.consumer.start()
        self.consumer.subscribe(topics=sorted(self.sources), listener=_Listener(self))

    async def on_started(self) -> None:
        self.add_future(self.run_batches())

    async def on_stop(self) -> None:
        self.stopping = True
        if self.consumer is not None:
            async with self.lock:
                await self.commit(force=True)
            await self.consumer.stop()  # a dynamic member leaves the group: the others take over
            static = instance_id(self.settings)
            if static:  # a static member sends no LeaveGroup: it is removed, so they take over too
                await asyncio.to_thread(leave_group, self.settings, static)
        if self.producer is not None:
            await self.producer.stop()

    async def run_batches(self) -> None:
        try:
            await self._run_batches()
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug, not bad input (that is dead-lettered): stop, uncommitted
            if self.stopping:  # the consumer was closed under a poll
                return
            log.critical("the batch loop failed; stopping without a commit", exc_info=True)
            logging.shutdown()
            os._exit(EXIT_FAILED)

    async def _run_batches(self) -> None:
        while not (self.should_stop or self.stopping):
            if self.unplaced and not self.rebalancing:
                async with self.lock:
                    await self.place(self.unplaced)
            batches = await self.consumer.getmany(timeout_ms=POLL_MS, max_records=BATCH_MAX)
            if self.stopping:
                break
            if batches:
                await self.process([r for records in batches.values() for r in records])
            if time.monotonic() - self.committed_at >= COMMIT_EVERY_S:
                async with self.lock:
                    await self.commit()

    async def process(self, records: Sequence) -> None:
        """Run one fetched batch: admit in offset order, run each topic's stages, deliver
        everything, advance, commit."""
        async with self.lock:
            start = dict(self.offsets.next)
            admitted, ahead, jumped = self.offsets.admit(records)
            if admitted:
                by_topic: dict[str, list] = {}
                for r in admitted:
                    by_topic.setdefault(r.topic, []).append(r)
                out = _Collect()
                for name, recs in by_topic.items():
                    await run_batch(self.sources[name], recs, self.stages[name], out)
                await self.emitter.send_many(out.records)  # exits 75 if never acknowledged
                self.offsets.advance(start, ahead)
                await self.commit()
            if jumped:
                await self.seek_back(jumped)

    async def seek_back(self, jumped: dict) -> None:
        for tp, offset in self.offsets.due_seeks(jumped, time.monotonic()).items():
            log.warning("input %s/%s: records skipped; seeking back to %s", tp.topic,
                        tp.partition, offset)
            try:
                self.consumer.seek(tp, offset)
            except Exception as exc:  # noqa: BLE001 - revoked meanwhile: placed at assignment
                log.warning("seeking back failed (%s)", type(exc).__name__)

    async def commit(self, force: bool = False) -> bool:
        """Commit each partition's next offset (processed and delivered), at most every
        COMMIT_EVERY_S unless forced. False when the commit failed."""
        now = time.monotonic()
        if not force and now - self.committed_at < COMMIT_EVERY_S:
            return True
        self.committed_at = now
        due = {tp: nxt for tp, nxt in self.offsets.next.items() if self.committed.get(tp) != nxt}
        if not due:
            return True
        try:
            await self.consumer.commit(due)
        except (CommitFailedError, KafkaError) as exc:
            # the group moved on: these records are delivered again, their ids make it harmless
            log.warning("commit failed (%s); the records since the last commit come again",
                        type(exc).__name__)
            return False
        self.committed.update(due)
        self.commits += 1
        return True

    def request_rejoin(self) -> None:
        """Ask the group coordinator for a new assignment, from any thread (the orphan watchdog,
        processors.watchdog.OrphanWatch, runs in its own)."""
        consumer, loop = self.consumer, self.loop
        if consumer is None:
            return
        loop.call_soon_threadsafe(consumer._coordinator.request_rejoin)  # noqa: SLF001

    def connected(self) -> bool:
        """The consumer knows its group coordinator (aiokafka keeps that private)."""
        try:
            return self.consumer._coordinator.coordinator_id is not None  # noqa: SLF001
        except AttributeError:  # not started yet
            return False

    def generation(self) -> int | None:
        """The consumer group generation the consumer is in (aiokafka keeps that private)."""
        try:
            generation = self.consumer._coordinator.generation  # noqa: SLF001
        except AttributeError:
            return None
        return generation if isinstance(generation, int) and generation >= 0 else None

    async def revoke(self) -> None:
        """Nothing of the revoked partitions is processed any more; their state stays in the
        tables until the next assignment says which of it is kept."""
        async with self.lock:  # the batch in flight finishes, delivered and committed
            self.rebalancing = True
            self.book.revoked(await self.commit(force=True))
            self.offsets.forget()
            self.committed.clear()
            self.assigned = self.unplaced = frozenset()
            self.ctx.assignment = frozenset()
            self.ctx.forget_clocks()

    async def assign(self, assigned, generation: int | None = None) -> None:
        async with self.lock:
            self.rebalancing = False
            self.assigned = frozenset(assigned)
            kept = self.book.assigned(generation, self.state_partitions(self.assigned))
            for name, table in self.ctx.tables.items():  # drop what is not kept
                held = set(table.partition_of.values())
                table.drop({p for p in held if TopicPartition(name, p) not in kept})
            await self.place(self.assigned)

    async def place(self, tps) -> None:
        """Restore the state of `tps`' partitions, then seek each to its committed offset (its log
        start when none) and make it ready. On failure nothing of it is processed; the loop
        tries again."""
        tps = frozenset(tps)
        wanted = self.state_partitions(tps)
        kept = wanted & self.book.exact
        try:
            restored = await self.restore(tps)
            offsets = await self.starting_offsets(tps)
        except (TimeoutError, KafkaError, OSError) as exc:
            log.warning("placing %d partitions failed (%s); trying again", len(tps),
                        type(exc).__name__)
            self.unplaced = tps
            await asyncio.sleep(1.0)
            return
        for tp, offset in offsets.items():
            self.consumer.seek(tp, offset)
        self.offsets.next.update(offsets)
        self.committed.update({tp: o for tp, o in offsets.items()})
        self.unplaced = frozenset()
        self.ctx.assignment = self.assigned
        self.ctx.forget_clocks()
        log.info("placed %d input partitions; state partitions: %d restored (%d records), %d kept",
                 len(tps), len(wanted - kept), restored, len(kept))

    async def starting_offsets(self, tps) -> dict[TopicPartition, int]:
        tps = sorted(tps)
        committed = await asyncio.gather(*(self.consumer.committed(tp) for tp in tps))
        fresh = [tp for tp, off in zip(tps, committed, strict=True) if off is None]
        starts = await self.consumer.beginning_offsets(fresh) if fresh else {}
        return {tp: (off if off is not None else starts[tp])
                for tp, off in zip(tps, committed, strict=True)}

    def state_partitions(self, tps) -> set[TopicPartition]:
        """The state topics' partitions the stages of the input partitions `tps` read or write."""
        wanted: set[TopicPartition] = set()
        for tp in tps:
            for stage in self.stages.get(tp.topic, ()):
                for state in (*stage.reads, *stage.writes):
                    wanted.add(TopicPartition(state.name, tp.partition))
        return wanted

    async def restore(self, tps) -> int:
        """Read each state topic's partitions that the stages of `tps` use and that are not
        exact already, from the start to the end offset, into the context's tables (replacing
        what they held)."""
        todo = self.state_partitions(tps) - self.book.exact
        self.book.restoring(todo)
        for tp in todo:
            self.ctx.tables[tp.topic].drop([tp.partition])
        if not todo:
            return 0
        n = await restore(self.settings, self.ctx.tables, sorted(todo))
        self.book.restored(todo)
        return n


def leave_group(settings, static: str) -> bool:
    """Remove the static member `static` from the group (KIP-345's admin removal: LeaveGroup with
    its instance id), so a worker stopped for good hands its partitions over at once. aiokafka, like
    Kafka's own client, sends no LeaveGroup for a static member: it leaves that to the session
    timeout, which is what lets a restarted member take its partitions back without a rebalance."""
    from kafka.admin import KafkaAdminClient, MemberToRemove

    try:
        from infra.kafka_auth import client_options as kafka_options  # kafka-python's spelling

        admin = KafkaAdminClient(**kafka_options("processor", settings=settings),
                                 client_id=settings.app_id, request_timeout_ms=10000)
    except Exception as exc:  # noqa: BLE001 - the session timeout still hands them over
        log.warning("leaving the group failed (%s); its partitions move after the session timeout",
                    type(exc).__name__)
        return False
    try:
        result = admin.remove_group_members(settings.app_id,
                                            [MemberToRemove(group_instance_id=static)])
        errors = [e.__name__ for e in result.values() if e.__name__ != "NoError"]
    except Exception as exc:  # noqa: BLE001
        errors = [type(exc).__name__]
    finally:
        admin.close()
    if errors:
        log.warning("leaving the group failed (%s); its partitions move after the session timeout",
                    ", ".join(errors))
        return False
    log.info("left the group (static member removed)")
    return True


def leaving_first(settings, give_up):
    """The orphan watchdog's exit for this worker. A static member leaves the group first:
    restarted as the same member in a stable group it would be handed the very assignment it gave
    up on (KIP-345 replaces the member without a rebalance); removed, it joins as a new member and
    the group computes a new assignment."""
    static = instance_id(settings)
    if not static:
        return give_up

    def leave_then_give_up() -> None:
        leave_group(settings, static)
        give_up()

    return leave_then_give_up


async def restore(settings, tables: dict, tps: list[TopicPartition]) -> int:
    """Read `tps` (state topic partitions) from their start to their end offset into `tables`."""
    consumer = AIOKafkaConsumer(**client_options(settings), group_id=None,
                                enable_auto_commit=False, auto_offset_reset="earliest",
                                max_partition_fetch_bytes=4 * 1024 * 1024)
    await consumer.start()
    try:
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        await consumer.seek_to_beginning(*tps)
        left = {tp for tp, end in ends.items() if end > 0}
        n = 0
        while left:
            for tp in list(left):
                if await consumer.position(tp) >= ends[tp]:
                    left.discard(tp)
            if not left:
                break
            batches = await consumer.getmany(*left, timeout_ms=200, max_records=10000)
            for tp, records in batches.items():
                table = tables[tp.topic]
                for r in records:
                    if r.offset < ends[tp]:
                        table.put(r.key, r.value, tp.partition)
                        n += 1
        return n
    finally:
        await consumer.stop()


def watch_health(app, runtime: Runtime, settings, interval_s: float = 2.0):
    """The processor's health (infra.health): a faust timer (so a beat proves the worker's loop
    turns) samples the batch loop's partitions, its group coordinator and its commits, served on
    RCM_PROCESSOR_METRICS_PORT with the metrics. It first waits (bounded backoff, each retry
    logged) until a broker accepts connections."""
    from infra.health import Health, serve, watch_orphans
    from infra.reconnect import Retry, require_broker, transient_kafka

    health = Health("processor", needs=("kafka",))
    seen = [0]
    orphans: list = []

    @app.timer(interval=interval_s)
    async def sample_health() -> None:
        health.set_partitions(len(runtime.offsets.next))
        health.set_connected("kafka", runtime.connected())
        if runtime.commits != seen[0]:
            seen[0] = runtime.commits
            health.commit()
        health.beat()
        if not orphans:  # once the loop runs: partitions nobody holds make it rejoin or exit
            watch = watch_orphans(settings, set(runtime.sources), lambda: health.partitions,
                                  runtime.request_rejoin)
            watch.give_up = leaving_first(settings, watch.give_up)
            orphans.append(watch)

    serve(health, settings.processor_metrics_port)
    retry = Retry("processor", settings.reconnect_initial_s, settings.reconnect_max_s)
    retry.call("kafka", lambda: require_broker(settings.bootstrap), transient_kafka)
    return health


class _Collect:
    """Gathers the output of every topic's stages in one fetched batch, delivered at once."""

    def __init__(self) -> None:
        self.records: list[Outgoing] = []

    async def send_many(self, out: Sequence[Outgoing]) -> None:
        self.records.extend(out)


class _Listener(ConsumerRebalanceListener):
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def on_partitions_revoked(self, revoked) -> None:
        await self.runtime.revoke()

    async def on_partitions_assigned(self, assigned) -> None:
        await self.runtime.assign(assigned, self.runtime.generation())
