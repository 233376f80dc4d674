"""Executors play episode jobs and hand their records to the driver; they never touch the store.

:class:`Executor` is the seam for other backends (a process pool, Ray): take jobs, play each with
:func:`sim.play.play_job` somewhere, give every record to an :class:`EpisodeHandler`.
:class:`LocalExecutor` plays them in this process's event loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from sim.engine import Interrupted
from sim.jobs import EpisodeJob
from sim.llm import activity
from sim.play import failure_text, play_job
from sim.records import EpisodeRecord, EpisodeRecorder, EpisodeStream, record_llm_call

if TYPE_CHECKING:
    from sim.llm.cache import CachedAnswer, ResponseCache

#: A response cache entry a worker made: (key, model, answer); the driver writes it.
CacheEntry = tuple[str, str, "CachedAnswer"]


class EpisodeHandler(Protocol):
    """The driver's side of an executor: told when each episode starts and given each record."""

    def started(self, job: EpisodeJob) -> EpisodeStream | None:
        """``job`` is about to be played; returns where its rows may go live (None: its record only)."""

    def finished(self, record: EpisodeRecord) -> None:
        """A record: complete, failed or interrupted (failed and interrupted ones hold partial rows)."""


class Executor(Protocol):
    """Plays jobs; a failed episode is handed over like any other, and a stop request stops them all."""

    async def run(self, jobs: Sequence[EpisodeJob], handler: EpisodeHandler) -> None:
        """Play every job, handing each record to ``handler`` as it ends (the handler decides whether a
        failed episode stops the run, by setting the stop event).

        Raises :class:`sim.engine.Interrupted` when a stop was requested before every job ended, and
        whatever the handler raises. Cancelled (a stop's grace period is over), it hands every episode
        in flight over as ``interrupted`` and re-raises.
        """


#: The error of an episode whose in-flight work was cancelled after a stop request.
CANCELLED = repr(Interrupted("cancelled in flight after the stop request"))


def hand_back(
    record: EpisodeRecord,
    entries: Iterable[CacheEntry],
    cache: ResponseCache | None,
    handler: EpisodeHandler,
) -> None:
    """Hand a record played in another process to the driver's ``handler``: first the worker's new
    cache ``entries`` go into the driver's ``cache`` (those it lacks), and the record's LLM calls are
    counted on the live activity line (the worker's own client counted them in its process only)."""
    if cache is not None:
        for key, model, answer in entries:
            if cache.get(key) is None:
                cache.put(key, model, answer)
    live = activity.current()
    if live is not None:
        for row in record.llm_calls:
            live.add(row)
    handler.finished(record)


class LocalExecutor:
    """Plays jobs in this process: up to ``parallel`` episodes at once on one event loop.

    All episodes share one LLM client (built here on ``cache``, a :class:`sim.llm.cache.ResponseCache`),
    so its per-model ``max_parallel`` slots and ``rpm`` limits hold across episodes. ``stop`` (set on
    SIGINT/SIGTERM, or by the driver when the run must fail) stops every episode at its next turn;
    episodes not started yet are never started. A failed episode does not stop the others.
    ``stream=False`` plays without live streams (records only). ``model_caps`` caps requests at once
    per model name across all episodes (:class:`sim.llm.client.LLMClient`). ``admit`` is asked before
    each job starts; False leaves the job unplayed (a spent budget) while the others in flight finish.
    """

    def __init__(
        self,
        *,
        parallel: int = 1,
        cache: Any = None,
        stop: threading.Event | None = None,
        stream: bool = True,
        model_caps: Mapping[str, int] | None = None,
        admit: Callable[[EpisodeJob], bool] | None = None,
    ):
        from sim.llm.client import LLMClient

        self.parallel = parallel
        self.stop = stop if stop is not None else threading.Event()
        self.stream = stream
        self.admit = admit
        self.llm = LLMClient(cache, record=record_llm_call, model_caps=model_caps)

    async def run(self, jobs: Sequence[EpisodeJob], handler: EpisodeHandler) -> None:
        """Play every job (see :meth:`Executor.run`)."""
        gate = asyncio.Semaphore(self.parallel)
        ended = 0  # complete or failed

        async def one(job: EpisodeJob) -> None:
            nonlocal ended
            async with gate:
                if self.stop.is_set() or (self.admit is not None and not self.admit(job)):
                    return
                stream = handler.started(job)
                recorder = EpisodeRecorder(job, stream if self.stream else None)
                try:
                    record = await play_job(job, llm=self.llm, stop=self.stop, recorder=recorder)
                except Interrupted as exc:  # a KeyboardInterrupt must not escape an asyncio task
                    record = recorder.aborted("interrupted", repr(exc))
                except asyncio.CancelledError:
                    handler.finished(recorder.aborted("interrupted", CANCELLED))
                    raise
                except KeyboardInterrupt as exc:
                    handler.finished(recorder.aborted("interrupted", repr(exc)))
                    raise
                except Exception as exc:  # the episode failed: logged, and the handler decides what next
                    record = recorder.aborted("failed", failure_text(exc))
                handler.finished(record)
                ended += record.status != "interrupted"

        if self.parallel == 1:
            for job in jobs:
                await one(job)
        else:  # LLM games wait on I/O: several episodes share the event loop (and the per-model queues)
            outcomes = await asyncio.gather(*(one(job) for job in jobs), return_exceptions=True)
            errors = [o for o in outcomes if isinstance(o, BaseException)]
            if errors:  # the handler's own (a dead writer), or a KeyboardInterrupt inside an agent
                raise errors[0]
        if ended < len(jobs):
            raise Interrupted(f"stop requested: {getattr(self.stop, 'reason', None) or 'stop event set'}")
