"""Engine behaviour: retries with feedback, fallbacks as invalid events, timeouts, crashes and interrupts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from engine_agents import Sleeper, Stubborn, StubbornConfig

from agents.scripted import repeated as s
from sim.runner import run_scenario
from sim.scenario import EngineSettings, validate_scenario
from sim.shutdown import RunFailed
from sim.testing import play
from worlds.repeated.params import RepeatedParams
from worlds.repeated.world import RepeatedGameWorld

PD3 = RepeatedParams(rounds=3)


def test_illegal_answer_is_retried_with_feedback_then_accepted() -> None:
    agent = Stubborn(StubbornConfig(bad_answers=1))
    result, events, _ = play(
        RepeatedGameWorld, PD3, {"p0": agent, "p1": s.Defector()}, settings=EngineSettings(max_retries=2)
    )
    assert not [e for e in events if e.kind == "invalid"]
    assert result.invalid == {"p0": 0, "p1": 0}
    rejected = [e for e in events if e.kind == "rejected"]  # corrected mistakes are still on record
    assert len(rejected) == sum(f is not None for f in agent.feedback) > 0
    assert all((e.actor, e.visible_to, e.payload["value"]) == ("p0", ("p0",), "banana") for e in rejected)
    assert agent.feedback[0] is None and "banana" in (agent.feedback[1] or "")


def test_persistent_illegal_answers_fall_back_and_are_logged_never_silent() -> None:
    result, events, _ = play(
        RepeatedGameWorld,
        PD3,
        {"p0": Stubborn(), "p1": s.Cooperator()},
        settings=EngineSettings(max_retries=2),
    )
    invalid = [e for e in events if e.kind == "invalid"]
    assert len(invalid) == 3 and result.invalid["p0"] == 3
    assert all(e.actor == "p0" and e.visible_to == ("p0",) for e in invalid)
    assert invalid[0].payload["attempts"] == 3 and invalid[0].payload["fallback"] == "C"
    assert "'banana' is not one of ['C', 'D']" in invalid[0].payload["errors"][0]
    moves = [e.payload["moves"]["p0"] for e in events if e.kind == "round"]
    assert moves == ["C", "C", "C"]


def test_world_fallback_option_is_configurable() -> None:
    _, events, _ = play(
        RepeatedGameWorld,
        RepeatedParams(rounds=2, fallback=1),
        {"p0": Stubborn(), "p1": s.Cooperator()},
        settings=EngineSettings(max_retries=0),
    )
    assert [e.payload["moves"]["p0"] for e in events if e.kind == "round"] == ["D", "D"]


def test_timeouts_are_invalid_events() -> None:
    _, events, _ = play(
        RepeatedGameWorld,
        RepeatedParams(rounds=2),
        {"p0": Sleeper(), "p1": s.Cooperator()},
        settings=EngineSettings(action_timeout=0.05, max_retries=1),
    )
    invalid = [e for e in events if e.kind == "invalid"]
    assert len(invalid) == 2
    assert invalid[0].payload["errors"] == ["no answer within 0.05 s"] * 2


def test_concurrent_agents_are_asked_together() -> None:
    import time

    start = time.perf_counter()
    play(
        RepeatedGameWorld,
        RepeatedParams(rounds=2),
        {"p0": Sleeper(), "p1": Sleeper()},
        settings=EngineSettings(action_timeout=0.2, max_retries=0),
    )
    assert time.perf_counter() - start < 0.2 * 4 * 0.9  # sequential asking would take 4 timeouts


def _scenario(tmp_path: Path, seats: list[dict], rounds: int = 10, episodes: int = 2) -> object:
    data = {
        "name": "t",
        "world": "matrix/repeated-v1",
        "params": {"rounds": rounds},
        "seats": seats,
        "episodes": episodes,
        "db": str(tmp_path / "t.db"),
    }
    return validate_scenario(data, "test.yaml")


def _rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_a_crashing_agent_marks_the_episode_failed_and_keeps_its_events(tmp_path: Path) -> None:
    loaded = _scenario(tmp_path, [{"agent": "engine_agents:Crasher"}, {"agent": "defector"}])
    with pytest.raises(RunFailed, match="RuntimeError: agent exploded") as failed:
        run_scenario(loaded)  # type: ignore[arg-type]
    assert failed.value.status == "complete"  # a failed episode does not stop the others
    db = tmp_path / "t.db"
    assert _rows(db, "SELECT status, error FROM episodes ORDER BY id") == [
        ("failed", "RuntimeError: agent exploded"),
        ("failed", "RuntimeError: agent exploded"),
    ]
    assert _rows(db, "SELECT status FROM runs") == [("complete",)]
    assert _rows(db, "SELECT count(*) FROM events WHERE kind = 'round'") == [(4,)]
    loaded.scenario.engine.fail_fast = True  # unless the run fails fast
    with pytest.raises(RunFailed, match=r"agent exploded \(engine.fail_fast\)") as failed:
        run_scenario(loaded, tmp_path / "fast.db")  # type: ignore[arg-type]
    assert failed.value.status == "failed"
    assert _rows(tmp_path / "fast.db", "SELECT status FROM episodes ORDER BY id") == [
        ("failed",),
        ("not_run",),
    ]
    assert _rows(tmp_path / "fast.db", "SELECT status FROM runs") == [("failed",)]


def test_ctrl_c_marks_episode_and_run_interrupted_never_complete(tmp_path: Path) -> None:
    loaded = _scenario(
        tmp_path,
        [
            {"agent": "engine_agents:Crasher", "config": {"interrupt": True, "at_turn": 5}},
            {"agent": "cooperator"},
        ],
    )
    with pytest.raises(KeyboardInterrupt):
        run_scenario(loaded)  # type: ignore[arg-type]
    db = tmp_path / "t.db"
    assert _rows(db, "SELECT status FROM episodes ORDER BY id") == [("interrupted",), ("not_run",)]
    assert _rows(db, "SELECT status FROM runs") == [("interrupted",)]
    assert _rows(db, "SELECT count(*) FROM events WHERE kind = 'round'") == [(4,)]


def test_replay_agent_fails_loudly_on_an_illegal_action(tmp_path: Path) -> None:
    loaded = _scenario(
        tmp_path,
        [{"agent": "replay", "config": {"actions": ["C", "X", "C"]}}, {"agent": "cooperator"}],
        rounds=3,
        episodes=1,
    )
    with pytest.raises(RunFailed, match=r"AgentError: replay for p0: action #2 'X' is illegal at turn 2"):
        run_scenario(loaded)  # type: ignore[arg-type]
    loaded = _scenario(
        tmp_path,
        [{"agent": "replay", "config": {"actions": ["C"]}}, {"agent": "cooperator"}],
        rounds=3,
        episodes=1,
    )
    with pytest.raises(RunFailed, match="AgentError: replay for p0: ran out of actions at turn 2"):
        run_scenario(loaded)  # type: ignore[arg-type]


def test_replay_agent_reproduces_its_list(tmp_path: Path) -> None:
    result, events, _ = play(RepeatedGameWorld, PD3, {"p0": _replay(["D", "C", "D"]), "p1": s.TitForTat()})
    assert [e.payload["moves"]["p0"] for e in events if e.kind == "round"] == ["D", "C", "D"]
    assert result.returns == {"p0": 5 + 0 + 5, "p1": 0 + 5 + 0}


def _replay(actions: list) -> object:
    from agents.scripted.replay import ReplayAgent, ReplayConfig

    return ReplayAgent(ReplayConfig(actions=actions))


def test_every_seat_gets_a_fresh_agent_even_in_self_play(tmp_path: Path) -> None:
    data = {
        "name": "t",
        "world": "matrix/repeated-v1",
        "params": {"game": "akata_battle_of_the_sexes", "rounds": 10},
        "tournament": {"pool": [{"agent": "alternator"}, {"agent": "grudger"}], "repetitions": 2},
        "db": str(tmp_path / "t.db"),
    }
    summary = run_scenario(validate_scenario(data, "t.yaml"))
    self_play = [r for plan, r in summary.episodes if plan.matchup == "alternator vs alternator"]
    assert len(self_play) == 2 and all(r.returns == {"p0": 85, "p1": 85} for r in self_play)


def test_per_turn_metrics_can_be_thinned_or_turned_off(tmp_path: Path) -> None:
    from sim.store.reader import StoreReader

    data = {
        "name": "t",
        "world": "matrix/repeated-v1",
        "params": {"rounds": 10},
        "engine": {"metrics_every": 3},
        "seats": [{"agent": "cooperator"}, {"agent": "defector"}],
        "db": str(tmp_path / "a.db"),
    }
    series = StoreReader(run_scenario(validate_scenario(data, "t.yaml")).db).turn_metrics()
    assert sorted(set(series.turn)) == [3, 6, 9]
    data["engine"] = {"metrics_every": 0}
    data["db"] = str(tmp_path / "b.db")
    assert StoreReader(run_scenario(validate_scenario(data, "t.yaml")).db).turn_metrics().empty


def test_per_turn_metrics_are_stored_from_the_datacollector(tmp_path: Path) -> None:
    summary = run_scenario(_scenario(tmp_path, [{"agent": "tit_for_tat"}, {"agent": "defector"}], episodes=1))  # type: ignore[arg-type]
    from sim.store.reader import StoreReader

    series = StoreReader(summary.db).turn_metrics()
    p0 = series[(series.player_id == "p0") & (series.name == "score")]
    assert list(zip(p0.turn, p0.value, strict=True)) == [(t, float(t - 1)) for t in range(1, 11)]
    summary_rows = _rows(summary.db, "SELECT value FROM metrics WHERE name = 'score' ORDER BY player_id")
    assert summary_rows == [(9.0,), (14.0,)]
    assert _rows(summary.db, "SELECT player_id, score FROM seats ORDER BY player_id") == [
        ("p0", 9.0),
        ("p1", 14.0),
    ]


def test_focal_tournament_plays_the_focal_seat_against_each_opponent_from_both_seats() -> None:
    from sim.scenario import ScenarioError

    data = {
        "name": "t",
        "world": "matrix/repeated-v1",
        "params": {"rounds": 10},
        "tournament": {
            "format": "focal",
            "focal": {"agent": "tit_for_tat", "label": "me"},
            "pool": [{"agent": "defector"}, {"agent": "cooperator"}],
            "swap_seats": True,
            "repetitions": 2,
        },
    }
    plans = validate_scenario(data, "t.yaml").plans
    assert [p.matchup for p in plans] == ["me vs defector"] * 2 + ["me vs cooperator"] * 2 + [
        "defector vs me"
    ] * 2 + ["cooperator vs me"] * 2
    data["tournament"]["focal"] = None
    with pytest.raises(ScenarioError, match="needs a 'focal' seat"):
        validate_scenario(data, "t.yaml")
    data["tournament"].update(format="focal", focal={"agent": "nope"})
    with pytest.raises(ScenarioError, match=r"tournament\.focal\.agent: unknown agent 'nope'"):
        validate_scenario(data, "t.yaml")


def test_round_robin_counts_pairings_with_and_without_self_play() -> None:
    pool = [{"agent": a} for a in ("cooperator", "defector", "grudger", "tit_for_tat")]
    data = {"name": "t", "world": "matrix/repeated-v1", "tournament": {"pool": pool, "repetitions": 3}}
    assert len(validate_scenario(data, "t.yaml").plans) == 10 * 3
    data["tournament"]["self_play"] = False
    assert len(validate_scenario(data, "t.yaml").plans) == 6 * 3


def test_a_scripted_agent_that_only_overrides_act_is_awaited() -> None:
    from agents.scripted.base import ScriptedAgent
    from sim.types import Action, ActionKind

    class ActOnly(ScriptedAgent):
        async def act(self, observation):  # type: ignore[no-untyped-def]
            return Action(ActionKind.CHOICE, observation.legal.options[1])

    result, _, _ = play(RepeatedGameWorld, PD3, {"p0": ActOnly(), "p1": s.Cooperator()})
    assert result.returns == {"p0": 15, "p1": 0}


def test_engine_metrics_count_decisions_and_the_invalid_rate() -> None:
    result, _, _ = play(RepeatedGameWorld, PD3, {"p0": Stubborn(), "p1": s.Cooperator()})
    assert result.metrics["p0"]["engine.decisions"] == result.metrics["p1"]["engine.decisions"] == 3.0
    assert result.metrics["p0"]["engine.invalid_rate"] == 1.0  # every answer of p0 fell back
    assert result.metrics["p1"]["engine.invalid_rate"] == 0.0
