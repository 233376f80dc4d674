"""How a run ends: the failure policy (``engine.fail_fast``, the circuit breaker), cancelling in-flight
work after a stop, the exceptions :func:`sim.runner.run_scenario` raises, and the one closing line.

A failed episode is logged (``episodes.error``) and the others go on. The run stops, and ends
``failed``, at the first failure with ``engine.fail_fast``, after ``engine.max_consecutive_failures``
failed episodes in a row (a provider that stays down), or when the store's writer process dies. A
signal stops it as ``interrupted``. Either way every episode ends in a final status.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sim.engine import Interrupted
from sim.redact import redact_text
from sim.signals import StopRequest

if TYPE_CHECKING:
    from sim.run_summary import RunSummary

T = TypeVar("T")
POLL_SECONDS = 0.05


@dataclass
class FailurePolicy:
    """Decides, episode by episode, whether a run goes on; remembers its first failure."""

    fail_fast: bool = False
    max_consecutive: int = 0  # 0: no circuit breaker
    failed: int = 0
    streak: int = 0
    first: str | None = None

    def observe(self, status: str, where: str, error: str | None) -> str | None:
        """Count an ended episode; returns why the run must stop now, or None to go on."""
        if status == "complete":
            self.streak = 0
        if status != "failed":
            return None
        self.failed += 1
        self.streak += 1
        if self.first is None:
            self.first = f"{where}: {error}"
        if self.fail_fast:
            return f"{self.first} (engine.fail_fast)"
        if self.max_consecutive and self.streak >= self.max_consecutive:
            return (
                f"{self.streak} episodes failed in a row (engine.max_consecutive_failures); "
                f"first: {self.first}"
            )
        return None


async def play_until_stopped(work: Awaitable[T], stop: StopRequest, grace: float) -> T:
    """Await ``work``; once ``stop`` is set, give it ``grace`` seconds to stop at a turn boundary (or
    none once the stop is urgent), then cancel it, which cancels in-flight LLM requests.

    Raises :class:`sim.engine.Interrupted` when the work was cancelled so.
    """
    interrupt: list[KeyboardInterrupt] = []

    async def guarded() -> T | None:
        try:
            return await work
        except KeyboardInterrupt as exc:  # asyncio would re-raise it out of the loop, past our closing
            interrupt.append(exc)
            return None

    task = asyncio.ensure_future(guarded())
    cancelled = asyncio.Event()

    async def watch() -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            await asyncio.sleep(POLL_SECONDS)
        deadline = loop.time() + grace
        while not stop.urgent and loop.time() < deadline:
            await asyncio.sleep(POLL_SECONDS)
        cancelled.set()
        task.cancel()

    watchdog = asyncio.create_task(watch())
    try:
        result = await task
    except asyncio.CancelledError:
        if cancelled.is_set() and task.cancelled():
            raise Interrupted(f"in-flight work cancelled after {stop.reason}") from None
        raise
    finally:
        watchdog.cancel()
    if interrupt:
        raise interrupt[0]
    return result  # type: ignore[return-value]  # None only with an interrupt, raised above


class RunFailed(RuntimeError):
    """The run failed (``status`` ``failed``: fail_fast, the circuit breaker, a dead writer, a bug in the
    driver), or it played every episode but some failed (``status`` ``complete``). ``cause`` names the
    first failure; ``summary`` holds the complete episodes (None when the run failed)."""

    def __init__(
        self, run_id: int, db: Path, status: str, cause: str, summary: RunSummary | None = None
    ) -> None:
        super().__init__(cause)
        self.run_id, self.db, self.status, self.cause, self.summary = run_id, db, status, cause, summary


class RunInterrupted(Interrupted):
    """A signal stopped the run: it is ``interrupted``, its episodes closed (a KeyboardInterrupt)."""

    def __init__(self, run_id: int, db: Path, reason: str) -> None:
        super().__init__(reason)
        self.run_id, self.db, self.reason = run_id, db, reason


def episode_counts(db: Path, run_id: int) -> dict[str, int]:
    """The run's episodes per status, as stored (empty if the store cannot be read)."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            rows = conn.execute(
                "SELECT status, count(*) FROM episodes WHERE run_id = ? GROUP BY status", (run_id,)
            ).fetchall()
    except sqlite3.Error:
        return {}
    return {str(status): int(n) for status, n in rows}


def closing_line(run_id: int, status: str, counts: dict[str, int], cause: str | None) -> str:
    """One line: the run's final status, its episodes per status, and the first cause (redacted)."""
    order = ("complete", "failed", "interrupted", "not_run", "running", "pending")
    parts = [f"{counts.get(s, 0)} {s.replace('_', ' ')}" for s in order if counts.get(s) or s == "complete"]
    line = f"run {run_id} {status}: " + (", ".join(parts) if counts else "episode counts unavailable")
    if cause:
        line += f"; first cause: {cause}"
    return redact_text(" ".join(line.split()))
