"""A run marked running is shown dead when its process is gone or its heartbeat is stale."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import datetime, timedelta

from sim.store.liveness import STALE_SECONDS, effective_status


def test_a_finished_status_is_kept_whatever_the_process() -> None:
    assert effective_status("complete", pid=1, host="elsewhere") == "complete"


def test_a_running_run_on_this_host_lives_with_its_process() -> None:
    host = socket.gethostname()
    assert effective_status("running", pid=os.getpid(), host=host) == "running"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    assert effective_status("running", pid=int(gone.stdout), host=host) == "dead"
    assert effective_status("running", pid=float(os.getpid()), host=host) == "running"  # pandas' floats


def test_a_run_on_another_host_is_judged_by_its_heartbeat() -> None:
    now = datetime(2026, 12, 4, 12, 0, 0)
    fresh, stale = now - timedelta(seconds=5), now - timedelta(seconds=STALE_SECONDS + 1)
    assert effective_status("running", pid=1, host="other", heartbeat_at=fresh, now=now) == "running"
    assert effective_status("running", pid=1, host="other", heartbeat_at=str(stale), now=now) == "dead"
    assert effective_status("running", pid=None, host=None, heartbeat_at=None, now=now) == "running"
