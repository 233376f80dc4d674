"""Stop a run cleanly on SIGINT/SIGTERM: between turns, never inside a store write."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any


class StopRequest(threading.Event):
    """A run's stop request: set by a signal, or by the driver when the run must fail (``engine.fail_fast``,
    the circuit breaker, a dead writer process). The first request's ``reason`` is kept.

    ``failure`` tells a failing run from an interrupted one; ``urgent`` asks for in-flight work (an LLM
    request) to be cancelled now rather than after ``engine.stop_grace`` seconds.
    """

    def __init__(self) -> None:
        super().__init__()
        self.reason: str | None = None
        self.failure = False
        self.urgent = False

    def request(self, reason: str, *, failure: bool = False, urgent: bool = False) -> None:
        """Ask the run to stop (a later request only makes the stop urgent, never changes its reason)."""
        if not self.is_set():
            self.reason, self.failure = reason, failure
            self.set()
        self.urgent = self.urgent or urgent


class StopOnSignal:
    """SIGINT/SIGTERM ask the engine to stop at the next turn boundary; a second signal cancels the
    work still in flight (LLM requests) at once.

    Handlers only set flags, never raise: whatever code a signal lands in, the run goes on to close
    its episodes and itself with a final status (the executor and driver do the stopping). Handlers
    are installed only in the main thread, and the previous ones are restored on exit.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.stop = StopRequest()
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self.stop

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.stop.is_set():
            self.stop.urgent = True  # no lock taken here: the main thread may be inside set()
        else:
            self.stop.request(f"signal {signal.Signals(signum).name}")
