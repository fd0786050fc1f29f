"""Stopping the worker processes a supervisor started (`rcm process --workers N`, `rcm sink
--workers N`): SIGTERM to each, one shared deadline, SIGKILL for any still running after it."""
from __future__ import annotations

import signal
import subprocess
import time


def stop_children(children: list[subprocess.Popen], timeout_s: float = 30.0) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
