"""LLM presets that repeat a game in fixed seats sample (temperature > 0), so repetitions can differ."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
PRESETS = sorted(ROOT.glob("worlds/*/scenarios/*.yaml"))


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_repeated_llm_games_in_fixed_seats_set_a_temperature(path: Path) -> None:
    loaded = load_scenario(path)
    params = loaded.scenario.params
    fixed = dict(params or {}).get("seating") == "fixed"
    jobs = loaded.jobs()
    repeated = len({job.matchup for job in jobs}) < len(jobs)
    for job in jobs:
        for seat in job.seats:
            model = (seat.config or {}).get("model")
            if fixed and repeated and isinstance(model, dict):
                assert model.get("temperature", 0) > 0, f"{path.name}: {seat.label} repeats identical games"
