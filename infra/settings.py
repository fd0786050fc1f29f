"""RCM_* settings, read once at the edge (never inside rule modules).

Every setting has a local default so `make demo` needs none of them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

NO_REGISTRY = "none"  # RCM_SCHEMA_REGISTRY_URL=none: no registry, the fixed schema ids


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class Settings:
    home: Path = field(default_factory=lambda: Path(_env("RCM_HOME", ".rcm")).resolve())
    # When set, these point at existing servers and `rcm up` starts nothing for them.
    kafka_bootstrap_servers: str = field(default_factory=lambda: _env("RCM_KAFKA_BOOTSTRAP_SERVERS", ""))
    database_url: str = field(default_factory=lambda: _env("RCM_DATABASE_URL", ""))
    # One DSN per PostgreSQL role (docs/security.md). RCM_DATABASE_URL is the owner's, which applies
    # the migrations. Unset, a role's DSN is the owner's with the role's user when the owner's names
    # the local password file (the local cluster), else the owner's own (an existing deployment).
    sink_database_url: str = field(default_factory=lambda: _env("RCM_SINK_DATABASE_URL", ""))
    console_database_url: str = field(default_factory=lambda: _env("RCM_CONSOLE_DATABASE_URL", ""))
    analyst_database_url: str = field(default_factory=lambda: _env("RCM_ANALYST_DATABASE_URL", ""))
    report_database_url: str = field(default_factory=lambda: _env("RCM_REPORT_DATABASE_URL", ""))
    # Kafka authentication (infra.kafka_auth, docs/security.md). Unset, clients use SASL/SCRAM with
    # the local broker's per-service credentials when they exist, else PLAINTEXT.
    kafka_security_protocol: str = field(default_factory=lambda: _env("RCM_KAFKA_SECURITY_PROTOCOL", ""))
    kafka_sasl_mechanism: str = field(default_factory=lambda: _env("RCM_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"))
    kafka_sasl_username: str = field(default_factory=lambda: _env("RCM_KAFKA_SASL_USERNAME", ""))
    kafka_sasl_password_file: str = field(default_factory=lambda: _env("RCM_KAFKA_SASL_PASSWORD_FILE", ""))
    kafka_ssl_cafile: str = field(default_factory=lambda: _env("RCM_KAFKA_SSL_CAFILE", ""))
    kafka_ssl_certfile: str = field(default_factory=lambda: _env("RCM_KAFKA_SSL_CERTFILE", ""))
    kafka_ssl_keyfile: str = field(default_factory=lambda: _env("RCM_KAFKA_SSL_KEYFILE", ""))
    # Where the local principals' passwords are kept (default $RCM_HOME/secrets/kafka).
    kafka_secrets: str = field(default_factory=lambda: _env("RCM_KAFKA_SECRETS", ""))
    # A Confluent-compatible schema registry whose ids every codec writes and reads; unset, the local
    # one `rcm up` starts; `none`: no registry, the fixed ids of schemas/topics.py (offline).
    schema_registry_url: str = field(default_factory=lambda: _env("RCM_SCHEMA_REGISTRY_URL", ""))
    # The local registry `rcm up` starts (infra/registry.py, Apicurio) when RCM_SCHEMA_REGISTRY_URL is unset.
    registry_port: int = field(default_factory=lambda: int(_env("RCM_SCHEMA_REGISTRY_PORT", "18081")))
    kafka_port: int = field(default_factory=lambda: int(_env("RCM_KAFKA_PORT", "19092")))
    # Brokers of the local Kafka `rcm up` runs (0: as many as it last started, else 1).
    kafka_brokers: int = field(default_factory=lambda: int(_env("RCM_KAFKA_BROKERS", "0")))
    postgres_port: int = field(default_factory=lambda: int(_env("RCM_POSTGRES_PORT", "15432")))
    kafka_heap: str = field(default_factory=lambda: _env("RCM_KAFKA_HEAP", "512m"))
    app_id: str = field(default_factory=lambda: _env("RCM_APP_ID", "rcm-pipeline"))
    sink_group: str = field(default_factory=lambda: _env("RCM_SINK_GROUP", "rcm-sink"))
    processor_metrics_port: int = field(default_factory=lambda: int(_env("RCM_PROCESSOR_METRICS_PORT", "9101")))
    sink_metrics_port: int = field(default_factory=lambda: int(_env("RCM_SINK_METRICS_PORT", "9102")))
    # `rcm process --workers N`: worker 0 on RCM_PROCESSOR_METRICS_PORT, worker i >= 1 on this + i - 1.
    processor_worker_metrics_port: int = field(
        default_factory=lambda: int(_env("RCM_PROCESSOR_WORKER_METRICS_PORT", "9111")))
    # `rcm sink --workers N`: worker 0 on RCM_SINK_METRICS_PORT, worker i >= 1 on this + i - 1 (its
    # own range: RCM_SINK_METRICS_PORT + i would be sink-x12's and mllp's ports).
    sink_worker_metrics_port: int = field(
        default_factory=lambda: int(_env("RCM_SINK_WORKER_METRICS_PORT", "9121")))
    # This worker's index among the group's workers: its static member id (KIP-345) is RCM_APP_ID,
    # host and index. Set by `rcm process --workers N` for each worker; empty: a dynamic member.
    processor_instance: str = field(default_factory=lambda: _env("RCM_PROCESSOR_INSTANCE", ""))
    coding_threshold: float = field(default_factory=lambda: float(_env("RCM_CODING_THRESHOLD", "0.80")))
    # Distinct denials of one payer + CARC + procedure pattern that make the pipeline propose a
    # scrub rule (processors.patterns).
    scrub_rule_threshold: int = field(default_factory=lambda: int(_env("RCM_SCRUB_RULE_THRESHOLD", "5")))
    # Seconds between KPI publications from the sink (topics kpis, ar-aging-snapshots); 0: off.
    kpi_interval_s: float = field(default_factory=lambda: float(_env("RCM_KPI_INTERVAL_S", "60")))
    # Days before an appeal deadline when denial-deadline-approaching fires (event time).
    appeal_warning_days: int = field(default_factory=lambda: int(_env("RCM_APPEAL_WARNING_DAYS", "14")))
    # Every kafka-python produce path (rcm produce and its adapters, the sink's balances and KPIs,
    # the MLLP listener): how long one attempt waits for the broker to acknowledge what it sent,
    # and how many attempts before the records count as undelivered (infra.delivery).
    delivery_timeout_s: float = field(default_factory=lambda: float(_env("RCM_DELIVERY_TIMEOUT_S", "120")))
    delivery_attempts: int = field(default_factory=lambda: int(_env("RCM_DELIVERY_ATTEMPTS", "3")))
    # The MLLP listener answers within this many seconds: AA once the broker has the message,
    # otherwise it closes the connection without an ACK so the sender resends.
    mllp_ack_timeout_s: float = field(default_factory=lambda: float(_env("RCM_MLLP_ACK_TIMEOUT_S", "30")))
    # The MLLP listener's answer when the broker has not taken a message within
    # RCM_MLLP_ACK_TIMEOUT_S: AE (an application error the sender resends) or close (no ACK).
    mllp_unavailable: str = field(default_factory=lambda: _env("RCM_MLLP_UNAVAILABLE", "AE"))
    # Long-running services wait out PostgreSQL or Kafka being away: the first retry after this
    # many seconds, doubling (with jitter) up to RCM_RECONNECT_MAX_S between retries (infra.reconnect).
    reconnect_initial_s: float = field(default_factory=lambda: float(_env("RCM_RECONNECT_INITIAL_S", "0.5")))
    reconnect_max_s: float = field(default_factory=lambda: float(_env("RCM_RECONNECT_MAX_S", "30")))
    # Health (/healthz, /readyz) and metrics ports of `rcm sink-x12` and `rcm listen mllp` (0: off).
    sink_x12_metrics_port: int = field(default_factory=lambda: int(_env("RCM_SINK_X12_METRICS_PORT", "9103")))
    mllp_metrics_port: int = field(default_factory=lambda: int(_env("RCM_MLLP_METRICS_PORT", "9104")))
    log_level: str = field(default_factory=lambda: _env("RCM_LOG_LEVEL", "WARNING"))
    # The processor warns when an input partition's committed offset holds still this long.
    stall_after_s: float = field(default_factory=lambda: float(_env("RCM_STALL_AFTER_S", "60")))
    charge_master: str = field(default_factory=lambda: _env("RCM_CHARGE_MASTER", ""))
    # CMS NCCI tables; several PTP files (CMS splits them) are separated by os.pathsep.
    ncci_ptp: str = field(default_factory=lambda: _env("RCM_NCCI_PTP", ""))
    ncci_mue: str = field(default_factory=lambda: _env("RCM_NCCI_MUE", ""))
    codeset_valid_through: str = field(default_factory=lambda: _env("RCM_CODESET_VALID_THROUGH", ""))
    # CDC ICD-10-CM release files (tabular XML, order file, addenda): titles of new codes.
    icd10cm_releases: str = field(default_factory=lambda: _env("RCM_ICD10CM_RELEASES", ""))
    # X12 837 out (sinks/x12): the billing provider (synthetic defaults) and the envelope parties.
    billing_name: str = field(default_factory=lambda: _env("RCM_BILLING_NAME", "RCM SYNTHETIC HOSPITAL"))
    billing_npi: str = field(default_factory=lambda: _env("RCM_BILLING_NPI", "1234567893"))
    billing_tax_id: str = field(default_factory=lambda: _env("RCM_BILLING_TAX_ID", "990000001"))
    billing_address: str = field(default_factory=lambda: _env("RCM_BILLING_ADDRESS", "100 MAIN ST"))
    billing_city: str = field(default_factory=lambda: _env("RCM_BILLING_CITY", "SPRINGFIELD"))
    billing_state: str = field(default_factory=lambda: _env("RCM_BILLING_STATE", "IL"))
    billing_zip: str = field(default_factory=lambda: _env("RCM_BILLING_ZIP", "627010001"))
    billing_contact: str = field(default_factory=lambda: _env("RCM_BILLING_CONTACT", "BILLING OFFICE"))
    billing_phone: str = field(default_factory=lambda: _env("RCM_BILLING_PHONE", "5555550100"))
    x12_sender_id: str = field(default_factory=lambda: _env("RCM_X12_SENDER_ID", "RCMSYNTH"))
    x12_receiver_id: str = field(default_factory=lambda: _env("RCM_X12_RECEIVER_ID", "CLEARINGHOUSE"))
    x12_receiver_name: str = field(default_factory=lambda: _env("RCM_X12_RECEIVER_NAME", "SYNTHETIC CLEARINGHOUSE"))
    x12_usage: str = field(default_factory=lambda: _env("RCM_X12_USAGE", "T"))  # ISA15: T test, P production
    x12_outbox: str = field(default_factory=lambda: _env("RCM_X12_OUTBOX", ""))
    # The browser console (infra/console): whether its cookies carry Secure (keep 1 unless you serve
    # it over plain HTTP off localhost). Its PostgreSQL URL is RCM_CONSOLE_DATABASE_URL above.
    console_secure_cookie: bool = field(
        default_factory=lambda: _env("RCM_CONSOLE_SECURE_COOKIE", "1") not in ("0", "false", "no"))
    console_session_hours: float = field(default_factory=lambda: float(_env("RCM_CONSOLE_SESSION_HOURS", "8")))

    @property
    def manages_kafka(self) -> bool:
        return not os.environ.get("RCM_KAFKA_BOOTSTRAP_SERVERS")

    @property
    def manages_postgres(self) -> bool:
        return not os.environ.get("RCM_DATABASE_URL")

    @property
    def manages_registry(self) -> bool:
        return not os.environ.get("RCM_SCHEMA_REGISTRY_URL")

    @property
    def registry_url(self) -> str:
        """The registry every encoder and decoder uses; "" with RCM_SCHEMA_REGISTRY_URL=none (the
        fixed ids)."""
        if self.schema_registry_url.strip().lower() == NO_REGISTRY:
            return ""
        # the local registry (Apicurio) answers the Confluent API under /apis/ccompat/v7
        return self.schema_registry_url or f"http://127.0.0.1:{self.registry_port}/apis/ccompat/v7"

    @property
    def brokers(self) -> int:
        """How many brokers the local Kafka has: RCM_KAFKA_BROKERS, else what `rcm up --brokers`
        last started under RCM_HOME, else 1."""
        if self.kafka_brokers > 0:
            return self.kafka_brokers
        try:
            return max(1, int((self.home / "kafka" / "brokers").read_text()))
        except (OSError, ValueError):
            return 1

    @property
    def bootstrap(self) -> str:
        return self.kafka_bootstrap_servers or ",".join(
            f"127.0.0.1:{self.kafka_port + 2 * i}" for i in range(self.brokers))

    @property
    def kafka_secrets_dir(self) -> Path:
        return Path(self.kafka_secrets).resolve() if self.kafka_secrets else self.home / "secrets" / "kafka"

    @property
    def dsn(self) -> str:
        from infra.credentials import local_dsn

        return self.database_url or local_dsn(self.home, self.postgres_port)

    def role_dsn(self, role: str) -> str:
        """The DSN of `sink`, `console`, `analyst` or `report`."""
        from infra.credentials import ROLE_PREFIX

        explicit = getattr(self, f"{role}_database_url")
        if explicit:
            return explicit
        owner = self.dsn
        if "passfile=" not in owner or "://" not in owner or "@" not in owner:
            return owner
        scheme, rest = owner.split("://", 1)
        return f"{scheme}://{ROLE_PREFIX}{role}@{rest.split('@', 1)[1]}"

    @property
    def sink_dsn(self) -> str:
        return self.role_dsn("sink")

    @property
    def console_dsn(self) -> str:
        return self.role_dsn("console")

    @property
    def report_dsn(self) -> str:
        """Reads every pipeline table, writes none: `rcm report`, `rcm demo`'s summary, the drain
        watchers, `rcm produce decisions` and `rcm rules`' reads, `rcm bench`'s and `rcm chaos`'s
        checks (migration 0027)."""
        return self.role_dsn("report")

    @property
    def x12_outbox_dir(self) -> Path:
        return Path(self.x12_outbox).resolve() if self.x12_outbox else self.home / "x12" / "outbox"


def load() -> Settings:
    return Settings()
