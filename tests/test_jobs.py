"""Episode jobs, records and executors: picklable jobs and records, play_job without a store, the local
executor's stop and failure rules, and the driver writing records (streamed or not) exactly once."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import multiprocessing
import pickle
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from sim.engine import Interrupted
from sim.executor import LocalExecutor
from sim.jobs import EpisodeJob, SeatConfig
from sim.llm.cache import ResponseCache
from sim.llm.testserver import TestServer
from sim.play import play_job, play_job_here, stored_params, world_params
from sim.records import EpisodeRecord, EpisodeStream
from sim.runner import run_scenario
from sim.scenario import LoadedScenario, load_scenario, validate_scenario
from sim.store.reader import StoreReader
from sim.types import Event, to_jsonable

ROOT = Path(__file__).parent.parent
SCENARIOS = sorted([*ROOT.glob("worlds/*/scenarios/*.yaml"), *ROOT.glob("tests/golden/*.yaml")])


def _tournament(db: Path) -> LoadedScenario:
    data = {
        "name": "jobs",
        "world": "matrix/repeated-v1",
        "params": {"game": "prisoners_dilemma", "rounds": 6, "noise": 0.1},
        "tournament": {
            "pool": [{"agent": "tit_for_tat", "label": "tft"}, {"agent": "random"}, {"agent": "grudger"}],
            "repetitions": 2,
        },
        "seed": 5,
        "db": str(db),
    }
    return validate_scenario(data, "jobs.yaml")


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def _events(record: EpisodeRecord) -> list[Any]:
    return to_jsonable(record.events)


# jobs ---------------------------------------------------------------------------------------------
def test_jobs_round_trip_through_pickle_and_have_stable_distinct_keys(tmp_path: Path) -> None:
    loaded = _tournament(tmp_path / "t.db")
    jobs = loaded.jobs(run_id=7)
    assert len(jobs) == 6 * 2 and [j.index for j in jobs] == list(range(12))
    assert [j.key for j in jobs] == [f"7/{i}" for i in range(12)]
    assert pickle.loads(pickle.dumps(jobs)) == jobs
    again = _tournament(tmp_path / "t.db").jobs(run_id=7)
    assert again == jobs and {j.key for j in again} == {j.key for j in jobs}
    assert loaded.jobs()[0].key == "-/0"
    first = jobs[0]
    assert (first.world, first.world_id, first.matchup) == ("matrix/repeated-v1",) * 2 + ("tft vs tft",)
    assert [(s.agent, s.label, s.role) for s in first.seats] == [("tit_for_tat", "tft", "player")] * 2
    assert [p.matchup for p in loaded.plans] == [j.matchup for j in jobs]
    assert len({j.seed for j in jobs}) == len(jobs)
    with pytest.raises(AttributeError):
        first.seed = 1  # type: ignore[misc]


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_job_params_validate_back_to_the_scenario_params(path: Path) -> None:
    loaded = load_scenario(path)
    job = loaded.jobs()[0]
    assert world_params(job) == loaded.params
    assert world_params(job).model_fields_set == loaded.params.model_fields_set
    assert stored_params(job) == to_jsonable(loaded.params.model_dump(mode="json"))
    assert json.loads(json.dumps(job.params)) == job.params


# play_job and records -------------------------------------------------------------------------------
def test_play_job_gives_the_record_run_scenario_stores(tmp_path: Path) -> None:
    loaded = _tournament(tmp_path / "t.db")
    summary = run_scenario(loaded)
    reader = StoreReader(summary.db)
    for job, result in summary.episodes:
        record = asyncio.run(play_job(job))
        assert record.status == "complete" and not record.streamed and record.error is None
        assert record.result is not None and result.episode_id is not None
        stored = list(reader.event_objects(result.episode_id))
        assert _events(record) == to_jsonable(stored)
        assert (record.turns, record.result.returns, dict(record.result.outcome)) == (
            result.turns,
            result.returns,
            dict(result.outcome),
        )
        assert record.metrics == result.metrics
        series = reader.turn_metrics(result.episode_id)
        assert len(series) == sum(len(turns) for _, _, turns, _ in record.series) > 0


def test_records_and_jobs_cross_a_process_boundary_intact() -> None:
    """The seam a Ray or process-pool backend uses: jobs pickled to a worker, records pickled back."""
    data = {
        "name": "avalon",
        "world": "social/avalon-v1",
        "params": {"roles": ["merlin", "servant", "servant", "morgana", "assassin"]},
        "seats": [{"agent": "avalon_naive"}] * 5,
        "episodes": 2,
        "seed": 3,
    }
    jobs = validate_scenario(data, "a.yaml").jobs(run_id=1)
    here = [play_job_here(job) for job in jobs]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        there = list(pool.map(play_job_here, jobs))
    for local, remote in zip(here, there, strict=True):
        assert remote.job == local.job and remote.status == local.status == "complete"
        assert _events(remote) == _events(local) and len(local.events) > 20
        assert remote.result is not None and local.result is not None
        assert remote.result.returns == local.result.returns
        assert remote.result.outcome == local.result.outcome
        assert remote.metrics == local.metrics and remote.series == local.series
        assert pickle.loads(pickle.dumps(local)).events == local.events


def test_a_failing_job_returns_a_partial_record_with_its_error() -> None:
    data = {
        "name": "crash",
        "world": "matrix/repeated-v1",
        "params": {"rounds": 10},
        "seats": [{"agent": "engine_agents:Crasher", "config": {"at_turn": 4}}, {"agent": "defector"}],
    }
    (job,) = validate_scenario(data, "c.yaml").jobs()
    record = pickle.loads(pickle.dumps(play_job_here(job)))
    assert (record.status, record.error, record.result) == ("failed", "RuntimeError: agent exploded", None)
    assert record.turns == 3 and [e.kind for e in record.events].count("round") == 3
    with pytest.raises(RuntimeError, match="agent exploded"):
        asyncio.run(play_job(job))


# the LLM call rows ---------------------------------------------------------------------------------
@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[TestServer]:
    monkeypatch.setenv("SIM_TEST_KEY", "sk-test-not-a-secret")
    with TestServer("first_option") as srv:
        yield srv


def _llm_scenario(server: TestServer, db: Path, episodes: int = 2) -> LoadedScenario:
    model = {"model": "openai/stub", "api_base": server.openai_base, "api_key_env": "SIM_TEST_KEY"}
    data = {
        "name": "llm",
        "world": "matrix/repeated-v1",
        "params": {"game": "akata_prisoners_dilemma", "rounds": 3},
        "seats": [{"agent": "llm", "config": {"model": model}}, {"agent": "tit_for_tat"}],
        "episodes": episodes,
        "seed": 2,
        "db": str(db),
    }
    return validate_scenario(data, "llm.yaml")


def test_a_record_holds_its_episodes_llm_call_rows(tmp_path: Path, server: TestServer) -> None:
    (job, _) = _llm_scenario(server, tmp_path / "x.db").jobs()
    record = asyncio.run(play_job(job))
    assert server.count == 3
    assert [(r["purpose"], r["player_id"], r["turn"], r["valid"]) for r in record.llm_calls] == [
        ("repeated.act", "p0", t, True) for t in (1, 2, 3)
    ]
    assert all(r["episode_id"] is None and r["created_at"] is not None for r in record.llm_calls)
    assert pickle.loads(pickle.dumps(record)).llm_calls == record.llm_calls


def _store_rows(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Everything a run stored, without ids and times."""
    return {
        "episodes": _rows(
            db, 'SELECT "index", matchup, world_id, params, seed, status, turns, outcome FROM episodes'
        ),
        "seats": _rows(db, "SELECT player_id, agent, label, config, score, invalid_actions FROM seats"),
        "events": _rows(db, "SELECT seq, turn, phase, kind, actor, visible_to, payload FROM events"),
        "metrics": _rows(db, "SELECT player_id, name, value FROM metrics"),
        "turn_metrics": _rows(db, 'SELECT player_id, name, turns, "values" FROM turn_metrics'),
        "llm_calls": _rows(
            db,
            'SELECT p."index", l.player_id, l.turn, l.purpose, l.messages, l.response, l.valid, l.cache_hit '
            'FROM llm_calls l JOIN episodes p ON p.id = l.episode_id ORDER BY p."index", l.turn',
        ),
    }


