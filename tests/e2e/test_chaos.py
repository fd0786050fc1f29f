"""A short chaos run in `make test` (issue 15): the broker, PostgreSQL, the processor and the sink
are SIGKILLed at random (seeded) moments under a steady feed and restarted as a supervisor would;
then every balance must equal the ground truth and every input event be in PostgreSQL once."""
from __future__ import annotations

import pytest

from infra import chaos

pytestmark = pytest.mark.e2e
SEED = 20261206


def test_a_short_chaos_run_kills_every_kind_of_component_and_loses_nothing(
        run_settings, services, capsys):
    if not (services.manages_kafka and services.manages_postgres):
        pytest.fail("the chaos run kills the broker and PostgreSQL: it needs the session's own")
    result = chaos.run(run_settings, events=3000, duration_s=130, seed=SEED, max_kills=10,
                       gap_s=(5.0, 10.0), down_s=(0.5, 3.0), local=services.settings,
                       prepare=False)
    text = chaos.render(result)
    with capsys.disabled():
        print("\n" + text)
    assert len(result.kills) >= 8, text
    assert {k.kind for k in result.kills} == set(chaos.KINDS), text
    assert all(k.recovered_s is not None for k in result.kills), text
    # the sink waits out the broker and the database: it never exits by itself
    assert [e for e in result.exits if e.kind == "sink"] == [], text
    assert result.checks["balances_exact"], text
    assert result.checks["found"] == result.checks["expected"], text
    assert result.ok, text
