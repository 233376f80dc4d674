"""Tournament stores for the tests, written as ``sim tournament`` stores them: one run per tournament
(``scenario`` = ``{"kind": "tournament", "tournament": <the file as JSON>}``), one episode per match at
its schedule index, seats labelled with pool names.

Until ``sim tournament`` exists this plays the matches through the existing runner
(:func:`sim.runner.run_scenario`) with a loaded-scenario stand-in whose jobs are the schedule's; replace
:func:`play_tournament` with the real command once it lands.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sim.jobs import EpisodeJob
from sim.runner import run_scenario
from sim.scenario import LoadedScenario
from sim.tournament.schedule import matches
from sim.tournament.spec import TournamentSpec, validate_tournament


def tournament_json(spec: TournamentSpec) -> dict[str, Any]:
    """The run's ``scenario`` JSON for a tournament."""
    return {"kind": "tournament", "tournament": spec.file.model_dump(mode="json", exclude_unset=True)}


@dataclass(frozen=True)
class _TournamentRun(LoadedScenario):
    """A loaded scenario whose episodes are the tournament's matches (``spec`` set after init)."""

    tournament: TournamentSpec | None = None

    @functools.cached_property
    def planned_jobs(self) -> tuple[EpisodeJob, ...]:
        assert self.tournament is not None
        return tuple(m.to_job(self.tournament) for m in matches(self.tournament))


def play_tournament(data: dict[str, Any], db: Path, source: str = "t.yaml") -> TournamentSpec:
    """Validate tournament ``data``, play every match into ``db`` and return the spec."""
    spec = validate_tournament(data, source)
    file = spec.file
    scenario = SimpleNamespace(
        name=file.name,
        engine=file.engine,
        seed=file.seed,
        db=str(db),
        model_dump=lambda mode="json": tournament_json(spec),
    )
    loaded = _TournamentRun(scenario, source, spec.world_cls, spec.params, {}, spec)  # type: ignore[arg-type]
    run_scenario(loaded, db)
    return spec


def strategies(repetitions: int = 2) -> dict[str, Any]:
    """A repeated-games round robin of six classic strategies with realistic pool names."""
    pool = {
        "tit_for_tat": "tit_for_tat",
        "always_defect": "defector",
        "always_cooperate": "cooperator",
        "grudger": "grudger",
        "win_stay_lose_shift": "win_stay_lose_shift",
        "suspicious_tit_for_tat": "suspicious_tit_for_tat",
    }
    return {
        "name": "axelrod-classics",
        "world": "matrix/repeated-v1",
        "params": {"rounds": 10},
        "pool": {name: {"agent": agent} for name, agent in pool.items()},
        "repetitions": repetitions,
        "seed": 3,
    }


def avalon_models() -> dict[str, Any]:
    """A role-balanced five-seat Avalon tournament of four agents named like LLM configurations."""
    pool = {
        "recon-gpt-4o-mini": "avalon_naive",
        "cot-llama-3.1-8b-instruct": "avalon_naive",
        "random-baseline": "random_legal",
        "naive-bot": "avalon_naive",
    }
    return {
        "name": "avalon-recon-vs-cot",
        "world": "social/avalon-v1",
        "pool": {name: {"agent": agent} for name, agent in pool.items()},
        "schedule": {"format": "seatings", "players": 5, "balance": "roles"},
        "repetitions": 2,
        "seed": 7,
    }
