"""Where a lost record vanished: for the accounts whose balance is wrong, every record of theirs on
every topic (partition, offset), the ledger entries in PostgreSQL, the processor group's committed
offsets, and the workers' rebalance log lines. Written to RCM_LOSS_PROBE_DIR (synthetic data only)
when an exactness assertion fails; not a test.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition

from infra import pipeline, report
from schemas import codec
from schemas import topics as T
from tests.support.kafka_client import kafka_options


def _read_all(bootstrap: str, topic: T.Topic):
    consumer = KafkaConsumer(**kafka_options(bootstrap), enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        out = []
        deadline = time.monotonic() + 60
        while any(consumer.position(tp) < ends[tp] for tp in tps) and time.monotonic() < deadline:
            for tp, msgs in consumer.poll(timeout_ms=500, max_records=5000).items():
                out.extend((tp.partition, m.offset, m.key, m.value) for m in msgs)
        return out
    finally:
        consumer.close()


def probe(settings, scenario, moved: dict[str, str], problems: list[str]) -> Path:
    root = Path(os.environ.get("RCM_LOSS_PROBE_DIR", "/tmp/rcm-loss-probe"))
    out = root / time.strftime("%Y%m%dT%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    bad = {p.split(":", 1)[0] for p in problems}
    lines = [f"problems ({len(problems)}):", *problems, ""]
    (out / "probe.txt").write_text("\n".join(lines) + "\n")
    claim_acct = {}
    found: dict[str, list] = {}
    for topic in T.ALL:
        try:
            recs = _read_all(settings.bootstrap, topic)
        except Exception as exc:  # noqa: BLE001 - a probe reports what it can
            lines.append(f"{topic.name}: unreadable {exc!r}")
            continue
        for part, off, key, value in recs:
            try:
                rec = codec.decode_for(topic, value)
            except Exception:  # noqa: BLE001, S112 - foreign records are passed over
                continue
            acct = rec.get("account_id") or moved.get(rec.get("event_id", "")) \
                or claim_acct.get(rec.get("claim_id"))
            if rec.get("claim_id") and rec.get("account_id"):
                claim_acct[rec["claim_id"]] = rec["account_id"]
            if acct in bad:
                brief = {k: rec.get(k) for k in ("event_id", "source_event_id", "claim_id",
                                                  "encounter_id", "version", "status")
                         if k in rec}
                if topic is T.LEDGER_ENTRIES:
                    brief["entries"] = [e["entry_id"] for e in rec["entries"]]
                found.setdefault(acct, []).append(f"  {topic.name}/{part}@{off} key={key!r} "
                                                  f"{json.dumps(brief, default=str)}")
    for acct in sorted(bad):
        lines.append(f"== {acct}")
        lines.extend(found.get(acct, []))
        try:
            rows = report.query(settings.dsn, "select entry_id, source_event_id, kind, "
                            "insurance_delta_cents, patient_delta_cents from ledger_entries "
                                "where account_id = %s order by entry_id", (acct,))
        except Exception as exc:  # noqa: BLE001 - a probe reports what it can
            rows = [repr(exc)]
        lines.append(f"  postgres ledger_entries: {len(rows)}")
        lines.extend(f"    {r}" for r in rows)
        truth = scenario.truth["accounts"].get(acct)
        lines.append(f"  truth: {truth}")
    try:
        committed = pipeline.group_offsets(settings, settings.app_id)
        lines.append("")
        lines.append("committed offsets of the processor group:")
        lines.extend(f"  {t}/{p} {o}" for (t, p), o in sorted(committed.items()))
    except Exception as exc:  # noqa: BLE001 - a probe reports what it can
        lines.append(f"committed offsets unknown: {exc!r}")
    (out / "probe.txt").write_text("\n".join(lines) + "\n")
    logs = settings.home / "logs"
    if logs.exists():
        shutil.copytree(logs, out / "logs", dirs_exist_ok=True)
    return out
