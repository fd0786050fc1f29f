"""`rcm bench`: throughput and latency of the whole pipeline against a raw Kafka baseline.

Same machine, same run, same records:
- baseline: kafka-python produces the synthetic records and a plain consumer reads them back,
  no processing (what the broker and client alone allow);
- end to end: the same records published while `rcm process` and `rcm sink` run, timed from the
  first send to the last balance committed in PostgreSQL.
With --repeat K both are run K times and medians are reported. The last line is key=value pairs.
"""
from __future__ import annotations

import os
import statistics
import threading
import time
from contextlib import contextmanager
from dataclasses import replace

import psutil
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from infra import pipeline, report
from infra import settings as settings_mod
from infra.kafka_acls import ADMIN
from infra.kafka_auth import client_options
from infra.messages import say
from schemas import topics as T

STAGE_OUTPUTS = {
    "code_encounters": (T.ENCOUNTERS_CODED, T.CODING_REVIEW),
    "build_claims": (T.CLAIMS,),
    "post_ledger_entries": (T.LEDGER_ENTRIES,),
}


def add_arguments(parser, name: str) -> None:
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; medians are reported")
    parser.add_argument("--latency-rate", type=float, default=1000.0,
                        help="events/s of the steady run that measures latency (0 skips it)")
    parser.add_argument("--latency-events", type=int, default=10000)
    parser.add_argument("--workers", type=int, default=1,
                        help="processor workers of the end-to-end runs (rcm process --workers N)")
    parser.add_argument("--compare-workers", type=int, default=0, metavar="M",
                        help="also time each end-to-end run with M workers, alternating with N")
    parser.add_argument("--sink-only", action="store_true",
                        help="run the pipeline once to fill the sink's topics (unless they hold "
                             "records already), then time `rcm sink` alone on them --repeat times")
    parser.add_argument("--sink-compare", metavar="SOURCE_TREE", default=None,
                        help="with --sink-only: also time the sink of another checkout (e.g. the "
                             "commit before a change), alternating runs with this one")


class PeakRss:
    """Samples resident memory of named processes every 500 ms: with their children (a
    supervisor's workers, PostgreSQL's backends), except the bench's own process, whose children
    are the processor and the sink, watched on their own."""

    def __init__(self):
        self.pids: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def watch(self, name: str, pid: int | None) -> None:
        if pid:
            self.pids[name] = pid

    def _sample(self) -> None:
        own = os.getpid()
        for name, pid in list(self.pids.items()):
            try:
                proc = psutil.Process(pid)
                rss = proc.memory_info().rss
                if pid != own:
                    rss += sum(c.memory_info().rss for c in proc.children(recursive=True))
            except psutil.Error:
                continue
            self.peak[name] = max(self.peak.get(name, 0), rss)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self._sample()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def baseline(settings, records) -> float:
    """Produce and consume the records with kafka-python alone; events/s from first send to last read."""
    from infra import services

    services.recreate_topics(settings.bootstrap, T.INPUTS, settings=settings)
    n = len(records)
    done = threading.Event()
    consumer = KafkaConsumer(*[t.name for t in T.INPUTS], **client_options(ADMIN, settings=settings),
                             auto_offset_reset="earliest", enable_auto_commit=False,
                             group_id=None, max_poll_records=5000)
    consumer.poll(timeout_ms=100)

    def consume() -> None:
        seen = 0
        while seen < n:
            for batch in consumer.poll(timeout_ms=200).values():
                seen += len(batch)
        done.set()

    reader = threading.Thread(target=consume, daemon=True)
    producer = KafkaProducer(**client_options("synthetic", settings=settings), acks="all", linger_ms=5,
                             batch_size=256 * 1024)
    reader.start()
    start = time.perf_counter()
    for rec in records:
        producer.send(rec.topic.name, key=rec.key, value=rec.value)
    producer.flush()
    if not done.wait(300):
        raise RuntimeError("baseline consumer did not read every record")
    elapsed = time.perf_counter() - start
    producer.close()
    consumer.close()
    return n / elapsed


