"""The Ray backend on a local Ray instance (num_cpus=2, started once per session): the same stored
results as the local executor, per-model limits across workers, and cached re-runs without HTTP."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.llm.testserver import TestServer
from sim.ray_executor import ray_backend
from sim.runner import ExecutorFactory, run_scenario
from sim.shutdown import RunInterrupted

pytestmark = pytest.mark.slow


@pytest.fixture
def ray_backend_factory(ray_instance: Any) -> ExecutorFactory:
    """The Ray backend on the session's local Ray instance (:mod:`tests.tournament.conftest`)."""
    return ray_backend(address=None, num_cpus=2)


def _scenario(tmp_path: Path, name: str, **data: Any) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, "world": "matrix/repeated-v1", **data}, sort_keys=False))
    return path


def _bots(tmp_path: Path) -> Path:
    pool = [{"agent": a} for a in ("tit_for_tat", "defector", "random", "win_stay_lose_shift")]
    return _scenario(
        tmp_path, "bots", params={"rounds": 6}, tournament={"pool": pool, "repetitions": 1}, seed=7
    )


def _llm(tmp_path: Path, server: TestServer, episodes: int = 4, **model: Any) -> Path:
    settings = {"model": "openai/stub", "api_base": server.openai_base, "backoff": 0.0, **model}
    return _scenario(
        tmp_path,
        "llm",
        params={"game": "akata_prisoners_dilemma", "rounds": 3},
        seats=[{"agent": "llm", "config": {"model": settings}}, {"agent": "random"}],
        episodes=episodes,
        seed=3,
    )


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def _stored(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """What a run stored, without ids, times and latencies."""
    by_episode = 'JOIN episodes e ON e.id = x.episode_id ORDER BY e."index"'
    return {
        "episodes": _rows(
            db, 'SELECT "index", matchup, seed, status, turns, outcome, error FROM episodes ORDER BY "index"'
        ),
        "seats": _rows(
            db,
            f'SELECT e."index", x.player_id, x.agent, x.label, x.score, x.invalid_actions FROM seats x '
            f"{by_episode}, x.player_id",
        ),
        "events": _rows(
            db,
            'SELECT e."index", x.seq, x.turn, x.phase, x.kind, x.actor, x.visible_to, x.payload '
            f"FROM events x {by_episode}, x.seq",
        ),
        "metrics": _rows(
            db, f'SELECT e."index", x.player_id, x.name, x.value FROM metrics x {by_episode}, 2, 3'
        ),
        "llm_calls": _rows(
            db,
            'SELECT e."index", x.player_id, x.turn, x.purpose, x.messages, x.response, x.valid, x.cache_key '
            f"FROM llm_calls x {by_episode}, x.turn, x.player_id",
        ),
    }


def test_a_bots_tournament_on_ray_stores_what_the_local_executor_stores(
    tmp_path: Path, ray_backend_factory: ExecutorFactory
) -> None:
    scenario = _bots(tmp_path)
    local = run_scenario(scenario, db=tmp_path / "local.db")
    on_ray = run_scenario(scenario, db=tmp_path / "ray.db", executor=ray_backend_factory)
    assert len(on_ray.episodes) == len(local.episodes) == 10
    assert _stored(tmp_path / "ray.db") == _stored(tmp_path / "local.db")
    assert _rows(tmp_path / "ray.db", "SELECT status FROM runs") == [("complete",)]


def test_llm_seats_on_ray_store_what_the_local_executor_stores(
    tmp_path: Path, ray_backend_factory: ExecutorFactory
) -> None:
    with TestServer("first_option") as server:
        scenario = _llm(tmp_path, server, cache="off")
        run_scenario(scenario, db=tmp_path / "local.db")
        local_requests = server.count
        run_scenario(scenario, db=tmp_path / "ray.db", executor=ray_backend_factory)
    stored = _stored(tmp_path / "ray.db")
    assert stored == _stored(tmp_path / "local.db")
    assert len(stored["llm_calls"]) == local_requests == 12  # 4 episodes x 3 rounds
    assert server.count == 2 * local_requests


@pytest.mark.parametrize("max_parallel", [1, 2])
def test_per_model_slots_hold_across_ray_workers(
    tmp_path: Path, ray_backend_factory: ExecutorFactory, max_parallel: int
) -> None:
    """Two workers play at once; the limiter actor lets ``max_parallel`` requests reach the server."""
    with TestServer("first_option", latency=0.15) as server:
        scenario = _llm(tmp_path, server, episodes=4, cache="off", max_parallel=max_parallel)
        run_scenario(scenario, db=tmp_path / "ray.db", executor=ray_backend_factory)
        assert server.count == 12
        assert server.max_in_flight == max_parallel


def test_a_cached_rerun_on_ray_sends_no_request(tmp_path: Path, ray_backend_factory: ExecutorFactory) -> None:
    db = tmp_path / "ray.db"
    with TestServer("first_option") as server:
        scenario = _llm(tmp_path, server, cache="use")
        first = run_scenario(scenario, db=db, executor=ray_backend_factory)
        played = server.count
        assert played > 0  # the answers the workers got came back with the records, written here
        assert _rows(db, "SELECT count(*) FROM llm_cache")[0][0] > 0
        second = run_scenario(scenario, db=db, executor=ray_backend_factory)
        assert server.count == played  # zero HTTP requests
    assert second.run_id != first.run_id
    hits = _rows(
        db,
        f"SELECT cache_hit FROM llm_calls x JOIN episodes e ON e.id = x.episode_id "
        f"WHERE e.run_id = {second.run_id}",
    )
    assert len(hits) == 12 and all(hit for (hit,) in hits)


def test_a_stop_request_ends_the_ray_run_with_every_episode_closed(
    tmp_path: Path, ray_backend_factory: ExecutorFactory
) -> None:
    """SIGINT after the first episode: the workers end theirs at the next turn, nothing is left running,
    and what was played is stored (the complete episodes whole, the others interrupted)."""
    db = tmp_path / "ray.db"

    def interrupt(*_: Any) -> None:
        os.kill(os.getpid(), signal.SIGINT)

    with TestServer("first_option", latency=0.05) as server:
        data = yaml.safe_load(_llm(tmp_path, server, episodes=6, cache="off").read_text())
        data["params"]["rounds"] = 20
        scenario = _scenario(tmp_path, "long", **{k: v for k, v in data.items() if k != "name"})
        with pytest.raises(RunInterrupted):
            run_scenario(scenario, db=db, on_episode=interrupt, executor=ray_backend_factory)
    statuses = dict(_rows(db, "SELECT status, count(*) FROM episodes GROUP BY status"))
    assert statuses.get("complete", 0) >= 1 and statuses.get("interrupted", 0) >= 1
    assert set(statuses) <= {"complete", "interrupted", "not_run"} and sum(statuses.values()) == 6
    assert _rows(db, "SELECT status FROM runs") == [("interrupted",)]
    turns = _rows(db, "SELECT turns FROM episodes WHERE status = 'interrupted'")
    assert all(t < 20 for (t,) in turns)  # stopped early, not played to the end


def test_episodes_stuck_past_the_stop_grace_are_cancelled_and_stored_interrupted(
    tmp_path: Path, ray_backend_factory: ExecutorFactory
) -> None:
    """Every request hangs; SIGINT, then 0.5 s of grace: the tasks are cancelled, the episodes handed
    over as interrupted (cancelled in flight) and the run ends long before the hang would."""
    db = tmp_path / "ray.db"
    with TestServer("first_option", faults=["hang"] * 4, hang_seconds=60) as server:
        data = yaml.safe_load(_llm(tmp_path, server, episodes=2, cache="off", max_parallel=3).read_text())
        data["engine"] = {"stop_grace": 0.5}
        scenario = _scenario(tmp_path, "stuck", **{k: v for k, v in data.items() if k != "name"})
        timer = threading.Timer(4.0, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        started = time.perf_counter()
        try:
            with pytest.raises(RunInterrupted):
                run_scenario(scenario, db=db, executor=ray_backend_factory)
        finally:
            timer.cancel()
        assert time.perf_counter() - started < 20
    rows = _rows(db, "SELECT status, error FROM episodes")
    assert [status for status, _ in rows] == ["interrupted", "interrupted"]
    assert all("cancelled in flight" in error for _, error in rows)
