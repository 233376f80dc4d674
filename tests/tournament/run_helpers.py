"""Tournaments for the run tests, and their stored matches read back for comparing runs."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from sim.executor import Executor, LocalExecutor
from sim.llm.cache import ResponseCache
from sim.runner import ExecutorFactory
from sim.tournament.run import Backend, BackendOptions


def query(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def stored_matches(db: Path, run_id: int | None = None) -> dict[int, dict[str, Any]]:
    """Each complete match of the run (default: the latest) by index: outcome, turns, seats and events
    (everything but ids and times)."""
    if run_id is None:
        run_id = query(db, "SELECT max(id) FROM runs")[0][0]
    out: dict[int, dict[str, Any]] = {}
    episodes = query(
        db,
        'SELECT id, "index", key, seed, turns, outcome, status FROM episodes WHERE run_id = ? '
        'ORDER BY "index"',
        run_id,
    )
    for episode_id, index, key, seed, turns, outcome, status in episodes:
        seats = query(
            db,
            "SELECT player_id, agent, label, role, score, game_role, side FROM seats "
            "WHERE episode_id = ? ORDER BY player_id",
            episode_id,
        )
        events = query(
            db,
            "SELECT seq, turn, phase, kind, actor, visible_to, payload FROM events "
            "WHERE episode_id = ? ORDER BY seq",
            episode_id,
        )
        out[index] = {
            "key": key,
            "seed": seed,
            "status": status,
            "turns": turns,
            "outcome": json.loads(outcome) if outcome else None,
            "seats": seats,
            "events": events,
        }
    return out


def llm_tournament(api_base: str, **extra: Any) -> dict[str, Any]:
    """Akata's Prisoner's Dilemma: an LLM seat (the test server) against always-J and always-F."""
    model = {"model": "openai/stub", "api_base": api_base, "temperature": 0, "max_tokens": 1}
    return {
        "name": "llm-budget",
        "world": "matrix/repeated-v1",
        "params": {"game": "akata_prisoners_dilemma", "rounds": 4},
        "pool": {
            "llm": {"agent": "llm", "config": {"model": model, "prompt": "akata", "scot": False}},
            "always-J": {"agent": "cooperator"},
            "always-F": {"agent": "defector"},
        },
        "schedule": {"self_play": False},
        "repetitions": 4,
        "seed": 3,
        "concurrency": {"matches": 2},
        **extra,
    }


def recording_backend(seen: list[BackendOptions]) -> Backend:
    """A stand-in backend: appends the options it is given to ``seen`` and plays locally."""

    def backend(options: BackendOptions) -> ExecutorFactory:
        seen.append(options)

        def make(cache: ResponseCache, stop: threading.Event) -> Executor:
            return LocalExecutor(parallel=options.parallel, cache=cache, stop=stop, admit=options.admit)

        return make

    return backend