@contextmanager
def unauthenticated_broker(settings):
    """A throwaway single broker with no authentication and no authorizer, started beside the
    secured one for the paired baseline: what SASL/SCRAM and the ACL checks cost, measured on
    the same machine in the same run. Its data lives under $RCM_HOME/bench-plain; it is stopped
    (by its pid) when the bench ends."""
    from infra import kafka, services

    # the same heap and the same topics as the secured broker: the pair differs in security only
    plain = replace(settings, home=settings.home / "bench-plain", kafka_bootstrap_servers="",
                    kafka_brokers=1, kafka_port=settings.kafka_port + 20,
                    kafka_security_protocol="PLAINTEXT")
    kafka.start(plain, secure=False)
    try:
        plain = replace(plain, kafka_bootstrap_servers=plain.bootstrap)
        services.create_topics(plain.bootstrap, settings=plain)
        yield plain
    finally:
        kafka.stop(plain)


def sasl_pair(settings, plain, records, run: int) -> tuple[float, float]:
    """(unauthenticated, SASL/SCRAM + ACLs) baseline events/s of one run, in ABBA order: the
    unauthenticated broker first on even runs, the secured one first on odd runs, so neither is
    always the first measured (a warmer JIT, page cache or machine load favours the second)."""
    order = [("plain", plain), ("sasl", settings)]
    if run % 2:
        order.reverse()
    got = {name: baseline(s, records) for name, s in order}
    return got["plain"], got["sasl"]


def stage_rates(settings) -> dict[str, float]:
    """Records/s per stage, from the broker timestamps of the records each stage wrote."""
    consumer = KafkaConsumer(**client_options(ADMIN, settings=settings), enable_auto_commit=False,
                             auto_offset_reset="earliest", group_id=None)
    rates = {}
    try:
        for stage, outs in STAGE_OUTPUTS.items():
            stamps: list[int] = []
            for topic in outs:
                tps = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
                consumer.assign(tps)
                consumer.seek_to_beginning(*tps)
                ends = consumer.end_offsets(tps)
                remaining = sum(ends.values())
                while remaining > 0:
                    got = consumer.poll(timeout_ms=500, max_records=10000)
                    if not got:
                        break
                    for batch in got.values():
                        stamps.extend(r.timestamp for r in batch)
                        remaining -= len(batch)
            if len(stamps) > 1:
                span = (max(stamps) - min(stamps)) / 1000
                rates[stage] = len(stamps) / span if span > 0 else float("inf")
    finally:
        consumer.close()
    sink_span = report.query(settings.report_dsn, """
        select count(*), extract(epoch from max(applied_at) - min(applied_at)) from ledger_entries""")[0]
    if sink_span[0] and sink_span[1]:
        rates["sink_ledger_rows"] = sink_span[0] / float(sink_span[1])
    return rates


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU of a process and its living children (a supervisor's workers); of the
    bench's own process alone (its children are the processor and the sink)."""
    if not pid:
        return 0.0
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)] if pid != os.getpid() else [proc]
    except psutil.Error:
        return 0.0
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system
    return total


def records_written(settings) -> int:
    """Every record on a topic the hospital does not write (results, state changelogs, journals,
    balances, dead letters): the topics are recreated before each run."""
    derived = tuple(t for t in T.ALL if t not in T.INPUTS)
    return sum(pipeline.end_offsets(settings, derived).values())


