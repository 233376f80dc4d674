"""A process pool executor for CPU-bound tournaments (bots): each worker process plays whole jobs.

Workers play a job with :func:`sim.play.play_job` on their own event loop and LLM client and send
the :class:`sim.records.EpisodeRecord` back; only the driver writes SQLite. A worker reads the run's
response cache (read-only SQLite) but never writes it: answers it got from a provider travel back
with the record, and the driver puts them in its own cache (written through its writer). Per-model
caps hold per worker: each gets ``ceil(cap / workers)``.

Workers start with ``forkserver`` (never ``fork``: the driver runs threads) and import the player
once. A stop request starts no further job; on cancellation (the stop's grace is over) the jobs in
flight are handed over ``interrupted`` and the pool is shut down without waiting for them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import multiprocessing
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from sim.engine import Interrupted
from sim.executor import CANCELLED, EpisodeHandler
from sim.jobs import EpisodeJob
from sim.llm import activity
from sim.llm.cache import CachedAnswer, ResponseCache
from sim.play import failure_text, play_job
from sim.records import EpisodeRecord, EpisodeRecorder, record_llm_call

#: A new cache entry made in a worker: (key, model, answer).
CacheEntry = tuple[str, str, CachedAnswer]


class _CollectingCache(ResponseCache):
    """A worker's cache: reads the store's entries, keeps new ones to send back (never writes)."""

    def __init__(self, db: Path | None):
        super().__init__(db)
        self.entries: list[CacheEntry] = []

    def put(self, key: str, model: str, answer: CachedAnswer) -> None:
        super().put(key, model, answer)
        self.entries.append((key, model, answer))


def play_in_worker(
    job: EpisodeJob, db: Path | None, model_caps: Mapping[str, int]
) -> tuple[EpisodeRecord, list[CacheEntry]]:
    """Play ``job`` here (a worker process) and return its record, complete or not, with the cache
    entries its LLM calls made."""
    from sim.llm.client import LLMClient

    cache = _CollectingCache(db)
    llm = LLMClient(cache, record=record_llm_call, model_caps=model_caps)
    recorder = EpisodeRecorder(job)
    try:
        record = asyncio.run(play_job(job, llm=llm, recorder=recorder))
    except KeyboardInterrupt as exc:
        record = recorder.aborted("interrupted", repr(exc))
    except Exception as exc:
        record = recorder.aborted("failed", failure_text(exc))
    return record, cache.entries


def _warm_up() -> None:
    """Import the player in a new worker, so its first job does not pay for it."""
    import sim.play  # noqa: F401


class ProcessExecutor:
    """Plays jobs in ``workers`` processes, at most one job per worker at a time.

    ``cache`` is the driver's :class:`ResponseCache` (new entries from workers are put there);
    ``db`` the store workers read cached answers from. ``admit`` as in :class:`sim.executor.LocalExecutor`.
    """

    def __init__(
        self,
        *,
        workers: int = 2,
        cache: ResponseCache | None = None,
        db: Path | None = None,
        stop: threading.Event | None = None,
        model_caps: Mapping[str, int] | None = None,
        admit: Callable[[EpisodeJob], bool] | None = None,
    ):
        self.workers = workers
        self.cache = cache
        self.db = db
        self.stop = stop if stop is not None else threading.Event()
        self.admit = admit
        self.model_caps = {m: math.ceil(cap / workers) for m, cap in (model_caps or {}).items()}

    async def run(self, jobs: Sequence[EpisodeJob], handler: EpisodeHandler) -> None:
        """Play every job (see :meth:`sim.executor.Executor.run`)."""
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["sim.play"])  # workers fork from a server that has it loaded
        pool = concurrent.futures.ProcessPoolExecutor(self.workers, context, initializer=_warm_up)
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(self.workers)
        live = activity.current()
        ended = 0

        async def one(job: EpisodeJob) -> None:
            nonlocal ended
            async with gate:
                if self.stop.is_set() or (self.admit is not None and not self.admit(job)):
                    return
                handler.started(job)
                future = loop.run_in_executor(pool, play_in_worker, job, self.db, self.model_caps)
                try:
                    record, entries = await future
                except asyncio.CancelledError:
                    handler.finished(EpisodeRecorder(job).aborted("interrupted", CANCELLED))
                    raise
                except Exception as exc:  # the worker died (BrokenProcessPool): this episode failed
                    record, entries = EpisodeRecorder(job).aborted("failed", failure_text(exc)), []
                for key, model, answer in entries:
                    if self.cache is not None and self.cache.get(key) is None:
                        self.cache.put(key, model, answer)
                if live is not None:  # the progress line counts the worker's calls now
                    for row in record.llm_calls:
                        live.add(row)
                handler.finished(record)
                ended += record.status != "interrupted"

        try:
            outcomes = await asyncio.gather(*(one(job) for job in jobs), return_exceptions=True)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        if errors:
            raise errors[0]
        if ended < len(jobs):
            raise Interrupted(f"stop requested: {getattr(self.stop, 'reason', None) or 'stop event set'}")
