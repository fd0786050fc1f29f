"""Which registry's ids a command writes (issue 12): the one settings.registry_url names, by
default the local one; the fixed ids only with RCM_SCHEMA_REGISTRY_URL=none or for a dry run."""
from __future__ import annotations

import argparse

from infra import cli, pipeline
from infra.settings import Settings
from schemas import codec
from tests import factories as F


def test_the_default_is_the_local_registry_and_none_means_the_fixed_ids(monkeypatch):
    monkeypatch.delenv("RCM_SCHEMA_REGISTRY_URL", raising=False)
    monkeypatch.setenv("RCM_SCHEMA_REGISTRY_PORT", "18555")
    assert Settings().registry_url == "http://127.0.0.1:18555/apis/ccompat/v7" and Settings().manages_registry
    monkeypatch.setenv("RCM_SCHEMA_REGISTRY_URL", "http://registry.example:8081")
    assert Settings().registry_url == "http://registry.example:8081" and not Settings().manages_registry
    monkeypatch.setenv("RCM_SCHEMA_REGISTRY_URL", "none")
    assert Settings().registry_url == "" and not Settings().manages_registry


def test_every_command_encodes_with_the_settings_registry_a_dry_run_with_the_fixed_ids(monkeypatch):
    monkeypatch.delenv("RCM_SCHEMA_REGISTRY_URL", raising=False)
    monkeypatch.setenv("RCM_SCHEMA_REGISTRY_PORT", "18555")
    cli.use_schema_registry(argparse.Namespace())
    assert codec.registry_url() == "http://127.0.0.1:18555/apis/ccompat/v7"
    cli.use_schema_registry(argparse.Namespace(dry_run=True))
    assert codec.registry_url() == ""
    monkeypatch.setenv("RCM_SCHEMA_REGISTRY_URL", "none")
    cli.use_schema_registry(argparse.Namespace())
    assert codec.registry_url() == ""
    data = codec.encode("PaymentReceived", F.payment())
    assert data[1:5] == codec.SCHEMA_IDS["PaymentReceived"].to_bytes(4, "big")
    assert codec.decode(data) == ("PaymentReceived", F.payment())


def test_child_processes_get_the_parents_registry_or_none(monkeypatch):
    monkeypatch.delenv("RCM_SCHEMA_REGISTRY_URL", raising=False)
    monkeypatch.setenv("RCM_SCHEMA_REGISTRY_PORT", "18555")
    assert pipeline.child_env(Settings())["RCM_SCHEMA_REGISTRY_URL"] == "http://127.0.0.1:18555/apis/ccompat/v7"
    monkeypatch.setenv("RCM_SCHEMA_REGISTRY_URL", "none")
    assert pipeline.child_env(Settings())["RCM_SCHEMA_REGISTRY_URL"] == "none"
