"""`rcm tick`: advance the appeal stage's event-time clock on every partition of `appeals`.

The deadline timers run on event time: each partition's clock is the highest event time the stage
has read there. When no denial or appeal arrives (a quiet night, a weekend), a scheduler runs
`rcm tick` (e.g. hourly) so approaching and expired deadlines still fire. A tick carries only a
time and the partition it is for; ticking an older time changes nothing.
"""
from __future__ import annotations

import sys
from datetime import UTC, datetime

from infra.settings import Settings
from schemas import codec
from schemas.topics import APPEALS


def ticks(at: datetime) -> list[tuple[int, bytes]]:
    """(partition, AppealEvent TICK bytes) for every partition of `appeals`."""
    ms = int(at.timestamp() * 1000)
    return [(p, codec.encode(APPEALS.value_schema, {
        "event_id": f"tick:{p}:{ms}", "account_id": "", "occurred_at": at, "emitted_at": at,
        "action": "TICK", "claim_id": None, "denial_id": None, "partition": p,
        "amount_cents": None, "reference": None, "reason_code": None}))
        for p in range(APPEALS.partitions)]


def send_ticks(settings: Settings, at: datetime, producer=None, timeout_s: float | None = None,
               attempts: int | None = None) -> int:
    """Send one tick per partition; returns how many the broker acknowledged. `timeout_s`,
    `attempts`: as publish's (default: the settings' RCM_DELIVERY_TIMEOUT_S, RCM_DELIVERY_ATTEMPTS)."""
    from infra.delivery import Deliverer
    from producers.publish import delivery_bounds, make_producer

    timeout_s, attempts = delivery_bounds(settings, timeout_s, attempts)

    deliverer = Deliverer(lambda: make_producer(settings, timeout_s, "console"), timeout_s, attempts,
                          producer=producer)
    try:
        report = deliverer.deliver(ticks(at), lambda t: (APPEALS.name, b"", t[1], t[0]))
    finally:
        deliverer.close()
    return report.delivered


def add_arguments(parser, name: str) -> None:
    parser.add_argument("--at", help="event time to set, ISO 8601 (default: now, UTC)")


def cmd_tick(args) -> int:
    from infra.settings import load

    at = datetime.fromisoformat(args.at) if args.at else datetime.now(UTC)
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    settings = load()
    n = send_ticks(settings, at)
    print(f"ticked {n} partitions of {APPEALS.name} to {at.isoformat()}")
    if n < APPEALS.partitions:
        print(f"rcm tick: {APPEALS.partitions - n} partitions not acknowledged by the broker; "
              "run it again", file=sys.stderr)
        return 3
    return 0
