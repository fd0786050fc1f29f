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
from schemas import topics as T

SETTINGS = settings_mod.load()
BATCH_MAX = 1000
BATCH_WITHIN_S = 0.05

app = faust.App(
    SETTINGS.app_id,
    broker=f"kafka://{SETTINGS.bootstrap}",
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


# Encounters in coding review and decisions waiting for them, by encounter id.
pending_table = _state_table(T.CODING_PENDING)
# Visits being assembled from visit-events, by visit number.
visits_table = _state_table(T.VISITS_PENDING)
# Claim id -> account, and remittances that arrived before their claim, each entry on its claim
# id's partition. Claims come keyed by account, unmatched remittances by claim id, so the two
# halves of a match sit on different partitions: one worker (today's deployment) holds every
# partition and sees both. A GlobalTable would serve several workers, but faust 0.15.3 never
# finishes the partition assignment with one declared (measured: the group stays in "performing
# assignments").
claim_accounts_table = _state_table(T.CLAIM_ACCOUNTS)
# Distinct denials counted per denial pattern, by rule id (co-partitioned with denial-patterns and
# scrub-rule-decisions, which are keyed by rule id too).
denial_patterns_table = _state_table(T.DENIAL_PATTERN_COUNTS)
# Scrub rules a person decided, by rule id. The claim builder reads every entry whatever partition
# it sits on: like claim_accounts_table, that holds while one worker holds every partition.
scrub_rules_table = _state_table(T.SCRUB_RULES)


@lru_cache(maxsize=4096)
def _scrub_rule(raw: bytes) -> dict:
    from schemas import codec

    return codec.decode_for(T.SCRUB_RULES, raw)


def scrub_rules(payer_id: str) -> list[dict]:
    """The decided scrub rules of one payer (a handful: people decide them one by one); each
    stored value is decoded once."""
    rules = (_scrub_rule(raw) for raw in scrub_rules_table.data.values() if raw is not None)
    return [r for r in rules if r["payer_id"] == payer_id]


# Each claim's last version and content, by claim id on its account's partition: the builder
# (encounters-coded) and the secondary biller (remittances) both read and write it.
claim_state_table = _state_table(T.CLAIM_STATE)
# The charges posted per encounter, by encounter id on its account's partition (post_charges).
encounter_charges_table = _state_table(T.ENCOUNTER_CHARGES)
# Each denial's appeal lifecycle, alert flags and appeal events waiting for it, by denial id.
denials_open_table = _state_table(T.DENIALS_OPEN)

# Commits never pass an unacknowledged record (processors/acks.py); a partition held that way is
# unstuck by the commit watchdog below.
from processors.acks import install as _install_acks

_install_acks()


def pending():
    """The coding-pending table as a store (entries on their account's partition)."""
    from processors.state import TableStore

    return TableStore(pending_table, T.CODING_PENDING, partition_by="account_id")


def claim_state():
    """The claim-state table as a store (entries on their account's partition)."""
    from processors.state import TableStore

    return TableStore(claim_state_table, T.CLAIM_STATE, partition_by="account_id")


def encounter_charges():
    from processors.state import TableStore

    return TableStore(encounter_charges_table, T.ENCOUNTER_CHARGES, partition_by="account_id")


def denials_open():
    """The denials-open table as a store (entries on their account's partition)."""
    from processors.state import TableStore

    return TableStore(denials_open_table, T.DENIALS_OPEN, partition_by="account_id")


@lru_cache(maxsize=1)
def denial_clocks():
    """The appeal stage's event-time clocks and timers, rebuilt once per process from the table
    (faust restores the table before the agents read)."""
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


def _import_agents() -> None:
    # Importing the module registers the agents on `app`.
    import processors.agents  # noqa: F401


def add_arguments(parser, name: str) -> None:
    parser.add_argument("--loglevel", default=SETTINGS.log_level.lower())


def cmd_process(args) -> int:
    from infra.health import watch_faust

    _import_agents()
    reference()  # load before consuming so the first batch does not stall a poll interval
    watch_faust(app, SETTINGS)  # metrics, /healthz, /readyz; waits for a broker (issue 15)
    worker = faust.Worker(app, loglevel=args.loglevel, quiet=True)
    worker.spinner = None  # a terminal spinner only writes escape codes into service logs
    worker.execute_from_commandline()
    return 0
