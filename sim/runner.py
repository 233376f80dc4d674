"""The driver of a run: expand the scenario into jobs, have an executor play them, write the records.

Only this process writes SQLite, through one :class:`sim.store.writer.StoreWriter`: the run row,
the reserved episodes, each episode's rows (streamed live by the local executor, so the viewer tails
a running episode) and its close. Episodes a stopped run never started become ``not_run``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import gc
import threading
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from sim import __version__
from sim.engine import EpisodeResult, Interrupted
from sim.executor import EpisodeHandler, Executor, LocalExecutor
from sim.heartbeat import Heartbeat
from sim.jobs import EpisodeJob
from sim.llm.cache import ResponseCache
from sim.llm.spending import SpendingCap
from sim.play import failure_text
from sim.record_writer import RecordWriter
from sim.records import EpisodeRecord, EpisodeStream
from sim.resume import RunConflict, StoredRun, find_run, stored_results
from sim.run_summary import RunSummary
from sim.scenario import LoadedScenario, load_scenario
from sim.settings import EngineSettings
from sim.shutdown import FailurePolicy, RunFailed, RunInterrupted, play_until_stopped
from sim.signals import StopOnSignal, StopRequest
from sim.store.engine import open_engine
from sim.store.writer import StoreWriter, WriterError

#: Called once an episode is written (complete ones only), in the driver, in job completion order.
EpisodeCallback = Callable[[EpisodeJob, EpisodeResult], None]
#: Makes a run's executor from its response cache (reading the store, writing through the driver's
#: writer) and its stop event.
ExecutorFactory = Callable[[ResponseCache, threading.Event], Executor]


#: What the run functions accept as a scenario: a loaded one, or a scenario file's path.
ScenarioSource = LoadedScenario | str | Path


@dataclasses.dataclass(frozen=True)
class RunPlan:
    """What one run plays and how its ``runs`` row describes it: a scenario's episodes or a
    tournament's matches. ``stored`` is the row's ``scenario`` JSON; ``fingerprint`` identifies the
    plan for ``--resume`` (:func:`sim.jobs.run_fingerprint` of ``planned_jobs``)."""

    name: str
    source: str | None
    stored: Mapping[str, Any]
    world_id: str
    seed: int
    fingerprint: str
    planned_jobs: Sequence[EpisodeJob]
    engine: EngineSettings

    def jobs(self, run_id: int) -> list[EpisodeJob]:
        """Every job, stamped with the stored run's id."""
        return [dataclasses.replace(job, run_id=run_id) for job in self.planned_jobs]


def scenario_plan(loaded: LoadedScenario) -> RunPlan:
    """A loaded scenario's run plan."""
    scenario = loaded.scenario
    return RunPlan(
        name=scenario.name,
        source=loaded.source,
        stored=scenario.model_dump(mode="json"),
        world_id=loaded.world_cls.spec.id,
        seed=scenario.seed,
        fingerprint=loaded.fingerprint,
        planned_jobs=loaded.planned_jobs,
        engine=scenario.engine,
    )


def run_scenario(
    loaded: ScenarioSource,
    db: str | Path | None = None,
    on_episode: EpisodeCallback | None = None,
    executor: ExecutorFactory | None = None,
    resume: bool = False,
) -> RunSummary:
    """Play every episode of the scenario and store everything; interrupted episodes are marked so.

    ``loaded`` is a loaded scenario or a scenario file's path. ``executor`` makes the executor from
    the run's response cache and stop event; by default a :class:`LocalExecutor` with
    ``engine.parallel_episodes`` episodes at once.

    A new run by default (even if the store holds one of the same plan: ``sim run`` asks first).
    ``resume`` continues the latest stored run of the same plan (:func:`sim.jobs.run_fingerprint`)
    instead: its complete episodes are kept, the others replayed from scratch, and the summary covers
    them all; a new run if there is none. :class:`sim.resume.RunConflict` if that run is still playing.

    Works inside a running event loop too (Jupyter): the run then plays on its own loop in a worker
    thread while this one waits (use :func:`arun_scenario` to await it instead). SIGINT/SIGTERM stop
    the run cleanly when called from the main thread either way.
    """
    loaded = _loaded(loaded)
    return play_plan(scenario_plan(loaded), Path(db or loaded.scenario.db), on_episode, executor, resume)


def play_plan(
    plan: RunPlan,
    db: Path,
    on_episode: EpisodeCallback | None = None,
    executor: ExecutorFactory | None = None,
    resume: bool = False,
    *,
    cap: SpendingCap | None = None,
    watchers: Sequence[EpisodeHandler] = (),
) -> RunSummary:
    """Play a run plan to the end (see :func:`run_scenario`; ``cap`` and ``watchers`` as in :func:`_run`),
    on a fresh event loop, or on one in a worker thread when this thread already runs a loop."""
    with StopOnSignal() as stop, _fewer_gc_passes():
        work = _run(plan, db, on_episode, stop, executor, resume, cap=cap, watchers=watchers)
        if not _loop_running():
            return asyncio.run(work)
        with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="sim-run") as pool:
            return pool.submit(asyncio.run, work).result()


