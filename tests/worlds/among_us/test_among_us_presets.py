"""The Among Us presets run to completion through ``sim run`` (bots only) and store each seat's role."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from agents.scripted.among_us_selfplay import bots_game
from sim.rng import derive_seed
from sim.scenario import read_yaml
from tests.sim_cli import run_sim
from worlds.among_us.params import AmongUsParams

SCENARIOS = Path(__file__).resolve().parents[3] / "worlds/among_us/scenarios"
PRESETS = sorted(p for p in SCENARIOS.glob("*.yaml") if "model:" not in p.read_text())  # bots only
REASONS = {"crew_vote_out", "imp_parity", "crew_tasks", "imp_timeout", "timeout"}


def test_the_three_presets_exist() -> None:
    assert [p.stem for p in PRESETS] == ["classic5", "classic7", "sarkar_grid"]


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.stem)
def test_preset_runs_to_completion(preset: Path, tmp_path: Path) -> None:
    db = tmp_path / "preset.db"
    done = run_sim("run", preset, "--db", db, "--episodes", "6", "--quiet")
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(db) as conn:
        statuses = conn.execute("SELECT DISTINCT status FROM episodes").fetchall()
        outcomes = [json.loads(o) for (o,) in conn.execute("SELECT outcome FROM episodes")]
        sides = conn.execute("SELECT DISTINCT side FROM seats ORDER BY side").fetchall()
        invalid = conn.execute("SELECT sum(invalid_actions) FROM seats").fetchone()[0]
    assert statuses == [("complete",)] and len(outcomes) == 6 and invalid == 0
    assert all(o["reason"] in REASONS for o in outcomes)
    assert sides == [("crewmate",), ("impostor",)]


@pytest.mark.parametrize("name", ["classic5", "classic7"])
def test_bots_only_presets_are_contested(name: str) -> None:
    """60 seeded bots-only games on the bare world: the impostors win a fair share, the crew wins by
    tasks and, on classic5, by vote too (bench/among_us_games.py measures 300)."""
    data = read_yaml(SCENARIOS / f"{name}.yaml")
    params = AmongUsParams.model_validate(data["params"])
    reasons = Counter(bots_game(params, len(data["seats"]), derive_seed(99, g))[0].reason for g in range(60))
    impostors = reasons["imp_parity"] + reasons["imp_timeout"]
    assert 0.15 <= impostors / 60 <= 0.65, reasons
    assert reasons["crew_tasks"] > 0 and (name == "classic7" or reasons["crew_vote_out"] > 0), reasons
