"""Replay of deterministic matches (sim/tournament/replay.py): stored rows equal those of playing every
match, only one match per group is played, anything seeded is always played, stops and resume."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import threading
from pathlib import Path
from typing import Any, ClassVar

import pytest

import sim.executor
from agents.scripted.base import ScriptedAgent
from sim import registry
from sim.actions import sample
from sim.engine import Interrupted
from sim.executor import LocalExecutor
from sim.jobs import EpisodeJob, SeatConfig
from sim.play import agent_class, play_job, world_class, world_params
from sim.records import EpisodeRecord, EpisodeStream
from sim.scenario import ScenarioError
from sim.settings import EngineSettings
from sim.shutdown import RunFailed, RunInterrupted
from sim.tournament.replay import ReplayExecutor, replay_key
from sim.tournament.run import run_tournament
from sim.tournament.schedule import matches
from sim.tournament.spec import load_tournament
from sim.types import Action, Observation
from tests.tournament.helpers import repeated, write
from tests.tournament.run_helpers import stored_matches
from worlds.repeated.world import RepeatedGameWorld

REPEATED = RepeatedGameWorld.spec.id
#: Stored columns that hold times or the process, not the play.
_VOLATILE = {"pid", "heartbeat_at", "started_at", "finished_at", "created_at", "updated_at"}


BOTS = {
    "tft": {"agent": "tit_for_tat"},
    "wsls": {"agent": "win_stay_lose_shift"},
    "alt": {"agent": "alternator", "config": {"start": "D"}},
    "grudger": {"agent": "grudger"},
}


def bots(**extra: Any) -> dict[str, Any]:
    """A round robin of deterministic strategies with self-play and repetitions."""
    return repeated(**{"name": "bots", "params": {"rounds": 12}, "pool": BOTS, "repetitions": 3, **extra})


@pytest.fixture
def plays(monkeypatch: pytest.MonkeyPatch) -> list[EpisodeJob]:
    """Every job the local executor really plays, in order."""
    played: list[EpisodeJob] = []

    async def counting(job: EpisodeJob, **kwargs: Any) -> EpisodeRecord:
        played.append(job)
        return await play_job(job, **kwargs)

    monkeypatch.setattr(sim.executor, "play_job", counting)
    return played


def dump(db: Path, volatile: frozenset[str] = frozenset()) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows sorted, without time columns (nor the file's path and ``replay`` key) and
    the ``volatile`` ones."""
    conn = sqlite3.connect(db)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        out: dict[str, list[tuple[Any, ...]]] = {}
        for table in tables:
            columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
            kept = [c for c in columns if c not in _VOLATILE | volatile and not c.endswith("_at")]
            rows = conn.execute(f'SELECT {", ".join(f"[{c}]" for c in kept)} FROM "{table}"').fetchall()
            if table == "runs":
                rows = [_without_replay_key(dict(zip(kept, row, strict=True))) for row in rows]
            out[table] = sorted(rows, key=repr)
        return out
    finally:
        conn.close()


def _without_replay_key(run: dict[str, Any]) -> tuple[Any, ...]:
    run.pop("scenario_path")  # the two files' paths differ
    scenario = json.loads(run["scenario"])
    scenario["tournament"].pop("replay")
    return tuple({**run, "scenario": json.dumps(scenario, sort_keys=True)}.items())


def _groups(path: Path) -> int:
    return len({replay_key(m.to_job(load_tournament(path))) for m in matches(load_tournament(path))})


def test_replayed_rows_equal_playing_every_match_and_one_match_per_group_is_played(
    tmp_path: Path, plays: list[EpisodeJob]
) -> None:
    replayed, played = tmp_path / "replayed.db", tmp_path / "played.db"
    path = write(tmp_path, bots())
    summary = run_tournament(path, replayed)
    groups = _groups(path)
    assert summary.played == len(summary.matches) == 30 and groups == 10
    assert len(plays) == groups and len({p.index for p in plays}) == groups
    plays.clear()
    summary = run_tournament(write(tmp_path, bots(replay=False), "off.yaml"), played)
    assert summary.played == 30 and len(plays) == 30
    ours, theirs = dump(replayed), dump(played)
    assert set(ours) >= {"runs", "episodes", "seats", "events", "metrics", "turn_metrics"}
    assert all(ours["events"]) and ours["turn_metrics"] and ours["metrics"]
    for table in ours:
        assert ours[table] == theirs[table], table


