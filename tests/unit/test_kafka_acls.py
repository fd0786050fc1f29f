"""Each Kafka principal's ACLs, derived from the topic registry: what each service may read, write
and join, and what it may not (the broker enforces them: tests/integration/test_kafka_access.py)."""
from __future__ import annotations

from infra import kafka_acls as A
from infra.pipeline import PROCESSOR_INPUTS, SINK_INPUTS
from schemas import topics as T
from sinks.postgres.service import TOPICS as SINK_TOPICS


def allowed(service: str, op: str) -> set[str]:
    user = f"User:{A.principal(service)}"
    return {name for p, kind, name, _, o in A.bindings("rcm-pipeline", "rcm-sink")
            if p == user and kind == "TOPIC" and o == op}


def test_the_processor_reads_what_its_agents_consume_and_never_writes_an_action_topic():
    assert {t.name for t in PROCESSOR_INPUTS} <= allowed("processor", "READ")
    writes = allowed("processor", "WRITE")
    for topic in (T.PAYMENTS, T.CODING_DECISIONS, T.APPEALS, T.SCRUB_RULE_DECISIONS,
                  T.VISIT_EVENTS, T.REMITTANCES_UNMATCHED, T.CLAIMS_SUBMITTED, T.CLAIM_STATUS,
                  *A.SINK_OUTPUTS):
        assert topic.name not in writes, topic.name
    for topic in (T.ENCOUNTERS, T.REMITTANCES, T.LEDGER_ENTRIES, T.CLAIMS, T.DEAD_LETTERS,
                  T.CLAIM_STATE, T.DENIALS_OPEN, T.SCRUB_RULES):
        assert topic.name in writes, topic.name


def test_the_sink_reads_what_it_subscribes_to_and_writes_only_balances_and_kpis():
    assert {t.name for t in (*SINK_TOPICS, *SINK_INPUTS)} <= allowed("sink", "READ")
    assert allowed("sink", "WRITE") == {"account-balances", "kpis", "ar-aging-snapshots"}
    assert allowed("sink-x12", "READ") == {"claims"} and not allowed("sink-x12", "WRITE")


def test_adapters_and_the_console_write_only_their_topics_and_read_nothing():
    assert allowed("hl7", "WRITE") == {"visit-events", "dead-letters"}
    assert allowed("x12", "WRITE") == {"remittances-unmatched", "claim-status", "claims-submitted",
                                       "dead-letters"}
    assert allowed("fhir", "WRITE") == {"visit-events", "remittances-unmatched", "dead-letters"}
    assert allowed("synthetic", "WRITE") == {t.name for t in T.INPUTS}
    assert allowed("console", "WRITE") == {"coding-decisions", "appeals", "scrub-rule-decisions",
                                           "payments"}
    for service in ("hl7", "x12", "fhir", "synthetic", "console"):
        assert not allowed(service, "READ"), service
    assert allowed("console", "DESCRIBE") == {t.name for t in T.ALL}  # lag, never contents


def test_analytics_reads_only_the_outputs_meant_for_it():
    assert allowed("analytics", "READ") == {"account-balances", "kpis", "ar-aging-snapshots"}
    assert not allowed("analytics", "WRITE")


def test_groups_are_each_services_own():
    groups = {(p, name, pattern, op) for p, kind, name, pattern, op in
              A.bindings("rcm-pipeline", "rcm-sink") if kind == "GROUP"}
    assert ("User:rcm-processor", "rcm-pipeline", "PREFIXED", "READ") in groups
    assert ("User:rcm-sink", "rcm-sink", "PREFIXED", "READ") in groups
    assert ("User:rcm-sink-x12", "rcm-sink-x12", "PREFIXED", "READ") in groups
    assert ("User:rcm-console", "rcm-pipeline", "PREFIXED", "DESCRIBE") in groups
    assert not any(p == "User:rcm-console" and op == "READ" for p, _, _, op in groups)
    assert not any(p.startswith("User:rcm-hl7") for p, *_ in groups)


def test_the_ops_principal_describes_topics_and_the_pipelines_groups_and_nothing_else():
    rows = [r for r in A.bindings("rcm-pipeline", "rcm-sink") if r[0] == f"User:{A.principal(A.OPS)}"]
    assert allowed(A.OPS, "DESCRIBE") == {t.name for t in T.ALL}  # ListOffsets, Metadata
    assert {op for *_, op in rows} == {"DESCRIBE"}  # never READ, WRITE, CREATE, ALTER, DELETE
    assert {kind for _, kind, *_ in rows} == {"TOPIC", "GROUP"}  # no CLUSTER: no DescribeAcls
    assert {(name, pattern) for _, kind, name, pattern, _ in rows if kind == "GROUP"} == {
        ("rcm-pipeline", "PREFIXED"), ("rcm-sink", "PREFIXED"), ("rcm-analytics", "PREFIXED")}
    assert A.OPS in A.SERVICES  # rcm up gives it a password, a SCRAM credential and these ACLs
