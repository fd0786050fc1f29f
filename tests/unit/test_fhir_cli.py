"""`rcm produce fhir FILE... [--dry-run]`: JSON lines on stdout, precise errors on stderr, exit 1
when anything was bad; publishing goes through producers.publish."""
from __future__ import annotations

import argparse
import json

from kafka.future import Future

from producers import cli as produce_cli
from tests.factories import encounter
from tests.support import fhir_samples as samples


def parse(*argv):
    parser = argparse.ArgumentParser()
    produce_cli.add_arguments(parser, "produce")
    return parser.parse_args(["fhir", *argv])


def write_bundle(path, n=1):
    path.write_text(samples.dumps(samples.bundle(samples.encounter_resources(encounter(n)))))
    return str(path)


def test_dry_run_prints_one_json_line_per_event(tmp_path, capsys):
    good = write_bundle(tmp_path / "good.json")
    assert produce_cli.cmd_produce(parse(good, "--dry-run")) == 0
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(ln["topic"], ln["value"]["kind"]) for ln in lines] == [("visit-events", "DISCHARGE"),
                                                                     ("visit-events", "CHARGES")]
    assert lines[0]["key"] == encounter(1)["account_id"]
    assert "would publish 2 events and 0 dead letters" in err


def test_a_bad_file_is_reported_exits_1_and_the_good_file_still_goes_through(tmp_path, capsys):
    good = write_bundle(tmp_path / "good.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"resourceType": "Bundle", "entry": [')
    assert produce_cli.cmd_produce(parse(good, str(bad), "--dry-run")) == 1
    out, err = capsys.readouterr()
    topics = [json.loads(line)["topic"] for line in out.splitlines()]
    assert topics == ["visit-events", "visit-events", "dead-letters"]
    assert "error bad.json: file: not JSON at line 1 column" in err


def test_publishing_sends_every_record_through_the_producer(tmp_path, monkeypatch, capsys):
    sent = []

    class Producer:
        def send(self, topic, key=None, value=None):
            sent.append((topic, key))
            return Future().success(None)  # acknowledged, as kafka-python resolves it

        def flush(self, timeout=None):
            pass

        def close(self, timeout=None):
            pass

    monkeypatch.setattr("producers.publish.make_producer", lambda settings, *_: Producer())
    monkeypatch.setenv("RCM_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    assert produce_cli.cmd_produce(parse(write_bundle(tmp_path / "b.json", 2))) == 0
    key = encounter(2)["account_id"].encode()
    assert sent == [("visit-events", key), ("visit-events", key)]
    assert "published 2 events" in capsys.readouterr().err


def test_rcm_delivery_settings_reach_publish_through_the_command(tmp_path, monkeypatch, capsys):
    from infra.delivery import Report

    calls = []

    class Deliverer:  # infra.delivery.Deliverer as publish builds it: what bounds it was given
        def __init__(self, make, timeout_s, attempts, producer=None):
            calls.append((timeout_s, attempts))

        def deliver(self, records, *_):
            return Report(total=len(records))

        def close(self):
            pass

    monkeypatch.setattr("producers.publish.Deliverer", Deliverer)
    monkeypatch.setenv("RCM_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    monkeypatch.setenv("RCM_DELIVERY_TIMEOUT_S", "7.5")
    monkeypatch.setenv("RCM_DELIVERY_ATTEMPTS", "5")
    assert produce_cli.cmd_produce(parse(write_bundle(tmp_path / "b.json"))) == 0
    assert calls == [(7.5, 5)]
