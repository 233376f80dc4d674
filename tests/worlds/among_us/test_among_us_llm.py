"""LLM seats in Among Us, end to end: the ``llm_vs_bots5`` preset through the real litellm path against
the local test server (real HTTP), stored to a real SQLite file; every phase's prompt, no leak of the
impostor into a crewmate's prompt, bounded prompt size, and invalid answers never becoming moves."""

from __future__ import annotations

import json
import sqlite3
import statistics
from pathlib import Path
from typing import Any

import pytest

from agents.reasoning.among_us import AmongUsLLMAgent, AmongUsLLMConfig
from agents.scripted.among_us import AmongUsBot
from sim.llm.client import LLMClient
from sim.llm.settings import ModelSettings
from sim.llm.testserver import TestServer, fixed
from sim.runner import run_scenario
from sim.scenario import load_scenario, validate_scenario
from sim.testing import play
from worlds.among_us.params import AmongUsParams
from worlds.among_us.world import AmongUsWorld

from .llm_helpers import crewmate_prompt_leaks, player_policy, prompt_of

PRESET = Path(__file__).resolve().parents[3] / "worlds/among_us/scenarios/llm_vs_bots5.yaml"
LLM_SEATS = (0, 1)
HAS_SURVEY = "survey" in AmongUsParams.model_fields
#: What each phase's prompt must say besides the shared situation.
MUST = {
    "among_us.act": ("It is a task round. Choose one action:", '{"action": {"branch": '),
    "among_us.speak": ("It is your turn to speak to the meeting", "at most 500 characters", "Meeting "),
    "among_us.vote": ("Vote to eject one of", '"skip"'),
    "among_us.survey": ("who do you find most suspicious", '"skip"'),
}


def run_preset(server: TestServer, db: Path, *overrides: str) -> sqlite3.Connection:
    urls = [f"seats.{i}.config.model.api_base={server.openai_base}" for i in LLM_SEATS]
    summary = run_scenario(load_scenario(PRESET, [*urls, *overrides]), db)
    return sqlite3.connect(summary.db)


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> sqlite3.Connection:
    """Two episodes of the preset (the LLM seats report, do tasks, kill when they can and sometimes press
    the button); with this seed p0 is a crewmate in the first and the impostor in the second, and two
    long tasks each keep the games long enough for a kill."""
    db = tmp_path_factory.mktemp("among_us_llm") / "llm_vs_bots5.db"
    with TestServer(player_policy(seed=1, button=0.5)) as server:
        conn = run_preset(server, db, "episodes=2", "seed=3", "params.long_tasks=2")
        assert server.count > 0
    return conn


@pytest.mark.slow  # the module's game: about 6 s on an idle machine
def test_an_llm_game_runs_end_to_end_and_every_call_is_valid(played: sqlite3.Connection) -> None:
    statuses = played.execute("SELECT DISTINCT status FROM episodes").fetchall()
    outcomes = [json.loads(o) for (o,) in played.execute("SELECT outcome FROM episodes")]
    calls, valid = played.execute("SELECT count(*), sum(valid) FROM llm_calls").fetchone()
    invalid = played.execute("SELECT sum(invalid_actions) FROM seats").fetchone()[0]
    assert statuses == [("complete",)] and len(outcomes) == 2
    assert all(o["reason"] for o in outcomes)
    assert calls > 20 and valid == calls and invalid == 0
    seats = {p for (p,) in played.execute("SELECT DISTINCT player_id FROM llm_calls")}
    assert seats == {"p0", "p1"}  # only the LLM seats call the model


@pytest.mark.slow  # the module's game: about 6 s on an idle machine
def test_each_phase_is_asked_under_its_own_purpose_with_its_own_prompt(played: sqlite3.Connection) -> None:
    rows = played.execute("SELECT purpose, messages FROM llm_calls WHERE attempt = 1").fetchall()
    purposes = {p for p, _ in rows}
    assert any("You are an impostor." in prompt_of(m) for _, m in rows)
    assert any("You are a crewmate." in prompt_of(m) for _, m in rows)
    assert {"among_us.act", "among_us.speak", "among_us.vote"} <= purposes <= set(MUST)
    for purpose, messages in rows:
        text = prompt_of(messages)
        for needed in MUST[purpose]:
            assert needed in text, (purpose, needed)
        assert "Allowed values:" in text and "$defs" not in text and '"properties"' not in text
        for other, phrases in MUST.items():
            if other != purpose:
                assert phrases[0] not in text, (purpose, other)


@pytest.mark.slow  # the module's game: about 6 s on an idle machine
def test_no_crewmate_prompt_names_the_impostor_without_a_sighting(played: sqlite3.Connection) -> None:
    checked, problems = crewmate_prompt_leaks(played)
    assert checked > 100 and played.execute("SELECT count(*) FROM events WHERE kind = 'kill'").fetchone()[0]
    assert not problems, problems[:5]


