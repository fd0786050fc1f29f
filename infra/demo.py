"""`rcm demo`: the main job on a fresh machine.

Start Kafka and PostgreSQL, start from empty topics and tables, publish the synthetic hospital's
events, run the processor and the sink until every event is processed, let a simulated coding team
decide the encounters left in coding review, then print what happened and check every balance
against the generator's ground truth. Kafka, PostgreSQL, the processor, the sink and the console
stay up, so the console's actions flow through the pipeline; `rcm down` stops them all.
"""
from __future__ import annotations

import json
import time

from infra import pipeline, report
from infra import settings as settings_mod
from infra.messages import say


def add_arguments(parser, name: str) -> None:
    parser.add_argument("--events", type=int, default=20_000, help="events to publish (default 20000)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rate", type=float, default=None, help="events/s (default: as fast as possible)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for draining")
    parser.add_argument("--console-port", type=int, default=8080,
                        help="port of the console left running at the end (default 8080)")


def reset(settings) -> None:
    """Empty topics, consumer groups and tables so a second run starts from the same place."""
    from infra import services

    services.recreate_topics(settings=settings)
    pipeline.delete_groups(settings, [settings.app_id, settings.sink_group])
    # The owner's DSN: TRUNCATE is the table owner's right (the sink's role may DELETE rows but
    # not TRUNCATE, and a DELETE of every row would leave the tables' dead tuples behind each run).
    tables = [r[0] for r in report.query(settings.dsn, """
        select tablename from pg_tables where schemaname = 'public' and tablename <> 'schema_migrations'""")]
    if tables:
        report.query_commit(settings.dsn, "truncate " + ", ".join(tables))


def decide_reviews(settings, log=say) -> int:
    """The simulated coding team works the review queue; its decisions release the encounters."""
    from producers import coding_team
    from producers.publish import publish

    decisions = [coding_team.decide(r, "SIM-CODER")
                 for r in coding_team.open_reviews(settings.report_dsn)]
    log(f"== the coding team decides {len(decisions):,} open reviews (rcm produce decisions)")
    publish(coding_team.as_records(decisions), settings, service="console")
    return len(decisions)


def run(settings, events: int, seed: int, rate: float | None, timeout: float,
        log=say) -> dict:
    from infra import services
    from producers.publish import publish
    from producers.synthetic import generate

    log("== starting Kafka and PostgreSQL")
    services.stop_left_running(settings.home)  # an earlier demo's processor, sink and console
    services.up(settings)
    log("== resetting topics, consumer groups and tables")
    reset(settings)
    log(f"== generating {events:,} synthetic events (seed {seed})")
    scenario = generate(events, seed)
    truth_path = settings.home / "truth.json"
    scenario.write_truth(truth_path)

    logs = settings.home / "logs"
    processor = pipeline.rcm_service("process", settings, logs).start()
    sink = pipeline.rcm_service("sink", settings, logs).start()
    try:
        log(f"== waiting for the processor (pid {processor.pid}) to join its group; sink pid {sink.pid}")
        pipeline.wait_joined(settings, processor)
        started = time.monotonic()
        log("== publishing")
        last = [0.0]

        def progress(n: int, total: int) -> None:
            if time.monotonic() - last[0] > 1 or n == total:
                last[0] = time.monotonic()
                log(f"   published {n:,}/{total:,}")

        publish(scenario.records, settings, rate=rate, progress=progress)
        log("== draining")

        def drain_progress(lag: pipeline.Lag) -> None:
            if time.monotonic() - last[0] > 2:
                last[0] = time.monotonic()
                log(f"   waiting: processor lag {lag.processor:,}, sink lag {lag.sink:,}")

        final = pipeline.wait_drained(settings, [processor, sink], timeout, drain_progress)
        elapsed = time.monotonic() - started
        decided = decide_reviews(settings, log)
        final = pipeline.wait_drained(settings, [processor, sink], timeout, drain_progress)
    except BaseException:
        processor.stop()
        sink.stop()
        raise
    for service in (processor, sink):  # left running for the console's actions
        service.leave_running(settings.home)
    result = report.summary(settings.report_dsn)  # reads only: rcm_report (migration 0027)
    result["running"] = {"processor": processor.pid, "sink": sink.pid}
    result["elapsed_s"] = elapsed
    result["decided"] = decided
    result["events"] = events
    result["topics"] = {}
    for (topic, _p), end in final.ends.items():
        result["topics"][topic] = result["topics"].get(topic, 0) + end
    result["mismatches"] = report.reconcile(settings.report_dsn, json.loads(truth_path.read_text()))
    result["truth_accounts"] = len(scenario.truth["accounts"])
    return result


def _pct(x) -> str:
    return "n/a" if x is None else f"{float(x):.1%}"


