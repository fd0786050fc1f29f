"""`rcm down` stops the services a command left running (the demo's processor, sink and console)
by their recorded pids, and never a process that merely reuses a recorded pid."""
from __future__ import annotations

import subprocess
import sys
import time

from infra import pipeline, services


def _sleeper(*argv: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", *argv])


def test_a_service_left_running_is_stopped_by_its_recorded_pid(tmp_path):
    proc = _sleeper("infra.cli", "sink")  # an rcm service as `rcm demo` leaves it
    service = pipeline.Service("sink", [], {}, tmp_path / "sink.log", proc=proc)
    service.leave_running(tmp_path)
    assert (tmp_path / "run" / "sink.pid").read_text().strip() == str(proc.pid)
    try:
        assert services.stop_left_running(tmp_path, timeout_s=10) == ["sink"]
        assert proc.wait(5) == -15  # SIGTERM
        assert not (tmp_path / "run" / "sink.pid").exists()
    finally:
        proc.kill()


def test_a_pid_now_held_by_another_program_is_left_alone(tmp_path):
    other = _sleeper()  # not an rcm process
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "console.pid").write_text(f"{other.pid}\n")
    try:
        assert services.stop_left_running(tmp_path, timeout_s=1) == []
        time.sleep(0.2)
        assert other.poll() is None
        assert not (tmp_path / "run" / "console.pid").exists()
    finally:
        other.kill()
        other.wait()
