"""The driver's heartbeat: ``runs.heartbeat_at`` refreshed every few seconds while a run plays.

Written through the run's one :class:`sim.store.writer.StoreWriter` (its queue, so no second writer).
An asyncio task beats while the event loop waits (LLM calls); the driver also calls
:meth:`Heartbeat.beat_if_due` as episodes start and end, since bot episodes never yield to the loop.
A run whose heartbeat is stale, or whose process is gone, is shown as ``dead``
(:func:`sim.store.liveness.effective_status`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from sim.store import liveness
from sim.store.writer import StoreWriter, WriterError


class Heartbeat:
    """Refreshes one run's heartbeat through ``writer`` at most every ``every`` seconds (default:
    :data:`sim.store.liveness.HEARTBEAT_SECONDS`)."""

    def __init__(self, writer: StoreWriter, run_id: int, every: float | None = None):
        self.writer = writer
        self.run_id = run_id
        self.every = liveness.HEARTBEAT_SECONDS if every is None else every
        self._last = time.monotonic()  # begin_run / reopen_run stamped the first beat

    def beat_if_due(self) -> None:
        """Beat if ``every`` seconds have passed since the last beat."""
        if time.monotonic() - self._last >= self.every:
            self._last = time.monotonic()
            self.writer.heartbeat(self.run_id)

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(max(0.0, self.every - (time.monotonic() - self._last)))
            try:
                self.beat_if_due()
            except WriterError:  # the writer stopped: the driver reports that where it writes
                return

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Beat in a background task while the body runs."""
        task = asyncio.create_task(self._beat_forever(), name=f"heartbeat of run {self.run_id}")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
