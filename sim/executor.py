"""Executors play episode jobs and hand their records to the driver; they never touch the store.

:class:`Executor` is the seam for other backends (a process pool, Ray): take jobs, play each with
:func:`sim.play.play_job` somewhere, give every record to an :class:`EpisodeHandler`.
:class:`LocalExecutor` plays them in this process's event loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from sim.engine import Interrupted
from sim.jobs import EpisodeJob
from sim.play import failure_text, play_job
from sim.records import EpisodeRecord, EpisodeRecorder, EpisodeStream, record_llm_call


class EpisodeHandler(Protocol):
    """The driver's side of an executor: told when each episode starts and given each record."""

    def started(self, job: EpisodeJob) -> EpisodeStream | None:
        """``job`` is about to be played; returns where its rows may go live (None: its record only)."""

    def finished(self, record: EpisodeRecord) -> None:
        """A record: complete, failed or interrupted (failed and interrupted ones hold partial rows)."""


class Executor(Protocol):
    """Plays jobs; the first failure stops the others, and a stop request stops them all."""

    async def run(self, jobs: Sequence[EpisodeJob], handler: EpisodeHandler) -> None:
        """Play every job, handing each record to ``handler`` as it ends.

        Raises the first episode's failure once the episodes in flight have stopped, or
        :class:`sim.engine.Interrupted` when a stop was requested before every job completed.
        """


class _Stopped(Exception):
    """An episode saw the stop request (an ordinary exception, so asyncio does not re-raise it)."""


class LocalExecutor:
    """Plays jobs in this process: up to ``parallel`` episodes at once on one event loop.

    All episodes share one LLM client (built here on ``cache``, a :class:`sim.llm.cache.ResponseCache`),
    so its per-model ``max_parallel`` slots and ``rpm`` limits hold across episodes. ``stop`` (set
    on SIGINT/SIGTERM, or here when an episode fails) stops every episode at its next turn; episodes
    not started yet are never started. ``stream=False`` plays without live streams (records only).
    """

    def __init__(
        self,
        *,
        parallel: int = 1,
        cache: Any = None,
        stop: threading.Event | None = None,
        stream: bool = True,
    ):
        from sim.llm.client import LLMClient

        self.parallel = parallel
        self.stop = stop if stop is not None else threading.Event()
        self.stream = stream
        self.llm = LLMClient(cache, record=record_llm_call)

    async def run(self, jobs: Sequence[EpisodeJob], handler: EpisodeHandler) -> None:
        """Play every job (see :meth:`Executor.run`)."""
        gate = asyncio.Semaphore(self.parallel)
        completed = 0

        async def one(job: EpisodeJob) -> None:
            nonlocal completed
            async with gate:
                if self.stop.is_set():
                    raise _Stopped
                stream = handler.started(job)
                recorder = EpisodeRecorder(job, stream if self.stream else None)
                try:
                    record = await play_job(job, llm=self.llm, stop=self.stop, recorder=recorder)
                except Interrupted as exc:  # a KeyboardInterrupt must not escape an asyncio task
                    handler.finished(recorder.aborted("interrupted", repr(exc)))
                    raise _Stopped from None
                except (KeyboardInterrupt, asyncio.CancelledError) as exc:
                    handler.finished(recorder.aborted("interrupted", repr(exc)))
                    raise
                except Exception as exc:
                    self.stop.set()  # the other episodes in flight stop at their next turn
                    handler.finished(recorder.aborted("failed", failure_text(exc)))
                    raise
                handler.finished(record)
                completed += 1

        if self.parallel == 1:
            for job in jobs:
                try:
                    await one(job)
                except _Stopped:
                    raise Interrupted("stop requested") from None
        else:  # LLM games wait on I/O: several episodes share the event loop (and the per-model queues)
            outcomes = await asyncio.gather(*(one(job) for job in jobs), return_exceptions=True)
            errors = [o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, _Stopped)]
            if errors:
                raise errors[0]
        if completed < len(jobs):
            raise Interrupted("stop requested")
