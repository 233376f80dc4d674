"""Orderly shutdown: a dead writer, repeated signals, hung LLM requests and failing providers all end
with a truthful final status for the run and every episode, and one clear line from ``sim run``."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from sim_cli import ROOT, run_sim, sim_command, sim_env

from sim.llm.testserver import TestServer
from sim.runner import run_scenario
from sim.scenario import validate_scenario
from sim.shutdown import FailurePolicy, RunFailed, closing_line
from sim.signals import StopOnSignal
from sim.store.engine import open_engine
from sim.store.writer import StoreWriter

FINAL = {"complete", "failed", "interrupted", "not_run"}


def _rows(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def _statuses(db: Path) -> list[str]:
    return [s for (s,) in _rows(db, 'SELECT status FROM episodes ORDER BY "index"')]


def _assert_closed(db: Path, run_status: str) -> list[str]:
    """The store is sound, the run has ``run_status`` and every episode a final status; returns them."""
    assert _rows(db, "PRAGMA integrity_check") == [("ok",)]
    assert _rows(db, "SELECT status FROM runs") == [(run_status,)]
    assert _rows(db, "SELECT count(*) FROM runs WHERE finished_at IS NULL") == [(0,)]
    statuses = _statuses(db)
    assert set(statuses) <= FINAL, statuses
    return statuses


# a real `sim run` in a subprocess ------------------------------------------------------------------
def _bot_run(path: Path, db: Path, rounds: int = 20000) -> subprocess.Popen[str]:
    """``sim run`` on the demo round robin (21 episodes, written to ``path``), long enough to be
    stopped mid-way."""
    scenario = yaml.safe_load((ROOT / "worlds/repeated/scenarios/demo.yaml").read_text())
    scenario["params"]["rounds"] = rounds
    scenario["engine"] = {"flush_rows": 500, "flush_seconds": 0.05}
    path.write_text(yaml.safe_dump(scenario))
    return _start(path, db)


def _start(path: Path, db: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*sim_command(), "run", str(path), "--db", str(db), "--quiet", *extra],
        cwd=ROOT,
        env=sim_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(condition: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except sqlite3.Error:
            pass
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def _episodes_with(db: Path, status: str) -> int:
    return (
        int(_rows(db, "SELECT count(*) FROM episodes WHERE status = ?", status)[0][0]) if db.exists() else 0
    )


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def _stderr_line(proc: subprocess.Popen[str], code: int, timeout: float = 60) -> str:
    _, err = proc.communicate(timeout=timeout)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_a_dead_writer_process_fails_the_run_with_one_line_and_closes_every_episode(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    proc = _bot_run(tmp_path / "long.yaml", db)
    try:
        _wait_for(lambda: _episodes_with(db, "complete") >= 1 and _episodes_with(db, "running") == 1)
        (writer,) = _children(proc.pid)
        os.kill(writer, signal.SIGKILL)
        line = _stderr_line(proc, 1)
    finally:
        proc.kill() if proc.poll() is None else None
    assert line.startswith("run 1 failed: ") and "not run" in line, line
    assert "WriterError: the writer process of" in line and "(killed by SIGKILL)" in line, line
    statuses = _assert_closed(db, "failed")
    assert statuses.count("failed") == 1, "the episode being played when the writer died"
    assert statuses.count("not_run") >= 1 and "interrupted" not in statuses
    assert statuses.index("failed") == statuses.count("complete"), "complete ones first, then the failed one"
    (error,) = _rows(db, "SELECT error FROM episodes WHERE status = 'failed'")[0]
    assert "writer process" in error


def _two_signals(tmp_path: Path, trial: int) -> tuple[int, str, Path]:
    """Stop a bot run with two signals 50 to 200 ms apart (by ``trial``); returns its code, stderr, store."""
    db = tmp_path / f"s{trial}.db"
    first, second = (signal.SIGINT, signal.SIGTERM) if trial % 2 else (signal.SIGTERM, signal.SIGINT)
    proc = _bot_run(tmp_path / f"s{trial}.yaml", db)
    try:
        _wait_for(lambda: _episodes_with(db, "running") + _episodes_with(db, "complete") >= 1)
        proc.send_signal(first)
        time.sleep(0.05 + 0.15 * trial / 9)
        proc.send_signal(second)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill() if proc.poll() is None else None
    return proc.returncode, err, db


@pytest.mark.slow
def test_two_signals_50_to_200_ms_apart_always_end_the_run_interrupted(tmp_path: Path) -> None:
    with ThreadPoolExecutor(3) as pool:  # the trials mostly wait: three at a time
        trials = list(pool.map(lambda trial: _two_signals(tmp_path, trial), range(10)))
    for trial, (code, err, db) in enumerate(trials):
        assert code == 130 and "Traceback" not in err, (trial, code, err)
        assert err.strip().startswith("run 1 interrupted: ") and len(err.strip().splitlines()) == 1, err
        statuses = _assert_closed(db, "interrupted")
        assert "not_run" in statuses and "failed" not in statuses, (trial, statuses)


@pytest.mark.slow
@pytest.mark.parametrize(("signals", "within"), [(1, 5.0), (2, 1.9)], ids=["one", "two"])
def test_sigterm_while_an_llm_request_hangs_closes_the_run_in_seconds(
    tmp_path: Path, signals: int, within: float
) -> None:
    """One SIGTERM: cancelled after the 2 s grace; a second one cancels at once."""
    db = tmp_path / "h.db"
    with TestServer("first_option", latency=120) as server:
        path = tmp_path / "hang.yaml"
        model = {"model": "openai/stub", "api_base": server.openai_base, "timeout": 120, "retries": 0}
        data = _llm_scenario(tmp_path, model, episodes=3, rounds=2) | {"engine": {"action_timeout": 300}}
        path.write_text(yaml.safe_dump(data))
        proc = _start(path, db)
        try:
            _wait_for(lambda: server.count >= 1)
            time.sleep(0.3)
            signalled = time.monotonic()
            for _ in range(signals):
                proc.send_signal(signal.SIGTERM)
                time.sleep(0.1)
            line = _stderr_line(proc, 130, timeout=30)
            took = time.monotonic() - signalled
        finally:
            proc.kill() if proc.poll() is None else None
    assert took < within, f"the process ended {took:.1f} s after SIGTERM"
    assert line.startswith(
        "run 1 interrupted: 0 complete, 1 interrupted, 2 not run; first cause: signal SIGTERM"
    )
    assert _assert_closed(db, "interrupted") == ["interrupted", "not_run", "not_run"]
    (error,) = _rows(db, "SELECT error FROM episodes WHERE status = 'interrupted'")[0]
    assert "cancelled in flight" in error


# provider failures, in process, over real HTTP to the test server ------------------------------------
@pytest.fixture
def server() -> Iterator[TestServer]:
    with TestServer("first_option") as srv:
        yield srv


def _llm_scenario(tmp_path: Path, model: dict[str, Any], episodes: int, rounds: int = 1) -> dict[str, Any]:
    return {
        "name": "faults",
        "world": "matrix/repeated-v1",
        "params": {"game": "akata_prisoners_dilemma", "rounds": rounds},
        "seats": [{"agent": "llm", "config": {"model": model}}, {"agent": "tit_for_tat"}],
        "episodes": episodes,
        "seed": 5,
        "db": str(tmp_path / "f.db"),
    }


def _run_with_faults(
    tmp_path: Path, server: TestServer, faults: list[str | None], episodes: int, **engine: Any
) -> RunFailed | None:
    """Play ``episodes`` one-round episodes (one request each; two for a failing one, retries=1)."""
    server.set_faults(faults)
    model = {"model": "openai/stub", "api_base": server.openai_base, "retries": 1, "backoff": 0.0}
    data = _llm_scenario(tmp_path, model, episodes) | {"engine": engine}
    try:
        run_scenario(validate_scenario(data, "faults.yaml"))
    except RunFailed as exc:
        return exc
    return None


def test_a_provider_failure_fails_its_episode_and_the_others_complete(
    tmp_path: Path, server: TestServer
) -> None:
    failed = _run_with_faults(tmp_path, server, [None, "500", "500", None, "503", "503"], episodes=4)
    assert failed is not None and failed.status == "complete"
    assert failed.summary is not None and len(failed.summary.episodes) == 2
    assert failed.cause.startswith("episode 2 (llm vs tit_for_tat): LLMUnavailable: openai/stub: ")
    db = tmp_path / "f.db"
    assert _assert_closed(db, "complete") == ["complete", "failed", "complete", "failed"]
    errors = [e for (e,) in _rows(db, "SELECT error FROM episodes WHERE status = 'failed' ORDER BY id")]
    assert [e.split(" after ")[0] for e in errors] == [
        "LLMUnavailable: openai/stub: InternalServerError",
        "LLMUnavailable: openai/stub: ServiceUnavailableError",
    ]
    assert server.count == 1 + 2 + 1 + 2


def test_fail_fast_stops_the_run_at_the_first_failed_episode(tmp_path: Path, server: TestServer) -> None:
    failed = _run_with_faults(tmp_path, server, [None, "500", "500"], episodes=4, fail_fast=True)
    assert failed is not None and failed.status == "failed" and failed.summary is None
    assert failed.cause.startswith("episode 2 (llm vs tit_for_tat): LLMUnavailable: ")
    assert failed.cause.endswith("(engine.fail_fast)")
    assert _assert_closed(tmp_path / "f.db", "failed") == ["complete", "failed", "not_run", "not_run"]
    assert server.count == 3


def test_the_circuit_breaker_stops_scheduling_after_consecutive_failures(
    tmp_path: Path, server: TestServer
) -> None:
    faults = ["500", "500", None, "500", "500", "500", "500"]  # fail, complete (resets), fail, fail: trip
    failed = _run_with_faults(tmp_path, server, faults, episodes=6, max_consecutive_failures=2)
    assert failed is not None and failed.status == "failed"
    assert failed.cause.startswith("2 episodes failed in a row (engine.max_consecutive_failures); first: ")
    assert "first: episode 1 (llm vs tit_for_tat): LLMUnavailable" in failed.cause, "the run's first failure"
    statuses = _assert_closed(tmp_path / "f.db", "failed")
    assert statuses == ["failed", "complete", "failed", "failed", "not_run", "not_run"]
    assert server.count == 7, "no request after the breaker tripped"


@pytest.mark.slow
def test_sim_run_names_the_first_cause_and_the_counts_in_one_line(tmp_path: Path, server: TestServer) -> None:
    server.set_faults(["500", "500"])
    model = {"model": "openai/stub", "api_base": server.openai_base, "retries": 1, "backoff": 0.0}
    path = tmp_path / "cli.yaml"
    path.write_text(yaml.safe_dump(_llm_scenario(tmp_path, model, episodes=3)))
    result = run_sim("run", path, "--db", tmp_path / "cli.db")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(
        "run 1 complete: 2 complete, 1 failed; first cause: episode 1 (llm vs tit_for_tat): "
    )
    assert "LLMUnavailable: openai/stub: InternalServerError after 1 retries" in line
    assert "Stored run 1 (2 episodes)" in result.stdout, "the complete episodes are still reported"
    server.set_faults(["500"] * 4)
    result = run_sim("run", path, "--db", tmp_path / "cli2.db", "--set", "engine.max_consecutive_failures=2")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("run 1 failed: 0 complete, 2 failed, 1 not run; first cause: 2 episodes failed in")


# the pieces -----------------------------------------------------------------------------------------
def test_the_writer_fallback_closes_the_run_through_a_direct_connection(tmp_path: Path) -> None:
    for status, expected in (("failed", "failed"), ("complete", "failed"), ("interrupted", "interrupted")):
        db = tmp_path / f"{status}.db"
        writer = StoreWriter(open_engine(db))
        run_id = writer.begin_run(name="x", path=None, scenario={}, world_id="w", seed=1, version="0")
        episode: dict[str, Any] = {"index": 0, "matchup": "a vs b", "world_id": "w", "params": {}, "seed": 1}
        ids = writer.reserve_episodes(run_id, [{**episode, "index": i} for i in range(3)])
        writer.begin_episode(episode_id=ids[0], run_id=run_id, seats=[], **episode)
        writer.sync()  # committed: episode 0 is running
        writer.begin_episode(episode_id=ids[1], run_id=run_id, seats=[], **{**episode, "index": 1})
        writer.commit()  # handed over: the writer may or may not have committed it before the kill
        assert writer._process is not None
        writer._process.kill()
        writer._process.wait()
        assert writer.finish_run(run_id, status) == expected
        assert writer.failure is not None and "killed by SIGKILL" in str(writer.failure)
        left = "interrupted" if expected == "interrupted" else "failed"
        first, second, third = _assert_closed(db, expected)
        assert (first, third) == (left, "not_run")
        assert second in (left, "not_run")  # running if its batch was committed, else still pending
        assert "writer process" in _rows(db, "SELECT error FROM episodes WHERE id = ?", ids[0])[0][0]


def test_a_second_signal_never_raises_it_makes_the_stop_urgent() -> None:
    with StopOnSignal() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.is_set() and stop.reason == "signal SIGINT" and not stop.urgent
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.urgent and stop.reason == "signal SIGINT" and not stop.failure
        stop.request("too late", failure=True)
        assert stop.reason == "signal SIGINT" and not stop.failure, "the first request is kept"


def test_the_failure_policy_and_the_closing_line() -> None:
    policy = FailurePolicy(max_consecutive=3)
    assert policy.observe("failed", "episode 1", "E: one") is None
    assert policy.observe("interrupted", "episode 2", "stop") is None
    assert policy.observe("complete", "episode 3", None) is None
    assert policy.observe("failed", "episode 4", "E: four") is None
    assert policy.observe("failed", "episode 5", "E: five") is None
    assert policy.observe("failed", "episode 6", "E: six") == (
        "3 episodes failed in a row (engine.max_consecutive_failures); first: episode 1: E: one"
    )
    assert FailurePolicy(max_consecutive=0).observe("failed", "e", "x") is None
    counts = {"complete": 2, "failed": 1, "not_run": 4}
    line = closing_line(3, "failed", counts, "boom at http://user:hunter2@host/v1\nsecond line")
    assert line == (
        "run 3 failed: 2 complete, 1 failed, 4 not run; first cause: boom at http://***@host/v1 second line"
    )


def test_a_stop_cancels_parallel_hung_requests_after_the_grace_period(tmp_path: Path) -> None:
    import asyncio

    from sim.engine import Interrupted
    from sim.executor import CANCELLED, LocalExecutor
    from sim.shutdown import play_until_stopped
    from sim.signals import StopRequest

    class Collect:
        def __init__(self) -> None:
            self.records: list[Any] = []

        def started(self, job: Any) -> None:
            return None

        def finished(self, record: Any) -> None:
            self.records.append(record)

    with TestServer("first_option", latency=60) as server:
        model = {"model": "openai/stub", "api_base": server.openai_base, "timeout": 60, "retries": 0}
        jobs = validate_scenario(_llm_scenario(tmp_path, model, episodes=3), "hang.yaml").jobs(run_id=1)
        stop = StopRequest()
        collect = Collect()

        async def main() -> tuple[str, float]:
            async def stop_when_both_hang() -> float:
                while server.count < 2:
                    await asyncio.sleep(0.02)
                stop.request("test stop")
                return time.monotonic()

            stopping = asyncio.create_task(stop_when_both_hang())
            try:  # an Interrupted (a KeyboardInterrupt) must not leave this task: asyncio re-raises those
                await play_until_stopped(LocalExecutor(parallel=2, stop=stop).run(jobs, collect), stop, 0.3)
            except Interrupted as exc:
                return str(exc), time.monotonic() - await stopping
            raise AssertionError("not interrupted")

        why, took = asyncio.run(main())
    assert why == "in-flight work cancelled after test stop"
    assert 0.3 <= took < 2.0
    assert [(r.status, r.error) for r in collect.records] == [("interrupted", CANCELLED)] * 2
