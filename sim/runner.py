"""Runs a loaded scenario: every episode through the engine, every row into the store."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from sim import __version__
from sim.engine import EpisodeResult, EventSink, play_episode, seat_ids
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


class Interrupted(KeyboardInterrupt):
    """SIGTERM arrived; raised so the run is closed as interrupted."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(f"signal {signum}")


def run_scenario(
    loaded: LoadedScenario,
    db: str | Path | None = None,
    on_episode: Callable[[EpisodePlan, EpisodeResult], None] | None = None,
) -> RunSummary:
    """Play every episode of the scenario and store everything; interrupted episodes are marked so."""
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if _main_thread() else None
    try:
        return asyncio.run(_run(loaded, Path(db or loaded.scenario.db), on_episode))
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


async def _run(
    loaded: LoadedScenario, db: Path, on_episode: Callable[[EpisodePlan, EpisodeResult], None] | None
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
    summary = RunSummary(db, run_id)
    params_json = to_jsonable(loaded.params.model_dump(mode="json"))
    status = "failed"
    try:
        for plan in loaded.plans:
            result = await _play(loaded, plan, writer, run_id, params_json)
            summary.episodes.append((plan, result))
            if on_episode is not None:
                on_episode(plan, result)
        status = "complete"
    except (KeyboardInterrupt, asyncio.CancelledError):
        status = "interrupted"
        raise
    finally:
        writer.finish_run(run_id, status)
    return summary


async def _play(
    loaded: LoadedScenario, plan: EpisodePlan, writer: StoreWriter, run_id: int, params_json: dict
) -> EpisodeResult:
    scenario = loaded.scenario
    seed = loaded.episode_seed(plan)
    players = seat_ids(len(plan.seats))
    agents = {p: loaded.make_agent(seat) for p, seat in zip(players, plan.seats, strict=True)}
    seats = [
        {"player_id": p, "agent": s.agent, "label": s.display(), "config": s.config}
        for p, s in zip(players, plan.seats, strict=True)
    ]
    episode_id = writer.begin_episode(
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
        )
    except (KeyboardInterrupt, asyncio.CancelledError) as exc:
        writer.finish_episode(episode_id, status="interrupted", turns=0, outcome=None, error=repr(exc))
        raise
    except Exception as exc:
        writer.finish_episode(
            episode_id, status="failed", turns=0, outcome=None, error=f"{type(exc).__name__}: {exc}"
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
