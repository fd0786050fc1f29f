"""`rcm status`: per topic size and throughput, per consumer group lag, dead letters.

Reads only offsets and group metadata from the broker, never record contents (no PHI), as the ops
principal (`rcm-ops`: DESCRIBE on topics and on the pipeline's groups, nothing else).
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import asdict, dataclass

from infra.pipeline import latest_offsets
from infra.settings import Settings, load
from schemas import topics as registry


@dataclass(frozen=True)
class TopicStatus:
    topic: str
    partitions: int
    messages: int  # sum of end offsets: everything ever written, retention aside
    per_second: float | None


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int
    end: int
    lag: int


@dataclass(frozen=True)
class GroupStatus:
    group: str
    state: str
    lag: int
    partitions: tuple[PartitionLag, ...]


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("--interval", type=float, default=2.0,
                        help="seconds between the two offset samples for messages/s (0: skip)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def registry_partitions(admin) -> list:
    from kafka import TopicPartition

    existing = set(admin.list_topics())
    names = [t.name for t in registry.ALL if t.name in existing]
    return [TopicPartition(d["name"], p["partition_index"])
            for d in admin.describe_topics(names) for p in d["partitions"]]


def topic_statuses(admin, interval_s: float) -> list[TopicStatus]:
    partitions = registry_partitions(admin)
    first = latest_offsets(admin, partitions)
    second = first
    if interval_s > 0:
        time.sleep(interval_s)
        second = latest_offsets(admin, partitions)
    rows = []
    for topic in registry.ALL:
        mine = [tp for tp in partitions if tp.topic == topic.name]
        if not mine:
            continue
        total = sum(second[tp] for tp in mine)
        rate = (total - sum(first[tp] for tp in mine)) / interval_s if interval_s > 0 else None
        rows.append(TopicStatus(topic.name, len(mine), total, rate))
    return rows


def group_statuses(admin) -> list[GroupStatus]:
    groups = sorted(admin.list_groups(), key=lambda g: g["group_id"])
    if not groups:
        return []
    committed = admin.list_group_offsets({g["group_id"]: None for g in groups})
    wanted = {tp for offsets in committed.values() for tp in offsets}
    ends = latest_offsets(admin, sorted(wanted))
    rows = []
    for g in groups:
        lags = tuple(
            PartitionLag(tp.topic, tp.partition, meta.offset, ends[tp],
                         max(0, ends[tp] - meta.offset) if meta.offset >= 0 else ends[tp])
            for tp, meta in sorted(committed.get(g["group_id"], {}).items()))
        rows.append(GroupStatus(g["group_id"], str(g.get("group_state") or "?"),
                                sum(p.lag for p in lags), lags))
    return rows


def service_health(settings) -> list[dict]:
    """Each long-running service's /readyz answer on its metrics port (never record contents)."""
    from infra.health import probe

    rows = []
    for name, port in (("processor", settings.processor_metrics_port),
                       ("sink", settings.sink_metrics_port),
                       ("sink-x12", settings.sink_x12_metrics_port),
                       ("mllp", settings.mllp_metrics_port)):
        if not port:
            continue
        code, body = probe(port, "/readyz", timeout_s=1.0)
        rows.append(_row(name, port, code, body))
        if code is not None and name in WORKER_PORTS:
            rows += _workers(name, getattr(settings, WORKER_PORTS[name]), probe)
    return rows


# `rcm process --workers N` and `rcm sink --workers N`: worker i >= 1 on the setting's port + i - 1
WORKER_PORTS = {"processor": "processor_worker_metrics_port", "sink": "sink_worker_metrics_port"}


def _workers(name: str, base: int, probe) -> list[dict]:
    """Workers 2, 3, ... of a service, on consecutive ports from `base` while they answer as it."""
    rows = []
    worker = 2
    while base:
        at = base + worker - 2
        code, body = probe(at, "/readyz", timeout_s=1.0)
        if code is None or body.get("service") != name:
            break
        rows.append(_row(f"{name}-{worker}", at, code, body))
        worker += 1
    return rows


