"""The faust App: the worker shell of `rcm process` (lifecycle, signals, timers).

faust consumes nothing and produces nothing here: the batch loop (processors.runtime) reads the
input topics, runs the stages and delivers their output with its own aiokafka clients, so the
App starts with neither a Kafka consumer nor a producer, and with no tables or agents.

The App is built when a worker starts (processors.worker.run_worker), from the settings `rcm
process` loaded; importing this module builds nothing. faust itself reads only RCM_-prefixed
variables (env_prefix), so stray FAUST_/BROKER_ variables cannot leak in. The web server is off:
metrics and health go through prometheus_client and infra.health instead.
"""
from __future__ import annotations

import logging

import faust


class Shell(faust.App.BootStrategy):
    """Only the timers and the services handed to the worker: no Kafka clients, no sensors."""

    enable_kafka = False
    enable_kafka_consumer = False
    enable_kafka_producer = False
    enable_web = False
    enable_sensors = False


class ShellApp(faust.App):
    BootStrategy = Shell


def make_app(settings) -> faust.App:
    """The worker shell of one `rcm process` worker, named and placed by its settings."""
    app = ShellApp(
        settings.app_id,
        broker=f"kafka://{settings.bootstrap}",
        env_prefix="RCM_",
        web_enabled=False,
        web_tables_enabled=False,
        topic_allow_declare=False,
        datadir=str(settings.home / "faust"),
    )

    @app.task
    async def quiet_client_logs() -> None:
        # The worker's logging setup leaves client loggers at DEBUG: aiokafka then formats a record
        # per message sent (key and value included, which is PHI) only for the handler to drop it.
        level = logging.getLevelName(settings.log_level.upper())
        for name in ("aiokafka", "faust", "mode", "kafka"):
            logging.getLogger(name).setLevel(level)

    return app