@pytest.mark.parametrize(
    ("params", "pool"),
    [
        ({"rounds": 12}, {"rnd": {"agent": "random"}, "tft": {"agent": "tit_for_tat"}}),
        ({"rounds": 12}, {"gtft": {"agent": "generous_tit_for_tat"}, "alld": {"agent": "defector"}}),
        (
            {"rounds": 12, "noise": 0.3},
            {"tft": {"agent": "tit_for_tat"}, "wsls": {"agent": "win_stay_lose_shift"}},
        ),
        (
            {"stop_probability": 0.2, "max_rounds": 40},
            {"tft": {"agent": "tit_for_tat"}, "alld": {"agent": "defector"}},
        ),
    ],
    ids=["random-agent", "generous-agent", "noise", "geometric-horizon"],
)
def test_seeded_matches_are_always_played(
    tmp_path: Path, plays: list[EpisodeJob], params: dict[str, Any], pool: dict[str, Any]
) -> None:
    path = write(tmp_path, bots(params=params, pool=pool, repetitions=4, schedule={"self_play": False}))
    summary = run_tournament(path, tmp_path / "t.db")
    assert summary.played == len(plays) == 4 and _groups(path) == 1  # no key: one None
    stored = stored_matches(tmp_path / "t.db")
    assert len({json.dumps(m["events"]) for m in stored.values()}) > 1  # the seed shows


def test_a_failed_leader_is_not_replayed_its_group_is_played(tmp_path: Path, plays: list[EpisodeJob]) -> None:
    pool = {"short": {"agent": "replay", "config": {"actions": ["C", "C"]}}, "tft": {"agent": "tit_for_tat"}}
    path = write(tmp_path, bots(pool=pool, schedule={"self_play": False}, engine={"fail_fast": False}))
    with pytest.raises(RunFailed):
        run_tournament(path, tmp_path / "t.db")
    assert len(plays) == 3  # the leader, then the other two normally
    statuses = {m["status"] for m in stored_matches(tmp_path / "t.db").values()}
    assert statuses == {"failed"}


def test_resume_after_a_stop_mid_run_stores_every_match_exactly_once(
    tmp_path: Path, plays: list[EpisodeJob]
) -> None:
    db = tmp_path / "t.db"
    path = write(tmp_path, bots(concurrency={"matches": 2}))
    stored: list[int] = []

    def stop_among_the_replicas(job: EpisodeJob, result: Any) -> None:
        stored.append(job.index)
        if len(stored) == 12:  # the 10 leaders and 2 replicas
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(RunInterrupted):
        run_tournament(path, db, on_episode=stop_among_the_replicas)
    first = stored_matches(db)
    assert sum(m["status"] == "complete" for m in first.values()) == 12 and len(plays) == 10
    run_tournament(path, db, resume=True)
    assert len(plays) == 20  # one more play for each group with matches left
    resumed = stored_matches(db)
    with sqlite3.connect(db) as conn:
        assert conn.execute('SELECT count(*), count(DISTINCT "index") FROM episodes').fetchone() == (30, 30)
    run_tournament(write(tmp_path, bots(replay=False), "off.yaml"), tmp_path / "fresh.db")
    fresh = stored_matches(tmp_path / "fresh.db")
    assert {i: m["events"] for i, m in resumed.items()} == {i: m["events"] for i, m in fresh.items()}
    assert all(m["status"] == "complete" for m in resumed.values())


class RecordingHandler:
    """A driver stand-in: keeps the jobs started and the records handed over."""

    def __init__(self) -> None:
        self.started_jobs: list[int] = []
        self.records: list[EpisodeRecord] = []

    def started(self, job: EpisodeJob) -> EpisodeStream | None:
        self.started_jobs.append(job.index)
        return None

    def finished(self, record: EpisodeRecord) -> None:
        self.records.append(record)


def test_replicas_refused_by_admit_or_after_a_stop_stay_unplayed(tmp_path: Path) -> None:
    spec = load_tournament(write(tmp_path, bots()))
    jobs = [m.to_job(spec) for m in matches(spec)]
    stop = threading.Event()

    def admit(job: EpisodeJob) -> bool:
        return job.index < 20

    handler = RecordingHandler()
    executor = ReplayExecutor(LocalExecutor(stop=stop, admit=admit), stop=stop, admit=admit)
    with pytest.raises(Interrupted):
        asyncio.run(executor.run(jobs, handler))
    assert sorted(handler.started_jobs) == sorted(r.job.index for r in handler.records) == list(range(20))
    assert all(r.status == "complete" and not r.streamed for r in handler.records)
    assert len(executor.played) == 10

    stop.set()
    handler = RecordingHandler()
    with pytest.raises(Interrupted):
        asyncio.run(ReplayExecutor(LocalExecutor(stop=stop), stop=stop).run(jobs, handler))
    assert handler.started_jobs == [] and handler.records == []


