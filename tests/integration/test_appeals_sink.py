"""Appeal steps through the sink writer into a real PostgreSQL: balances, denial status, claim
status, alerts and the work queue."""
from __future__ import annotations

from datetime import timedelta

import pytest

from infra import report
from processors.denials.appeals import Clocks, on_appeal, on_denial
from processors.ledger.rules import entries_for_encounter, journals
from processors.state import DENIALS_OPEN
from sinks.postgres.writer import SinkRecord, write_batch
from tests import factories as F
from tests.integration.test_sink_writer import GROUP, claim, conn, query  # noqa: F401 (fixture)
from tests.support.stores import DictStore
from tests.unit.test_denial_appeals import DEADLINE

pytestmark = pytest.mark.integration


class Feed:
    """Runs the appeal rules on one partition and turns what they emit into sink records."""

    def __init__(self):
        self.store, self.clocks, self.offset = DictStore(DENIALS_OPEN), Clocks(), 0

    def records(self, outcome) -> list[SinkRecord]:
        assert outcome.rejected == []
        out = []
        for topic, rec in outcome.records:
            out.append(SinkRecord(topic.name, 0, self.offset, topic.value_schema, rec))
            self.offset += 1
        return out

    def denial(self, den):
        return self.records(on_denial(den, self.store, self.clocks, 0, 14))

    def appeal(self, ev):
        return self.records(on_appeal(ev, self.store, self.clocks, 0, 14))

    def raw(self, topic, schema, recs):
        out = [SinkRecord(topic, 0, self.offset + i, schema, r) for i, r in enumerate(recs)]
        self.offset += len(recs)
        return out


def balance(database_url, account):
    return query(database_url, "SELECT insurance_cents, patient_cents, total_cents, "
                               "adjustments_cents FROM account_balances WHERE account_id = %s",
                 account)[0]


def test_a_write_off_moves_exactly_its_amount_out_of_insurance_and_closes_the_claim(
        conn, database_url):  # noqa: F811
    feed = Feed()
    enc, den = F.encounter(3, charges=[{"line": 1, "charge_code": "CM100113", "units": 1,
                                        "unit_price_cents": 14500, "service_date": F.DOS}]), \
        F.denial(3, cents=14500)
    account = den["account_id"]
    write_batch(conn, GROUP, feed.raw("ledger-entries", "LedgerEntriesPosted",
                                      journals(entries_for_encounter(enc)))
                + feed.raw("claims", "ClaimBuilt", [claim(3, "CLEAN")])
                + feed.raw("denials", "DenialFlagged", [den]) + feed.denial(den))
    assert balance(database_url, account) == (14500, 0, 14500, 0)
    filed = feed.appeal(F.appeal("FILED", den, n=1, at=F.T0 + timedelta(days=3)))
    write_batch(conn, GROUP, filed)
    assert query(database_url, "SELECT status FROM claim_current_status WHERE claim_id = %s",
                 den["claim_id"]) == [("APPEALED",)]
    upheld = feed.appeal(F.appeal("UPHELD", den, n=2, at=F.T0 + timedelta(days=20)))
    partial = feed.appeal(F.appeal("WRITTEN_OFF", den, n=3, at=F.T0 + timedelta(days=21),
                                   cents=4500))
    write_batch(conn, GROUP, upheld + partial)
    assert balance(database_url, account) == (10000, 0, 10000, 4500)
    assert query(database_url, "SELECT status, open_cents FROM denial_work_queue "
                               "WHERE denial_id = %s", den["denial_id"]) == [("upheld", 10000)]
    rest = feed.appeal(F.appeal("WRITTEN_OFF", den, n=4, at=F.T0 + timedelta(days=22)))
    write_batch(conn, GROUP, rest + rest)  # the same records twice change nothing twice
    write_batch(conn, GROUP, feed.appeal(F.appeal("WRITTEN_OFF", den, n=4,
                                                  at=F.T0 + timedelta(days=22))))  # redelivered
    assert balance(database_url, account) == (0, 0, 0, 14500)
    assert query(database_url, "SELECT status, written_off_cents FROM denials "
                               "WHERE denial_id = %s", den["denial_id"]) == [("written_off", 14500)]
    assert query(database_url, "SELECT count(*) FROM denial_work_queue") == [(0,)]
    history = query(database_url, "SELECT status FROM claim_status_history WHERE claim_id = %s "
                                  "ORDER BY at, step", den["claim_id"])
    statuses = [s for (s,) in history]  # DENIED dates from the denial day's midnight
    assert sorted(statuses[:2]) == ["CREATED", "DENIED"] and statuses[2:] == ["APPEALED", "CLOSED"]
    assert query(database_url, "SELECT status FROM claim_current_status WHERE claim_id = %s",
                 den["claim_id"]) == [("CLOSED",)]
    summary = report.summary(database_url)  # what `rcm demo` prints
    assert summary["denial_status"] == [("written_off", 1, 0)]


def test_a_step_before_its_denial_row_still_sets_the_status_and_alerts_are_stored_once(
        conn, database_url):  # noqa: F811
    feed = Feed()
    den = F.denial(4)
    steps = feed.denial(den) + feed.appeal(F.tick(0, DEADLINE - timedelta(days=5))) \
        + feed.appeal(F.tick(0, DEADLINE + timedelta(days=1)))
    write_batch(conn, GROUP, steps)  # the lifecycle and alerts reach the sink before the denial
    write_batch(conn, GROUP, feed.raw("denials", "DenialFlagged", [den]))
    write_batch(conn, GROUP, steps)  # redelivered
    assert query(database_url, "SELECT kind FROM denial_deadline_alerts ORDER BY kind") == [
        ("APPROACHING",), ("EXPIRED",)]
    assert query(database_url, "SELECT status FROM denial_work_queue") == [("expired",)]
    [(n_open, to_write_off, work)] = query(
        database_url, "SELECT open_denials, to_write_off, work_cents FROM denial_queue_summary")
    assert (n_open, to_write_off, work) == (0, 1, den["amount_cents"])
