"""Kafka connection options for a service: the one function every Kafka client is built with.

`client_options(service, settings=...)` gives a client its bootstrap servers, security protocol
and SASL credentials, in the spelling of kafka-python or aiokafka, from the settings its command
loaded once (never loaded here). A service authenticates as its own principal (`rcm-<service>`,
allowed what infra/kafka_acls.py grants it):

- an existing cluster (`RCM_KAFKA_SASL_USERNAME` set): that user, its password read from
  `RCM_KAFKA_SASL_PASSWORD_FILE`, for every client of the process (run each service with its own);
- the local broker: `rcm-<service>`, its password generated once by `rcm up` and kept in
  `$RCM_HOME/secrets/kafka/rcm-<service>.password` (mode 0600; `RCM_KAFKA_SECRETS` moves the folder).

A password is read when a client is built, never printed or logged; `rcm env` names the file.
"""
from __future__ import annotations

import logging
import secrets
import ssl
from pathlib import Path

from infra.credentials import _write_private
from infra.kafka_acls import ADMIN, SERVICES, principal
from infra.settings import Settings

CONTROLLER = "controller"  # the KRaft controllers' own PLAIN user (server.properties only)
FLAVOURS = ("kafka-python", "aiokafka")


class KafkaAuthError(RuntimeError):
    pass


def password_file(settings: Settings, service: str) -> Path:
    return settings.kafka_secrets_dir / f"{principal(service)}.password"


def ensure_passwords(settings: Settings) -> None:
    """Generate the password of every principal that has none yet (kept from then on)."""
    for service in (ADMIN, CONTROLLER, *SERVICES):
        path = password_file(settings, service)
        if not path.exists():
            # token_urlsafe: no quote or backslash, which a JAAS line would need escaped
            _write_private(path, secrets.token_urlsafe(24) + "\n")


def password(settings: Settings, service: str) -> str:
    path = password_file(settings, service)
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        raise KafkaAuthError(f"no Kafka password for {principal(service)} in {path.parent} "
                             "(rcm up creates them; RCM_KAFKA_SECRETS names another folder)") from None


def local_secrets(settings: Settings) -> bool:
    return password_file(settings, ADMIN).exists()


def security_protocol(settings: Settings) -> str:
    """RCM_KAFKA_SECURITY_PROTOCOL; unset, SASL whenever there are credentials (TLS with a CA)."""
    if settings.kafka_security_protocol:
        return settings.kafka_security_protocol.upper()
    if settings.kafka_sasl_username or local_secrets(settings):
        return "SASL_SSL" if settings.kafka_ssl_cafile else "SASL_PLAINTEXT"
    return "SSL" if settings.kafka_ssl_cafile else "PLAINTEXT"


def credentials(settings: Settings, service: str) -> tuple[str, str]:
    """(user name, password) of the service's principal."""
    if settings.kafka_sasl_username:
        if not settings.kafka_sasl_password_file:
            raise KafkaAuthError("RCM_KAFKA_SASL_USERNAME needs RCM_KAFKA_SASL_PASSWORD_FILE")
        return (settings.kafka_sasl_username,
                Path(settings.kafka_sasl_password_file).read_text().strip())
    return principal(service), password(settings, service)


def ssl_context(settings: Settings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile or None)
    if settings.kafka_ssl_certfile:
        context.load_cert_chain(settings.kafka_ssl_certfile, settings.kafka_ssl_keyfile or None)
    return context


def client_options(service: str, bootstrap: str | None = None, flavour: str = "kafka-python", *,
                   settings: Settings) -> dict:
    """Keyword arguments that connect a `flavour` client as `service` (admin, ops, processor, sink,
    sink-x12, console, analytics, hl7, x12, fhir, synthetic): kafka-python's KafkaProducer /
    KafkaConsumer / KafkaAdminClient, or aiokafka's clients (the processor's batch loop, through
    processors.runtime.client_options). `settings` are the command's (loaded once at its edge);
    `bootstrap` defaults to their servers."""
    if flavour not in FLAVOURS:
        raise ValueError(f"flavour must be one of {FLAVOURS}")
    if service != ADMIN and service not in SERVICES:
        raise ValueError(f"unknown Kafka service {service!r}")
    bootstrap = bootstrap or settings.bootstrap
    protocol = security_protocol(settings)
    sasl = protocol.startswith("SASL")
    tls = protocol.endswith("SSL")
    user, secret = credentials(settings, service) if sasl else (None, None)
    mechanism = settings.kafka_sasl_mechanism
    if protocol == "SASL_PLAINTEXT":
        # kafka-python warns on every connection that SCRAM runs without TLS; SCRAM never sends
        # the password, and the local broker listens on 127.0.0.1 only
        logging.getLogger("kafka.net.sasl.scram").setLevel(logging.ERROR)
    options: dict = {"bootstrap_servers": bootstrap, "security_protocol": protocol}
    if sasl:
        options.update(sasl_mechanism=mechanism, sasl_plain_username=user,
                       sasl_plain_password=secret)
    if tls and flavour == "aiokafka":
        options["ssl_context"] = ssl_context(settings)
    elif tls:
        options.update({k: v for k, v in (("ssl_cafile", settings.kafka_ssl_cafile),
                                          ("ssl_certfile", settings.kafka_ssl_certfile),
                                          ("ssl_keyfile", settings.kafka_ssl_keyfile)) if v})
    return options


def env_values(settings: Settings, service: str = "analytics") -> dict[str, str]:
    """What a standard Kafka client needs to connect as `service` (default: the analytics
    principal), under KAFKA_* names no rcm command reads (so `eval "$(rcm env)"` leaves every
    service its own principal): bootstrap, protocol, mechanism, user and the password FILE."""
    protocol = security_protocol(settings)
    values = {"KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap, "KAFKA_SECURITY_PROTOCOL": protocol}
    if protocol.startswith("SASL"):
        user = settings.kafka_sasl_username or principal(service)
        values.update(KAFKA_SASL_MECHANISM=settings.kafka_sasl_mechanism, KAFKA_SASL_USERNAME=user,
                      KAFKA_SASL_PASSWORD_FILE=settings.kafka_sasl_password_file
                      or str(password_file(settings, service)))
    if protocol.endswith("SSL") and settings.kafka_ssl_cafile:
        values["KAFKA_SSL_CAFILE"] = settings.kafka_ssl_cafile
    if local_secrets(settings) and not settings.kafka_sasl_username:
        values["RCM_KAFKA_SECRETS"] = str(settings.kafka_secrets_dir)
    return values
