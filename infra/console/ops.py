"""Pipeline (ops): per topic throughput, per consumer group lag (infra.status, refreshed every few
seconds by htmx), dead letters by topic and reason (each openable), the dollars waiting in each
stage, and the processor's and sink's health (/readyz) and metrics. Counts and dollars only: no
account-level rows."""
from __future__ import annotations

import re
import threading
import time
import urllib.request
from datetime import date

from infra.console.web import Ctx, page

_samples: dict[str, tuple[float, dict[str, int]]] = {}
_lock = threading.Lock()
_METRIC = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+([-0-9.eE+]+|NaN)$')
HEALTH_METRICS = ("rcm_stage_events_in_total", "rcm_stage_errors_total",
                  "rcm_stage_undelivered_total", "rcm_processor_stalled_partitions",
                  "rcm_sink_records_total", "rcm_sink_errors_total", "rcm_sink_batches_total")


def broker_status(settings) -> dict:
    """Topics with messages/s since the previous call (no sleeping), and group lag."""
    from infra import status
    from infra.console import broker

    bootstrap = settings.bootstrap
    topics, groups = broker.admin(settings).call(
        lambda admin: (status.topic_statuses(admin, 0), status.group_statuses(admin)))
    now = time.monotonic()
    totals = {t.topic: t.messages for t in topics}
    with _lock:
        before = _samples.get(bootstrap)
        _samples[bootstrap] = (now, totals)
    rates = {}
    if before and now > before[0]:
        elapsed = now - before[0]
        rates = {name: (n - before[1].get(name, n)) / elapsed for name, n in totals.items()}
    return {"topics": [{"topic": t.topic, "partitions": t.partitions, "messages": t.messages,
                        "per_second": rates.get(t.topic)} for t in topics],
            "groups": [{"group": g.group, "state": g.state, "lag": g.lag,
                        "topics": _lag_by_topic(g)} for g in groups]}


def _lag_by_topic(group) -> list[tuple[str, int]]:
    by: dict[str, int] = {}
    for p in group.partitions:
        by[p.topic] = by.get(p.topic, 0) + p.lag
    return sorted(by.items())


def metrics(port: int) -> dict | None:
    """Totals of the health metrics a service exposes (None: not answering)."""
    if not port:
        return None
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1.0) as r:
            text = r.read().decode()
    except OSError:
        return None
    found: dict[str, float] = {}
    for line in text.splitlines():
        m = _METRIC.match(line)
        if m and m[1] in HEALTH_METRICS:
            found[m[1]] = found.get(m[1], 0) + float(m[3])
    return found


def health(settings) -> list[dict]:
    """The processor's and the sink's /readyz (as `rcm status` reads it: ready, not ready with
    its reasons, not live, not running) beside their health metrics."""
    from infra.status import service_health

    probed = {r["service"]: r for r in service_health(settings)}
    rows = []
    for name, port in (("processor", settings.processor_metrics_port),
                       ("sink", settings.sink_metrics_port)):
        row = probed.get(name) or {"service": name, "port": port, "state": "no metrics port",
                                   "connected": {}, "partitions": None,
                                   "seconds_since_commit": None, "reasons": []}
        rows.append({**row, "metrics": metrics(port) if row["state"] != "not running" else None})
    return rows


def _dead_letter_summary(db) -> list[dict]:
    return db.rows("""select source_topic, stage, error, reason, count(*) as n,
                             max(dead_lettered_at) as latest
                      from dead_letters group by source_topic, stage, error, reason
                      order by count(*) desc, source_topic, reason limit 100""")


@page("ops")
def overview(ctx: Ctx):
    return ctx.render("ops.html", **_live(ctx))


@page("ops")
def live(ctx: Ctx):
    return ctx.render("ops_live.html", **_live(ctx))


def _live(ctx: Ctx) -> dict:
    s = ctx.settings
    try:
        broker, broker_error = broker_status(s), None
    except Exception as exc:  # noqa: BLE001 - the page says the broker is away
        broker, broker_error = {"topics": [], "groups": []}, type(exc).__name__
    return {"broker": broker, "broker_error": broker_error,
            "stages": ctx.db.rows("select stage, items, cents from kpi_stage_dollars_as_of(%s) "
                                  "order by step", (date.today(),)),
            "dead": _dead_letter_summary(ctx.db),
            "health": health(s),
            "sampled_at": time.strftime("%H:%M:%S")}


@page("ops")
def dead_letters(ctx: Ctx):
    topic = ctx.request.query_params.get("topic", "")
    reason = ctx.request.query_params.get("reason", "")
    rows = ctx.db.rows("""select event_id, source_topic, source_partition, source_offset, stage,
                                 error, reason, dead_lettered_at
                          from dead_letters where source_topic = %s and reason = %s
                          order by dead_lettered_at desc limit 200""", (topic, reason))
    return ctx.render("dead_letters.html", rows=rows, topic=topic, reason=reason)
