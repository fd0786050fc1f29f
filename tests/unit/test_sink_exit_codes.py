"""A sink exits only for what waiting cannot fix, with a clear message and its own code (issue 15)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from infra.reconnect import EXIT_CONFIG


@pytest.mark.parametrize("command", ["sink", "sink-x12"])
def test_bad_database_settings_stop_a_sink_at_once_with_exit_78(command, tmp_path):
    env = {**os.environ, "RCM_DATABASE_URL": "postgresql://rcm@127.0.0.1:1/rcm?sslmode=bogus",
           "RCM_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "RCM_SINK_METRICS_PORT": "0",
           "RCM_SINK_X12_METRICS_PORT": "0", "RCM_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "infra.cli", command], check=False, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == EXIT_CONFIG, done.stderr[-2000:]
    assert f"rcm {command}: postgres: the connection settings are wrong" in done.stderr
    assert "check RCM_DATABASE_URL" in done.stderr
