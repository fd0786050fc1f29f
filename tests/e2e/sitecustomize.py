"""Fault injection for tests/e2e/test_orphaned_partitions.py, loaded (as Python loads any
sitecustomize) by the `rcm process` that test starts with this folder first on its PYTHONPATH, and
acting only with RCM_TEST_BLIND_ASSIGNMENTS set.

RCM_TEST_BLIND_ASSIGNMENTS=N reproduces what the long chaos run saw: the worker's first N group
assignments are computed from cluster metadata that shows none of its topics (the assignor logs
"No partition metadata for topic" and assigns nothing), and aiokafka's own rejoin on a metadata
change is off, as it did not fire in that run. Only the orphan watchdog can then get the worker
its partitions back.
"""
import os

BLIND = int(os.environ.get("RCM_TEST_BLIND_ASSIGNMENTS", "0") or 0)

if BLIND:
    from aiokafka.consumer import group_coordinator
    from aiokafka.coordinator.assignors.range import RangePartitionAssignor

    group_coordinator.GroupCoordinator._on_metadata_change = lambda self: None  # noqa: SLF001
    _assign = RangePartitionAssignor.assign.__func__
    _calls = [0]

    class _NoTopics:
        """Cluster metadata in which no topic exists (the rest is the real metadata)."""

        def __init__(self, cluster):
            self._cluster = cluster

        def partitions_for_topic(self, topic):
            return None

        def __getattr__(self, name):
            return getattr(self._cluster, name)

    def _blind_assign(cls, cluster, members):
        _calls[0] += 1
        if _calls[0] <= BLIND:
            cluster = _NoTopics(cluster)
        return _assign(cls, cluster, members)

    RangePartitionAssignor.assign = classmethod(_blind_assign)
