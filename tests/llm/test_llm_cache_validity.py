"""Only accepted answers are cached; invalid ones are never served; ``sim cache prune --invalid``."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sim_cli import run_sim

from sim.llm.testserver import BAD_CONTENT, TestServer
from sim.runner import run_scenario
from sim.scenario import validate_scenario


def _scenario(db: Path, server: TestServer) -> Any:
    model = {"model": "openai/stub", "api_base": server.openai_base, "backoff": 0.0}
    data = {
        "name": "cache",
        "world": "matrix/repeated-v1",
        "params": {"game": "akata_prisoners_dilemma", "rounds": 2},
        "seats": [{"agent": "llm", "config": {"model": model}}, {"agent": "defector"}],
        "seed": 9,
        "db": str(db),
    }
    return validate_scenario(data, "cache.yaml")


def _rows(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def test_invalid_answers_are_never_cached_nor_served_in_a_second_run(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    with TestServer("first_option", faults=["bad_content"]) as server:
        first = run_scenario(_scenario(db, server))
        assert server.count == 3  # bad answer, its re-ask, round 2
        second = run_scenario(_scenario(db, server))
        assert server.count == 4  # the first prompt again (its bad answer was not cached); the rest hit
    assert _rows(db, "SELECT count(*) FROM llm_cache WHERE response = ?", (BAD_CONTENT,)) == [(0,)]
    rows = _rows(
        db,
        "SELECT r.id, c.valid, c.cache_hit, c.error_class FROM llm_calls c "
        "JOIN episodes e ON e.id = c.episode_id JOIN runs r ON r.id = e.run_id ORDER BY c.id",
    )
    assert [r[1:] for r in rows if r[0] == first.run_id] == [
        (0, 0, "InvalidAnswer"),
        (1, 0, None),
        (1, 0, None),
    ]
    assert [r[1:] for r in rows if r[0] == second.run_id] == [(1, 0, None), (1, 1, None)]


def test_a_stale_invalid_cache_entry_is_not_served(tmp_path: Path) -> None:
    """A store written by the old behaviour holds an invalid answer under the first prompt's key."""
    db = tmp_path / "stale.db"
    with TestServer("first_option") as server:
        run_scenario(_scenario(db, server))
        (key,) = _rows(db, "SELECT cache_key FROM llm_calls ORDER BY id LIMIT 1")[0]
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE llm_cache SET response = ? WHERE key = ?", (BAD_CONTENT, key))
        second = run_scenario(_scenario(db, server))
        assert server.count == 3  # asked the provider instead of serving the stale entry
    served = _rows(
        db,
        "SELECT c.valid, c.cache_hit FROM llm_calls c JOIN episodes e ON e.id = c.episode_id "
        "WHERE e.run_id = ? ORDER BY c.id",
        (second.run_id,),
    )
    assert served == [(1, 0), (1, 1)]


def _old_store(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A store as the old behaviour left it: invalid answers cached, logged with or without a key."""
    db = tmp_path / "old.db"
    with TestServer("first_option") as server:
        run_scenario(_scenario(db, server))
    keys = [k for (k,) in _rows(db, "SELECT key FROM llm_cache ORDER BY key")]
    assert len(keys) == 2
    entries = {"keyed": "a" * 64, "keyless": "b" * 64, "other_model": "c" * 64, "good": keys[0]}
    with sqlite3.connect(db) as conn:
        episode = conn.execute("SELECT id FROM episodes").fetchone()[0]
        for name, model in (("keyed", "openai/stub"), ("keyless", "openai/stub"), ("other_model", "x/y")):
            conn.execute(
                "INSERT INTO llm_cache (key, model, response, created_at) VALUES (?, ?, ?, '2026-01-01')",
                (entries[name], model, BAD_CONTENT),
            )
        invalid = (
            "INSERT INTO llm_calls (episode_id, player_id, turn, purpose, model, messages, params, response,"
            " parsed, valid, error_class, error, attempt, latency_ms, cache_hit, created_at, cache_key)"
            " VALUES (?, 'p0', 0, 'repeated.act', 'openai/stub', '[]', '{}', ?, 'null', 0,"
            " 'InvalidAnswer', 'bad', 1, 1.0, 0, '2026-01-01', ?)"
        )
        conn.execute(invalid, (episode, BAD_CONTENT, entries["keyed"]))
        conn.execute(invalid, (episode, BAD_CONTENT, None))  # a row written before cache_key existed
        conn.execute(invalid, (episode, "Option Z", entries["good"]))  # same key, another (accepted) answer
    return db, entries


def test_cache_prune_invalid_cleans_a_store_written_by_the_old_behaviour(tmp_path: Path) -> None:
    db, entries = _old_store(tmp_path)
    result = run_sim("cache", "prune", "--invalid", "--db", db)
    assert result.returncode == 0, result.stderr
    assert "removed 2 invalid cache entries" in result.stdout
    left = {k for (k,) in _rows(db, "SELECT key FROM llm_cache")}
    assert entries["keyed"] not in left and entries["keyless"] not in left
    assert {entries["other_model"], entries["good"]} <= left and len(left) == 3
    again = run_sim("cache", "prune", "--invalid", "--db", db)
    assert "removed 0 invalid cache entries" in again.stdout


def test_cache_prune_needs_a_store_and_a_what(tmp_path: Path) -> None:
    missing = run_sim("cache", "prune", "--invalid", "--db", tmp_path / "none.db")
    assert missing.returncode == 2 and "no such database" in missing.stderr
    assert not (tmp_path / "none.db").exists()
    db, _ = _old_store(tmp_path)
    bare = run_sim("cache", "prune", "--db", db)
    assert bare.returncode == 2 and "--invalid" in bare.stderr
