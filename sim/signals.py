"""Stop a run cleanly on SIGINT/SIGTERM: between turns, never inside a store write."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from sim.engine import Interrupted


class StopOnSignal:
    """SIGINT/SIGTERM ask the engine to stop at the next turn boundary (a second signal stops at once).

    Stopping between turns, never inside a store write, is what lets the run close its current
    episodes as ``interrupted`` cleanly. Handlers are installed only in the main thread, and the
    previous ones are restored on exit.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.event = threading.Event()
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> threading.Event:
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self.event

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.event.is_set():
            raise Interrupted(f"signal {signum} (second)")
        self.event.set()
