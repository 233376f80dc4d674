"""Playing a tournament: its matches as one stored run, through the same driver as scenarios.

One ``runs`` row per tournament (``scenario_name`` = the tournament's name, ``scenario`` =
``{"kind": "tournament", "tournament": <the file, as validated>, "pool_order": [<pool names>]}``
(the store sorts JSON keys, and the schedule depends on the pool's order), the fingerprint of its match
plan, so ``--resume`` finds it); one ``episodes`` row per match, ``index`` = the match's position in
:func:`sim.tournament.schedule.matches`, each seat labelled with its pool name.

Backends are executor factories by name (:data:`BACKENDS`: local, process, ray): adding one is one
entry, a function from :class:`BackendOptions` to a :data:`sim.runner.ExecutorFactory`.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.executor import EpisodeHandler, Executor, LocalExecutor
from sim.jobs import EpisodeJob, run_fingerprint
from sim.llm.cache import ResponseCache
from sim.llm.spending import SpendingCap
from sim.run_summary import RunSummary
from sim.runner import EpisodeCallback, ExecutorFactory, RunPlan, play_plan
from sim.tournament.replay import ReplayExecutor
from sim.tournament.schedule import Match, matches
from sim.tournament.spec import TournamentSpec, load_tournament


@dataclass(frozen=True)
class BackendOptions:
    """What every backend is given: matches at once, per-model request caps (model name -> cap),
    the admission check of the spending cap, the store (read-only for workers: cached answers), and
    backend-specific options (``--ray-address``, say) in ``extra``."""

    parallel: int
    model_caps: Mapping[str, int]
    admit: Callable[[EpisodeJob], bool]
    db: Path
    extra: Mapping[str, Any] = field(default_factory=dict)


#: A backend: its options -> the run's executor factory.
Backend = Callable[[BackendOptions], ExecutorFactory]


def local_backend(options: BackendOptions) -> ExecutorFactory:
    """Matches on this process's event loop, sharing one LLM client (per-model caps over all)."""

    def make(cache: ResponseCache, stop: threading.Event) -> Executor:
        return LocalExecutor(
            parallel=options.parallel,
            cache=cache,
            stop=stop,
            model_caps=options.model_caps,
            admit=options.admit,
        )

    return make


def process_backend(options: BackendOptions) -> ExecutorFactory:
    """Matches in worker processes, one per CPU (no more than ``parallel``), each playing
    ``ceil(parallel / workers)`` at once on its own event loop and LLM client: see
    :mod:`sim.process_executor`."""
    from sim.process_executor import ProcessExecutor

    workers = max(1, min(options.parallel, os.cpu_count() or 1))
    slots = math.ceil(options.parallel / workers)

    def make(cache: ResponseCache, stop: threading.Event) -> Executor:
        return ProcessExecutor(
            workers=workers,
            slots=slots,
            cache=cache,
            db=options.db,
            stop=stop,
            model_caps=options.model_caps,
            admit=options.admit,
        )

    return make


def ray_tournament_backend(options: BackendOptions) -> ExecutorFactory:
    """One Ray task per match on a local Ray instance or the cluster at ``extra["ray_address"]``
    (``--ray-address``; ``extra["ray_num_cpus"]`` sizes a local instance): see :mod:`sim.ray_executor`.
    Per-model caps hold over every worker through its limiter actor."""
    from sim.ray_executor import ray_backend

    return ray_backend(
        options.extra.get("ray_address"),
        options.extra.get("ray_num_cpus"),
        parallel=options.parallel,
        model_caps=options.model_caps,
        admit=options.admit,
    )


#: Executor backends by ``--backend`` name.
BACKENDS: dict[str, Backend] = {
    "local": local_backend,
    "process": process_backend,
    "ray": ray_tournament_backend,
}


def replaying(factory: ExecutorFactory, admit: Callable[[EpisodeJob], bool]) -> ExecutorFactory:
    """``factory``'s executors wrapped to replay deterministic matches (:mod:`sim.tournament.replay`)."""

    def make(cache: ResponseCache, stop: threading.Event) -> Executor:
        return ReplayExecutor(factory(cache, stop), stop=stop, admit=admit)

    return make


@dataclass
class TournamentSummary:
    """How a tournament run ended: the run's summary, its matches, and why it stopped early (a budget)."""

    run: RunSummary
    matches: list[Match]
    stopped: str | None = None

    @property
    def played(self) -> int:
        """Matches stored complete."""
        return len(self.run.episodes)

    @property
    def not_played(self) -> int:
        """Matches not stored complete (left unplayed by a budget, or failed)."""
        return len(self.matches) - self.played


def tournament_plan(spec: TournamentSpec) -> tuple[RunPlan, list[Match]]:
    """The tournament's run plan and its matches (episode ``index`` = position in ``matches``)."""
    planned = matches(spec)
    jobs = [match.to_job(spec) for match in planned]
    plan = RunPlan(
        name=spec.file.name,
        source=spec.source,
        stored={
            "kind": "tournament",
            "tournament": spec.file.model_dump(mode="json"),
            "pool_order": list(spec.file.pool),
        },
        world_id=spec.world_id,
        seed=spec.file.seed,
        fingerprint=run_fingerprint(jobs),
        planned_jobs=jobs,
        engine=spec.file.engine,
    )
    return plan, planned


def run_tournament(
    spec_or_path: TournamentSpec | str | Path,
    db: str | Path | None = None,
    *,
    backend: str = "local",
    resume: bool = False,
    parallel: int | None = None,
    overrides: Sequence[str] = (),
    on_episode: EpisodeCallback | None = None,
    watchers: Sequence[EpisodeHandler] = (),
    extra: Mapping[str, Any] | None = None,
) -> TournamentSummary:
    """Play a tournament (a spec, or a file's path with ``overrides``) into ``db`` (default: the
    file's ``db``) and return its summary.

    ``backend`` names an entry of :data:`BACKENDS`; ``parallel`` overrides ``concurrency.matches``.
    ``resume`` continues the latest stored run of the same match plan: complete matches are kept,
    the others played again. Unless the file says ``replay: false``, a deterministic match is played
    once and stored again for its other seeds (:mod:`sim.tournament.replay`).
    A ``budget`` stops scheduling new matches once reached; the run then closes
    ``interrupted`` with the reason (resume it with a larger budget to play the rest).
    Raises as :func:`sim.runner.run_scenario` does (``RunInterrupted``, ``RunFailed``, ``RunConflict``).
    """
    spec = (
        spec_or_path if isinstance(spec_or_path, TournamentSpec) else load_tournament(spec_or_path, overrides)
    )
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r} (one of {', '.join(BACKENDS)})")
    file = spec.file
    path = Path(db or file.db)
    budget = file.budget
    cap = SpendingCap(budget.usd, budget.tokens) if budget is not None else SpendingCap()
    options = BackendOptions(
        parallel=parallel or file.concurrency.matches,
        model_caps=file.concurrency.per_model,
        admit=cap.admit,
        db=path,
        extra=dict(extra or {}),
    )
    plan, planned = tournament_plan(spec)
    factory = BACKENDS[backend](options)
    if file.replay:
        factory = replaying(factory, cap.admit)
    summary = play_plan(plan, path, on_episode, factory, resume, cap=cap, watchers=watchers)
    return TournamentSummary(summary, planned, cap.stopped_why())