async def arun_scenario(
    loaded: ScenarioSource,
    db: str | Path | None = None,
    on_episode: EpisodeCallback | None = None,
    executor: ExecutorFactory | None = None,
    resume: bool = False,
) -> RunSummary:
    """:func:`run_scenario` on the running event loop: ``summary = await arun_scenario(...)``.

    SIGINT/SIGTERM stop the run cleanly when the loop runs in the main thread (a notebook's
    "interrupt kernel" ends it ``interrupted``); the previous handlers are restored afterwards.
    """
    loaded = _loaded(loaded)
    with StopOnSignal() as stop, _fewer_gc_passes():
        plan = scenario_plan(loaded)
        return await _run(plan, Path(db or loaded.scenario.db), on_episode, stop, executor, resume)


def _loaded(source: ScenarioSource) -> LoadedScenario:
    """A loaded scenario, read from its file if given a path."""
    return source if isinstance(source, LoadedScenario) else load_scenario(source)


def _loop_running() -> bool:
    """Whether this thread already runs an event loop (``asyncio.run`` would refuse to start one)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


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
    """The driver's :class:`sim.executor.EpisodeHandler`: writes each record, applies the failure policy,
    then runs the hooks. A dead writer or a policy that says stop sets the run's stop request."""

    def __init__(
        self,
        records: RecordWriter,
        summary: RunSummary,
        on_episode: EpisodeCallback | None,
        heartbeat: Heartbeat,
        stop: StopRequest,
        policy: FailurePolicy,
        watchers: Sequence[EpisodeHandler] = (),
    ):
        self.watchers = watchers
        self.begun: set[str] = set()  # keys of the jobs started
        self.records = records
        self.heartbeat = heartbeat
        self.summary = summary
        self.stop = stop
        self.policy = policy
        self.results: dict[str, EpisodeResult] = {}
        # After an episode is written: the caller's callback, then any hook appended here.
        self.after_episode: list[EpisodeCallback] = [on_episode] if on_episode is not None else []

    def started(self, job: EpisodeJob) -> EpisodeStream:
        with self._writer_failure():
            self.heartbeat.beat_if_due()
            stream = self.records.begin(job)
            self.begun.add(job.key)
        for watcher in self.watchers:
            watcher.started(job)
        return stream

    def finished(self, record: EpisodeRecord) -> None:
        with self._writer_failure():
            episode_id = self.records.write(record)
            self.heartbeat.beat_if_due()
        for watcher in self.watchers:
            watcher.finished(record)
        halt = self.policy.observe(
            record.status, f"episode {episode_id} ({record.job.matchup})", record.error
        )
        if halt is not None:
            self.stop.request(halt, failure=True)
        if record.result is None:
            return
        self.summary.add_usage(episode_id, record.llm_calls)
        self.results[record.job.key] = record.result
        for hook in self.after_episode:
            hook(record.job, record.result)

    @contextlib.contextmanager
    def _writer_failure(self) -> Iterator[None]:
        """A failing writer stops the run at once: nothing more can be stored."""
        try:
            yield
        except WriterError as exc:
            self.stop.request(str(exc), failure=True, urgent=True)
            raise


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
    plan: RunPlan,
    db: Path,
    on_episode: EpisodeCallback | None,
    stop: StopRequest,
    make_executor: ExecutorFactory | None,
    resume: bool = False,
    *,
    cap: SpendingCap | None = None,
    watchers: Sequence[EpisodeHandler] = (),
) -> RunSummary:
    """Play ``plan`` into ``db``. ``watchers`` are told of every episode's start and record after it
    is written (live progress); ``cap`` counts the LLM spend of stored and new episodes: once it is
    reached the executor (given ``cap.admit``) starts no more jobs, those in flight finish, and the
    run closes ``interrupted`` with the cap's reason (resumable, with a larger cap)."""
    settings = plan.engine
    fingerprint = plan.fingerprint
    previous = find_run(db, fingerprint) if resume else None
    if previous is not None:
        previous.check_resumable()
    writer = StoreWriter(
        open_engine(db), flush_rows=settings.flush_rows, flush_seconds=settings.flush_seconds
    )
    if previous is None:
        run_id = writer.begin_run(
            name=plan.name,
            path=plan.source,
            scenario=plan.stored,
            world_id=plan.world_id,
            seed=plan.seed,
            version=__version__,
            fingerprint=fingerprint,
        )
    else:
        run_id = previous.id
    summary = RunSummary(db, run_id)
    jobs = plan.jobs(run_id)
    finished = previous is not None and previous.status == "complete" and all(map(previous.done, jobs))
    if previous is not None and not finished and not writer.reopen_run(run_id, previous.pid):
        raise RunConflict(f"run {run_id} was resumed by another process meanwhile")
    records = RecordWriter(writer, run_id)
    todo, done = _plan_episodes(writer, records, jobs, previous, summary, cap)
    if cap is not None:
        watchers = [*watchers, cap]
    if finished:
        summary.episodes.extend((job, done[job.key]) for job in jobs)  # nothing to play or evaluate
        return summary
    cache = ResponseCache(db, write=writer.add_cache_entry)  # new answers are written by the driver
    if make_executor is not None:
        executor = make_executor(cache, stop)
    else:
        executor = LocalExecutor(parallel=settings.parallel_episodes, cache=cache, stop=stop)
    heartbeat = Heartbeat(writer, run_id)
    recording = _Recording(records, summary, on_episode, heartbeat, stop, _policy(settings), watchers)
    recording.results.update(done)

    async def play() -> None:
        async with heartbeat.running():
            try:
                await executor.run(todo, recording)
            except Interrupted:
                if stop.is_set() or cap is None or cap.reason is None:
                    raise  # a real stop; a spent cap only left jobs unstarted
        summary.episodes.extend(
            (job, recording.results[job.key]) for job in jobs if job.key in recording.results
        )
        await _evaluate(writer, cache, summary)

    def unplayed() -> str | None:
        """If the cap left jobs unstarted: each becomes ``not_run`` with the reason, which is returned."""
        why = None if cap is None else cap.stopped_why()
        for job in todo if why is not None else ():
            if job.key not in recording.begun:
                episode_id = records.episode_ids[job.key]
                writer.finish_episode(episode_id, status="not_run", turns=0, outcome=None, error=why)
        return why

    error = await _play_and_close(play(), writer, run_id, db, stop, settings.stop_grace, unplayed)
    if error is not None:
        raise error
    if recording.policy.first is not None:  # played to the end, but some episodes failed
        raise RunFailed(run_id, db, "complete", recording.policy.first, summary)
    return summary


