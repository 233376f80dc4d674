"""The tournament presets (worlds/*/tournaments/) validate and run end to end through ``sim tournament``,
offline against the test server (only their api_base is pointed at it, with ``--set``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sim_cli import run_sim

from sim.llm.testserver import TestServer
from sim.tournament.schedule import matches
from sim.tournament.spec import load_tournament

ROOT = Path(__file__).resolve().parents[2]
PRESETS = sorted(ROOT.glob("worlds/*/tournaments/*.yaml"))
#: Presets run end to end below besides the Akata one (each takes ~10 s).
SLOW = {"recon_vs_cot", "bots_vs_llm", "cross_model_scenes"}


def preset(stem: str) -> Path:
    return next(p for p in PRESETS if p.stem == stem)


def api_base_overrides(path: Path, api_base: str) -> list[str]:
    """``--set`` values pointing every LLM seat of the preset (pool and fixed seats) at ``api_base``."""
    file = load_tournament(path).file
    pool = [f"pool.{name}" for name, entry in file.pool.items() if "model" in entry.config]
    fixed = [f"schedule.fixed.{i}" for i, seat in enumerate(file.schedule.fixed) if "model" in seat.config]
    return [f"{where}.config.model.api_base={api_base}" for where in pool + fixed]


def run_preset(path: Path, db: Path) -> tuple[int, int]:
    """Play the preset into ``db`` with ``sim tournament``; the number of matches and of HTTP requests."""
    with TestServer("first_option") as server:
        sets = [arg for value in api_base_overrides(path, server.openai_base) for arg in ("--set", value)]
        result = run_sim("tournament", path, "--db", db, "--quiet", *sets)
        requests = server.count
    assert result.returncode == 0, result.stdout + result.stderr
    return len(matches(load_tournament(path))), requests


def test_there_is_a_preset_for_each_world() -> None:
    assert {p.parent.parent.name for p in PRESETS} == {"repeated", "avalon", "among_us", "characterbox"}


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_preset_validates_and_points_at_the_documented_test_server(path: Path) -> None:
    spec = load_tournament(path)
    assert matches(spec) and spec.file.pool
    assert api_base_overrides(path, "x"), "every preset has an LLM seat"
    text = path.read_text(encoding="utf-8")
    assert "http://127.0.0.1:8765/v1" in text and "127.0.0.1:" not in text.replace("127.0.0.1:8765", "")


def test_role_presets_give_each_agent_every_role_equally_often() -> None:
    for stem in ("recon_vs_cot", "bots_vs_llm"):
        spec = load_tournament(preset(stem))
        counts: dict[tuple[str, str], int] = {}
        for match in matches(spec):
            assert match.game_roles is not None
            for seat, role in zip(match.seats, match.game_roles, strict=True):
                counts[seat.label, role] = counts.get((seat.label, role), 0) + 1
        agents = set(spec.file.pool)
        roles = {role for _, role in counts}
        assert len(roles) > 1
        for role in roles:
            assert len({counts.get((a, role), 0) for a in agents}) == 1, (stem, role, counts)


def test_characterbox_preset_keeps_the_narrator_seat_fixed() -> None:
    spec = load_tournament(preset("cross_model_scenes"))
    lineups = [m.lineup for m in matches(spec)]
    assert {lineup[3] for lineup in lineups} == {"narrator"}
    assert {seat for lineup in lineups for seat in lineup[:3]} == {"model-a", "model-b"}


def leaderboard(path: Path, db: Path) -> list[str]:
    """``sim leaderboard`` of the preset's stored run, 80 columns wide: its lines (each fits)."""
    board = run_sim("leaderboard", "--db", db, load_tournament(path).file.name, columns=80)
    assert board.returncode == 0, board.stdout + board.stderr
    lines = board.stdout.splitlines()
    assert lines and all(len(line) <= 80 for line in lines)
    return lines


def check_store(db: Path, planned: int, requests: int) -> None:
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
        statuses = conn.execute("SELECT status, count(*) FROM episodes GROUP BY status").fetchall()
        assert statuses == [("complete", planned)]
        calls, fresh = conn.execute(
            "SELECT count(*), coalesce(sum(NOT cache_hit), 0) FROM llm_calls"
        ).fetchone()
    assert requests > 0 and fresh == requests and calls >= requests


@pytest.mark.slow
def test_akata_preset_runs_and_its_leaderboard_fits_80_columns(tmp_path: Path) -> None:
    path = preset("akata_llm_vs_strategies")
    db = tmp_path / "akata.db"
    planned, requests = run_preset(path, db)
    check_store(db, planned, requests)
    lines = leaderboard(path, db)
    assert all(any(agent in line for line in lines) for agent in ("llm", "always-J", "grudger"))


@pytest.mark.slow
@pytest.mark.parametrize("stem", sorted(SLOW))
def test_llm_preset_runs_end_to_end_and_has_a_leaderboard(stem: str, tmp_path: Path) -> None:
    db = tmp_path / f"{stem}.db"
    planned, requests = run_preset(preset(stem), db)
    check_store(db, planned, requests)
    lines = leaderboard(preset(stem), db)
    assert all(any(agent in line for line in lines) for agent in load_tournament(preset(stem)).file.pool)
