"""Who may do what on Kafka: one principal per service, each allowed only its own topics and groups.

Every list below is built from the topic registry (schemas/topics.py); `bindings` turns it into
the ACLs `rcm up` creates (the authorizer denies whatever they do not allow). The admin principal
is a super user: it creates topics, SCRAM credentials and these ACLs, and nothing else uses it
except the resets of operator tools (`rcm demo`, `rcm bench`: recreating topics, deleting groups)
and the tests' own clients. The operators' reads (`rcm status`, the drain watchers of
infra/pipeline.py) are the `ops` principal's: DESCRIBE only.
"""
from __future__ import annotations

from dataclasses import dataclass

from schemas import topics as T

ADMIN = "admin"
OPS = "ops"  # describes topics and groups (end offsets, committed offsets, group state), nothing else
PREFIX = "rcm-"  # a service's principal (SCRAM user name) is PREFIX + service: rcm-processor

# Written only by the sink: committed balances and the KPIs it publishes.
SINK_OUTPUTS: tuple[T.Topic, ...] = (T.ACCOUNT_BALANCES, T.KPIS, T.AR_AGING_SNAPSHOTS)
# What each adapter publishes (refused input goes to dead-letters, with its reason).
ADAPTER_WRITES: dict[str, tuple[T.Topic, ...]] = {
    "hl7": (T.VISIT_EVENTS, T.DEAD_LETTERS),
    "x12": (T.REMITTANCES_UNMATCHED, T.CLAIM_STATUS, T.CLAIMS_SUBMITTED, T.DEAD_LETTERS),
    "fhir": (T.VISIT_EVENTS, T.REMITTANCES_UNMATCHED, T.DEAD_LETTERS),
    "synthetic": T.INPUTS,
}
# People's actions (the console, and the CLI stand-ins: rcm produce decisions, rcm rules, rcm tick).
CONSOLE_WRITES: tuple[T.Topic, ...] = (T.CODING_DECISIONS, T.APPEALS, T.SCRUB_RULE_DECISIONS,
                                       T.PAYMENTS)
# Inputs the processor also writes: encounters assembled from visits, remittances once matched.
PROCESSOR_ALSO_WRITES: tuple[T.Topic, ...] = (T.ENCOUNTERS, T.REMITTANCES)
EXTERNAL = {t for ts in (*ADAPTER_WRITES.values(), CONSOLE_WRITES) for t in ts} - {T.DEAD_LETTERS}
# What `rcm sink` writes to PostgreSQL (sinks/postgres/service.py subscribes to these).
SINK_READS: tuple[T.Topic, ...] = (
    T.CLAIMS, T.CODING_REVIEW, T.ENCOUNTERS_CODED, T.DENIALS, T.LEDGER_ENTRIES, T.DEAD_LETTERS,
    T.CLAIM_STATUS, T.DENIAL_PATTERNS, T.SCRUB_RULE_PROPOSALS, T.SCRUB_RULES, T.ENCOUNTERS,
    T.DENIAL_LIFECYCLE, T.DEADLINE_APPROACHING, T.DENIAL_EXPIRED, T.REMITTANCES)
ANALYTICS_READS: tuple[T.Topic, ...] = SINK_OUTPUTS  # aggregates and balances, no clinical detail


def _without(topics, *excluded) -> tuple[T.Topic, ...]:
    drop = {t for ts in excluded for t in ts}
    return tuple(t for t in topics if t not in drop)


@dataclass(frozen=True)
class Access:
    reads: tuple[T.Topic, ...] = ()
    writes: tuple[T.Topic, ...] = ()
    groups: tuple[str, ...] = ()  # consumer groups it joins (prefixes)
    watches_groups: tuple[str, ...] = ()  # groups whose lag it reads (prefixes)
    describes_topics: bool = False  # partitions and end offsets of every topic


