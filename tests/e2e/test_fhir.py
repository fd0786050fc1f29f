"""`rcm produce fhir` against a real broker: the records land on visit-events,
remittances-unmatched and dead-letters with their keys (downstream processing is not asserted)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from schemas import codec
from schemas import topics as T
from tests.support import fhir_samples as samples
from tests.support.kafka_client import kafka_options

pytestmark = pytest.mark.e2e


def read_all(bootstrap: str, topics: list[T.Topic], want: int, timeout_s: float = 30) -> list:
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(*(t.name for t in topics), **kafka_options(bootstrap),
                             auto_offset_reset="earliest", enable_auto_commit=False,
                             group_id=None, consumer_timeout_ms=1000)
    by_name = {t.name: t for t in topics}
    got, deadline = [], time.monotonic() + timeout_s
    try:
        while len(got) < want and time.monotonic() < deadline:
            for msg in consumer:
                got.append((msg.topic, msg.key, codec.decode_for(by_name[msg.topic], msg.value)))
    finally:
        consumer.close()
    return got


def test_rcm_produce_fhir_publishes_events_and_dead_letters(fresh_topics, tmp_path):
    (enc, rem, doc), *_ = [b for b in samples.synthetic_bundles(200, seed=3) if b[1]]
    doc["entry"].append({"resource": {"resourceType": "Claim", "id": "bad", "status": "active"}})
    path = tmp_path / "bundle.json"
    path.write_text(samples.dumps(doc))
    env = {**os.environ, "RCM_KAFKA_BOOTSTRAP_SERVERS": fresh_topics}
    done = subprocess.run([sys.executable, "-m", "infra.cli", "produce", "fhir", str(path)],
                          check=False, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "bundle.json: entry" in done.stderr and "(Claim/bad): invalid Claim" in done.stderr
    records = read_all(fresh_topics, [T.VISIT_EVENTS, T.REMITTANCES_UNMATCHED, T.DEAD_LETTERS], 4)
    summary = sorted((topic, key, value.get("kind")) for topic, key, value in records)
    account = enc["account_id"].encode()
    assert summary == [("dead-letters", b"visit-events", None),
                       ("remittances-unmatched", rem["claim_id"].encode(), None),
                       ("visit-events", account, "CHARGES"), ("visit-events", account, "DISCHARGE")]
    remit = next(v for t, _, v in records if t == "remittances-unmatched")
    assert (remit["total_paid_cents"], remit["lines"]) == (rem["total_paid_cents"], rem["lines"])
    dead = next(v for t, _, v in records if t == "dead-letters")
    assert json.loads(dead["payload"])["resource"]["id"] == "bad"
    assert all(v["emitted_at"].year >= 2026 for t, _, v in records if t != "dead-letters")
