"""Resumable runs: ``sim run --resume`` after a kill -9 plays every planned episode exactly once, with
the results of an uninterrupted run; a re-run without a flag asks for ``--resume`` or ``--new-run``."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from sim_cli import ROOT, run_sim, sim_command, sim_env

from sim.jobs import EpisodeJob, SeatConfig, run_fingerprint
from sim.scenario import load_scenario
from sim.settings import EngineSettings
from sim.store.liveness import effective_status

EPISODES = 30
SCENARIO = {
    "name": "resume-probe",
    "world": "matrix/repeated-v1",
    "params": {"game": "prisoners_dilemma", "rounds": 600},
    "engine": {"flush_seconds": 0.02},  # commit often, so that a poll sees the run progress
    "seats": [{"agent": "random"}, {"agent": "tit_for_tat"}],
    "episodes": EPISODES,
    "seed": 11,
    "db": "runs/unused.db",
}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("resume") / "probe.yaml"
    path.write_text(yaml.safe_dump(SCENARIO), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference(scenario: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[int, Any], str]:
    """An uninterrupted run: every episode's stored results by index, and the closing table."""
    db = tmp_path_factory.mktemp("reference") / "ref.db"
    result = run_sim("run", scenario, "--db", db, "--quiet")
    assert result.returncode == 0, result.stderr
    return _episodes(db), _table(result.stdout)