def test_streamed_and_unstreamed_records_store_the_same_rows_once(tmp_path: Path, server: TestServer) -> None:
    def unstreamed(cache: ResponseCache, stop: threading.Event) -> LocalExecutor:
        return LocalExecutor(stop=stop, stream=False)  # no cache: it asks the server again

    live = run_scenario(_llm_scenario(server, tmp_path / "live.db"))
    later = run_scenario(_llm_scenario(server, tmp_path / "later.db"), executor=unstreamed)
    assert server.count == 2 * 3 * 2
    assert _store_rows(live.db) == _store_rows(later.db)
    calls = _rows(live.db, "SELECT episode_id, count(*) FROM llm_calls GROUP BY episode_id")
    assert calls == [(result.episode_id, 3) for _, result in live.episodes]
    assert {key: (u.calls, u.cached) for key, u in live.llm_usage.items()} == {
        (result.episode_id, "p0"): (3, 0) for _, result in live.episodes
    }
    rerun = run_scenario(_llm_scenario(server, tmp_path / "live.db"))
    assert server.count == 12, "the re-run is answered from the cache"
    assert {u.cached for u in rerun.llm_usage.values()} == {3}


# the local executor without a store ----------------------------------------------------------------
class _Collect:
    """An episode handler that keeps records in memory (no store anywhere)."""

    def __init__(self) -> None:
        self.begun: list[str] = []
        self.records: list[EpisodeRecord] = []
        self.live: list[Event] = []

    def started(self, job: EpisodeJob) -> EpisodeStream:
        self.begun.append(job.key)
        return EpisodeStream(self.live.extend, lambda row: None)

    def finished(self, record: EpisodeRecord) -> None:
        self.records.append(record)


