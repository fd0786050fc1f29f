"""The coding stage keeps a coded encounter (topic `coding-pending`) as long as a correction of its
claim can be billed, and not forever: the topic is compacted and deletes entries not written for
longer than the correction window (processors.coding.decisions.CORRECTION_WINDOW_DAYS) plus a
month. Every other compacted topic keeps its entries."""
from __future__ import annotations

from processors.coding.decisions import CORRECTION_WINDOW_DAYS
from processors.payers import DEFAULT, PAYERS
from schemas import topics as T

DAY_MS = 24 * 3600 * 1000


def test_coding_pending_is_compacted_and_its_entries_expire_after_the_retention():
    assert T.CODING_PENDING.config() == {"cleanup.policy": "compact,delete",
                                         "retention.ms": str(400 * DAY_MS)}


def test_the_retention_outlasts_the_correction_window_of_every_payer_by_a_month():
    window = max(p.timely_filing_days for p in (*PAYERS.values(), DEFAULT))
    assert window == CORRECTION_WINDOW_DAYS
    assert T.CODING_PENDING.retention_ms >= (CORRECTION_WINDOW_DAYS + 30) * DAY_MS


def test_the_other_compacted_topics_keep_every_entry():
    kept = {t.name: t.config() for t in T.ALL if t.compacted and t is not T.CODING_PENDING}
    assert kept and all(config == {"cleanup.policy": "compact"} for config in kept.values())
    assert T.ENCOUNTERS.config() == {"retention.ms": str(7 * DAY_MS)}
