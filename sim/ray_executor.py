"""The Ray backend: one Ray task per episode job, on a local Ray instance or an existing cluster.

Only the driver touches SQLite. A task plays its job with :func:`sim.play.play_job` in a worker
and returns the :class:`sim.records.EpisodeRecord` with the cache entries it made; the driver writes
both (the entries through the run's :class:`sim.llm.cache.ResponseCache`, so through its writer) and
counts the record's LLM calls on the live progress line (:func:`sim.executor.hand_back`).

Two actors per executor serve the workers:

- a **limiter** (a named async actor): every worker's LLM client takes its model's slot
  (``max_parallel``) and ``rpm`` token there, so the per-model limits hold across the cluster as they
  do across the episodes of one process;
- the **run services**, pinned to the driver's node: the response cache, read-only from the
  driver's store file (as the driver's own cache reads it) plus the entries played since the run
  began, and the stop flag. Workers ask it for each cache key (one small round trip), so a cached
  re-run sends no request to the provider. The driver must therefore run on a node of the cluster
  (``address`` "auto" or ``host:port``), not through Ray Client (``ray://``).

A stop request (a signal, the failure policy) stops submitting; workers see the flag within
:data:`STOP_POLL_SECONDS` and end their episode at its next turn, handed over as ``interrupted``.
Cancelled (the stop's grace period is over), the executor cancels every task and hands each
episode in flight over as ``interrupted`` with what was known of it.

``import ray`` happens here only, inside functions: Ray is the optional ``[ray]`` extra.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sim.engine import Interrupted
from sim.executor import CANCELLED, CacheEntry, EpisodeHandler, hand_back
from sim.jobs import EpisodeJob
from sim.llm.cache import CachedAnswer, ResponseCache
from sim.llm.client import LLMClient
from sim.play import failure_text, play_job
from sim.records import EpisodeRecord, EpisodeRecorder, record_llm_call

if TYPE_CHECKING:
    from sim.runner import ExecutorFactory

#: How often a worker looks at the stop flag, and the driver at its stop event (seconds).
STOP_POLL_SECONDS = 0.2
#: Tasks submitted per cluster CPU by default (started on submission: the store shows them running).
QUEUED_PER_CPU = 4


def ray_backend(
    address: str | None = None,
    num_cpus: int | None = None,
    *,
    parallel: int | None = None,
    model_caps: Mapping[str, int] | None = None,
    admit: Callable[[EpisodeJob], bool] | None = None,
) -> ExecutorFactory:
    """The executor factory of ``--backend ray``: a cluster at ``address`` (``--ray-address``; None
    starts a local instance with ``num_cpus`` CPUs, or uses the one this process already joined).
    ``parallel``, ``model_caps`` and ``admit`` as in :class:`RayExecutor`."""

    def make(cache: ResponseCache, stop: threading.Event) -> RayExecutor:
        return RayExecutor(
            address=address,
            num_cpus=num_cpus,
            parallel=parallel,
            cache=cache,
            stop=stop,
            model_caps=model_caps,
            admit=admit,
        )

    return make


class RayExecutor:
    """Plays jobs as Ray tasks, at most ``parallel`` submitted at once (default: :data:`QUEUED_PER_CPU`
    per CPU of the cluster, so that a worker finds its next task queued when it ends one).

    ``model_caps`` caps requests at once per model name over every worker (the lower of it and the
    model's ``max_parallel``, held by the limiter actor). ``admit`` is asked before each job is
    submitted; False leaves the job unplayed (a spent budget) while those in flight finish.

    A job counts as started (``handler.started``: its episode shows ``running``) when submitted, and
    its rows arrive with its record (no live stream). A submitted job that a stop request kept from
    starting is handed over as ``interrupted`` with no turns. A worker killed while holding a model
    slot does not give it back: the slot is lost for the rest of the driver's life.
    """

    def __init__(
        self,
        *,
        address: str | None = None,
        num_cpus: int | None = None,
        parallel: int | None = None,
        cache: ResponseCache | None = None,
        stop: threading.Event | None = None,
        model_caps: Mapping[str, int] | None = None,
        admit: Callable[[EpisodeJob], bool] | None = None,
    ):
        self.address = address
        self.num_cpus = num_cpus
        self.parallel = parallel
        self.cache = cache
        self.stop = stop if stop is not None else threading.Event()
        self.model_caps = dict(model_caps or {})
        self.admit = admit
        self.limiter_name: str | None = None  # the limiter actor's name, once running

    async def run(self, jobs: Sequence[EpisodeJob], handler: EpisodeHandler) -> None:
        """Play every job (see :meth:`sim.executor.Executor.run`)."""
        ray = _ray()
        with _connected(ray, self.address, self.num_cpus):
            limiter, services = _driver_actors(ray)
            self.limiter_name = _actor_name(ray, "limiter")
            run = _RunHandle(services, uuid.uuid4().hex, self.model_caps)
            ray.get(services.open.remote(run.token, _path(getattr(self.cache, "_db", None))))
            try:
                ended = await self._play(ray, jobs, handler, limiter, run)
            finally:
                services.close.remote(run.token)
        if ended < len(jobs):
            raise Interrupted(f"stop requested: {getattr(self.stop, 'reason', None) or 'stop event set'}")

    async def _play(
        self, ray: Any, jobs: Sequence[EpisodeJob], handler: EpisodeHandler, limiter: Any, run: _RunHandle
    ) -> int:
        """Submit, collect and hand over; returns how many episodes ended (complete or failed)."""
        play = ray.remote(num_cpus=1)(play_remote)
        window = self.parallel or QUEUED_PER_CPU * max(1, int(ray.cluster_resources().get("CPU", 1)))
        waiting = list(reversed(jobs))
        running: dict[asyncio.Future[Any], tuple[EpisodeJob, Any]] = {}
        ended, told = 0, False
        try:
            while waiting or running:
                if self.stop.is_set() and not told:
                    run.services.request_stop.remote(run.token)
                    told = True
                while waiting and len(running) < window and not self.stop.is_set():
                    job = waiting.pop()
                    if self.admit is not None and not self.admit(job):
                        continue  # left unplayed (a spent budget): the driver stores it not_run
                    handler.started(job)
                    ref = play.remote(job, limiter, run)
                    running[asyncio.wrap_future(ref.future())] = (job, ref)
                if not running:
                    break
                done, _ = await asyncio.wait(
                    running, timeout=STOP_POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED
                )
                for future in done:
                    job, _ref = running.pop(future)
                    record, entries = _received(job, future, run)
                    hand_back(record, entries, self.cache, handler)
                    ended += record.status != "interrupted"
        except asyncio.CancelledError:
            for job, _ref in running.values():
                handler.finished(EpisodeRecord(job, "interrupted", 0, error=CANCELLED))
            raise
        finally:  # cancelled, or the handler failed (a dead writer): nothing may play on
            for _job, ref in running.values():
                ray.cancel(ref, force=True)
        return ended


def _received(
    job: EpisodeJob, future: asyncio.Future[Any], run: _RunHandle
) -> tuple[EpisodeRecord, list[CacheEntry]]:
    """A finished task's record and new cache entries (the run services remember the entries)."""
    try:
        record, entries = future.result()
    except Exception as exc:  # the worker died, or Ray could not run the task
        return EpisodeRecord(job, "failed", 0, error=failure_text(exc)), []
    if record is None:  # the stop came before the episode started
        error = repr(Interrupted("stopped before it started"))
        return EpisodeRecord(job, "interrupted", 0, error=error), []
    if entries:
        run.services.remember.remote(run.token, entries)
    return record, entries


@dataclass(frozen=True)
class _RunHandle:
    """One run's name at the run services actor and its per-model caps (sent with every task)."""

    services: Any
    token: str
    model_caps: Mapping[str, int]


def play_remote(
    job: EpisodeJob, limiter: Any, run: _RunHandle
) -> tuple[EpisodeRecord | None, list[CacheEntry]]:
    """A Ray task: play ``job`` here; its record (None if the run stopped first) and new cache entries."""
    ray = _ray()
    if ray.get(run.services.stopped.remote(run.token)):
        return None, []
    cache = _RemoteCache(ray, run)
    llm = _LimitedClient(limiter, cache, record=record_llm_call, model_caps=run.model_caps)
    recorder = EpisodeRecorder(job)
    with _stop_watch(ray, run) as stop:
        try:
            record = asyncio.run(play_job(job, llm=llm, stop=stop, recorder=recorder))
        except (Interrupted, KeyboardInterrupt) as exc:
            record = recorder.aborted("interrupted", repr(exc))
        except Exception as exc:
            record = recorder.aborted("failed", failure_text(exc))
    return record, cache.entries


@contextlib.contextmanager
def _stop_watch(ray: Any, run: _RunHandle) -> Iterator[threading.Event]:
    """A stop event set by a thread that polls the run's stop flag while the episode plays."""
    stop, done = threading.Event(), threading.Event()

    def watch() -> None:
        while not done.wait(STOP_POLL_SECONDS):
            if ray.get(run.services.stopped.remote(run.token)):
                stop.set()
                return

    watcher = threading.Thread(target=watch, name="sim-ray-stop", daemon=True)
    watcher.start()
    try:
        yield stop
    finally:
        done.set()
        watcher.join()


class _RemoteCache(ResponseCache):
    """A worker's response cache: reads go to the run services; new entries are kept for the driver."""

    def __init__(self, ray: Any, run: _RunHandle):
        super().__init__(None)
        self._ray = ray
        self._run = run
        self.entries: list[CacheEntry] = []

    def get(self, key: str) -> CachedAnswer | None:
        return super().get(key) or self._ray.get(self._run.services.get.remote(self._run.token, key))

    def put(self, key: str, model: str, answer: CachedAnswer) -> None:
        super().put(key, model, answer)
        self.entries.append((key, model, answer))


class _LimitedClient(LLMClient):
    """An LLM client whose per-model slots and ``rpm`` tokens come from the cluster's limiter actor."""

    def __init__(self, limiter: Any, cache: ResponseCache, record: Any, model_caps: Mapping[str, int]):
        super().__init__(cache, record=record, model_caps=model_caps)
        self._limiter_actor = limiter

    def _semaphore(self, settings: Any) -> Any:
        slots = min(settings.max_parallel, self.model_caps.get(settings.model, settings.max_parallel))
        return _RemoteSlot(self._limiter_actor, settings.model, slots)

    def _limiter(self, settings: Any) -> Any:
        return (
            None if settings.rpm is None else _RemoteRate(self._limiter_actor, settings.model, settings.rpm)
        )


class _RemoteSlot:
    """``async with``: one of the model's ``max_parallel`` slots, held at the limiter actor."""

    def __init__(self, limiter: Any, model: str, limit: int):
        self._limiter, self._model, self._limit = limiter, model, limit

    async def __aenter__(self) -> None:
        granted = self._limiter.acquire.remote(self._model, self._limit)
        try:
            await granted
        except asyncio.CancelledError:  # the slot is released once the actor has granted it
            self._limiter.release.remote(self._model, self._limit, granted)
            raise

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._limiter.release.remote(self._model, self._limit)


class _RemoteRate:
    """``await acquire()``: the model's next ``rpm`` token from the limiter actor."""

    def __init__(self, limiter: Any, model: str, rpm: float):
        self._limiter, self._model, self._rpm = limiter, model, rpm

    async def acquire(self) -> None:
        await self._limiter.rate_token.remote(self._model, self._rpm)


class _Limiter:
    """The cluster's per-model limits (a Ray async actor): slots and ``rpm`` tokens, shared by workers.

    Keyed by model and limit: runs of one driver that set different limits for a model do not share.
    """

    def __init__(self) -> None:
        self._slots: dict[tuple[str, int], asyncio.Semaphore] = {}
        self._rates: dict[tuple[str, float], Any] = {}

    async def acquire(self, model: str, limit: int) -> None:
        await self._slots.setdefault((model, limit), asyncio.Semaphore(limit)).acquire()

    async def release(self, model: str, limit: int, _granted: Any = None) -> None:
        """Give the slot back (a ``_granted`` reference is resolved by Ray first: after the grant)."""
        self._slots[model, limit].release()

    async def rate_token(self, model: str, rpm: float) -> None:
        if (model, rpm) not in self._rates:
            from aiolimiter import AsyncLimiter

            self._rates[model, rpm] = AsyncLimiter(1, 60 / rpm)  # as LLMClient: no burst at start
        await self._rates[model, rpm].acquire()


class _RunServices:
    """Each run's response cache and stop flag, by run token (a Ray actor on the driver's node)."""

    def __init__(self) -> None:
        self._caches: dict[str, ResponseCache] = {}
        self._stopped: set[str] = set()

    def open(self, token: str, db: str | None) -> None:
        self._caches[token] = ResponseCache(db)  # read-only; new entries are only kept in memory here

    def close(self, token: str) -> None:
        self._caches.pop(token, None)
        self._stopped.discard(token)

    def get(self, token: str, key: str) -> CachedAnswer | None:
        cache = self._caches.get(token)
        return None if cache is None else cache.get(key)

    def remember(self, token: str, entries: list[CacheEntry]) -> None:
        for key, model, answer in entries:
            self._caches[token].put(key, model, answer)

    def request_stop(self, token: str) -> None:
        self._stopped.add(token)

    def stopped(self, token: str) -> bool:
        return token in self._stopped


def _driver_actors(ray: Any) -> tuple[Any, Any]:
    """This driver's limiter and run services actors, started on first use and shared by its runs (an
    actor takes a second or two to start); they end with the driver. The run services are pinned to
    this (the driver's) node: they read the store files the driver's caches read."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    here = NodeAffinitySchedulingStrategy(node_id=ray.get_runtime_context().get_node_id(), soft=False)
    limiter = _actor_class(ray, _Limiter).options(name=_actor_name(ray, "limiter"), get_if_exists=True)
    services = _actor_class(ray, _RunServices).options(
        name=_actor_name(ray, "run-services"), get_if_exists=True, scheduling_strategy=here
    )
    return limiter.remote(), services.remote()


def _actor_name(ray: Any, role: str) -> str:
    """The name of this driver's actor ``role`` (Ray's job id names the driver)."""
    return f"sim-{role}-{ray.get_runtime_context().get_job_id()}"


def _path(db: Path | None) -> str | None:
    return None if db is None else str(Path(db).resolve())


def _actor_class(ray: Any, cls: type) -> Any:
    """``cls`` as a Ray actor class that uses no CPU (it must not take a worker's slot)."""
    return ray.remote(num_cpus=0)(cls)


@contextlib.contextmanager
def _connected(ray: Any, address: str | None, num_cpus: int | None) -> Iterator[None]:
    """Joined to Ray for the run: the cluster at ``address``, else a local instance with ``num_cpus``
    CPUs; a Ray this process had already joined is used as it is and left running. Ray's own
    SIGINT/SIGTERM handlers are undone: the run's handlers stop it cleanly."""
    if ray.is_initialized():
        yield
        return
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    options: dict[str, Any] = {"log_to_driver": False}
    if address is None:
        options.update(num_cpus=num_cpus, include_dashboard=False)
    ray.init(address=address, **options)
    if threading.current_thread() is threading.main_thread():
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    try:
        yield
    finally:
        ray.shutdown()


def _ray() -> Any:
    """The ``ray`` module, imported on first use (the optional ``[ray]`` extra)."""
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "the Ray backend needs the [ray] extra: pip install --no-deps --require-hashes "
            "-r requirements-ray.lock"
        ) from exc
    return ray
