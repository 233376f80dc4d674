"""Real stores for evaluator tests: ``sim run`` of an Avalon scenario whose LLM seats use the test server."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim_cli import run_sim

from sim.llm.testserver import Request, answer

ROLES = ["merlin", "percival", "servant", "servant", "morgana", "assassin"]
DIMENSIONS = ("concealment", "logic", "contribution", "persuasiveness", "information", "creativity")
SCORES = dict(zip(DIMENSIONS, (3, 8, 5, 6, 9, 2), strict=True))
SECRET = "SECRET-THINKING"


def is_judge(req: Request) -> bool:
    return "expert judge" in str(req.messages[0]["content"])


def policy(judge: Callable[[Request], str] | None = None) -> Callable[[Request], str]:
    """Seats answer the first option and think ``SECRET``; the judge gives ``SCORES`` (or ``judge``)."""

    def reply(req: Request) -> str:
        if is_judge(req):
            return judge(req) if judge is not None else json.dumps(SCORES)
        data = json.loads(answer(req, lambda values: values[0]))
        if isinstance(data, dict) and "think" in data:
            data["think"] = SECRET
        return json.dumps(data)

    return reply


def model(base: str) -> dict[str, Any]:
    return {"model": "openai/stub", "api_base": base, "max_tokens": 256}


def write_scenario(path: Path, seats: list[dict[str, Any]], *, episodes: int = 1, seed: int = 5) -> Path:
    data = {
        "name": path.stem,
        "world": "social/avalon-v1",
        "params": {"roles": ROLES, "seating": "fixed"},
        "seats": seats,
        "episodes": episodes,
        "seed": seed,
    }
    path.write_text(json.dumps(data))
    return path


def cot_seat(base: str, judge: bool = True) -> dict[str, Any]:
    """A chain-of-thought seat (one call per decision), judged by the test server when ``judge``."""
    config: dict[str, Any] = {"model": model(base)}
    if judge:
        config["judge"] = model(base)
    return {"agent": "avalon_cot", "config": config}


def sim_run(scenario: Path, db: Path) -> Path:
    result = run_sim("run", scenario, "--db", db, "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    return db


def copy_store(db: Path, to: Path) -> Path:
    """A copy of a closed store (its WAL, if any, folded in first)."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(db, to)
    return to


def rows(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def judge_rows(db: Path) -> list[tuple[Any, ...]]:
    """Every evaluator row: (episode, seat, name, value, evaluator, model), in a stable order."""
    return rows(
        db,
        "SELECT episode_id, player_id, name, value, evaluator, evaluator_model FROM metrics"
        " WHERE evaluator IS NOT NULL ORDER BY episode_id, player_id, name",
    )
