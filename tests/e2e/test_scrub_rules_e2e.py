"""Denial patterns end to end on a real broker and PostgreSQL: N denials of one pattern -> one
proposal -> a person accepts it with `rcm rules accept` -> the next matching claim is HELD with
the rule's edit, and other claims are not."""
from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest

from infra import pipeline, report
from producers.publish import publish
from schemas import codec
from schemas import topics as T
from schemas.envelope import Outgoing
from tests import factories as F

pytestmark = pytest.mark.e2e
RULE = "COMM-ACME/50/99213"


def out(topic: T.Topic, rec: dict) -> Outgoing:
    return Outgoing(topic, codec.key_of(topic, rec), codec.encode(topic.value_schema, rec))


def denied(n: int, payer_id: str = "COMM-ACME", carc: str = "50") -> Outgoing:
    line = {"line": 1, "procedure_code": "99213", "units": 1, "charge_cents": 14500,
            "paid_cents": 0, "adjustments": [F.adjustment("CO", carc, 14500)], "remarks": []}
    return out(T.REMITTANCES, F.remittance(n, lines=[line], status="4", payer_id=payer_id))


def rcm(settings, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "infra.cli", *args], check=False,
                          capture_output=True, text=True, env=pipeline.child_env(settings),
                          timeout=120)


def test_recurring_denials_propose_a_rule_a_person_accepts_and_it_holds_the_next_claim(run_settings):
    settings = replace(run_settings, scrub_rule_threshold=3)
    dsn, logs = settings.dsn, settings.home / "logs"
    processor = pipeline.rcm_service("process", settings, logs).start()
    sink = pipeline.rcm_service("sink", settings, logs).start()
    try:
        first = [denied(n) for n in (1, 2, 3)] + [denied(1)]  # the last one is a redelivery
        publish(first + [denied(4, "COMM-BLUE"), denied(5, carc="197"), denied(6)],
                settings)
        pipeline.wait_drained(settings, [processor, sink], timeout=300)
        assert report.query(dsn, "select rule_id, status, denial_count, denied_cents "
                                 "from scrub_rule_proposals") == [(RULE, "PROPOSED", 3, 43500)]
        [(denials,)] = report.query(dsn, "select denials from denial_patterns "
                                         "where rule_id = %s", (RULE,))
        assert denials == 4  # the view counts every stored denial; the stream stopped at 3

        before = [
            out(T.ENCOUNTERS, F.encounter(101)),  # COMM-ACME 99213, but nothing is accepted yet
        ]
        publish(before, settings)
        pipeline.wait_drained(settings, [processor, sink], timeout=300)

        refused = rcm(settings, "rules", "accept", "COMM-ACME/50/99999", "--by", "U042")
        assert refused.returncode == 1 and "not a proposed rule" in refused.stderr
        accepted = rcm(settings, "rules", "accept", RULE, "--by", "U042", "--role", "BILLING_MANAGER")
        assert accepted.returncode == 0, accepted.stderr
        pipeline.wait_drained(settings, [processor, sink], timeout=300)
        listed = rcm(settings, "rules", "list")
        assert listed.returncode == 0 and RULE in listed.stdout and "ACTIVE" in listed.stdout

        after = [
            out(T.ENCOUNTERS, F.encounter(102)),  # COMM-ACME 99213: held
            out(T.ENCOUNTERS, F.encounter(103, payer_id="COMM-BLUE")),  # another payer
            out(T.ENCOUNTERS, F.encounter(104, charges=[  # another procedure
                {"line": 1, "charge_code": "CM100112", "units": 1, "unit_price_cents": 9800,
                 "service_date": F.DOS}])),
        ]
        publish(after, settings)
        pipeline.wait_drained(settings, [processor, sink], timeout=300)
    finally:
        processor.stop()
        sink.stop()
    claims = dict(report.query(dsn, "select claim_id, status from claims"))
    assert claims == {"CLM-E0000101": "CLEAN", "CLM-E0000102": "HELD",
                      "CLM-E0000103": "CLEAN", "CLM-E0000104": "CLEAN"}
    [(edits,)] = report.query(dsn, "select edits from claims where claim_id = 'CLM-E0000102'")
    assert [(e["edit"], e["line"]) for e in edits] == [("PAYER_RULE", 1)]
    assert RULE in edits[0]["message"]
    assert report.query(dsn, "select count(*) from proposed_scrub_rules") == [(1,)]
    assert report.query(dsn, "select count(*) from dead_letters") == [(0,)]


def test_counts_survive_a_sigkill_and_redelivered_denials_never_propose_twice(run_settings):
    settings = replace(run_settings, scrub_rule_threshold=3)
    dsn, logs = settings.dsn, settings.home / "logs"
    processor = pipeline.rcm_service("process", settings, logs).start()
    sink = pipeline.rcm_service("sink", settings, logs).start()
    try:
        publish([denied(1), denied(2)], settings)
        pipeline.wait_drained(settings, [processor, sink], timeout=300)
        processor.kill()  # the two counted denials live only in the table's changelog now
        processor = pipeline.rcm_service("process", settings, logs).start()
        publish([denied(1), denied(2)], settings)  # redelivered: nothing new
        pipeline.wait_drained(settings, [processor, sink], timeout=300)
        assert report.query(dsn, "select count(*) from proposed_scrub_rules") == [(0,)]
        publish([denied(3), denied(3), denied(4)], settings)
        pipeline.wait_drained(settings, [processor, sink], timeout=300)
    finally:
        processor.stop()
        sink.stop()
    [(rule_id, count, claims)] = report.query(
        dsn, "select rule_id, denial_count, example_claim_ids from proposed_scrub_rules")
    assert (rule_id, count, len(claims)) == (RULE, 3, 3)
    # 1 and 2 were counted before the kill; 3 or 4 (other partitions of remittances) came third
    assert {"CLM-E0000001", "CLM-E0000002"} < set(claims) < {f"CLM-E000000{n}" for n in range(1, 5)}
