"""`rcm produce fhir FILE... [--dry-run]`: FHIR R4 Bundles, resources or NDJSON -> visit-events,
remittances-unmatched and dead-letters. Exit 1 when any entry was bad (each reported on stderr)."""
from __future__ import annotations

import os
import sys

from producers.fhir.common import CHARGE_SYSTEM
from producers.output import print_records


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="JSON Bundle, single resource, or NDJSON (.ndjson/.jsonl) files")
    parser.add_argument("--charge-system", default=os.environ.get("RCM_FHIR_CHARGE_SYSTEM", CHARGE_SYSTEM),
                        help=f"code system URI of the hospital's charge codes in Claim.item."
                             f"productOrService (default RCM_FHIR_CHARGE_SYSTEM or {CHARGE_SYSTEM})")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the records as JSON lines instead of publishing")


def produce(args, settings) -> int:
    from processors.chargemaster import load_charge_master
    from producers.fhir.adapter import convert
    from producers.fhir.read import Entry, read_file

    entries: list[Entry] = []
    for path in args.files:
        try:
            entries += read_file(path)
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
            return 2
    # The charge master the coding stage reads (RCM_CHARGE_MASTER), so both agree what is known.
    result = convert(entries, load_charge_master(settings.charge_master or None),
                     charge_system=args.charge_system)
    for line in result.skipped:
        print(f"skipped {line}", file=sys.stderr)
    for line in result.problems:
        print(f"error {line}", file=sys.stderr)
    if result.ignored:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(result.ignored.items()))
        print(f"ignored (no event for these resource types): {kinds}", file=sys.stderr)
    if args.dry_run:
        print_records(result.records)
    elif result.records:
        from producers.publish import publish

        publish(result.records, settings, service="fhir")
    verb = "would publish" if args.dry_run else "published"
    print(f"{len(entries)} entries: {verb} {result.events} events and {result.dead_letters} dead "
          f"letters; {len(result.skipped)} skipped", file=sys.stderr)
    return 0 if result.ok else 1
