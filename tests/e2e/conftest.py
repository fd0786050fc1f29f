"""What every end-to-end test shares: settings for one run of the real commands."""
from __future__ import annotations

import uuid
from dataclasses import replace

import pytest


@pytest.fixture
def run_settings(services, fresh_topics, database_url, tmp_path):
    """The session's services with empty topics, a fresh database, and a consumer group, app id
    and RCM_HOME of the test's own (metrics ports off; services log at INFO, so a failure's log tail
    shows the rebalances)."""
    tag = uuid.uuid4().hex[:8]
    return replace(services.settings, kafka_bootstrap_servers=fresh_topics, database_url=database_url,
                   app_id=f"rcm-e2e-{tag}", sink_group=f"rcm-sink-e2e-{tag}",
                   processor_metrics_port=0, sink_metrics_port=0, home=tmp_path, log_level="INFO")
