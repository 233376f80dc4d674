"""The Among Us run summary (``sim run`` and ``sim summary``): golden text of a bots-only classic5 run
at 80 columns, and the survey and Elo tables of longer games.

Regenerate the golden after an intended change (the bots' play, a table):
``UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/summaries/test_among_us_summary.py``.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sim_cli import ROOT, run_sim
from test_summary_cli import _assert_fits, _golden, _normalised, _numbers_whole, _ok

from worlds.among_us.metrics import deception_detection_elo

CLASSIC5 = ROOT / "worlds" / "among_us" / "scenarios" / "classic5.yaml"
#: Two agent labels over the five bot seats, so that the per-agent tables and the Elo have two rows.
LABELS = [f"--set=seats.{i}.label=among-us-bot-{'a' if i < 2 else 'b'}" for i in range(5)]


@pytest.fixture(scope="module")
def classic5(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Twenty bot games of the classic5 preset with the survey on, piped."""
    db = tmp_path_factory.mktemp("among_us") / "a.db"
    args = ("--db", db, "--episodes", "20", "--set", "params.survey=true", *LABELS)
    return db, _ok(run_sim("run", CLASSIC5, *args))


@pytest.fixture(scope="module")
def long_games(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight longer bot games (more tasks, an early kill) with the survey on, so that they meet."""
    db = tmp_path_factory.mktemp("among_us_long") / "l.db"
    params = [
        "params.short_tasks=3",
        "params.long_tasks=1",
        "params.initial_kill_cooldown=0",
        "params.kill_cooldown=2",
        "params.survey=true",
    ]
    sets = [f"--set={p}" for p in params]
    _ok(run_sim("run", CLASSIC5, "--db", db, "--episodes", "8", "--quiet", *sets, *LABELS))
    return db


def test_classic5_summary_fits_80_columns_and_is_golden(classic5: tuple[Path, str]) -> None:
    db, out = classic5
    _assert_fits(out)
    _numbers_whole(out)
    for title in ("win rate per side and agent", "how games ended", "per game", "invalid actions", "Elo"):
        assert title in out
    _golden("among_us_classic5_bots", _normalised(out, db))
    assert _ok(run_sim("summary", "--db", db)).strip() == out.strip()  # reprinted from the store


def test_surveys_and_elo_in_the_summary_of_games_with_meetings(long_games: Path) -> None:
    out = _ok(run_sim("summary", "--db", long_games))
    _assert_fits(out)
    _numbers_whole(out)
    doc = json.loads(_ok(run_sim("summary", "--db", long_games, "--format", "json")))
    sections = doc["sections"]
    assert {"sides", "agent_sides", "endings", "game", "votes", "ejections", "invalid", "elo"} <= set(
        sections
    )
    steps = [row["survey"] for row in sections["suspicion"]["rows"]]
    assert steps[0] == "before speeches" and "after round 1 speeches" in steps
    assert {row["side"] for row in sections["speaking"]["rows"]} == {"crewmate", "impostor"}
    for row in sections["suspicion"]["rows"]:
        cell = row["accuracy [95% CI]"]
        assert 0.0 <= cell["low"] <= cell["value"] <= cell["high"] <= 1.0
    # the Elo table is the arithmetic of metrics.deception_detection_elo over the games in order
    with sqlite3.connect(long_games) as conn:
        episodes = conn.execute('SELECT id, outcome FROM episodes ORDER BY "index"').fetchall()
        labels = dict(
            ((e, p), lab) for e, p, lab in conn.execute("SELECT episode_id, player_id, label FROM seats")
        )
    games = []
    for episode_id, outcome in episodes:
        o = json.loads(outcome)
        games.append(([(labels[episode_id, p], side) for p, side in o["roles"].items()], o["winner"]))
    deception, detection = deception_detection_elo(games)
    rows = {row["agent"]: row for row in sections["elo"]["rows"]}
    for agent, rating in deception.items():
        assert rows[agent]["deception Elo"] == pytest.approx(rating)
    for agent, rating in detection.items():
        assert rows[agent]["detection Elo"] == pytest.approx(rating)
