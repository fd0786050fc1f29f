"""After a table restore the processor seeks stream partitions to their committed offsets before it
lets them fetch (faust 0.15.3 does it the other way round, which can leave offsets unacknowledged
and a partition that never commits again)."""
import asyncio
from types import SimpleNamespace

from faust.types import TP

from processors.recovery import SeekThenResumeRecovery

STREAM, CHANGELOG = TP("remittances", 0), TP("coding-pending", 0)


class Calls(list):
    async def noop(self, *args, **kwargs):
        return None


def recovery(calls: Calls, generation: int) -> SeekThenResumeRecovery:
    async def perform_seek():
        await asyncio.sleep(0)  # a real seek awaits the consumer thread
        calls.append("seek")

    consumer = SimpleNamespace(
        assignment=lambda: {STREAM, CHANGELOG},
        perform_seek=perform_seek,
        resume_partitions=lambda tps: calls.append(("resume", sorted(tps))),
        resume_flow=lambda: calls.append("resume_flow"),
    )
    app = SimpleNamespace(
        consumer=consumer, consumer_generation_id=generation,
        on_rebalance_complete=SimpleNamespace(send=calls.noop),
        conf=SimpleNamespace(broker_request_timeout=5),
        flow_control=SimpleNamespace(resume=lambda: calls.append("flow_control.resume")),
        _fetcher=SimpleNamespace(maybe_start=calls.noop),
        assignor=SimpleNamespace(assigned_standbys=lambda: set()),
        on_rebalance_end=lambda: calls.append("rebalance_end"),
        in_recovery=True,
    )
    r = SeekThenResumeRecovery.__new__(SeekThenResumeRecovery)
    r.app = app
    r.tables = SimpleNamespace(values=list, changelog_topics={"coding-pending"},
                               on_actives_ready=lambda: calls.append("actives_ready"),
                               on_standbys_ready=lambda: None)
    r.completed = asyncio.Event()
    r.log = SimpleNamespace(info=lambda *a: None, warning=lambda *a: calls.append("warning"))
    r._set_recovery_ended = lambda: None

    async def wait(coro, timeout=None):
        await coro
    r._wait = wait
    return r


def test_stream_partitions_are_positioned_before_they_are_resumed():
    calls = Calls()
    r = recovery(calls, generation=3)
    asyncio.run(r.on_recovery_completed(3))
    assert calls[:2] == ["seek", ("resume", [STREAM])]  # changelog partitions stay paused
    assert calls.index("flow_control.resume") > calls.index("seek")
    assert r.completed.is_set() and calls[-1] == "rebalance_end"


def test_a_newer_rebalance_resumes_nothing():
    calls = Calls()
    r = recovery(calls, generation=4)
    asyncio.run(r.on_recovery_completed(3))
    assert calls == ["warning"] and not r.completed.is_set()