def end_to_end(settings, records, rss: PeakRss, rate: float | None = None, workers: int = 1) -> dict:
    """Publish `records` (as fast as possible, or at `rate`/s) through the real processor and sink;
    events/s from the first send to the last commit, and latency from each record's emit time.
    Also the processor's CPU per input event (joined to drained: start-up not counted) and the
    records written per input event."""
    from infra.demo import reset
    from producers.publish import publish

    reset(settings)
    logs = settings.home / "logs"
    args = ("--workers", str(workers)) if workers > 1 else ()
    processor = pipeline.rcm_service("process", settings, logs, *args).start()
    sink = pipeline.rcm_service("sink", settings, logs).start()
    rss.watch("processor", processor.pid)
    rss.watch("sink", sink.pid)
    try:
        pipeline.wait_joined(settings, processor, members=workers)
        # CPU by process while the records flow: where the time goes ("bench": the producer)
        pids = {name: pid for name, pid in rss.pids.items() if name not in ("processor", "sink")}
        pids.update(processor=processor.pid, sink=sink.pid)
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        started_wall = time.time()
        publish(records, settings, rate=rate)
        pipeline.wait_drained(settings, [processor, sink], timeout=900)
        cpu = {name.split()[0]: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
    finally:
        processor.stop()
        sink.stop()
    last_commit = report.query(settings.report_dsn, """
        select extract(epoch from greatest((select max(applied_at) from ledger_entries),
                                           (select max(applied_at) from claims)))""")[0][0]
    elapsed = float(last_commit) - started_wall
    lat = report.latency_ms(settings.report_dsn)
    result = {"e2e_events_per_s": len(records) / elapsed, **{f"{k}_ms": v for k, v in lat.items()},
              **{f"cpu_us_per_event_{name}": v / len(records) * 1e6 for name, v in cpu.items()},
              "processor_cpu_us_per_event": cpu["processor"] / len(records) * 1e6,
              "records_written_per_event": records_written(settings) / len(records)}
    if rate is None:
        result.update({f"stage_{k}_per_s": v for k, v in stage_rates(settings).items()})
    return result


SINK_TABLES = ("ledger_entries", "claims", "claim_versions", "encounters_coded", "denials",
               "remittances", "encounter_discharges", "dead_letters", "denial_events")


def sink_alone(settings, source_tree: str | None = None) -> dict[str, float]:
    """`rcm sink` alone (from `source_tree` when given) on topics a pipeline run already filled:
    empty tables and a new group, then records/s and ledger rows/s from its first commit to its
    last (start-up is not counted)."""
    # The owner's DSN, as in infra.demo.reset: TRUNCATE is the table owner's right (every other
    # query of the bench only reads, as rcm_report).
    tables = [r[0] for r in report.query(settings.dsn, """
        select tablename from pg_tables where schemaname = 'public' and tablename <> 'schema_migrations'""")]
    report.query_commit(settings.dsn, "truncate " + ", ".join(tables))
    pipeline.delete_groups(settings, [settings.sink_group])
    env = {"PYTHONPATH": source_tree} if source_tree else {}
    sink = pipeline.rcm_service("sink", settings, settings.home / "logs", **env)
    if source_tree:
        sink.name = "sink (compared)"
    sink.start()
    try:
        pipeline.wait_drained(settings, [sink], timeout=900)
    finally:
        sink.stop()
    records = sum(pipeline.sink_offsets(settings.report_dsn, settings.sink_group).values())
    union = " union all ".join(f"select min(applied_at) a, max(applied_at) b from {t}"
                               for t in SINK_TABLES)
    [(span, ledger)] = report.query(settings.report_dsn, f"""
        select extract(epoch from max(b) - min(a)), (select count(*) from ledger_entries)
        from ({union}) s""")
    span = float(span or 0) or 1e-9
    return {"sink_records_per_s": records / span, "sink_ledger_rows_per_s": ledger / span,
            "sink_records": records}


def cmd_sink_only(args, settings, records) -> int:
    if any(pipeline.end_offsets(settings, (T.LEDGER_ENTRIES,)).values()):
        say("== the sink's topics hold records already (a previous run): timing the sink on them")
    else:
        say("== filling the sink's topics: one end-to-end run")
        end_to_end(settings, records, PeakRss())
    runs: dict[str, list[dict]] = {"this tree": [], "compared": []}
    for i in range(args.repeat):
        for name, tree in (("compared", args.sink_compare), ("this tree", None)):
            if name == "compared" and not tree:
                continue
            runs[name].append(sink_alone(settings, tree))
            say(f"   run {i + 1}/{args.repeat} {name}: "
                f"{runs[name][-1]['sink_records_per_s']:,.0f} records/s, "
                f"{runs[name][-1]['sink_ledger_rows_per_s']:,.0f} ledger rows/s")
    print(f"\nrcm bench --sink-only: {args.events:,} events, "
          f"{runs['this tree'][0]['sink_records']:,.0f} sink records, {args.repeat} run(s), medians")
    kv = {"events": args.events, "repeat": args.repeat}
    for name, got in runs.items():
        if got:
            rec = statistics.median(r["sink_records_per_s"] for r in got)
            led = statistics.median(r["sink_ledger_rows_per_s"] for r in got)
            print(f"  sink alone, {name:<10} {rec:>10,.0f} records/s {led:>10,.0f} ledger rows/s")
            tag = "sink" if name == "this tree" else "sink_compared"
            kv.update({f"{tag}_records_per_s": f"{rec:.0f}", f"{tag}_ledger_rows_per_s": f"{led:.0f}"})
    print(" ".join(f"{k}={v}" for k, v in kv.items()))
    return 0


def coder_rates() -> dict[str, float]:
    """Statements/s of the coder alone: first sight of each statement, then the same statements
    for other patients (ranking cached, the patient checks not)."""
    from processors.coding.coder import Coder
    from producers.phrases import PHRASES, VAGUE

    texts = [(p.text, 45, p.sex or "F") for p in PHRASES] + [(t, 45, "F") for t in VAGUE]
    Coder()  # the code set and index load once per process: not counted
    coder = Coder()
    start = time.perf_counter()
    for args in texts:
        coder.code(*args)
    uncached = len(texts) / (time.perf_counter() - start)
    start = time.perf_counter()
    for age in range(20, 40):
        for text, _age, sex in texts:
            coder.code(text, age, sex)
    cached = 20 * len(texts) / (time.perf_counter() - start)
    return {"coder_uncached": uncached, "coder_cached": cached}


def cmd_bench(args) -> int:

    from infra import kafka, postgres, services
    from producers.synthetic import generate

    settings = settings_mod.load()
    services.up(settings)
    say(f"== generating {args.events:,} events (seed {args.seed})")
    records = list(generate(args.events, args.seed).records)
    if args.sink_only:
        return cmd_sink_only(args, settings, records)
    base_runs, plain_runs, e2e_runs, steady_runs, other_runs = [], [], [], [], []
    with PeakRss() as rss, unauthenticated_broker(settings) as plain:
        rss.watch("kafka", kafka.running_pid(settings) if settings.manages_kafka else None)
        rss.watch("postgres", postgres.running_pid(settings) if settings.manages_postgres else None)
        rss.watch("bench (producer, consumer)", os.getpid())
        for i in range(args.repeat):
            first = "SASL/SCRAM + ACLs first" if i % 2 else "unauthenticated first"
            say(f"== run {i + 1}/{args.repeat}: baseline pair ({first})")
            plain_rate, sasl_rate = sasl_pair(settings, plain, records, i)
            plain_runs.append(plain_rate)
            base_runs.append(sasl_rate)
            say(f"   baseline unauthenticated {plain_rate:,.0f} / SASL {sasl_rate:,.0f} events/s "
                f"(ratio {sasl_rate / plain_rate:.3f}); end to end, as fast as possible...")
            e2e_runs.append(end_to_end(settings, records, rss, workers=args.workers))
            say(f"   end to end {e2e_runs[-1]['e2e_events_per_s']:,.0f} events/s "
                f"({args.workers} worker(s))")
            if args.compare_workers:
                other_runs.append(end_to_end(settings, records, rss, workers=args.compare_workers))
                say(f"   end to end {other_runs[-1]['e2e_events_per_s']:,.0f} events/s "
                    f"({args.compare_workers} worker(s))")
            if args.latency_rate:
                say(f"   end to end at a steady {args.latency_rate:,.0f} events/s for latency...")
                steady_runs.append(end_to_end(settings, records[:args.latency_events], rss,
                                              rate=args.latency_rate, workers=args.workers))
    say("== coder alone")
    coder = coder_rates()
    from infra.registry import codec_rates

    wire = codec_rates(records[:5000], settings.registry_url)
    med = {k: statistics.median(r[k] for r in e2e_runs) for k in e2e_runs[0]}
    steady = ({k: statistics.median(r[k] for r in steady_runs) for k in steady_runs[0]}
              if steady_runs else None)
    base = statistics.median(base_runs)
    plain_base = statistics.median(plain_runs)
    ratio = med["e2e_events_per_s"] / base
    print(f"\nrcm bench: {args.events:,} events, {args.repeat} run(s), medians")
    print(f"  baseline, no authentication            {plain_base:>12,.0f} events/s (a broker beside)")
    print(f"  baseline (kafka-python produce+consume) {base:>12,.0f} events/s (SASL/SCRAM + ACLs)")
    print(f"  ratio SASL / no authentication          {base / plain_base:>12.3f} (of the medians; "
          "pairs in ABBA order: " + ", ".join(f"{s / p:.3f}" for p, s in zip(plain_runs, base_runs,
                                                                             strict=True)) + ")")
    print(f"  end to end (to PostgreSQL balances)     {med['e2e_events_per_s']:>12,.0f} events/s")
    print(f"  ratio end-to-end / baseline             {ratio:>12.3f}")
    print(f"  processor workers / brokers             {args.workers:>12} / {settings.brokers}")
    print(f"  processor CPU per input event           {med['processor_cpu_us_per_event']:>12,.0f} µs")
    print(f"  records written per input event         {med['records_written_per_event']:>12.2f}")
    shares = sorted(((k[len("cpu_us_per_event_"):], v) for k, v in med.items()
                     if k.startswith("cpu_us_per_event_")), key=lambda kv: -kv[1])
    print("  CPU per input event, by process         "
          + ", ".join(f"{name} {v:,.0f}" for name, v in shares)
          + f" µs (total {sum(v for _, v in shares):,.0f}; 'bench' is the producer)")
    other = ({k: statistics.median(r[k] for r in other_runs) for k in other_runs[0]}
             if other_runs else None)
    if other:
        print(f"  end to end with {args.compare_workers} workers (same run)        "
              f"{other['e2e_events_per_s']:>8,.0f} events/s ({other['e2e_events_per_s'] / med['e2e_events_per_s']:.2f}x "
              f"{args.workers} worker(s); CPU {other['processor_cpu_us_per_event']:,.0f} µs/event)")
    print(f"  latency p50 / p95 / p99, flood          {med['p50_ms']:,.0f} / {med['p95_ms']:,.0f} / "
          f"{med['p99_ms']:,.0f} ms (queueing: input arrives faster than it is processed)")
    if steady:
        print(f"  latency p50 / p95 / p99 at {args.latency_rate:,.0f}/s      {steady['p50_ms']:,.0f} / "
              f"{steady['p95_ms']:,.0f} / {steady['p99_ms']:,.0f} ms")
    for k, v in med.items():
        if k.startswith("stage_"):
            print(f"  {k[6:]:<40} {v:>12,.0f} records/s")
    print(f"  coder alone, first sight / repeated     {coder['coder_uncached']:>7,.0f} / "
          f"{coder['coder_cached']:,.0f} statements/s")
    print(f"  codec encode+decode, fixed / registry ids {wire['codec_fixed_ids']:>6,.0f} / "
          f"{wire['codec_registry_ids']:,.0f} records/s (first registry lookup "
          f"{wire['registry_first_lookup_ms']:.1f} ms, then cached)")
    for name, peak in sorted(rss.peak.items()):
        print(f"  peak RSS {name:<31} {peak / 2**20:>12,.0f} MiB")
    lat = steady or med
    kv = {"events": args.events, "repeat": args.repeat, "workers": args.workers,
          "brokers": settings.brokers,
          "e2e_events_per_s": f"{med['e2e_events_per_s']:.0f}", "baseline_events_per_s": f"{base:.0f}",
          "baseline_plain_events_per_s": f"{plain_base:.0f}", "sasl_ratio": f"{base / plain_base:.4f}",
          "sasl_pair_ratios": ",".join(f"{s / p:.3f}" for p, s in zip(plain_runs, base_runs, strict=True)),
          "ratio": f"{ratio:.4f}", "p50_ms": f"{lat['p50_ms']:.0f}", "p95_ms": f"{lat['p95_ms']:.0f}",
          "p99_ms": f"{lat['p99_ms']:.0f}", "latency_rate": f"{args.latency_rate:.0f}" if steady else "flood",
          "flood_p99_ms": f"{med['p99_ms']:.0f}",
          "coder_uncached_per_s": f"{coder['coder_uncached']:.0f}",
          "coder_cached_per_s": f"{coder['coder_cached']:.0f}",
          "codec_fixed_ids_per_s": f"{wire['codec_fixed_ids']:.0f}",
          "codec_registry_ids_per_s": f"{wire['codec_registry_ids']:.0f}",
          "processor_cpu_us_per_event": f"{med['processor_cpu_us_per_event']:.0f}",
          "records_written_per_event": f"{med['records_written_per_event']:.2f}",
          **{k: f"{v:.0f}" for k, v in med.items() if k.startswith("cpu_us_per_event_")}}
    if other:
        kv.update({f"e2e_events_per_s_workers_{args.compare_workers}": f"{other['e2e_events_per_s']:.0f}",
                   f"processor_cpu_us_per_event_workers_{args.compare_workers}":
                       f"{other['processor_cpu_us_per_event']:.0f}"})
    kv.update({f"rss_{n.split()[0]}_mib": f"{p / 2**20:.0f}" for n, p in sorted(rss.peak.items())})
    print(" ".join(f"{k}={v}" for k, v in kv.items()))
    return 0
