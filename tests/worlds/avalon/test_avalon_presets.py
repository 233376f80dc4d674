"""The Avalon presets run: bots-only ones as they are, LLM ones offline against the test server."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import yaml

from sim.llm.testserver import TestServer
from sim.runner import run_scenario
from sim.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[3] / "worlds/avalon/scenarios"
PRESETS = sorted(SCENARIOS.glob("*.yaml"))


def llm_seats(preset: Path) -> list[int]:
    seats = yaml.safe_load(preset.read_text())["seats"]
    return [i for i, s in enumerate(seats) if "model" in (s.get("config") or {})]


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.stem)
def test_preset_runs(preset: Path, tmp_path: Path) -> None:
    with TestServer("first_option") as server:
        overrides = [f"seats.{i}.config.model.api_base={server.openai_base}" for i in llm_seats(preset)]
        loaded = load_scenario(preset, [*overrides, "episodes=2"])
        summary = run_scenario(loaded, tmp_path / "preset.db")
        requests = server.count
    assert len(summary.episodes) == 2
    assert all(r.outcome["winner"] in ("good", "evil") for _, r in summary.episodes)
    with sqlite3.connect(summary.db) as conn:
        assert conn.execute("SELECT DISTINCT status FROM episodes").fetchall() == [("complete",)]
        calls, valid, fresh = conn.execute(
            "SELECT count(*), coalesce(sum(valid), 0), coalesce(sum(NOT cache_hit), 0) FROM llm_calls"
        ).fetchone()
        invalid = conn.execute("SELECT sum(invalid_actions) FROM seats").fetchone()[0]
    assert fresh == requests and valid == calls and invalid == 0  # the rest were answered by the cache
    assert (calls > 0) == bool(llm_seats(preset))


def test_llm_presets_point_at_the_documented_test_server_port() -> None:
    for preset in PRESETS:
        if llm_seats(preset):
            assert 'api_base: "http://127.0.0.1:8765/v1"' in preset.read_text()


def test_recon_presets_put_recon_on_the_named_side() -> None:
    sides = {"merlin": "good", "percival": "good", "servant": "good", "morgana": "evil", "assassin": "evil"}
    for stem, recon_side in (("recon_good_vs_cot_evil", "good"), ("cot_good_vs_recon_evil", "evil")):
        data = yaml.safe_load((SCENARIOS / f"{stem}.yaml").read_text())
        assert data["params"]["seating"] == "fixed"
        for role, seat in zip(data["params"]["roles"], data["seats"], strict=True):
            assert (seat["agent"] == "recon") == (sides[role] == recon_side), (stem, role, seat)