# helpers --------------------------------------------------------------------------------------
def _query(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _episodes(db: Path) -> dict[int, Any]:
    """Each episode's status, turns, outcome, seats and full event log, by index (ids left out)."""
    out = {}
    for episode_id, index, status, turns, outcome in _query(
        db, 'SELECT id, "index", status, turns, outcome FROM episodes ORDER BY "index"'
    ):
        seats = _query(
            db,
            "SELECT player_id, score, invalid_actions FROM seats WHERE episode_id = ? ORDER BY 1",
            (episode_id,),
        )
        events = _query(
            db,
            "SELECT seq, turn, phase, kind, actor, visible_to, payload FROM events"
            " WHERE episode_id = ? ORDER BY seq",
            (episode_id,),
        )
        metrics = _query(
            db, "SELECT player_id, name, value FROM metrics WHERE episode_id = ? ORDER BY id", (episode_id,)
        )
        out[index] = (status, turns, outcome, seats, events, metrics)
    return out


def _table(stdout: str) -> str:
    """The closing summary table (the lines before ``Stored run``)."""
    return stdout.split("Stored run")[0].strip()


def _complete(db: Path) -> int:
    try:
        return _query(db, "SELECT count(*) FROM episodes WHERE status = 'complete'")[0][0]
    except sqlite3.Error:
        return -1  # not created yet


def _kill_when(scenario: Path, db: Path, ready: Callable[[Path], bool]) -> None:
    """Start a real ``sim run``, poll its store until ``ready``, then SIGKILL it."""
    process = subprocess.Popen(
        [*sim_command(), "run", str(scenario), "--db", str(db), "--quiet"],
        env=sim_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not ready(db):
            assert process.poll() is None, "the run ended before the kill point"
            assert time.monotonic() < deadline, "the kill point was never reached"
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)


def _kill_at(scenario: Path, db: Path, point: str) -> None:
    """Run the real driver in a subprocess that SIGKILLs itself at ``point`` (tests/resume_kill.py)."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "resume_kill.py"), str(scenario), str(db), point],
        env=sim_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr


def _run_row(db: Path) -> tuple[Any, ...]:
    rows = _query(db, "SELECT id, status, pid, host, heartbeat_at, finished_at FROM runs")
    assert len(rows) == 1, rows
    return rows[0]


def _files(db: Path) -> dict[str, str]:
    """sha256 of the store's file and its WAL (what a refused re-run must leave alone; an empty WAL,
    which a read-only connection may create, holds nothing)."""
    paths = [db, db.with_name(db.name + "-wal")]
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.exists() and p.stat().st_size
    }


def _assert_killed_then_resumed(scenario: Path, db: Path, reference: tuple[dict[int, Any], str]) -> None:
    """The killed run shows as dead, a plain re-run is refused and touches nothing, and ``--resume``
    completes it: every planned episode once, as in the uninterrupted run, the same closing table."""
    run_id, status, pid, host, heartbeat_at, _ = _run_row(db)
    assert effective_status(status, pid, host, heartbeat_at) == "dead"
    before = _files(db)
    again = run_sim("run", scenario, "--db", db, "--quiet")
    assert again.returncode == 2, again.stdout + again.stderr
    lines = again.stderr.strip().splitlines()
    assert len(lines) == 1 and "--resume" in lines[0] and "--new-run" in lines[0], again.stderr
    assert "Traceback" not in again.stdout + again.stderr
    assert _files(db) == before, "a refused re-run must not touch the store"

    resumed = run_sim("run", scenario, "--db", db, "--resume", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert _query(db, "PRAGMA integrity_check") == [("ok",)]
    run_id2, status, pid, *_rest, finished_at = _run_row(db)
    assert (run_id2, status) == (run_id, "complete") and finished_at is not None
    duplicates = _query(db, 'SELECT run_id, "index" FROM episodes GROUP BY 1, 2 HAVING count(*) > 1')
    assert duplicates == []
    episodes, table = reference
    assert _episodes(db) == episodes  # every index once, complete, with the same outcome, scores and events
    counts = ("events", "seats", "metrics", "turn_metrics", "llm_calls")
    for name in counts:  # no partial leftovers of the killed attempts
        n = _query(db, f"SELECT count(*) FROM {name} WHERE episode_id NOT IN (SELECT id FROM episodes)")
        assert n == [(0,)], name
    assert _table(resumed.stdout) == table


# kill -9 then --resume ------------------------------------------------------------------------
@pytest.mark.slow
def test_resume_after_kill_before_any_episode_completes(
    scenario: Path, reference: tuple[dict[int, Any], str], tmp_path: Path
) -> None:
    db = tmp_path / "r.db"

    def started(db: Path) -> bool:
        try:
            return bool(_query(db, "SELECT count(*) FROM runs")[0][0])
        except sqlite3.Error:
            return False

    _kill_when(scenario, db, started)
    assert _complete(db) == 0
    _assert_killed_then_resumed(scenario, db, reference)


@pytest.mark.slow
def test_resume_after_kill_mid_run(
    scenario: Path, reference: tuple[dict[int, Any], str], tmp_path: Path
) -> None:
    db = tmp_path / "r.db"
    _kill_when(scenario, db, lambda db: _complete(db) >= EPISODES // 3)
    assert 0 < _complete(db) < EPISODES
    _assert_killed_then_resumed(scenario, db, reference)


@pytest.mark.slow
@pytest.mark.parametrize("point", ["last-episode", "evaluate"])
def test_resume_after_kill_at_the_end(
    point: str, scenario: Path, reference: tuple[dict[int, Any], str], tmp_path: Path
) -> None:
    db = tmp_path / "r.db"
    _kill_at(scenario, db, point)
    if point == "evaluate":
        assert _complete(db) == EPISODES  # only the run's close is missing
    _assert_killed_then_resumed(scenario, db, reference)


# flags -----------------------------------------------------------------------------------------
def _small(tmp_path: Path, **changes: Any) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump({**SCENARIO, "episodes": 2, "params": {"rounds": 3}, **changes}))
    return path


@pytest.mark.slow
def test_rerun_asks_for_a_flag_and_new_run_starts_another(tmp_path: Path) -> None:
    scenario, db = _small(tmp_path), tmp_path / "r.db"
    assert run_sim("run", scenario, "--db", db, "--quiet").returncode == 0
    refused = run_sim("run", scenario, "--db", db, "--quiet")
    assert refused.returncode == 2 and "--new-run" in refused.stderr
    assert run_sim("run", scenario, "--db", db, "--quiet", "--new-run").returncode == 0
    assert _query(db, "SELECT id, status FROM runs") == [(1, "complete"), (2, "complete")]
    # another plan (more episodes, another seed) is another run: no question asked
    assert run_sim("run", scenario, "--db", db, "--quiet", "--episodes", "3").returncode == 0
    both = run_sim("run", scenario, "--db", db, "--quiet", "--resume", "--new-run")
    assert both.returncode == 2
    assert len(_query(db, "SELECT id FROM runs")) == 3


def test_resume_of_a_complete_run_replays_nothing(tmp_path: Path) -> None:
    scenario, db = _small(tmp_path), tmp_path / "r.db"
    first = run_sim("run", scenario, "--db", db, "--quiet")
    events = _query(db, "SELECT count(*), max(id) FROM events")
    resumed = run_sim("run", scenario, "--db", db, "--quiet", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert _table(resumed.stdout) == _table(first.stdout)
    assert _query(db, "SELECT count(*), max(id) FROM events") == events
    assert _query(db, "SELECT id, status FROM runs") == [(1, "complete")]


def test_resume_without_a_run_starts_one_and_says_so(tmp_path: Path) -> None:
    scenario, db = _small(tmp_path), tmp_path / "r.db"
    result = run_sim("run", scenario, "--db", db, "--quiet", "--resume")
    assert result.returncode == 0, result.stderr
    assert "starting a new one" in result.stderr
    assert _query(db, "SELECT status, count(*) FROM episodes GROUP BY 1") == [("complete", 2)]


def test_resume_refuses_a_run_whose_process_is_alive(tmp_path: Path) -> None:
    scenario, db = _small(tmp_path), tmp_path / "r.db"
    assert run_sim("run", scenario, "--db", db, "--quiet").returncode == 0
    with sqlite3.connect(db) as conn:  # as if this (live) test process were still playing it
        conn.execute("UPDATE runs SET status = 'running', pid = ?, finished_at = NULL", (os.getpid(),))
    conn.close()
    before = _files(db)
    result = run_sim("run", scenario, "--db", db, "--quiet", "--resume")
    assert result.returncode == 2
    assert "still running" in result.stderr and "Traceback" not in result.stderr
    assert _files(db) == before


def test_the_api_starts_a_new_run_unless_asked_to_resume(tmp_path: Path) -> None:
    from sim.runner import run_scenario

    loaded, db = load_scenario(_small(tmp_path)), tmp_path / "r.db"
    first = run_scenario(loaded, db)
    second = run_scenario(loaded, db)
    again = run_scenario(loaded, db, resume=True)
    assert (first.run_id, second.run_id, again.run_id) == (1, 2, 2)
    assert [r.returns for _, r in again.episodes] == [r.returns for _, r in second.episodes]
    assert [r.episode_id for _, r in again.episodes] == [r.episode_id for _, r in second.episodes]
    keys = _query(db, 'SELECT DISTINCT key FROM episodes ORDER BY "index"')
    assert [k for (k,) in keys] == [job.plan_key for job in loaded.jobs()]
    fingerprints = _query(db, "SELECT DISTINCT fingerprint FROM runs")
    assert fingerprints == [(run_fingerprint(loaded.jobs()),)]


# plan keys and fingerprints ------------------------------------------------------------------
def _job(
    index: int = 0, seed: int = 1, config: dict[str, Any] | None = None, run_id: int | None = None
) -> EpisodeJob:
    seats = (
        SeatConfig("llm", "a", "player", config or {"model": "m"}),
        SeatConfig("random", "b", "player", {}),
    )
    return EpisodeJob(
        run_id,
        index,
        "matrix/repeated-v1",
        "matrix/repeated-v1",
        {"rounds": 3},
        seats,
        seed,
        "a vs b",
        EngineSettings(),
    )


def test_plan_key_follows_the_plan_not_the_run_or_rotated_secrets() -> None:
    key = _job().plan_key
    assert len(key) == 64 and key == _job(run_id=7).plan_key
    assert _job(index=1).plan_key != key and _job(seed=2).plan_key != key
    assert _job(config={"model": "other"}).plan_key != key
    secret = {
        "model": "m",
        "extra": {"extra_headers": {"Authorization": "Bearer s3cr3t-one"}, "api_token": "t1"},
    }
    rotated = {
        "model": "m",
        "extra": {"extra_headers": {"Authorization": "Bearer s3cr3t-two"}, "api_token": "t2"},
    }
    assert _job(config=secret).plan_key == _job(config=rotated).plan_key
    assert run_fingerprint([_job(0), _job(1)]) != run_fingerprint([_job(0)])
    assert run_fingerprint([_job(0), _job(1)]) == run_fingerprint([_job(0, run_id=3), _job(1, run_id=3)])


# heartbeat -------------------------------------------------------------------------------------
def test_the_driver_refreshes_the_heartbeat_while_it_plays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bot episodes never yield to the event loop: the driver beats as episodes start and end."""
    from sim.runner import run_scenario
    from sim.store import liveness

    monkeypatch.setattr(liveness, "HEARTBEAT_SECONDS", 0.05)
    db = tmp_path / "r.db"
    seen = []

    def on_episode(*_: Any) -> None:
        time.sleep(0.15)  # the writer process commits the beat meanwhile
        seen.append(_query(db, "SELECT heartbeat_at FROM runs")[0][0])

    run_scenario(load_scenario(_small(tmp_path, episodes=4)), db, on_episode)
    assert len(set(seen)) >= 3, seen


