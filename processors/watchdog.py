"""The orphan watchdog: a worker left holding no partitions while records wait gets out by itself.

It runs in a thread of its own with its own kafka-python clients, so it works whatever the
consumer loop (processors.runtime), and reports offsets and counts only, never keys or values.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from prometheus_client import Counter, Gauge

from infra.settings import Settings

log = logging.getLogger(__name__)

# --- Orphaned partitions: a worker left holding nothing while records wait (issue 15) ----------
#
# The condition, in terms of any consumer loop in a group: an input partition has records beyond
# the group's committed offset, and no member of the group holds it, while the group is Stable,
# (or has no member at all: a worker whose client stopped asking), for `after_s` seconds. A
# healthy group never shows it: every partition of a subscribed topic is
# assigned to some member (a worker beyond the partition count is idle, but the partitions it lacks
# are held by the others). Seen in the long chaos run: a worker started while the broker came back
# was assigned from metadata that showed none of its topics ("Ignoring missing topic"), held
# nothing, and its client never noticed the topics later (aiokafka's leader re-joins on a metadata
# change, but did not). The cure: ask for a rejoin, whose assignment reads fresh metadata; if the
# partitions are still orphaned after `exit_after` such requests and this worker holds none, exit
# 75 (EX_TEMPFAIL) so its supervisor starts it again with a new client.

ORPHANED = Gauge("rcm_processor_orphaned_partitions",
                 "Input partitions with records waiting that no member of the group holds")
ORPHAN_REJOINS = Counter("rcm_processor_orphan_rejoins_total",
                         "Rejoins the orphan watchdog asked for because partitions with records "
                         "waiting were held by no member of the group")
EX_TEMPFAIL = 75


@dataclass
class Orphans:
    """Decides from successive observations: None (nothing to do), "rejoin" or "exit"."""
    after_s: float
    exit_after: int = 3
    since: float | None = None
    rejoins: int = 0

    def observe(self, orphaned: int | None, held: int, now: float) -> str | None:
        """`orphaned`: partitions with records waiting held by no member (None: cannot tell, e.g.
        the broker is away or the group is rebalancing); `held`: partitions this worker holds."""
        if not orphaned:
            self.since = None
            if orphaned == 0:
                self.rejoins = 0
            return None
        if self.since is None:
            self.since = now
            return None
        if now - self.since < self.after_s:
            return None
        self.since = now  # the next request, if still needed, one window later
        if self.rejoins >= self.exit_after and held == 0:
            return "exit"
        self.rejoins += 1
        return "rejoin"


# Group states in which the members' assignments are final: Stable, or no member at all (Empty;
# Dead: the coordinator has no such group). While it rebalances nothing is held for a moment.
SETTLED = ("Stable", "Empty", "Dead")


def orphaned_partitions(admin, offsets_client, group: str, topics: set[str]) -> list | None:
    """The (topic, partition)s of `topics` with records beyond the group's committed offset (or
    beyond the log start when nothing is committed) that no member of `group` holds; None while
    the group rebalances (nothing is held for a moment) or when it cannot be told.
    `admin`: a kafka-python KafkaAdminClient; `offsets_client`: a KafkaConsumer without a group."""
    from kafka import TopicPartition

    desc = admin.describe_groups([group]).get(group) or {}
    if str(desc.get("group_state")) not in SETTLED:
        return None
    held = set()
    for member in desc.get("members") or []:
        assignment = member.get("member_assignment") or {}
        if not isinstance(assignment, dict):  # not decodable as a consumer assignment
            return None
        for entry in assignment.get("assigned_partitions") or []:
            held.update((entry["topic"], p) for p in entry["partitions"])
    tps = [TopicPartition(t, p) for t in sorted(topics)
           for p in sorted(offsets_client.partitions_for_topic(t) or ())]
    free = [tp for tp in tps if (tp.topic, tp.partition) not in held]
    if not free:
        return []
    committed = {(tp.topic, tp.partition): meta.offset
                 for tp, meta in admin.list_group_offsets({group: None}).get(group, {}).items()}
    ends = offsets_client.end_offsets(free)
    fresh = [tp for tp in free if committed.get((tp.topic, tp.partition), -1) < 0]
    starts = offsets_client.beginning_offsets(fresh) if fresh else {}
    orphaned = []
    for tp in free:
        done = committed.get((tp.topic, tp.partition), -1)
        if done < 0:
            done = starts.get(tp, 0)
        if ends.get(tp, 0) > done:
            orphaned.append((tp.topic, tp.partition))
    return orphaned


class OrphanWatch:
    """Runs the orphan check every `interval_s` in a daemon thread, with its own kafka-python
    clients on the settings' brokers (so it works whatever loop consumes: faust's or a batch
    loop). `held()` returns how many partitions this worker holds, `rejoin()` asks its consumer to
    rejoin the group (called from this thread), `give_up()` ends the worker (default: exit 75)."""

    def __init__(self, settings: Settings, group: str, topics: set[str], held, rejoin,
                 after_s: float, interval_s: float = 5.0, exit_after: int = 3,
                 give_up=None) -> None:
        self.settings, self.group, self.topics = settings, group, set(topics)
        self.held, self.rejoin, self.interval_s = held, rejoin, interval_s
        self.orphans = Orphans(after_s, exit_after)
        self.give_up = give_up or self._exit
        self.clients = None
        self._stop = None
        # kafka-python warns, with the raw group description, at every describe: it cannot decode
        # faust's subscription metadata (version 4); the assignments decode, and are all we read
        logging.getLogger("kafka.admin._groups").setLevel(logging.ERROR)

    @staticmethod
    def _exit() -> None:
        import os
        logging.shutdown()
        os._exit(EX_TEMPFAIL)

    def _connect(self):
        from kafka import KafkaConsumer
        from kafka.admin import KafkaAdminClient

        from infra.kafka_auth import client_options

        if self.clients is None:
            options = client_options("processor", settings=self.settings)
            admin = KafkaAdminClient(**options, client_id="rcm-orphan-watch",
                                     request_timeout_ms=10000)
            try:
                consumer = KafkaConsumer(**options, client_id="rcm-orphan-watch",
                                         request_timeout_ms=10000)
            except Exception:
                admin.close()
                raise
            self.clients = (admin, consumer)
        return self.clients

    def _drop(self) -> None:
        clients, self.clients = self.clients, None
        for client in clients or ():
            try:
                client.close()
            except Exception as exc:  # noqa: BLE001 - closing a client of a dead broker
                log.debug("closing the orphan watch's client failed (%s)", type(exc).__name__)

    def check_once(self, now: float | None = None) -> str | None:
        now = time.monotonic() if now is None else now
        try:
            admin, consumer = self._connect()
            orphaned = orphaned_partitions(admin, consumer, self.group, self.topics)
        except Exception as exc:  # noqa: BLE001 - broker away: cannot tell, try again later
            log.debug("orphan check skipped (%s)", type(exc).__name__)
            self._drop()
            orphaned = None
        ORPHANED.set(len(orphaned or ()))
        held = self.held()
        action = self.orphans.observe(len(orphaned) if orphaned is not None else None, held, now)
        if action == "rejoin":
            ORPHAN_REJOINS.inc()
            log.warning("%d input partition(s) with records waiting are held by no member of the "
                        "group (this worker holds %d; e.g. %s): asking for a rejoin (%d of %d "
                        "before giving up)", len(orphaned), held,
                        ", ".join(f"{t}/{p}" for t, p in orphaned[:3]),
                        self.orphans.rejoins, self.orphans.exit_after)
            try:
                self.rejoin()
            except Exception as exc:  # noqa: BLE001 - the next window tries again or gives up
                log.warning("rejoin request failed (%s)", type(exc).__name__)
        elif action == "exit":
            log.error("%d input partition(s) with records waiting are still held by no member "
                      "after %d rejoins, and this worker holds none: exiting %d so its supervisor "
                      "starts it again", len(orphaned), self.orphans.rejoins, EX_TEMPFAIL)
            self.give_up()
        return action

    def start(self) -> OrphanWatch:
        import threading

        self._stop = threading.Event()

        def loop() -> None:
            while not self._stop.wait(self.interval_s):
                try:
                    self.check_once()
                except Exception:  # a watchdog must never take the worker down
                    log.exception("orphan watchdog failed")

        threading.Thread(target=loop, name="rcm-orphan-watch", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()
        self._drop()
