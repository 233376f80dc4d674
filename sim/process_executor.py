"""A process executor: ``workers`` processes, each playing up to ``slots`` matches at once.

Each worker (:mod:`sim.process_worker`) keeps one event loop and one LLM client for its lifetime, so
LLM waits overlap inside a worker while the client's CPU cost per call is spread over the processes.
The driver sends a job to the least busy worker with a free slot, only when ``admit`` allows it and
no stop was requested, and hands each record to the handler as soon as its match ends. Only the driver
writes SQLite: a worker reads the run's response cache (read-only) and the answers it got from a
provider travel back with the record into the driver's cache. Per-model caps hold per worker: each
gets ``ceil(cap / workers)``.

Workers start with ``forkserver`` (never ``fork``: the driver runs threads) from a server that has
imported the player. A stop request starts no further job; on cancellation (the stop's grace is over)
the jobs in flight are handed over ``interrupted`` and the workers are terminated. A worker that dies
fails its matches in flight (not the run) and is replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import multiprocessing
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from sim.engine import Interrupted
from sim.executor import CANCELLED, CacheEntry, EpisodeHandler, hand_back
from sim.jobs import EpisodeJob
from sim.llm import direct
from sim.llm.cache import ResponseCache
from sim.process_worker import Result, serve
from sim.records import EpisodeRecord, EpisodeRecorder

#: Seconds a finished worker is given to exit before it is terminated.
_EXIT_WAIT = 5.0


@dataclass(eq=False)
class _Worker:
    """One worker process, its pipes, and the jobs it is playing (by key)."""

    process: BaseProcess
    jobs: Connection
    results: Connection
    playing: dict[int, EpisodeJob] = field(default_factory=dict)


#: What the reader thread posts to the driver: a worker's result, or None when the worker died.
_Message = tuple[_Worker, Result | None]


class ProcessExecutor:
    """Plays jobs in ``workers`` processes, up to ``slots`` at once in each.

    ``cache`` is the driver's :class:`ResponseCache` (new entries from workers are put there);
    ``db`` the store workers read cached answers from. ``admit`` as in :class:`sim.executor.LocalExecutor`.
    """

    def __init__(
        self,
        *,
        workers: int = 2,
        slots: int = 1,
        cache: ResponseCache | None = None,
        db: Path | None = None,
        stop: threading.Event | None = None,
        model_caps: Mapping[str, int] | None = None,
        admit: Callable[[EpisodeJob], bool] | None = None,
    ):
        self.workers = workers
        self.slots = slots
        self.cache = cache
        self.db = db
        self.stop = stop if stop is not None else threading.Event()
        self.admit = admit
        self.model_caps = {m: math.ceil(cap / workers) for m, cap in (model_caps or {}).items()}
        self._pool: list[_Worker] = []
        self._llm = self._litellm = False

    def in_flight(self) -> dict[int, list[EpisodeJob]]:
        """The jobs each live worker is playing now, by worker pid."""
        return {w.process.pid or 0: list(w.playing.values()) for w in self._pool}

    async def run(self, jobs: Sequence[EpisodeJob], handler: EpisodeHandler) -> None:
        """Play every job (see :meth:`sim.executor.Executor.run`)."""
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[_Message] = asyncio.Queue()
        closing = threading.Event()
        self._llm = any(_uses_llm(job) for job in jobs)
        self._litellm = any(_takes_litellm(job) for job in jobs)
        self._pool = [self._start() for _ in range(self.workers)]
        reader = threading.Thread(
            target=self._read, args=(loop, inbox, closing), name="process-executor-reader", daemon=True
        )
        reader.start()
        ended = 0  # complete or failed
        try:
            pending: Iterator[EpisodeJob] = iter(jobs)
            keys = iter(range(len(jobs)))
            more = True
            while True:
                while more and not self.stop.is_set() and (worker := self._free()) is not None:
                    job = next(pending, None)
                    if job is None:
                        more = False
                    elif self.admit is None or self.admit(job):
                        handler.started(job)
                        key = next(keys)
                        worker.playing[key] = job
                        with contextlib.suppress(OSError):  # a dead worker: its death fails the job
                            worker.jobs.send((key, job))
                if not any(w.playing for w in self._pool):
                    break
                worker, result = await inbox.get()
                for record, entries in self._settle(worker, result):
                    hand_back(record, entries, self.cache, handler)
                    ended += 1
        except asyncio.CancelledError:
            for worker in self._pool:
                for job in worker.playing.values():
                    handler.finished(EpisodeRecorder(job).aborted("interrupted", CANCELLED))
                worker.playing.clear()
            raise
        finally:
            closing.set()
            reader.join()  # before any pipe is closed under it
            self._close(force=any(w.playing for w in self._pool))
        if ended < len(jobs):
            raise Interrupted(f"stop requested: {getattr(self.stop, 'reason', None) or 'stop event set'}")

    def _start(self) -> _Worker:
        context = multiprocessing.get_context("forkserver")
        # workers fork from a server that has the player and the HTTP client loaded (and litellm, when
        # a seat's model is called through it: the direct path never imports it)
        preload = [
            "sim.play",
            *(["aiohttp"] if self._llm else []),
            *(["sim.llm.preload"] if self._litellm else []),
        ]
        context.set_forkserver_preload(preload)
        jobs_out, jobs_in = context.Pipe(duplex=False)
        results_out, results_in = context.Pipe(duplex=False)
        process = context.Process(
            target=serve,
            args=(jobs_out, results_in, self.db, self.model_caps),
            name="sim-process-worker",
            daemon=True,
        )
        process.start()
        jobs_out.close()  # the worker's ends: this process keeps the others
        results_in.close()
        return _Worker(process, jobs_in, results_out)

    def _free(self) -> _Worker | None:
        """The least busy worker with a free slot, if any."""
        worker = min(self._pool, key=lambda w: len(w.playing))
        return worker if len(worker.playing) < self.slots else None

    def _settle(self, worker: _Worker, result: Result | None) -> list[tuple[EpisodeRecord, list[CacheEntry]]]:
        """The records a message ends, each with the worker's new cache entries: a match's, or every
        match of a worker that died (then replaced)."""
        if result is None:
            if worker.process.is_alive():  # its pipe broke: end it before it is replaced
                worker.process.kill()
            worker.process.join()
            error = f"the worker process died (exit code {worker.process.exitcode})"
            records = [EpisodeRecorder(job).aborted("failed", error) for job in worker.playing.values()]
            worker.playing.clear()
            self._pool[self._pool.index(worker)] = self._start()
            _discard(worker)
            return [(record, []) for record in records]
        key, record, entries = result
        if worker.playing.pop(key, None) is None:
            return []
        return [(record, entries)]

    def _read(
        self, loop: asyncio.AbstractEventLoop, inbox: asyncio.Queue[_Message], closing: threading.Event
    ) -> None:
        """The reader thread: posts every worker's results, and each worker's death, to ``inbox``."""
        gone: set[_Worker] = set()
        while not closing.is_set():
            pool = [w for w in self._pool if w not in gone]
            by_object: dict[Any, _Worker] = {}
            for worker in pool:
                by_object[worker.results] = worker
                by_object[worker.process.sentinel] = worker
            for ready in wait(list(by_object), timeout=0.1):
                worker = by_object[ready]
                if worker in gone:
                    continue
                messages, dead = _drain(worker.results)
                if ready is worker.process.sentinel:
                    dead = True
                for message in messages:
                    loop.call_soon_threadsafe(inbox.put_nowait, (worker, message))
                if dead:
                    gone.add(worker)
                    loop.call_soon_threadsafe(inbox.put_nowait, (worker, None))

    def _close(self, *, force: bool) -> None:
        """Tell every worker to finish (or, ``force``, terminate it) and wait for it to exit."""
        for worker in self._pool:
            if force:
                worker.process.terminate()
            else:
                with contextlib.suppress(OSError):
                    worker.jobs.send(None)
        for worker in self._pool:
            worker.process.join(_EXIT_WAIT)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            _discard(worker)
        self._pool = []


def _uses_llm(job: EpisodeJob) -> bool:
    """Whether a seat of ``job`` is configured with a model (an LLM agent)."""
    return any("model" in seat.config for seat in job.seats)


def _takes_litellm(job: EpisodeJob) -> bool:
    """Whether a seat of ``job`` has a model called through litellm (the direct path needs no import)."""
    return any(direct.takes_litellm(seat.config) for seat in job.seats)


def _drain(results: Connection) -> tuple[list[Result], bool]:
    """Every message waiting on ``results``, and whether its worker has closed it (died or exited)."""
    messages: list[Result] = []
    try:
        while results.poll():
            messages.append(results.recv())
    except Exception:  # closed (the worker exited or died), or a message that cannot be read
        return messages, True
    return messages, False


def _discard(worker: _Worker) -> None:
    """Close a worker's pipes (the process has exited or been replaced)."""
    worker.jobs.close()
    worker.results.close()
