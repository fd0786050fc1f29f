"""The sink keeps in `remittances` only what the ledger posts: a remittance the ledger stage
dead-letters is passed over, so the table and the ledger agree."""
from __future__ import annotations

from types import SimpleNamespace

from schemas import codec
from schemas.topics import REMITTANCES
from sinks.postgres import writer
from sinks.postgres.service import to_sink_record
from tests import factories as F


def message(value: dict, offset: int = 7):
    return SimpleNamespace(topic=REMITTANCES.name, partition=2, offset=offset, key=b"k",
                           value=codec.encode(REMITTANCES.value_schema, value))


def test_a_remittance_the_ledger_posts_is_stored_as_sent():
    rem = F.remittance(3)
    rec = to_sink_record(message(rem))
    assert (rec.schema, rec.partition, rec.offset) == (REMITTANCES.value_schema, 2, 7)
    assert (rec.value["event_id"], rec.value["total_paid_cents"]) == (
        rem["event_id"], rem["total_paid_cents"])


def test_a_remittance_the_ledger_refuses_is_passed_over_not_stored():
    rem = F.remittance(3)
    rem["lines"][0]["charge_cents"] += 1  # the line no longer balances: the ledger dead-letters it
    rem["total_charge_cents"] += 1
    rec = to_sink_record(message(rem))
    assert (rec.schema, rec.value, rec.offset) == (writer.SKIP, {}, 7)