def test_the_heartbeat_task_beats_while_the_loop_waits(tmp_path: Path) -> None:
    """LLM episodes wait on the event loop: a background task beats meanwhile."""
    import asyncio

    from sim.heartbeat import Heartbeat
    from sim.store.engine import open_engine
    from sim.store.writer import StoreWriter

    db = tmp_path / "r.db"
    writer = StoreWriter(open_engine(db))
    run_id = writer.begin_run(name="n", path=None, scenario={}, world_id="w", seed=1, version="v")
    seen = []

    async def wait() -> None:
        async with Heartbeat(writer, run_id, every=0.05).running():
            for _ in range(6):
                await asyncio.sleep(0.1)
                writer.sync()
                seen.append(_query(db, "SELECT heartbeat_at FROM runs")[0][0])

    asyncio.run(wait())
    writer.close()
    assert len(set(seen)) >= 4, seen


def test_a_run_is_reopened_only_by_the_process_that_found_it(tmp_path: Path) -> None:
    """Two ``--resume`` at once: the second one's claim (the pid it saw) no longer holds."""
    from sim.store.engine import open_engine
    from sim.store.writer import StoreWriter

    writer = StoreWriter(open_engine(tmp_path / "r.db"))
    run_id = writer.begin_run(name="n", path=None, scenario={}, world_id="w", seed=1, version="v")
    assert not writer.reopen_run(run_id, os.getpid() + 1)
    assert writer.reopen_run(run_id, os.getpid())
    writer.close()
