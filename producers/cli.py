"""`rcm produce synthetic`: generate the synthetic hospital's stream and publish it (or print it).
`rcm produce decisions`: a simulated coding team decides the open coding reviews."""
from __future__ import annotations

import time
from datetime import date

from infra.messages import say
from producers.output import print_records

# `rcm produce SOURCE ...`: source -> module with add_arguments(parser) and produce(args, settings).
# An adapter for a hospital format registers here (producers/<format>/cli.py).
SOURCES: dict[str, tuple[str, str]] = {
    "synthetic": ("producers.cli", "the seeded synthetic hospital"),
    "decisions": ("producers.cli", ("a simulated coding team decides the open coding reviews "
                                    "(read from PostgreSQL)")),
    "hl7": ("producers.hl7.cli", "HL7 v2 ADT/DFT files"),
    "fhir": ("producers.fhir.cli", "FHIR R4 bundles: Encounter, Claim, ClaimResponse, ExplanationOfBenefit"),
    "x12": ("producers.x12.cli", "X12 835 remittances and 277CA acknowledgements"),
}


def add_arguments(parser, name: str) -> None:
    import importlib

    sub = parser.add_subparsers(dest="source", required=True, metavar="SOURCE")
    for source, (module, help_text) in SOURCES.items():
        p = sub.add_parser(source, help=help_text, description=help_text)
        if module == __name__:
            (_synthetic_arguments if source == "synthetic" else _decisions_arguments)(p)
        else:
            importlib.import_module(module).add_arguments(p)


def _synthetic_arguments(parser) -> None:
    parser.add_argument("--events", type=int, default=20_000, help="records to emit (default 20000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--start", type=date.fromisoformat, default=None,
                        help="first day of event time, YYYY-MM-DD (default: 90 days ago)")
    parser.add_argument("--bad-share", type=float, default=None,
                        help="share of deliberately bad records (default 0.01)")
    parser.add_argument("--rate", type=float, default=None, help="records per second (default: no limit)")
    parser.add_argument("--truth", default=None, help="write the ground truth JSON here")
    parser.add_argument("--dry-run", action="store_true",
                        help="print decoded records as JSON lines instead of publishing")


def _decisions_arguments(parser) -> None:
    parser.add_argument("--coder-id", default="SIM-CODER",
                        help="the staff id the decisions carry (default SIM-CODER)")
    parser.add_argument("--limit", type=int, default=None,
                        help="decide at most this many reviews, most money first")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the decisions as JSON lines instead of publishing")


UNDELIVERED_EXIT = 3  # the broker did not acknowledge every record: see the names on stderr


def cmd_produce(args) -> int:
    """Every source, adapters included: records the broker did not acknowledge are named on
    stderr (one per line) and the exit status is UNDELIVERED_EXIT. Settings are loaded here, once,
    and passed to the source."""
    from infra.settings import load
    from producers.publish import Undelivered

    try:
        return _produce(args, load())
    except Undelivered as exc:
        say(f"rcm produce {args.source}: {exc}; {exc.delivered:,} delivered. Not delivered "
             "(re-running is harmless: ids are deterministic):")
        for name in exc.names:
            say(f"  undelivered: {name}")
        return UNDELIVERED_EXIT


def _produce(args, settings) -> int:
    import importlib

    module = SOURCES[args.source][0]
    if module != __name__:
        return int(importlib.import_module(module).produce(args, settings) or 0)
    if args.source == "decisions":
        return produce_decisions(args, settings)
    from producers.synthetic import BAD_SHARE, generate

    started = time.monotonic()
    bad_share = BAD_SHARE if args.bad_share is None else args.bad_share
    scenario = generate(args.events, args.seed, start=args.start, bad_share=bad_share)
    counts = scenario.truth["counts"]
    say(f"generated {counts['records']:,} records in {time.monotonic() - started:.2f}s "
         f"({counts['dead_letters']} bad, {counts['denied_claims']} denied claims, "
         f"{len(scenario.truth['accounts']):,} accounts)")
    if args.truth:
        scenario.write_truth(args.truth)
        say(f"ground truth written to {args.truth}")
    if args.dry_run:
        print_records(scenario.records)
        return 0
    from producers.publish import publish

    def progress(n: int, total: int) -> None:
        say(f"published {n:,}/{total:,} (acknowledged by the broker)")

    stats = publish(scenario.records, settings, rate=args.rate, progress=progress)
    say(f"published {stats['sent']:,} records in {stats['elapsed_s']}s "
         f"({stats['events_per_s']:,} records/s): {stats['by_topic']}")
    return 0


def produce_decisions(args, settings) -> int:
    from producers import coding_team
    from producers.publish import publish

    decisions = [coding_team.decide(r, args.coder_id)
                 for r in coding_team.open_reviews(settings.report_dsn, args.limit)]
    records = coding_team.as_records(decisions)
    say(f"{len(decisions):,} open coding reviews decided by {args.coder_id}")
    if args.dry_run:
        print_records(records)
        return 0
    stats = publish(records, settings, service="console")
    say(f"published {stats['sent']:,} decisions on coding-decisions")
    return 0
