"""The console's small pure pieces: amounts typed by people, where a login may send the browser,
event ids from form action ids."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from infra.console import actions, kpis, money_input
from infra.console.session import _safe_next
from infra.console.web import money


@pytest.mark.parametrize(("typed", "cents"), [("25", 2500), ("25.5", 2550), ("$1,234.56", 123456),
                                              (" 0.01 ", 1)])
def test_an_amount_in_dollars_becomes_integer_cents(typed, cents):
    assert money_input.cents(typed) == cents


@pytest.mark.parametrize("typed", ["", "abc", "12.345", "-5", "1e3", "0", "0.00", "10,00.1.2"])
def test_anything_else_is_refused_with_a_message(typed):
    with pytest.raises(ValueError, match="amount"):
        money_input.cents(typed)


def test_money_is_shown_in_dollars_and_cents():
    assert (money(123456), money(-5), money(0), money(None)) == ("$1,234.56", "-$0.05", "$0.00", "")


def test_the_charts_send_money_as_the_integer_cents_they_were_given():
    buckets = ["0-30", "31-60", "61-90", "91-120", ">120"]
    report = {"aging": {"buckets": buckets,
                        "by_responsibility": {"INSURANCE": dict(zip(buckets, [123456, 1, 0, 99, 7],
                                                                    strict=True)),
                                              "PATIENT": dict.fromkeys(buckets, 5)},
                        "by_payer": {"AETNA": dict(zip(buckets, [10, 20, 30, 40, 1234567],
                                                       strict=True))}},
              "daily": [{"day": date(2026, 12, 1), "clean_claim_rate": Decimal("0.8333"),
                         "denial_rate": None}],
              "categories": [{"category": "AUTHORIZATION", "denials": 2, "amount_cents": 24001}]}
    sent = json.loads(json.dumps(kpis.charts(report)))
    assert sent["aging"]["series"] == {"INSURANCE": [123456, 1, 0, 99, 7], "PATIENT": [5] * 5}
    assert sent["payers"] == {"labels": ["AETNA"], "buckets": buckets,
                              "series": {"0-30": [10], "31-60": [20], "61-90": [30],
                                         "91-120": [40], ">120": [1234567]}}
    assert all(type(c) is int for s in (sent["aging"]["series"], sent["payers"]["series"])
               for values in s.values() for c in values)
    assert (sent["daily"]["clean"], sent["daily"]["denial"]) == (["83.3300"], [None])


@pytest.mark.parametrize(("asked", "sent"), [("/coding", "/coding"), ("//evil.example", "/"),
                                             ("/\\evil.example", "/"), ("https://evil.example", "/"),
                                             (None, "/"), ("", "/")])
def test_a_login_only_sends_the_browser_to_a_page_of_the_console(asked, sent):
    assert _safe_next(asked) == sent


def test_an_event_id_derives_from_the_forms_action_id_only():
    assert actions.event_id("payment", "0" * 32) == "console:payment:" + "0" * 32
    with pytest.raises(ValueError, match="reload the page"):
        actions.event_id("payment", "not-hex")


def test_the_pipeline_page_health_is_each_services_readyz_with_its_reasons():
    import socket
    from dataclasses import replace

    from infra.console import ops
    from infra.health import Health, serve
    from infra.settings import Settings

    def free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    processor, sink = Health("processor", consumer=True), free_port()
    processor.set_connected("kafka", True)
    server = serve(processor, free_port())
    try:
        settings = replace(Settings(), processor_metrics_port=server.server_address[1],
                           sink_metrics_port=sink)
        rows = {r["service"]: r for r in ops.health(settings)}
        assert rows["processor"]["state"] == "not ready"
        assert rows["processor"]["reasons"] == ["not connected to postgres", "no partitions assigned"]
        assert rows["processor"]["connected"] == {"kafka": True, "postgres": False}
        processor.set_connected("postgres", True)
        processor.set_partitions(4)
        ready = {r["service"]: r for r in ops.health(settings)}["processor"]
        assert (ready["state"], ready["partitions"]) == ("ready", 4)
        assert (rows["sink"]["state"], rows["sink"]["metrics"]) == ("not running", None)
        assert [r["state"] for r in ops.health(replace(settings, sink_metrics_port=0))][1] \
            == "no metrics port"
    finally:
        server.shutdown()
