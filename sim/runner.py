"""Runs a loaded scenario: every episode through the engine, every row into the store."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from sim import __version__
from sim.engine import EpisodeResult, EventSink, Interrupted, play_episode, seat_ids
from sim.llm.cache import ResponseCache
from sim.llm.client import LLMClient, Usage
from sim.scenario import EpisodePlan, LoadedScenario
from sim.store.engine import open_engine
from sim.store.writer import StoreWriter
from sim.types import to_jsonable


@dataclass
class RunSummary:
    """What a run produced: where it is stored and each episode's result."""

    db: Path
    run_id: int
    episodes: list[tuple[EpisodePlan, EpisodeResult]] = field(default_factory=list)
    llm_usage: dict[tuple[int | None, str | None], Usage] = field(default_factory=dict)


class _Stopped(Exception):
    """An episode task saw the stop request (an ordinary exception, so asyncio does not re-raise it)."""


class _StopOnSignal:
    """SIGINT/SIGTERM ask the engine to stop at the next turn boundary (a second signal stops at once).

    Stopping between turns, never inside a store write, is what lets the run close its current
    episode as ``interrupted`` cleanly.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.event = threading.Event()
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> threading.Event:
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self.event

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.event.is_set():
            raise Interrupted(f"signal {signum} (second)")
        self.event.set()


def run_scenario(
    loaded: LoadedScenario,
    db: str | Path | None = None,
    on_episode: Callable[[EpisodePlan, EpisodeResult], None] | None = None,
) -> RunSummary:
    """Play every episode of the scenario and store everything; interrupted episodes are marked so."""
    with _StopOnSignal() as stop, _fewer_gc_passes():
        return asyncio.run(_run(loaded, Path(db or loaded.scenario.db), on_episode, stop))


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


async def _run(
    loaded: LoadedScenario,
    db: Path,
    on_episode: Callable[[EpisodePlan, EpisodeResult], None] | None,
    stop: threading.Event,
) -> RunSummary:
    scenario = loaded.scenario
    settings = scenario.engine
    writer = StoreWriter(
        open_engine(db), flush_rows=settings.flush_rows, flush_seconds=settings.flush_seconds
    )
    run_id = writer.begin_run(
        name=scenario.name,
        path=loaded.source,
        scenario=scenario.model_dump(mode="json"),
        world_id=loaded.world_cls.spec.id,
        seed=scenario.seed,
        version=__version__,
    )
    llm = LLMClient(ResponseCache(db, write=writer.add_cache_entry), record=writer.add_llm_call)
    summary = RunSummary(db, run_id, llm_usage=llm.usage)
    params_json = to_jsonable(loaded.params.model_dump(mode="json"))
    status = "failed"
    plans = loaded.plans
    world_id = loaded.world_cls.spec.id
    reserved = [
        {
            "index": p.index,
            "matchup": p.matchup,
            "world_id": world_id,
            "params": params_json,
            "seed": loaded.episode_seed(p),
        }
        for p in plans
    ]
    ids = writer.reserve_episodes(run_id, reserved)
    gate = asyncio.Semaphore(settings.parallel_episodes)
    done: dict[int, EpisodeResult] = {}

    async def one(plan: EpisodePlan, episode_id: int) -> None:
        async with gate:
            if stop.is_set():
                raise _Stopped
            try:
                result = await _play(loaded, plan, writer, run_id, episode_id, params_json, stop, llm)
            except Interrupted:  # a KeyboardInterrupt must not escape an asyncio task: asyncio re-raises it
                raise _Stopped from None
            except Exception:
                stop.set()  # the other episodes in flight stop at their next turn
                raise
            done[plan.index] = result
            if on_episode is not None:
                on_episode(plan, result)

    try:
        if settings.parallel_episodes == 1:
            for plan, episode_id in zip(plans, ids, strict=True):
                try:
                    await one(plan, episode_id)
                except _Stopped:
                    raise Interrupted("stop requested") from None
        else:  # LLM games wait on I/O: several episodes share the event loop (and the per-model queues)
            outcomes = await asyncio.gather(
                *(one(plan, episode_id) for plan, episode_id in zip(plans, ids, strict=True)),
                return_exceptions=True,
            )
            errors = [o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, _Stopped)]
            if errors:
                raise errors[0]
        if len(done) < len(plans):
            raise Interrupted("stop requested")
        summary.episodes.extend((plan, done[plan.index]) for plan in plans)
        from sim.evaluators.driver import evaluate_run  # evaluators the scenario configures (ReCon judge)

        await evaluate_run(writer, llm, run_id)
        status = "complete"
    except (KeyboardInterrupt, asyncio.CancelledError):
        status = "interrupted"
        raise
    finally:
        writer.finish_run(run_id, status)
    return summary


async def _play(
    loaded: LoadedScenario,
    plan: EpisodePlan,
    writer: StoreWriter,
    run_id: int,
    episode_id: int,
    params_json: dict[str, Any],
    stop: threading.Event,
    llm: LLMClient,
) -> EpisodeResult:
    scenario = loaded.scenario
    seed = loaded.episode_seed(plan)
    players = seat_ids(len(plan.seats))
    agents = {p: loaded.make_agent(seat) for p, seat in zip(players, plan.seats, strict=True)}
    roles = loaded.roles(plan)
    seats = [
        {"player_id": p, "agent": s.agent, "label": s.display(), "config": s.config, "role": roles[p]}
        for p, s in zip(players, plan.seats, strict=True)
    ]
    writer.begin_episode(
        episode_id=episode_id,
        run_id=run_id,
        index=plan.index,
        matchup=plan.matchup,
        world_id=loaded.world_cls.spec.id,
        params=params_json,
        seed=seed,
        seats=seats,
    )
    sink = EventSink(writer, episode_id)
    try:
        result = await play_episode(
            loaded.world_cls(),
            loaded.params,
            agents,
            seed=seed,
            settings=scenario.engine,
            sink=sink,
            labels={p: s.display() for p, s in zip(players, plan.seats, strict=True)},
            stop=stop,
            llm=llm,
            roles=roles,
        )
    except (KeyboardInterrupt, asyncio.CancelledError) as exc:
        writer.finish_episode(
            episode_id, status="interrupted", turns=sink.turns, outcome=None, error=repr(exc)
        )
        raise
    except Exception as exc:
        writer.finish_episode(
            episode_id, status="failed", turns=sink.turns, outcome=None, error=f"{type(exc).__name__}: {exc}"
        )
        raise
    writer.finish_episode(
        episode_id,
        status="complete",
        turns=result.turns,
        outcome=result.outcome,
        scores=result.returns,
        invalid=result.invalid,
    )
    return result