def _row(name: str, port: int, code: int | None, body: dict) -> dict:
    state = "not running" if code is None else "ready" if code == 200 else (
        "not ready" if body.get("live") else "not live")
    return {"service": name, "port": port, "state": state,
            "connected": body.get("connected", {}), "partitions": body.get("partitions"),
            "seconds_since_commit": body.get("seconds_since_commit"),
            "reasons": body.get("reasons", [])}


def render_health(rows: list[dict]) -> list[str]:
    lines = ["", (f"{'service':<11}{'port':>6}  {'state':<12}{'kafka':<7}{'postgres':<10}"
                 f"{'partitions':>10}{'since commit':>14}")]
    for r in rows:
        conn = r["connected"]
        flag = {True: "yes", False: "no", None: "-"}
        since = "-" if r["seconds_since_commit"] is None else f"{r['seconds_since_commit']:.0f}s"
        parts = "-" if r["partitions"] is None else str(r["partitions"])
        lines.append(f"{r['service']:<11}{r['port']:>6}  {r['state']:<12}"
                     f"{flag[conn.get('kafka')]:<7}{flag[conn.get('postgres')]:<10}"
                     f"{parts:>10}{since:>14}" + (f"  ({'; '.join(r['reasons'])})"
                                                  if r["state"] == "not ready" else ""))
    return lines


def collect(settings: Settings, interval_s: float) -> dict:
    from kafka.admin import KafkaAdminClient

    from infra.kafka_acls import OPS
    from infra.kafka_auth import client_options

    admin = KafkaAdminClient(**client_options(OPS, settings=settings), client_id="rcm-status",
                             request_timeout_ms=10000)
    try:
        topics = topic_statuses(admin, interval_s)
        groups = group_statuses(admin)
    finally:
        admin.close()
    dead = next((t.messages for t in topics if t.topic == registry.DEAD_LETTERS.name), 0)
    return {"bootstrap": settings.bootstrap, "interval_s": interval_s, "topics": [asdict(t) for t in topics],
            "groups": [asdict(g) for g in groups], "dead_letters": dead}


def render(report: dict) -> str:
    lines = [f"Kafka {report['bootstrap']}", "",
             f"{'topic':<20}{'partitions':>11}{'messages':>12}{'msg/s':>10}"]
    for t in report["topics"]:
        rate = "-" if t["per_second"] is None else f"{t['per_second']:.1f}"
        lines.append(f"{t['topic']:<20}{t['partitions']:>11}{t['messages']:>12}{rate:>10}")
    if not report["groups"]:
        lines += ["", "no consumer groups"]
    for g in report["groups"]:
        lines += ["", f"group {g['group']} ({g['state']}): total lag {g['lag']}",
                  f"  {'topic':<38}{'part':>5}{'committed':>11}{'end':>11}{'lag':>9}"]
        for p in g["partitions"]:
            lines.append(f"  {p['topic']:<38}{p['partition']:>5}{p['committed']:>11}"
                         f"{p['end']:>11}{p['lag']:>9}")
    lines += ["", f"dead letters: {report['dead_letters']}"]
    return "\n".join(lines)


def cmd_status(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.CRITICAL)
    settings = load()
    health = service_health(settings)
    try:
        report = collect(settings, args.interval)
    except Exception as failure:  # noqa: BLE001 - any broker failure: say which broker and why
        print(f"rcm status: cannot read Kafka at {settings.bootstrap} ({failure!r}); "
              "is it running (rcm up)?", file=sys.stderr)
        print(json.dumps({"services": health}, indent=2) if args.json
              else "\n".join(render_health(health)))
        return 1
    report["services"] = health
    print(json.dumps(report, indent=2) if args.json
          else render(report) + "\n" + "\n".join(render_health(health)))
    return 0
