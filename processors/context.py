"""What the stages of one worker share: its settings, its state tables, its reference data.

The composition root (processors.worker) builds one `Context` per worker and builds every stage
with it, so no stage reaches back into a module-level app for a table or the code set. The tables
are filled by the runtime (processors.runtime: each state partition restored before the first
record of that partition is processed); the stream tests build a context of empty tables.
"""
from __future__ import annotations

from functools import cached_property, lru_cache
from typing import Any

from processors import state as S
from schemas import codec
from schemas import topics as T


@lru_cache(maxsize=4096)
def _scrub_rule(raw: bytes) -> dict:
    return codec.decode_for(T.SCRUB_RULES, raw)


class Context:
    """One worker's settings, tables (one per processor state) and reference data, loaded once
    and only when a stage first needs it (post_charges never loads the code set)."""

    def __init__(self, settings) -> None:
        self.settings = settings
        self.tables: dict[str, S.Table] = {st.name: S.Table(st.topic) for st in S.STATES}
        self.scrub_rules_mirror: Any = None  # processors.broadcast.TopicMirror in a worker
        self.assignment: frozenset = frozenset()  # input partitions held; set by the runtime
        self._clocks: tuple[frozenset, Any] | None = None

    def table(self, state: S.State) -> S.Table:
        return self.tables[state.name]

    def store(self, state: S.State) -> S.TableStore:
        """A store over the state's table; its changelog records collect in `writes`."""
        return S.TableStore(self.tables[state.name], state)

    @cached_property
    def _reference(self):
        from processors.chargemaster import load_charge_master
        from processors.coding.rules import Coder

        return (Coder(releases_folder=self.settings.icd10cm_releases),
                load_charge_master(self.settings.charge_master or None))

    def reference(self):
        """Code set and charge master (the code set takes seconds: loaded once per worker)."""
        return self._reference

    @cached_property
    def _claim_tables(self) -> dict:
        import os
        from datetime import date

        from processors.claims import ncci
        from processors.claims.rules import releases_valid_through

        s = self.settings
        return {
            "ptp": ncci.load_ptp(*s.ncci_ptp.split(os.pathsep)) if s.ncci_ptp else None,
            "mue": ncci.load_mue(s.ncci_mue) if s.ncci_mue else None,
            "releases": releases_valid_through(
                date.fromisoformat(s.codeset_valid_through) if s.codeset_valid_through else None),
        }

    def claim_tables(self) -> dict:
        """NCCI tables and code-set releases for the scrubber: the deployment's CMS files when
        set, else the packaged synthetic samples."""
        return self._claim_tables

    def scrub_rules(self, payer_id: str) -> list[dict]:
        """The decided scrub rules of one payer, from every partition of `scrub-rules` (the
        broadcast mirror in a worker; the local table in the stream tests)."""
        mirror = self.scrub_rules_mirror
        data = self.tables[S.SCRUB_RULES.name].data if mirror is None else mirror.data
        rules = (_scrub_rule(raw) for raw in list(data.values()) if raw is not None)
        return [r for r in rules if r["payer_id"] == payer_id]

    def denial_clocks(self):
        """The appeal stage's event-time clocks and timers, rebuilt from `denials-open` whenever
        the worker's assignment changed (partitions are restored before they are processed), so
        partitions taken over from another worker bring their denials' timers."""
        if self._clocks is None or self._clocks[0] != self.assignment:
            self._clocks = (self.assignment, self._build_clocks())
        return self._clocks[1]

    def forget_clocks(self) -> None:
        self._clocks = None

    def _build_clocks(self):
        from processors.denials.appeals import Clocks
        from processors.stage import partition_for

        clocks = Clocks()
        data = self.tables[S.DENIALS_OPEN.name].data
        clocks.rebuild((codec.decode_for(T.DENIALS_OPEN, raw) for raw in list(data.values())),
                       lambda account: partition_for(account.encode(), T.DENIALS.partitions),
                       self.settings.appeal_warning_days)
        return clocks