def test_the_replay_key_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="replay"):
        load_tournament(write(tmp_path, bots(replay="no")))


class FixedLegal(ScriptedAgent):
    """A legal action drawn from the same fixed RNG state at every turn: deterministic in any world."""

    deterministic: ClassVar[bool] = True

    def decide(self, observation: Observation) -> Action:
        assert observation.legal is not None
        return sample(observation.legal, random.Random(0))


FIXED_LEGAL = f"{__name__}:FixedLegal"


# the declarations ---------------------------------------------------------------------------------

#: Opponents that play fixed move lists (so only the agent under test could change with the seed).
_rng = random.Random(5)
OPPONENTS = [["C"] * 30, ["D"] * 30, *(["CD"[_rng.random() < 0.5] for _ in range(30)] for _ in range(4))]


def _moves(agent: str, config: dict[str, Any], opponent: list[str], seed: int) -> list[Any]:
    job = EpisodeJob(
        None,
        0,
        "matrix/repeated-v1",
        REPEATED,
        {"rounds": 30},
        (
            SeatConfig(agent, "a", "player", config),
            SeatConfig("replay", "b", "player", {"actions": opponent}),
        ),
        seed,
        "a vs b",
        EngineSettings(),
    )
    record = asyncio.run(play_job(job))
    assert record.status == "complete", record.error
    return [e.payload["moves"]["p0"] for e in record.events if e.kind == "round"]


def _deterministic_agents() -> dict[str, dict[str, Any]]:
    """Every registered agent declared deterministic, with a config to play the repeated game."""
    out: dict[str, dict[str, Any]] = {}
    for name in registry.agents():
        cls = agent_class(name)
        if cls.deterministic:
            out[name] = {"actions": OPPONENTS[-1]} if name == "replay" else {}
    return out


def test_the_deterministic_declarations_hold_for_the_repeated_strategies() -> None:
    declared = _deterministic_agents()
    assert {"tit_for_tat", "grudger", "go_by_majority", "win_stay_lose_shift", "replay"} <= set(declared)
    assert not agent_class("random").deterministic and not agent_class("naive_prober").deterministic
    assert not agent_class("llm").deterministic
    for name, config in declared.items():
        assert agent_class(name).plays(REPEATED)
        for opponent in OPPONENTS:
            assert _moves(name, config, opponent, 1) == _moves(name, config, opponent, 2), name


def test_the_move_comparison_catches_an_agent_that_uses_its_rng() -> None:
    moves = {seed: _moves("random", {}, OPPONENTS[0], seed) for seed in (1, 2)}
    assert moves[1] != moves[2]


@pytest.mark.parametrize(
    "params",
    [{"noise": 0.1}, {"stop_probability": 0.5}, {"stop_probability": 0.1, "horizon_known": False}],
)
def test_the_repeated_world_is_not_replayable_when_it_draws_from_its_rng(params: dict[str, Any]) -> None:
    model = RepeatedGameWorld.spec.params_model.model_validate(params)
    assert not RepeatedGameWorld.replayable(model)


def test_replayable_worlds_store_the_same_rows_for_any_seed() -> None:
    """Every registered world's example params: where replayable, two seeds give the same rows."""
    replayable = 0
    for name in registry.worlds():
        cls = world_class(name)
        for params in cls.examples:
            job = EpisodeJob(None, 0, name, cls.spec.id, params, (), 0, "", EngineSettings())
            if not cls.replayable(world_params(job)):
                continue
            replayable += 1
            seats = tuple(SeatConfig(FIXED_LEGAL, f"s{i}", "player", {}) for i in range(cls.spec.min_players))
            events = [
                asyncio.run(
                    play_job(
                        EpisodeJob(None, 0, name, cls.spec.id, params, seats, seed, "", EngineSettings())
                    )
                ).events
                for seed in (1, 2)
            ]
            assert events[0] == events[1], (name, params)
    assert replayable >= 2  # the repeated world's fixed-horizon examples


@pytest.mark.slow
def test_the_process_backend_replays_the_same_rows(tmp_path: Path) -> None:
    """Leaders played in worker processes come back unstreamed: their copies store the same rows."""
    path = write(tmp_path, bots(concurrency={"matches": 2}))
    run_tournament(path, tmp_path / "process.db", backend="process")
    run_tournament(
        write(tmp_path, bots(replay=False, concurrency={"matches": 2}), "off.yaml"), tmp_path / "local.db"
    )
    rowids = frozenset({"id"})  # rows are written in the order matches end, which differs
    ours, theirs = dump(tmp_path / "process.db", rowids), dump(tmp_path / "local.db", rowids)
    for table in ours:
        assert ours[table] == theirs[table], table
