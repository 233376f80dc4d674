"""Seat roles: a referee seat that sees everything, is played by a bot or an LLM like any seat, is
logged like any seat, and is left out of wins and losses; scenario files assign roles."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.scripted.random_legal import RandomLegalAgent
from sim.engine import EventSink, play_episode
from sim.llm.testserver import TestServer
from sim.runner import run_scenario
from sim.scenario import EngineSettings, ScenarioError, validate_scenario
from sim.types import dumps

WORLDS = Path(__file__).resolve().parent.parent / "data" / "worlds"
sys.path.insert(0, str(WORLDS))
WORLD = "referee_guess:RefereeGuessWorld"
REFEREE = {"agent": "referee_guess:FairReferee", "role": "referee"}
GUESSER = {"agent": "random_legal"}


def scenario(tmp_path: Path, seats: list[dict[str, Any]], **extra: Any) -> Any:
    data = {
        "name": "roles",
        "world": WORLD,
        "params": {"rounds": 4},
        "seats": seats,
        "seed": 5,
        "db": str(tmp_path / "roles.db"),
        "episodes": 3,
        **extra,
    }
    return validate_scenario(data, "roles.yaml")


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


@pytest.mark.parametrize(
    ("seats", "expect"),
    [
        ([GUESSER, GUESSER], "needs 1 seat(s) of role 'referee', got 0"),
        ([GUESSER, REFEREE, REFEREE], "needs 1 seat(s) of role 'referee', got 2"),
        (
            [{**GUESSER, "role": "narrator"}, REFEREE],
            "unknown role 'narrator'; test/referee-guess has player, referee",
        ),
        ([REFEREE, {**GUESSER, "role": "referee"}], "of role 'player', got 0"),
    ],
)
def test_role_counts_are_checked_before_anything_runs(
    tmp_path: Path, seats: list[dict[str, Any]], expect: str
) -> None:
    with pytest.raises(ScenarioError) as info:
        scenario(tmp_path, seats)
    lines = str(info.value).splitlines()
    assert any(line.startswith("roles.yaml: seats: ") and expect in line for line in lines), lines
    assert not (tmp_path / "roles.db").exists()


def test_tournament_seats_take_the_default_role(tmp_path: Path) -> None:
    data = {
        "name": "t",
        "world": "matrix/repeated-v1",
        "tournament": {"pool": [{"agent": "cooperator", "role": "referee"}, {"agent": "defector"}]},
    }
    with pytest.raises(ScenarioError, match=r"tournament.pool\[0\].role: tournament seats take"):
        validate_scenario(data, "t.yaml")


def test_a_bot_referee_rules_sees_everything_and_is_not_rated(tmp_path: Path) -> None:
    loaded = scenario(tmp_path, [GUESSER, REFEREE, GUESSER])
    summary = run_scenario(loaded)
    assert all("p1" not in r.outcome.winners for _, r in summary.episodes)
    verdicts = rows(summary.db, "SELECT actor, payload FROM events WHERE kind = 'verdict'")
    assert verdicts and {a for a, _ in verdicts} == {"p1"}
    stored_roles = rows(summary.db, "SELECT DISTINCT player_id, role FROM seats ORDER BY player_id")
    assert stored_roles == [("p0", "player"), ("p1", "referee"), ("p2", "player")]
    setup = rows(summary.db, "SELECT payload, visible_to FROM events WHERE kind = 'setup'")
    assert all(json.loads(v) == ["p1"] for _, v in setup)
    # the referee ruled truthfully: the closest guess scored each time
    from sim.summaries.build import build_summary

    seats = next(s for s in build_summary(summary.db, summary.run_id).sections if s.key == "agents")
    from sim.viewer.data import ViewerData

    results = ViewerData(summary.db).seat_results(summary.run_id)
    assert results[results.player_id == "p1"].win.isna().all()  # the referee is left out of win rates
    assert results[results.player_id != "p1"].win.notna().all()
    referee_row = next(row for row in seats.rows if row[1].text == "p1")
    assert referee_row[4].text == "-"  # no wins, draws or losses for the unrated seat


def test_players_never_see_the_target_the_referee_does() -> None:
    from referee_guess import FairReferee, RefereeGuessWorld

    seen: dict[str, list[str]] = {}

    class Watching(RandomLegalAgent):
        def decide(self, observation: Any) -> Any:
            seen.setdefault(observation.player, []).append(dumps(observation))
            return super().decide(observation)

    class WatchingReferee(FairReferee):
        def decide(self, observation: Any) -> Any:
            seen.setdefault(observation.player, []).append(dumps(observation))
            return super().decide(observation)

    params = RefereeGuessWorld.spec.params_model.model_validate({"rounds": 5})
    roles = {"p0": "player", "p1": "referee", "p2": "player"}
    for seed in range(5):
        seen.clear()
        world = RefereeGuessWorld()
        agents = {"p0": Watching(), "p1": WatchingReferee(), "p2": Watching()}
        sink = EventSink(None, None, keep=True)
        asyncio.run(
            play_episode(world, params, agents, seed=seed, settings=EngineSettings(), sink=sink, roles=roles)
        )
        assert seen["p0"] and seen["p1"] and seen["p2"]
        assert all('"target"' not in s for p in ("p0", "p2") for s in seen[p])
        assert all(f'"target":{world.target}' in s for s in seen["p1"])
        assert sink.kept is not None
        assert all(e.visible_to == ("p1",) for e in sink.kept if "target" in e.payload and e.kind != "end")


@pytest.fixture
def server() -> Iterator[TestServer]:
    with TestServer("first_option") as srv:
        yield srv


def test_an_llm_referee_answers_a_structured_verdict_and_is_logged(
    tmp_path: Path, server: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIM_TEST_KEY", "sk-test-not-a-secret")
    model = {
        "model": "openai/stub",
        "api_base": server.openai_base,
        "api_key_env": "SIM_TEST_KEY",
        "backoff": 0.0,
        "structured": True,
    }
    always_guess = {"agent": "replay", "config": {"actions": [{"branch": "guess", "value": 3}] * 4}}
    loaded = scenario(
        tmp_path,
        [always_guess, {"agent": "llm", "role": "referee", "config": {"model": model}}, always_guess],
        episodes=1,
    )
    summary = run_scenario(loaded)
    calls = rows(summary.db, "SELECT player_id, purpose, valid, parsed FROM llm_calls ORDER BY id")
    assert len(calls) == 4 and {c[0] for c in calls} == {"p1"} and all(c[2] for c in calls)
    assert all(json.loads(c[3])["closest"] == "p0" for c in calls)  # first_option: the first enum value
    schema = server.requests[0].schema
    assert schema is not None and "closest" in json.dumps(schema)
    verdicts = [json.loads(p) for (p,) in rows(summary.db, "SELECT payload FROM events WHERE kind='verdict'")]
    assert [v["closest"] for v in verdicts] == ["p0"] * 4
    (outcome,) = [r.outcome for _, r in summary.episodes]
    assert outcome.winners == ("p0",) and not outcome.draw


def test_llm_players_answer_one_of_actions_over_http(
    tmp_path: Path, server: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIM_TEST_KEY", "sk-test-not-a-secret")
    server.set_policy("random_option")
    model = {
        "model": "openai/stub",
        "api_base": server.openai_base,
        "api_key_env": "SIM_TEST_KEY",
        "backoff": 0.0,
        "structured": True,
    }
    llm = {"agent": "llm", "config": {"model": model}}
    summary = run_scenario(scenario(tmp_path, [llm, REFEREE, llm], episodes=1))
    guesses = [
        json.loads(p)["guesses"]
        for (p,) in rows(summary.db, "SELECT payload FROM events WHERE kind='guesses'")
    ]
    assert len(guesses) >= 1
    assert all(v is None or 0 <= v <= 10 for g in guesses for v in g.values())
    calls = rows(summary.db, "SELECT valid, parsed FROM llm_calls")
    assert calls and all(valid for valid, _ in calls)
    assert {json.loads(p)["branch"] for _, p in calls} <= {"guess", "pass"}
