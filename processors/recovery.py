"""Table recovery that positions stream partitions before it lets them fetch.

faust-streaming 0.15.3 ends a table restore (`Recovery.on_recovery_completed`) by resuming the
stream partitions first and seeking them to their committed offsets second, while the flow is
already running (the restore resumed it to read the changelogs). A fetch that lands between the two
delivers records and moves the consumer's read offset past them; the seek then rewinds the fetch
position, the records already queued are cleared when the flow control resumes, and the re-fetched
copies are skipped as "already read". Those offsets are never acknowledged, so the partition never
commits again although every later record is processed (measured: a SIGKILL of the processor with a
backlog left remittances/0-3 with ~90 unacknowledged offsets each, committed offset frozen).

faust's other resume path (`_resume_streams`) already seeks first (faust-streaming PR 217); this
subclass gives the restore path the same order: seek while the partitions are still paused (they
are paused on assignment), then resume them.
"""
from __future__ import annotations

import asyncio

from faust.tables.recovery import Recovery


class SeekThenResumeRecovery(Recovery):
    async def on_recovery_completed(self, generation_id: int = 0) -> None:
        app = self.app
        consumer = app.consumer
        self.log.info("Restore complete!")
        await app.on_rebalance_complete.send()
        self._set_recovery_ended()
        tables = [asyncio.ensure_future(t.on_recovery_completed(self.actives_for_table[t],
                                                                self.standbys_for_table[t]))
                  for t in self.tables.values()]
        if tables:
            await asyncio.wait(tables)
        if app.consumer_generation_id != generation_id:
            self.log.warning("Recovery rebalancing again (generation %s, recovery for %s)",
                             app.consumer_generation_id, generation_id)
            return
        streams = {tp for tp in consumer.assignment() if not self._is_changelog_tp(tp)}
        if streams:
            self.log.info("Seek stream partitions to committed offsets, then resume them.")
            await self._wait(consumer.perform_seek(), timeout=app.conf.broker_request_timeout)
            consumer.resume_partitions(streams)
        self.completed.set()
        app.flow_control.resume()
        consumer.resume_flow()
        await app._fetcher.maybe_start()
        self.tables.on_actives_ready()
        if not app.assignor.assigned_standbys():
            self.tables.on_standbys_ready()
        app.on_rebalance_end()
        self.log.info("Worker ready")


def install(app) -> None:
    """Use this recovery for `app`'s tables (before the worker starts)."""
    manager = app.tables
    manager._recovery = SeekThenResumeRecovery(app, manager, beacon=manager.beacon,
                                               loop=manager.loop)
