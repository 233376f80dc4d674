"""The worker side of :mod:`sim.process_executor`: one process, one event loop, one LLM client.

A worker reads ``(key, job)`` messages from its job pipe and plays up to ``slots`` of them at once
(the driver never sends more) with :func:`sim.play.play_job`, all sharing one
:class:`sim.llm.client.LLMClient` over a :class:`_CollectingCache`. As each match ends it sends
``(key, record, entries)`` on its result pipe: the record (complete or failed) and the cache
entries made since its last message. ``None`` on the job pipe (or the driver gone) ends it.
Workers never write SQLite, and ignore SIGINT: stopping is the driver's job.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Mapping
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sim.executor import CacheEntry
from sim.jobs import EpisodeJob
from sim.llm.cache import CachedAnswer, ResponseCache
from sim.play import failure_text, play_job
from sim.records import EpisodeRecord, EpisodeRecorder, record_llm_call

#: What a worker sends back per match: (the job's key, its record, new cache entries).
Result = tuple[int, EpisodeRecord, list[CacheEntry]]


class _CollectingCache(ResponseCache):
    """A worker's cache: reads the store's entries, keeps new ones to send back (never writes)."""

    def __init__(self, db: Path | None):
        super().__init__(db)
        self.entries: list[CacheEntry] = []

    def put(self, key: str, model: str, answer: CachedAnswer) -> None:
        super().put(key, model, answer)
        self.entries.append((key, model, answer))

    def take(self) -> list[CacheEntry]:
        """The entries made since the last call."""
        entries, self.entries = self.entries, []
        return entries


def serve(jobs: Connection, results: Connection, db: Path | None, model_caps: Mapping[str, int]) -> None:
    """A worker process's main: play the jobs sent on ``jobs`` until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    asyncio.run(_serve(jobs, results, db, model_caps))


async def _serve(
    jobs: Connection, results: Connection, db: Path | None, model_caps: Mapping[str, int]
) -> None:
    from sim.llm.client import LLMClient

    cache = _CollectingCache(db)
    llm = LLMClient(cache, record=record_llm_call, model_caps=model_caps)
    loop = asyncio.get_running_loop()
    playing: set[asyncio.Task[None]] = set()

    async def play(key: int, job: EpisodeJob) -> None:
        recorder = EpisodeRecorder(job)
        try:
            record = await play_job(job, llm=llm, recorder=recorder)
        except Exception as exc:
            record = recorder.aborted("failed", failure_text(exc))
        _send(results, (key, record, cache.take()))

    while True:
        try:
            message: Any = await loop.run_in_executor(None, jobs.recv)
        except (EOFError, OSError):  # the driver is gone: nobody wants the rest
            for task in playing:
                task.cancel()
            return
        if message is None:
            break
        task = asyncio.create_task(play(*message))
        playing.add(task)
        task.add_done_callback(playing.discard)
    await asyncio.gather(*playing)


def _send(results: Connection, result: Result) -> None:
    """Send ``result``; a record that cannot be pickled goes back as a failed one."""
    key, record, entries = result
    try:
        results.send(result)
    except (BrokenPipeError, EOFError):
        pass  # the driver is gone
    except Exception as exc:
        failed = EpisodeRecorder(record.job).aborted("failed", failure_text(exc))
        results.send((key, failed, entries))