def print_summary(r: dict) -> None:
    m = report.money
    print("\nrcm demo: summary")
    print(f"  input events          {r['events']:,} in {r['elapsed_s']:.1f}s "
          f"({r['events'] / r['elapsed_s']:,.0f} events/s end to end)")
    lat = r["latency_ms"]
    print(f"  end-to-end latency    p50 {lat['p50']:,.0f} ms, p99 {lat['p99']:,.0f} ms "
          "(source emit -> balance committed)")
    print("  events per topic")
    for topic, n in sorted(r["topics"].items()):
        print(f"    {topic:<20} {n:>8,}")
    claims = r["claims"]
    print(f"  claims built          {sum(claims.values()):,} (clean {claims.get('CLEAN', 0):,}, "
          f"held {claims.get('HELD', 0):,})")
    for edit, n in r["claim_edits"]:
        print(f"    held for {edit:<20} {n:>6,}")
    for edit, n in r["claim_warnings"]:
        print(f"    warned {edit:<22} {n:>6,} (not held)")
    k = r["coding"]
    print(f"  coding                {k['encounters']:,} encounters: auto-coded {k['auto_coded']:,} "
          f"({_pct(k['auto_code_rate'])}), sent to review {r['coding_review']:,}")
    print(f"    coding team         decided {r['decided']:,}, released {k['released']:,}, "
          f"still in review {k['in_review']:,}")
    print(f"    agreement           {_pct(k['decision_exact_agreement'])} of decisions kept the "
          f"suggested codes exactly; {_pct(k['code_agreement'])} of codes agree")
    if r["drgs"]:
        print("  inpatient MS-DRGs     " + ", ".join(f"{drg} ({n:,})" for drg, n in r["drgs"]))
    print("  denials by category")
    for category, n, cents in r["denials"]:
        print(f"    {category:<20} {n:>6,}  {m(cents):>14}")
    alerts = r["deadline_alerts"]
    print(f"  denials by status     (deadline alerts: {alerts.get('APPROACHING', 0):,} approaching, "
          f"{alerts.get('EXPIRED', 0):,} expired)")
    for status, n, cents in r["denial_status"]:
        print(f"    {status:<20} {n:>6,}  {m(cents):>14} open")
    print(f"  charges               {m(r['charges']):>16}")
    print(f"  payments              {m(r['payments']):>16}")
    print(f"  adjustments           {m(r['adjustments']):>16}")
    print(f"  A/R insurance         {m(r['insurance']):>16}")
    print(f"  A/R patient           {m(r['patient']):>16}")
    print(f"  A/R total             {m(r['total']):>16}  ({r['accounts']:,} accounts)")
    dead = r["dead_letters"]
    print(f"  dead letters          {sum(n for *_x, n in dead):,}")
    for topic, error, n in dead:
        print(f"    {topic:<12} {error:<15} {n:>5,}")
    if r["mismatches"]:
        print(f"  ground truth          {len(r['mismatches'])} accounts DIFFER, e.g.:")
        for line in r["mismatches"][:5]:
            print(f"    {line}")
    else:
        print(f"  ground truth          all {r['truth_accounts']:,} balances exact to the cent")


def cmd_demo(args) -> int:
    settings = settings_mod.load()
    result = run(settings, args.events, args.seed, args.rate, args.timeout)
    print_summary(result)
    running = result["running"]
    print(f"\nKafka, PostgreSQL, the processor (pid {running['processor']}) and the sink (pid "
          f"{running['sink']}) are still running: `rcm status`, `eval $(rcm env)` then psql "
          "\"$RCM_DATABASE_URL\"; `rcm down` stops them all.")
    start_console(settings, args.console_port)
    return 1 if result["mismatches"] else 0


# --- the console (issue 11): left running at the end of the demo, with a demo login -------------
def start_console(settings, port: int):
    """Start `rcm console` in the background with an admin user `demo` whose password is new on
    every run (the only password the project ever makes up), and print where to log in."""
    import secrets
    import urllib.request

    from infra.console.auth import add_user
    from infra.console.db import Db

    password = secrets.token_urlsafe(12)
    db = Db(settings.console_dsn, size=1)
    try:
        add_user(db, "demo", "admin", password)
    finally:
        db.close()
    console = pipeline.rcm_service("console", settings, settings.home / "logs",
                                   "--port", str(port)).start()
    url = f"http://127.0.0.1:{port}/"
    for _ in range(60):
        try:
            with urllib.request.urlopen(url + "login", timeout=2):
                break
        except OSError:
            if not console.alive():
                say(f"the console did not start: {console.tail(5)}")
                return console
            time.sleep(0.5)
    console.leave_running(settings.home)
    print(f"\nThe console is running at {url} (pid {console.pid}; `rcm down` stops it).")
    print(f"  demo login: user demo, password {password} (role admin; made for this demo run)")
    print("  Its actions are events on Kafka, applied by the processor and the sink left running.")
    return console


