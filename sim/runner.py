"""The driver of a run: expand the scenario into jobs, have an executor play them, write the records.

Only this process writes SQLite, through one :class:`sim.store.writer.StoreWriter`: the run row,
the reserved episodes, each episode's rows (streamed live by the local executor, so the viewer tails
a running episode) and its close. Episodes a stopped run never started become ``not_run``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from sim import __version__
from sim.engine import EpisodeResult
from sim.executor import Executor, LocalExecutor
from sim.heartbeat import Heartbeat
from sim.jobs import EpisodeJob, run_fingerprint
from sim.llm.cache import ResponseCache
from sim.record_writer import RecordWriter
from sim.records import EpisodeRecord, EpisodeStream
from sim.resume import RunConflict, StoredRun, find_run, stored_results
from sim.run_summary import RunSummary
from sim.scenario import LoadedScenario
from sim.signals import StopOnSignal
from sim.store.engine import open_engine
from sim.store.writer import StoreWriter

#: Called once an episode is written (complete ones only), in the driver, in job completion order.
EpisodeCallback = Callable[[EpisodeJob, EpisodeResult], None]
#: Makes a run's executor from its response cache (reading the store, writing through the driver's
#: writer) and its stop event.
ExecutorFactory = Callable[[ResponseCache, threading.Event], Executor]


def run_scenario(
    loaded: LoadedScenario,
    db: str | Path | None = None,
    on_episode: EpisodeCallback | None = None,
    executor: ExecutorFactory | None = None,
    resume: bool = False,
) -> RunSummary:
    """Play every episode of the scenario and store everything; interrupted episodes are marked so.

    ``executor`` makes the executor from the run's response cache and stop event; by default a
    :class:`LocalExecutor` with ``engine.parallel_episodes`` episodes at once.

    A new run by default (even if the store holds one of the same plan: ``sim run`` asks first).
    ``resume`` continues the latest stored run of the same plan (:func:`sim.jobs.run_fingerprint`)
    instead: its complete episodes are kept, the others replayed from scratch, and the summary covers
    them all; a new run if there is none. :class:`sim.resume.RunConflict` if that run is still playing.
    """
    with StopOnSignal() as stop, _fewer_gc_passes():
        return asyncio.run(_run(loaded, Path(db or loaded.scenario.db), on_episode, stop, executor, resume))


@contextlib.contextmanager
def _fewer_gc_passes() -> Iterator[None]:
    """Play with less garbage-collector work: freeze what exists (modules, configs) and collect young
    objects less often. A turn allocates many short-lived tuples; the default thresholds make the
    collector rescan every long-lived object thousands of times per run (measured: about a fifth of
    a bot tournament's time). Restored afterwards."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(thresholds[0], 20_000), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


class _Recording:
    """The driver's :class:`sim.executor.EpisodeHandler`: writes each record, then runs the hooks."""

    def __init__(
        self,
        records: RecordWriter,
        summary: RunSummary,
        on_episode: EpisodeCallback | None,
        heartbeat: Heartbeat,
    ):
        self.records = records
        self.heartbeat = heartbeat
        self.summary = summary
        self.results: dict[str, EpisodeResult] = {}
        # After an episode is written: the caller's callback, then any hook appended here.
        self.after_episode: list[EpisodeCallback] = [on_episode] if on_episode is not None else []

    def started(self, job: EpisodeJob) -> EpisodeStream:
        self.heartbeat.beat_if_due()
        return self.records.begin(job)

    def finished(self, record: EpisodeRecord) -> None:
        episode_id = self.records.write(record)
        self.heartbeat.beat_if_due()
        if record.result is None:
            return
        self.summary.add_usage(episode_id, record.llm_calls)
        self.results[record.job.key] = record.result
        for hook in self.after_episode:
            hook(record.job, record.result)


async def _evaluate(writer: StoreWriter, cache: ResponseCache, summary: RunSummary) -> None:
    """Run the evaluators the scenario configures (ReCon's judge) over the stored episodes; their calls
    are cached, recorded and counted in the seats' usage like the players' own."""
    from sim.evaluators.driver import evaluate_run
    from sim.llm.client import LLMClient

    def record(row: Mapping[str, Any]) -> None:
        writer.add_llm_call(row)
        summary.add_usage(row["episode_id"], [row])  # counted the same way as the players' rows

    await evaluate_run(writer, LLMClient(cache, record=record), summary.run_id)


async def _run(
    loaded: LoadedScenario,
    db: Path,
    on_episode: EpisodeCallback | None,
    stop: threading.Event,
    make_executor: ExecutorFactory | None,
    resume: bool = False,
) -> RunSummary:
    scenario = loaded.scenario
    settings = scenario.engine
    planned = loaded.jobs()
    fingerprint = run_fingerprint(planned)
    previous = find_run(db, fingerprint) if resume else None
    if previous is not None:
        previous.check_resumable()
    writer = StoreWriter(
        open_engine(db), flush_rows=settings.flush_rows, flush_seconds=settings.flush_seconds
    )
    if previous is None:
        run_id = writer.begin_run(
            name=scenario.name,
            path=loaded.source,
            scenario=scenario.model_dump(mode="json"),
            world_id=loaded.world_cls.spec.id,
            seed=scenario.seed,
            version=__version__,
            fingerprint=fingerprint,
        )
    else:
        run_id = previous.id
    summary = RunSummary(db, run_id)
    jobs = loaded.jobs(run_id)
    finished = previous is not None and previous.status == "complete" and all(map(previous.done, jobs))
    if previous is not None and not finished and not writer.reopen_run(run_id, previous.pid):
        raise RunConflict(f"run {run_id} was resumed by another process meanwhile")
    records = RecordWriter(writer, run_id)
    todo, done = _plan_episodes(writer, records, jobs, previous, summary)
    if finished:
        summary.episodes.extend((job, done[job.key]) for job in jobs)  # nothing to play or evaluate
        return summary
    cache = ResponseCache(db, write=writer.add_cache_entry)  # new answers are written by the driver
    if make_executor is not None:
        executor = make_executor(cache, stop)
    else:
        executor = LocalExecutor(parallel=settings.parallel_episodes, cache=cache, stop=stop)
    heartbeat = Heartbeat(writer, run_id)
    recording = _Recording(records, summary, on_episode, heartbeat)
    recording.results.update(done)
    status = "failed"
    try:
        async with heartbeat.running():
            await executor.run(todo, recording)
            summary.episodes.extend((job, recording.results[job.key]) for job in jobs)
            await _evaluate(writer, cache, summary)
        status = "complete"
    except (KeyboardInterrupt, asyncio.CancelledError):
        status = "interrupted"
        raise
    finally:
        writer.finish_run(run_id, status)
    return summary


def _plan_episodes(
    writer: StoreWriter,
    records: RecordWriter,
    jobs: list[EpisodeJob],
    previous: StoredRun | None,
    summary: RunSummary,
) -> tuple[list[EpisodeJob], dict[str, EpisodeResult]]:
    """The jobs to play and the results already stored (by job key). A new run reserves every job; a
    resumed one keeps its complete episodes (their results and usage read back into ``summary``) and
    resets or reserves the others, to be replayed from scratch."""
    if previous is None:
        records.reserve(jobs)
        return jobs, {}
    kept = {j.index: previous.episodes[j.index].id for j in jobs if previous.done(j)}
    todo = [j for j in jobs if j.index not in kept]
    records.replay(todo, {i: e.id for i, e in previous.episodes.items() if i not in kept})
    done, usage = stored_results(writer.engine, jobs, kept)
    for episode_id, rows in usage.items():
        summary.add_usage(episode_id, rows)
    return todo, done
