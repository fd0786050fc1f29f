"""The faust App, its topics, and `rcm process` (one worker running every stage agent).

Settings come from RCM_* variables (infra.settings); faust itself reads only RCM_-prefixed
variables (env_prefix), so stray FAUST_/BROKER_ variables cannot leak in. The web server is off:
faust's table endpoints would serve patient data; metrics go through prometheus_client instead.
"""
from __future__ import annotations

import logging
from functools import lru_cache

import faust

from infra import settings as settings_mod
from infra.kafka_auth import client_options
from processors import state as S
from schemas import topics as T

SETTINGS = settings_mod.load()
BATCH_MAX = 1000
BATCH_WITHIN_S = 0.05

app = faust.App(
    SETTINGS.app_id,
    **client_options("processor", flavour="faust", settings=SETTINGS),  # broker, broker_credentials
    env_prefix="RCM_",
    key_serializer="raw",
    value_serializer="raw",
    web_enabled=False,
    web_tables_enabled=False,
    topic_allow_declare=False,
    topic_disable_leader=True,
    consumer_auto_offset_reset="earliest",
    broker_commit_interval=1.0,
    broker_max_poll_records=2000,
    stream_buffer_maxsize=8192,
    producer_acks=-1,
    producer_linger_ms=5,
    producer_max_batch_size=256 * 1024,
    datadir=str(SETTINGS.home / "faust"),
)


def topic(t: T.Topic) -> faust.TopicT:
    return app.topic(t.name, key_type=bytes, value_type=bytes, partitions=t.partitions,
                     internal=False)


def _state_table(t: T.Topic):
    """A faust table whose changelog is the registry's compacted state topic `t` (bytes keys and
    values: the topic's key and Avro record). faust restores it from that topic when the worker is
    assigned the partitions; the stages write the changelog themselves, in order with their other
    output (processors.state.TableStore)."""
    return app.Table(t.name, default=None, partitions=t.partitions, key_type=bytes,
                     value_type=bytes,
                     changelog_topic=app.topic(t.name, key_type=bytes, value_type=bytes,
                                               partitions=t.partitions, compacting=True,
                                               internal=False))


# One faust table per processor state (processors.state.STATES), each restored from its
# compacted topic for the partitions the worker is assigned. Every stage declares the states it
# reads and writes; the worker refuses to start unless each is co-partitioned with the stream of
# the stage using it (processors.stage.check_copartitioned), so no stage reads an entry on a
# partition it does not own:
# - coding-pending, visits-pending, claim-state, encounter-charges, denials-open: keyed by their
#   own ids, placed by account, read by stages on account-keyed streams;
# - claim-accounts: by claim id, read by the matcher on remittances-unmatched and claim-index
#   (both keyed by claim id; index_claims repartitions claims into claim-index);
# - denial-pattern-counts, scrub-rules: by rule id, on denial-patterns and scrub-rule-decisions.
# The claim builder reads scrub-rules by payer: a broadcast mirror (processors.broadcast), not
# the table. faust's GlobalTable is not used: 0.15.3 never finishes the partition assignment
# with one declared.
TABLES = {st.topic: _state_table(st.topic) for st in S.STATES}
pending_table = TABLES[T.CODING_PENDING]
visits_table = TABLES[T.VISITS_PENDING]
claim_accounts_table = TABLES[T.CLAIM_ACCOUNTS]
denial_patterns_table = TABLES[T.DENIAL_PATTERN_COUNTS]
scrub_rules_table = TABLES[T.SCRUB_RULES]
claim_state_table = TABLES[T.CLAIM_STATE]
encounter_charges_table = TABLES[T.ENCOUNTER_CHARGES]
denials_open_table = TABLES[T.DENIALS_OPEN]


def store(state: S.State) -> S.TableStore:
    """The table of `state` as a store that places its changelog records as declared."""
    return S.TableStore(TABLES[state.topic], state)


# The scrub-rules mirror the worker starts (processors.broadcast.TopicMirror); None: the rules
# are read from the local table (faust's in-memory test context, one process).
scrub_rules_mirror = None