def test_the_leak_check_catches_an_impostor_named_in_a_crewmate_prompt(tmp_path: Path) -> None:
    # The check itself can fail: a store where a crewmate's prompt says who the impostor is.
    db = tmp_path / "leak.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE events (episode_id, kind, turn, visible_to, payload)")
        conn.execute("CREATE TABLE llm_calls (episode_id, player_id, turn, messages, attempt)")
        setup = {"roles": {"p0": "crewmate", "p1": "impostor", "p2": "crewmate"}}
        conn.execute("INSERT INTO events VALUES (1, 'setup', 0, '[]', ?)", (json.dumps(setup),))
        kill = {"killer": "p1", "victim": "p2", "room": "Hall", "witnesses": []}
        conn.execute("INSERT INTO events VALUES (1, 'kill', 3, '[\"p1\", \"p2\"]', ?)", (json.dumps(kill),))
        for text in ("Fellow impostors: p1.", "- [step 3] p1 kills p2 in Hall (witnesses: nobody)"):
            messages = json.dumps([{"role": "user", "content": f"You are a crewmate.\n{text}"}])
            conn.execute("INSERT INTO llm_calls VALUES (1, 'p0', 5, ?, 1)", (messages,))
        checked, problems = crewmate_prompt_leaks(conn)
    assert checked == 2 and len(problems) == 2


@pytest.mark.skipif(not HAS_SURVEY, reason="the world's survey param is not there yet (issue 13 item 5)")
def test_the_survey_is_asked_of_llm_seats_under_its_own_purpose(tmp_path: Path) -> None:
    with TestServer(player_policy(seed=2, button=0.5)) as server:
        conn = run_preset(server, tmp_path / "survey.db", "episodes=1", "params.survey=true")
    with conn:
        surveys = conn.execute("SELECT count(*) FROM llm_calls WHERE purpose = 'among_us.survey'").fetchone()
        speeches = conn.execute("SELECT count(*) FROM events WHERE kind = 'speech'").fetchone()
    assert speeches[0] > 0 and surveys[0] > 0


@pytest.mark.slow
def test_late_prompts_stay_within_one_and_a_half_times_the_early_ones(tmp_path: Path) -> None:
    # A long game: every seat an LLM that wanders and now and then presses the button (three meetings),
    # never kills nor does a task, so the game runs to its time limit.
    scenario = yaml_scenario(max_turns=120, seats=4)
    with TestServer(player_policy(seed=3, prefer=(), button=0.1)) as server:
        scenario["seats"] = [
            {"agent": "among_us_llm", "config": {"model": model(server)}} for _ in scenario["seats"]
        ]
        summary = run_scenario(validate_scenario(scenario, "test"), tmp_path / "long.db")
    with sqlite3.connect(summary.db) as conn:
        rows = conn.execute(
            "SELECT turn, prompt_tokens FROM llm_calls WHERE purpose = 'among_us.act' ORDER BY turn"
        ).fetchall()
        clock = json.loads(conn.execute("SELECT outcome FROM episodes").fetchone()[0])["clock"]
    assert clock >= 60, "the game must be long for the bound to mean anything"
    quarter = len(rows) // 4
    early = statistics.fmean(t for _, t in rows[:quarter])
    late = statistics.fmean(t for _, t in rows[-quarter:])
    assert late <= 1.5 * early, (early, late)


def yaml_scenario(max_turns: int, seats: int) -> dict[str, Any]:
    return {
        "name": "among-us-long",
        "world": "social/among_us-v1",
        "params": {"max_turns": max_turns, "short_tasks": 3, "long_tasks": 2, "buttons": 3},
        "seats": [{"agent": "among_us_bot"}] * seats,
        "seed": 5,
    }


def model(server: TestServer) -> dict[str, Any]:
    return {"model": "openai/stub", "api_base": server.openai_base, "max_tokens": 256, "backoff": 0.0}


def test_a_kill_target_not_offered_is_rejected_and_never_becomes_a_kill() -> None:
    # p0 is the impostor; its model always names a kill target nobody offered (p9): every ask is
    # re-asked, logged invalid, and the engine plays the fallback (wait) instead.
    params = AmongUsParams(max_turns=4, impostor_seats=[0], initial_kill_cooldown=0)  # type: ignore[call-arg]
    bad = json.dumps({"action": {"branch": "kill", "value": "p9"}})
    calls: list[dict[str, Any]] = []
    with TestServer(fixed(bad)) as server:
        settings = ModelSettings(model="openai/stub", api_base=server.openai_base, max_tokens=64, backoff=0.0)
        agents: dict[str, Any] = {f"p{i}": AmongUsBot() for i in range(5)}
        agents["p0"] = AmongUsLLMAgent(AmongUsLLMConfig(model=settings))
        result, events, _ = play(AmongUsWorld, params, agents, seed=1, llm=LLMClient(record=calls.append))
    assert calls and not any(c["valid"] for c in calls)
    assert {c["purpose"] for c in calls} == {"among_us.act"}
    assert all(c["attempt"] in (1, 2, 3) for c in calls) and any(c["attempt"] == 3 for c in calls)
    assert not [e for e in events if e.kind in ("kill", "kill_failed") and e.actor == "p0"]
    assert result.invalid["p0"] == sum(c["attempt"] == 3 for c in calls) > 0