def _crash_jobs(crash_at: int | None, episodes: int = 3, interrupt: bool = False) -> list[EpisodeJob]:
    crasher = {
        "agent": "engine_agents:Crasher",
        "config": {"at_turn": crash_at or 99, "interrupt": interrupt},
    }
    data = {
        "name": "x",
        "world": "matrix/repeated-v1",
        "params": {"rounds": 8},
        "seats": [crasher if crash_at else {"agent": "cooperator"}, {"agent": "defector"}],
        "episodes": episodes,
    }
    return validate_scenario(data, "x.yaml").jobs(run_id=1)


def test_the_local_executor_plays_jobs_into_a_handler_and_streams_events() -> None:
    collect = _Collect()
    jobs = _crash_jobs(None)
    asyncio.run(LocalExecutor(parallel=2).run(jobs, collect))
    assert sorted(collect.begun) == sorted(r.job.key for r in collect.records) == [j.key for j in jobs]
    assert all(r.status == "complete" and r.streamed and r.events == [] for r in collect.records)
    assert [e.kind for e in collect.live].count("round") == 3 * 8


def test_a_failing_episode_is_handed_over_and_the_others_play_on() -> None:
    collect = _Collect()
    asyncio.run(LocalExecutor().run(_crash_jobs(3), collect))  # no exception: the handler decides
    assert collect.begun == ["1/0", "1/1", "1/2"]
    assert {(r.status, r.turns, r.error) for r in collect.records} == {
        ("failed", 2, "RuntimeError: agent exploded")
    }


def test_a_handler_that_sets_the_stop_keeps_later_jobs_from_starting() -> None:
    executor = LocalExecutor()

    class Halting(_Collect):
        def finished(self, record: EpisodeRecord) -> None:
            super().finished(record)
            executor.stop.set()  # what the driver does under engine.fail_fast

    collect = Halting()
    with pytest.raises(Interrupted):
        asyncio.run(executor.run(_crash_jobs(3), collect))
    assert collect.begun == ["1/0"] and [r.status for r in collect.records] == ["failed"]


def test_a_failing_parallel_episode_leaves_the_others_and_a_stop_request_is_an_interrupt() -> None:
    data = {
        "name": "x",
        "world": "matrix/repeated-v1",
        "params": {"rounds": 8},
        "seats": [{"agent": "engine_agents:Yielder"}, {"agent": "defector"}],
        "episodes": 3,
    }
    jobs = validate_scenario(data, "x.yaml").jobs(run_id=1)
    crasher = SeatConfig("engine_agents:Crasher", "crasher", "player", {"at_turn": 3})
    jobs[1] = dataclasses.replace(jobs[1], seats=(crasher, jobs[1].seats[0]))
    collect = _Collect()
    executor = LocalExecutor(parallel=3)
    asyncio.run(executor.run(jobs, collect))
    assert not executor.stop.is_set()
    ended = {r.job.key: (r.status, r.turns) for r in collect.records}
    assert ended == {"1/0": ("complete", 8), "1/1": ("failed", 2), "1/2": ("complete", 8)}
    stopped = threading.Event()
    stopped.set()
    collect = _Collect()
    with pytest.raises(Interrupted):
        asyncio.run(LocalExecutor(stop=stopped).run(_crash_jobs(None), collect))
    assert collect.records == [] and collect.begun == []
    collect = _Collect()
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C inside an agent
        asyncio.run(LocalExecutor().run(_crash_jobs(5, interrupt=True), collect))
    assert [(r.status, r.turns) for r in collect.records] == [("interrupted", 4)]


# module boundaries -------------------------------------------------------------------------------
def test_the_engine_and_executor_import_neither_the_scenario_layer_nor_the_store() -> None:
    code = (
        "import sys, sim.engine, sim.executor, sim.play\n"
        "bad = [m for m in sys.modules if m == 'sim.scenario' or m.startswith('sim.store')]\n"
        "assert not bad, bad\n"
        "from sim.scenario import EngineSettings\n"
        "from sim.settings import EngineSettings as Moved\n"
        "assert EngineSettings is Moved\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
