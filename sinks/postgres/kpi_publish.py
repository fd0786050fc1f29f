"""Publish the KPIs and the A/R aging of event-time days as streams.

Consumes: PostgreSQL (kpi_values(day), ar_aging_as_of(day); the one SQL definition of each KPI)
Produces: kpis               (key: kpi|window|day,                      value: KpiValue)
          ar-aging-snapshots (key: day|payer|responsibility|bucket,     value: ArAgingSnapshot)
Rule:     a record goes out only when its value differs from the one last published for its key
          (kpi_published); an aging cell that emptied goes out once with zero cents and accounts.

Days are event time: by default the latest UTC day with events (kpi_event_day()) and the one before
it, so late events of yesterday still correct yesterday; `rcm kpis publish --as-of DAY --days N`
publishes any range. Both topics are compacted, so a reader keeps the latest value per key.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import psycopg2
from kafka.errors import KafkaError
from psycopg2.extras import execute_values

from infra.delivery import Deliverer, producer_config
from infra.kafka_auth import client_options
from schemas import codec
from schemas.topics import AR_AGING_SNAPSHOTS, KPIS, Topic, aging_snapshot_key, kpi_key

log = logging.getLogger("rcm.kpis")

DEFAULT_DAYS = 2  # the latest event day and the one before it


@dataclass(frozen=True)
class Published:
    day: date | None  # the last day published (None: no events yet)
    kpis: int  # KpiValue records sent
    snapshots: int  # ArAgingSnapshot records sent


def kpi_records(cur, day: date, now: datetime) -> list[dict]:
    cur.execute("SELECT kpi, time_window, numerator, denominator, value, unit"
                " FROM kpi_values(%s) ORDER BY kpi, time_window", (day,))
    return [{"kpi": kpi, "window": window, "day": day, "numerator": int(num),
             "denominator": int(den), "value": None if value is None else str(value),
             "unit": unit, "computed_at": now}
            for kpi, window, num, den, value, unit in cur.fetchall()]


def aging_records(cur, day: date, now: datetime) -> list[dict]:
    # A patient part with no payer yet (a refund posted before the account's first charge, which
    # several workers or a lagging partition can deliver first) has no cell until the charge
    # names the payer: ArAgingSnapshot.payer_id is required, and the sink must not stop on it.
    cur.execute("""SELECT payer_id, upper(responsibility), bucket, count(DISTINCT account_id),
                          sum(open_cents)::bigint
                     FROM ar_aging_as_of(%s) WHERE payer_id IS NOT NULL
                    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""", (day,))
    return [{"day": day, "payer_id": payer, "responsibility": resp, "bucket": bucket,
             "open_cents": int(cents), "accounts": int(accounts), "computed_at": now}
            for payer, resp, bucket, accounts, cents in cur.fetchall()]


def _fingerprint(record: dict) -> str:
    return json.dumps({k: v for k, v in record.items() if k != "computed_at"},
                      default=str, sort_keys=True, separators=(",", ":"))


def _emptied(cur, day: date, keys: set[str], now: datetime) -> list[dict]:
    """Aging cells published for `day` before that are no longer open: zero records for them."""
    cur.execute("SELECT key, fingerprint FROM kpi_published WHERE topic = %s AND day = %s",
                (AR_AGING_SNAPSHOTS.name, day))
    gone = []
    for key, fingerprint in cur.fetchall():
        if key not in keys:
            old = json.loads(fingerprint)
            gone.append({"day": day, "payer_id": old["payer_id"],
                         "responsibility": old["responsibility"], "bucket": old["bucket"],
                         "open_cents": 0, "accounts": 0, "computed_at": now})
    return gone


def _changed(cur, topic: Topic, keyed: dict[str, dict]) -> dict[str, dict]:
    if not keyed:
        return {}
    cur.execute("SELECT key, fingerprint FROM kpi_published WHERE topic = %s AND key = ANY(%s)",
                (topic.name, list(keyed)))
    last = dict(cur.fetchall())
    return {k: r for k, r in keyed.items() if last.get(k) != _fingerprint(r)}


def publish(conn, deliverer: Deliverer, as_of: date | None = None, days: int = DEFAULT_DAYS,
            now: datetime | None = None) -> Published:
    """Publish the changed KPI values and aging cells of the `days` event days ending on `as_of`
    (default: the latest event day), wait for the broker, then remember what it acknowledged.
    `deliverer`: an infra.delivery.Deliverer (its timeout and attempts are RCM_DELIVERY_TIMEOUT_S
    and RCM_DELIVERY_ATTEMPTS). Raises NotAcknowledged (after remembering the rest) when the
    broker did not take everything."""
    now = now or datetime.now(UTC)
    try:
        with conn.cursor() as cur:
            if as_of is None:
                cur.execute("SELECT kpi_event_day()")
                as_of = cur.fetchone()[0]
            if as_of is None:
                conn.rollback()
                return Published(None, 0, 0)
            out: dict[Topic, dict[str, dict]] = {KPIS: {}, AR_AGING_SNAPSHOTS: {}}
            for n in range(days - 1, -1, -1):
                day = as_of - timedelta(days=n)
                kpis = {kpi_key(r).decode(): r for r in kpi_records(cur, day, now)}
                cells = {aging_snapshot_key(r).decode(): r for r in aging_records(cur, day, now)}
                cells |= {aging_snapshot_key(r).decode(): r
                          for r in _emptied(cur, day, set(cells), now)}
                out[KPIS] |= _changed(cur, KPIS, kpis)
                out[AR_AGING_SNAPSHOTS] |= _changed(cur, AR_AGING_SNAPSHOTS, cells)
        conn.rollback()  # end the read snapshot before waiting on the broker
        sends = [(topic, key, record) for topic, records in out.items()
                 for key, record in records.items()]
        report = deliverer.deliver(sends, _kpi_send)
        missing = set(report.missing)
        with conn.cursor() as cur:
            # only what the broker acknowledged counts as published; the rest differs next time
            rows = [(topic.name, key, r["day"], _fingerprint(r))
                    for i, (topic, key, r) in enumerate(sends) if i not in missing]
            if rows:
                execute_values(cur, """INSERT INTO kpi_published AS p (topic, key, day, fingerprint)
                                       VALUES %s ON CONFLICT (topic, key) DO UPDATE
                                       SET fingerprint = EXCLUDED.fingerprint,
                                           published_at = clock_timestamp()""", rows)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    if missing:
        raise NotAcknowledged(f"{len(missing)} of {len(sends)} KPI and aging records not "
                              f"acknowledged ({', '.join(report.errors)})")
    return Published(as_of, len(out[KPIS]), len(out[AR_AGING_SNAPSHOTS]))


class NotAcknowledged(KafkaError):
    """Some records did not reach the broker; they are published again next time."""


def _kpi_send(send: tuple[Topic, str, dict]):
    topic, key, record = send
    return topic.name, key.encode(), codec.encode(topic.value_schema, record)


def publish_safely(conn, deliverer: Deliverer) -> Published | None:
    """publish() for the sink's loop: a failure is logged and retried next interval, never fatal."""
    try:
        done = publish(conn, deliverer)
    except (psycopg2.Error, KafkaError) as exc:
        log.warning("KPI publication failed (%s); retrying next interval", type(exc).__name__)
        return None
    log.info("KPIs for %s: %d values, %d aging cells published", done.day, done.kpis,
             done.snapshots)
    return done


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("action", choices=["publish"], help="publish: compute and publish now")
    parser.add_argument("--as-of", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                        help="last event day to publish (default: the latest day with events)")
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS,
                        help=f"how many days ending on --as-of (default {DEFAULT_DAYS})")


def cmd_kpis(args: argparse.Namespace) -> int:
    from kafka import KafkaProducer

    from infra.settings import load
    from sinks.postgres.migrate import apply_migrations

    settings = load()
    apply_migrations(settings.dsn)
    conn = psycopg2.connect(settings.sink_dsn)  # the sink role: writes rows, changes no table
    config = producer_config(settings.bootstrap, settings.delivery_timeout_s,
                             f"{settings.app_id}-kpis")
    deliverer = Deliverer(lambda: KafkaProducer(**{**config, **client_options("sink", settings=settings)}),
                          settings.delivery_timeout_s,
                          settings.delivery_attempts)
    try:
        done = publish(conn, deliverer, args.as_of, max(1, args.days))
    except NotAcknowledged as exc:
        print(f"rcm kpis publish: {exc}; run it again", file=sys.stderr)
        return 3
    finally:
        deliverer.close()
        conn.close()
    if done.day is None:
        print("rcm kpis publish: no events yet, nothing to publish")
        return 0
    print(f"rcm kpis publish: {done.kpis} KPI values and {done.snapshots} aging cells changed "
          f"and published for the {max(1, args.days)} day(s) ending {done.day.isoformat()}")
    return 0