@lru_cache(maxsize=4096)
def _scrub_rule(raw: bytes) -> dict:
    from schemas import codec

    return codec.decode_for(T.SCRUB_RULES, raw)


def scrub_rules(payer_id: str) -> list[dict]:
    """The decided scrub rules of one payer (a handful: people decide them one by one), from every
    partition of `scrub-rules`; each stored value is decoded once."""
    data = scrub_rules_table.data if scrub_rules_mirror is None else scrub_rules_mirror.data
    rules = (_scrub_rule(raw) for raw in list(data.values()) if raw is not None)
    return [r for r in rules if r["payer_id"] == payer_id]


def pending():
    return store(S.CODING_PENDING)


def claim_state():
    return store(S.CLAIM_STATE)


def encounter_charges():
    return store(S.ENCOUNTER_CHARGES)


def denials_open():
    return store(S.DENIALS_OPEN)


_CLOCKS: list = [None, None]  # (the assignment they were built for, Clocks)


def _assigned() -> frozenset:
    return frozenset(app.assignor.assigned_actives())


def denial_clocks():
    """The appeal stage's event-time clocks and timers, rebuilt from the table whenever the
    worker's assignment changed (faust restores newly assigned partitions before the agents
    read), so partitions taken over from another worker bring their denials' timers."""
    assigned = _assigned()
    if _CLOCKS[1] is None or _CLOCKS[0] != assigned:
        _CLOCKS[:] = [assigned, _build_clocks()]
    return _CLOCKS[1]


denial_clocks.cache_clear = lambda: _CLOCKS.__setitem__(slice(None), [None, None])


def _build_clocks():
    from processors.denials.appeals import Clocks
    from processors.stage import partition_for
    from schemas import codec

    clocks = Clocks()
    clocks.rebuild((codec.decode_for(T.DENIALS_OPEN, raw)
                    for raw in list(denials_open_table.data.values())),
                   lambda account: partition_for(account.encode(), T.DENIALS.partitions),
                   SETTINGS.appeal_warning_days)
    return clocks


@lru_cache(maxsize=1)
def reference():
    """Code set and charge master, loaded once per process (the code set takes seconds)."""
    from processors.chargemaster import load_charge_master
    from processors.coding.rules import Coder

    return Coder(), load_charge_master(SETTINGS.charge_master or None)


@lru_cache(maxsize=1)
def claim_tables() -> dict:
    """NCCI tables and code-set releases for the scrubber: the deployment's CMS files when set,
    else the packaged synthetic samples."""
    import os
    from datetime import date

    from processors.claims import ncci
    from processors.claims.rules import releases_valid_through

    ptp = SETTINGS.ncci_ptp
    return {
        "ptp": ncci.load_ptp(*ptp.split(os.pathsep)) if ptp else None,
        "mue": ncci.load_mue(SETTINGS.ncci_mue) if SETTINGS.ncci_mue else None,
        "releases": releases_valid_through(
            date.fromisoformat(SETTINGS.codeset_valid_through)
            if SETTINGS.codeset_valid_through else None),
    }


def emitter():
    from processors.stage import ProducerEmitter
    return ProducerEmitter(app)


@app.task
async def quiet_client_logs() -> None:
    # The worker's logging setup leaves client loggers at DEBUG: aiokafka then formats a record per
    # message sent (key and value included, which is PHI) only for the handler to drop it.
    level = logging.getLevelName(SETTINGS.log_level.upper())
    for name in ("aiokafka", "faust", "mode", "kafka"):
        logging.getLogger(name).setLevel(level)


_WATCH = None


@app.timer(interval=15.0)
async def watch_commits() -> None:
    """Warn (offsets only) when an input partition's committed offset stops moving."""
    global _WATCH
    from processors import watchdog

    if _WATCH is None:
        _WATCH = watchdog.Watch(SETTINGS.stall_after_s)
    try:
        watchdog.check(app, _WATCH, {t.name for t in T.ALL if not t.compacted})
    except Exception:  # a diagnostic must never take the worker down
        logging.getLogger(__name__).exception("commit watchdog failed")
