"""The `rcm` command. Each subcommand lives in the module that owns it; this file only dispatches."""
from __future__ import annotations

import argparse
import importlib
import sys

# subcommand -> (module, function, help). The function takes the parsed args and returns an exit code.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "up": ("infra.services", "cmd_up", "start the local Kafka broker and PostgreSQL (idempotent)"),
    "down": ("infra.services", "cmd_down", "stop the local services"),
    "env": ("infra.credentials", "cmd_env",
            "print export lines for psql, Kafka and registry clients (DSNs name a password file)"),
    "schemas": ("infra.registry", "cmd_schemas",
                "check: fail if a working-tree .avsc is incompatible with the schema registry"),
    "status": ("infra.status", "cmd_status", "topics, consumer lag, throughput, dead letters"),
    "produce": ("producers.cli", "cmd_produce", "publish events (synthetic hospital, coding decisions, hospital formats)"),
    "tick": ("producers.tick", "cmd_tick", "advance the appeal deadline clock of every partition (event time)"),
    "listen": ("producers.hl7.mllp", "cmd_listen", "listen for hospital messages (HL7 v2 over MLLP)"),
    "process": ("processors.worker", "cmd_process", "run the stream processors (faust worker)"),
    "sink": ("sinks.postgres.service", "cmd_sink", "run the PostgreSQL sink"),
    "rules": ("producers.scrub_rules", "cmd_rules",
              "proposed scrub rules from denial patterns: list, accept, reject"),
    "sink-x12": ("sinks.x12.service", "cmd_sink_x12", "write CLEAN claims as X12 837P/837I files"),
    "report": ("infra.kpis", "cmd_report", "A/R aging and revenue-cycle KPIs from PostgreSQL ([--json] [--as-of D])"),
    "kpis": ("sinks.postgres.kpi_publish", "cmd_kpis", "publish KPIs and A/R aging snapshots to Kafka now (publish [--as-of D] [--days N])"),
    "demo": ("infra.demo", "cmd_demo", "run the whole pipeline on synthetic data and summarise"),
    "bench": ("infra.bench", "cmd_bench", "measure throughput and latency against a raw baseline"),
    "chaos": ("infra.chaos", "cmd_chaos",
              "SIGKILL random components under load, restart them, check nothing was lost"),
    "code": ("processors.coding.cli", "cmd_code", "code clinician statements to ICD-10-CM"),
    "eval": ("processors.coding.cli", "cmd_eval", "measure the coder on the labelled dev set"),
    "console": ("infra.console.cli", "cmd_console", "serve the browser console ([--host H] [--port P])"),
    "users": ("infra.console.cli", "cmd_users", "console users: add NAME --role ROLE (password from a prompt or stdin)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rcm", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module, _func, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        mod = importlib.import_module(module)
        adder = getattr(mod, "add_arguments", None)
        if adder is not None:
            adder(p, name)
    return parser


def use_schema_registry(args: argparse.Namespace) -> None:
    """Every command encodes and decodes with the registry's ids (settings.registry_url: the one
    configured, else the local one `rcm up` starts); the fixed ids with RCM_SCHEMA_REGISTRY_URL=none,
    and for a --dry-run, which publishes nothing. The registry is asked nothing until the first
    record is encoded or decoded."""
    from infra.settings import load
    from schemas import codec

    codec.use_registry("" if getattr(args, "dry_run", False) else load().registry_url)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # Import only the chosen command's module so `rcm up` does not load faust or the code set.
    if argv and argv[0] in COMMANDS:
        module, func, help_text = COMMANDS[argv[0]]
        mod = importlib.import_module(module)
        parser = argparse.ArgumentParser(prog=f"rcm {argv[0]}", description=help_text)
        adder = getattr(mod, "add_arguments", None)
        if adder is not None:
            adder(parser, argv[0])
        args = parser.parse_args(argv[1:])
        use_schema_registry(args)
        return int(getattr(mod, func)(args) or 0)
    build_parser().parse_args(argv)
    return 2


if __name__ == "__main__":
    sys.exit(main())
