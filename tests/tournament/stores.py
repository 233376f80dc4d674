"""Tournament stores for the tests, written by the real runner (:func:`sim.tournament.run.run_tournament`,
what ``sim tournament`` calls): one run per tournament, one episode per match at its schedule index,
seats labelled with pool names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.tournament.run import run_tournament
from sim.tournament.spec import TournamentSpec, validate_tournament


def play_tournament(data: dict[str, Any], db: Path, source: str = "t.yaml") -> TournamentSpec:
    """Validate tournament ``data``, play every match into ``db`` as ``sim tournament`` does and return
    the spec."""
    spec = validate_tournament(data, source)
    run_tournament(spec, db)
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