def _plan_episodes(
    writer: StoreWriter,
    records: RecordWriter,
    jobs: list[EpisodeJob],
    previous: StoredRun | None,
    summary: RunSummary,
    cap: SpendingCap | None = None,
) -> tuple[list[EpisodeJob], dict[str, EpisodeResult]]:
    """The jobs to play and the results already stored (by job key). A new run reserves every job; a
    resumed one keeps its complete episodes (their results and usage read back into ``summary``) and
    resets or reserves the others, to be replayed from scratch. What the kept ones spent counts
    against ``cap``."""
    if previous is None:
        records.reserve(jobs)
        return jobs, {}
    kept = {j.index: previous.episodes[j.index].id for j in jobs if previous.done(j)}
    todo = [j for j in jobs if j.index not in kept]
    records.replay(todo, {i: e.id for i, e in previous.episodes.items() if i not in kept})
    done, usage = stored_results(writer.engine, jobs, kept)
    for episode_id, rows in usage.items():
        summary.add_usage(episode_id, rows)
        if cap is not None:
            cap.add_rows(rows)
    return todo, done


def _policy(settings: EngineSettings) -> FailurePolicy:
    return FailurePolicy(settings.fail_fast, settings.max_consecutive_failures)


async def _play_and_close(
    work: Coroutine[Any, Any, None],
    writer: StoreWriter,
    run_id: int,
    db: Path,
    stop: StopRequest,
    grace: float,
    unplayed: Callable[[], str | None] | None = None,
) -> BaseException | None:
    """Play, then close the run with a truthful final status whatever happened (a signal, the failure
    policy, a dead writer, a bug); returns the error to raise: :class:`RunInterrupted`,
    :class:`RunFailed` naming the first cause, a CancelledError of this task itself, or None.
    A run that played to the end but left jobs unstarted (``unplayed`` says why: a spent budget)
    closes ``interrupted`` without an error."""
    error: BaseException | None = None
    try:
        await play_until_stopped(work, stop, grace)
    except (Exception, KeyboardInterrupt, asyncio.CancelledError) as exc:
        error = exc
    why = None if error is None else failure_text(error)
    final = _final_status(error, stop)
    if final == "complete" and unplayed is not None and (reason := unplayed()) is not None:
        writer.finish_run(run_id, "interrupted", reason)  # resumable (with a larger budget)
        return None
    status = writer.finish_run(run_id, final, why)
    if isinstance(error, asyncio.CancelledError) and not stop.is_set():
        return error  # this task was cancelled from outside (asyncio.run shutting down): let it end so
    if status == "interrupted":
        return RunInterrupted(run_id, db, stop.reason or failure_text(error or Interrupted()))
    if status == "failed":
        if writer.failure is not None:  # a dead writer is the cause the user must see
            cause = failure_text(writer.failure)
        elif stop.failure and stop.reason:
            cause = stop.reason
        else:
            cause = failure_text(error or RuntimeError("unknown"))
        failed = RunFailed(run_id, db, status, cause)
        failed.__cause__ = error
        return failed
    return None


def _final_status(error: BaseException | None, stop: StopRequest) -> str:
    """How a run ends: ``complete``, ``failed`` (a failure policy, a dead writer, a bug), or
    ``interrupted`` (a signal, a KeyboardInterrupt)."""
    if error is None:
        return "complete"
    if not stop.failure and isinstance(error, (KeyboardInterrupt, asyncio.CancelledError)):
        return "interrupted"
    return "failed"
