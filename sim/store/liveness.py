"""Whether a ``running`` run is still alive: its process on this host, else its heartbeat.

A run's driver stamps ``runs.pid`` and ``runs.host`` when it starts and refreshes ``heartbeat_at``
every :data:`HEARTBEAT_SECONDS` while it plays. A run still marked ``running`` is shown as ``dead``
when its process is gone (same host) or its heartbeat is older than :data:`STALE_SECONDS`.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime
from typing import Any

HEARTBEAT_SECONDS = 5.0
STALE_SECONDS = 60.0


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def effective_status(
    status: str, pid: Any = None, host: Any = None, heartbeat_at: Any = None, now: datetime | None = None
) -> str:
    """``status``, or ``dead`` for a ``running`` run whose driver is gone."""
    if status != "running":
        return status
    try:
        process = int(pid)
    except (TypeError, ValueError):  # NULL (read by pandas as NaN) or missing
        process = 0
    if host == socket.gethostname() and process > 0:
        return status if pid_alive(process) else "dead"
    beat = _as_datetime(heartbeat_at)
    if beat is None:
        return status  # an older store: no pid, no heartbeat; nothing to judge by
    now = now or datetime.now(UTC).replace(tzinfo=None)
    return "dead" if (now - beat).total_seconds() > STALE_SECONDS else status


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        text = str(value)
        return None if text in ("", "NaT", "nan", "None") else datetime.fromisoformat(text)
    except ValueError:
        return None
