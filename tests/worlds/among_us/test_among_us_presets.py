"""The Among Us presets run to completion through ``sim run`` (bots only) and store each seat's role."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.sim_cli import run_sim

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