def access(app_id: str, sink_group: str) -> dict[str, Access]:
    """Every service principal's rights, for the processor's and the sink's consumer groups."""
    return {
        **{name: Access(writes=ts) for name, ts in ADAPTER_WRITES.items()},
        "processor": Access(
            reads=_without(T.ALL, SINK_OUTPUTS),
            writes=_without(T.ALL, SINK_OUTPUTS, EXTERNAL - set(PROCESSOR_ALSO_WRITES)),
            groups=(app_id,)),
        "sink": Access(reads=SINK_READS, writes=SINK_OUTPUTS, groups=(sink_group,)),
        "sink-x12": Access(reads=(T.CLAIMS,), groups=(f"{sink_group}-x12",)),
        "console": Access(writes=CONSOLE_WRITES, watches_groups=(app_id, sink_group),
                          describes_topics=True),
        "analytics": Access(reads=ANALYTICS_READS, groups=(f"{PREFIX}analytics",)),
        # ListOffsets needs DESCRIBE on the topic; OffsetFetch, DescribeGroups and FindCoordinator
        # DESCRIBE on the group (offsets of topics it may not describe are left out); ListGroups
        # without DESCRIBE on the cluster lists the groups it may describe. No cluster ACL, so it
        # cannot list the ACLs either (DescribeAcls needs DESCRIBE on the cluster).
        OPS: Access(watches_groups=(app_id, sink_group, f"{PREFIX}analytics"),
                    describes_topics=True),
    }


SERVICES: tuple[str, ...] = tuple(access("g", "s"))  # every principal but the admin


def principal(service: str) -> str:
    return PREFIX + service


def bindings(app_id: str, sink_group: str, any_group: bool = False) -> list[tuple]:
    """(principal, resource type, name, pattern, operation) for every ALLOW ACL, as plain strings
    so they can be compared in a unit test. With `any_group` every group a service joins or
    watches is `*` (the test session: each test names its own groups)."""
    rows: list[tuple] = []
    for service, acc in access(app_id, sink_group).items():
        user = f"User:{principal(service)}"
        rows += [(user, "TOPIC", t.name, "LITERAL", "READ") for t in acc.reads]
        rows += [(user, "TOPIC", t.name, "LITERAL", "WRITE") for t in acc.writes]
        if acc.describes_topics:
            rows += [(user, "TOPIC", t.name, "LITERAL", "DESCRIBE") for t in T.ALL]
        for groups, op in ((acc.groups, "READ"), (acc.watches_groups, "DESCRIBE")):
            if any_group and groups:
                rows.append((user, "GROUP", "*", "LITERAL", op))
            else:
                rows += [(user, "GROUP", g, "PREFIXED", op) for g in groups]
    return rows


def apply(admin, app_id: str, sink_group: str, any_group: bool = False) -> int:
    """Create the ACLs that are missing (kafka-python admin client of a super user); return how
    many were created."""
    from kafka.admin import (
        ACL,
        ACLFilter,
        ACLOperation,
        ACLPermissionType,
        ACLResourcePatternType,
        ResourcePattern,
        ResourcePatternFilter,
        ResourceType,
    )

    present, _ = admin.describe_acls(ACLFilter(
        principal=None, host="*", operation=ACLOperation.ANY,
        permission_type=ACLPermissionType.ANY,
        resource_pattern=ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY)))
    have = {(a.principal, a.resource_pattern.resource_type.name, a.resource_pattern.resource_name,
             a.resource_pattern.pattern_type.name, a.operation.name)
            for a in present if a.permission_type == ACLPermissionType.ALLOW}
    wanted = [row for row in dict.fromkeys(bindings(app_id, sink_group, any_group))
              if row not in have]
    acls = [ACL(principal=p, host="*", operation=ACLOperation[op],
                permission_type=ACLPermissionType.ALLOW,
                resource_pattern=ResourcePattern(ResourceType[kind], name,
                                                 ACLResourcePatternType[pattern]))
            for p, kind, name, pattern, op in wanted]
    for start in range(0, len(acls), 100):
        result = admin.create_acls(acls[start:start + 100])
        if result.get("failed"):
            raise RuntimeError(f"creating Kafka ACLs failed: {result['failed'][:3]}")
    return len(acls)
