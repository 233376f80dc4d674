"""LLM seats in CharacterBox, end to end through the real litellm path against the local test server
(real HTTP), stored to a real SQLite file: a strict scripted model drives the glasshouse scene (the
death included) and fails on any call it does not expect; no character's goal or secret reaches another
character's prompt; a narrator verdict naming an absent character is rejected and the state kept;
character prompts stay bounded in a long scene."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from agents.llm.agent import LLMAgent, LLMAgentConfig
from agents.reasoning.characterbox import CharacterBoxLLMAgent, CharacterBoxLLMConfig
from agents.scripted.characterbox import CharacterBoxCharacterBot, CharacterBoxNarratorBot
from sim.llm.client import LLMClient
from sim.llm.settings import ModelSettings
from sim.llm.testserver import TestServer
from sim.runner import run_scenario
from sim.scenario import load_scenario
from sim.testing import play
from worlds.characterbox.params import CharacterBoxParams
from worlds.characterbox.world import CharacterBoxWorld

from .helpers import scene
from .llm_helpers import (
    GARBAGE,
    GLASSHOUSE,
    StrictScript,
    affects,
    bdi,
    by_stage,
    character_prompt_leaks,
    do,
    prompt_of,
    ruling,
)

PRESET = Path(__file__).resolve().parents[3] / "worlds/characterbox/scenarios/glasshouse_llm.yaml"
SEATS = range(4)


def run_preset(server: TestServer, db: Path, *overrides: str) -> sqlite3.Connection:
    urls = [f"seats.{i}.config.model.api_base={server.openai_base}" for i in SEATS]
    summary = run_scenario(load_scenario(PRESET, [*urls, *overrides]), db)
    return sqlite3.connect(summary.db)


@pytest.fixture(scope="module")
def scripted(tmp_path_factory: pytest.TempPathFactory) -> tuple[StrictScript, sqlite3.Connection]:
    """The glasshouse preset played once by the strict scripted model."""
    script = StrictScript(GLASSHOUSE)
    with TestServer(script) as server:
        conn = run_preset(server, tmp_path_factory.mktemp("cb_llm") / "glasshouse.db")
    return script, conn


def payloads(conn: sqlite3.Connection, kind: str) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT payload FROM events WHERE kind = ? ORDER BY turn, rowid", (kind,)).fetchall()
    return [json.loads(p) for (p,) in rows]


def test_the_strict_script_drives_the_whole_scene_and_no_call_is_unexpected(
    scripted: tuple[StrictScript, sqlite3.Connection],
) -> None:
    script, conn = scripted
    assert script.unexpected == []
    assert script.unused() == []
    assert set(script.asked.values()) == {1}  # every scripted call asked exactly once
    calls, valid = conn.execute("SELECT count(*), sum(valid) FROM llm_calls").fetchone()
    assert calls == valid == len(GLASSHOUSE)
    counts = dict(conn.execute("SELECT purpose, count(*) FROM llm_calls GROUP BY purpose").fetchall())
    expected = Counter(f"characterbox.{stage}" for stage, *_ in GLASSHOUSE)
    assert counts == dict(expected)
    assert counts["characterbox.bdi"] == 8 and counts["characterbox.summary"] == 3


def test_the_scripted_verdicts_are_applied_and_corvin_dies(
    scripted: tuple[StrictScript, sqlite3.Connection],
) -> None:
    _, conn = scripted
    verdicts = payloads(conn, "verdict")
    assert len(verdicts) == 6 and all(v["valid"] for v in verdicts)
    assert payloads(conn, "death") == [{"character": "Corvin"}]
    updates = [(u["character"], u["state"]) for u in payloads(conn, "state_update")]
    assert updates == [
        ("Corvin", {"mood": "flushed", "alive": True}),
        ("Corvin", {"mood": "flushed", "alive": False}),
        ("Ilse", {"mood": "shaken", "alive": True}),
    ]
    actions = payloads(conn, "action")
    assert [a["character"] for a in actions if a["round"] == 3] == ["Marta", "Ilse"]  # the dead never act
    assert [a["speech"] for a in actions if a["reaction"]] == ["More, sir?", "Foxglove."]
    assert payloads(conn, "scene_end") == [{"scene": 1, "reason": "rounds", "rounds_played": 3}]
    (end,) = payloads(conn, "end")
    assert end["alive"] == {"Ilse": True, "Corvin": False, "Marta": True} and end["dead_as_alive"] == 0


def test_each_round_bdi_is_logged_with_the_action_and_shown_in_its_prompt(
    scripted: tuple[StrictScript, sqlite3.Connection],
) -> None:
    _, conn = scripted
    notes = [p["notes"] for p in payloads(conn, "rationale")]
    logged = [n["bdi"]["intention"] for n in notes if "bdi" in n]
    assert len(logged) == 8 and "get the papers signed" in logged
    rows = conn.execute("SELECT purpose, messages FROM llm_calls ORDER BY rowid").fetchall()
    acts = [prompt_of(m) for p, m in rows if p in ("characterbox.act", "characterbox.react")]
    assert all("Your intention: " in text for text in acts)
    corvin_r2 = next(t for t in acts if t.startswith("[scene 1, round 2 | act | Corvin]"))
    assert "Your intention: get the papers signed" in corvin_r2
    assert "Allowed values:" in corvin_r2 and "$defs" not in corvin_r2


def test_no_character_prompt_carries_another_characters_goal_or_secret(
    scripted: tuple[StrictScript, sqlite3.Connection],
) -> None:
    _, conn = scripted
    checked, problems = character_prompt_leaks(conn)
    assert checked == len([k for k in GLASSHOUSE if k[1] != "narrator" and k[0] in ("act", "react", "bdi")])
    assert not problems, problems[:5]
    narrator = conn.execute("SELECT messages FROM llm_calls WHERE purpose = 'characterbox.rule'").fetchone()[
        0
    ]
    assert "he owes the buyer more than the estate is worth" in prompt_of(narrator)  # omniscient


def test_the_leak_check_catches_a_secret_in_another_characters_prompt(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "leak.db") as conn:
        conn.execute("CREATE TABLE events (episode_id, kind, payload)")
        conn.execute("CREATE TABLE llm_calls (episode_id, player_id, messages)")
        setup = {
            "seats": {"p0": "Ann", "p1": "Ben", "p2": "narrator"},
            "characters": {
                "Ann": {"goal": "win", "secret": "ANN-SECRET"},
                "Ben": {"goal": "", "secret": "B"},
            },
        }
        conn.execute("INSERT INTO events VALUES (1, 'setup', ?)", (json.dumps(setup),))
        for seat, text in (("p1", "I know ANN-SECRET"), ("p0", "ANN-SECRET is mine"), ("p2", "ANN-SECRET")):
            conn.execute(
                "INSERT INTO llm_calls VALUES (1, ?, ?)",
                (seat, json.dumps([{"role": "user", "content": text}])),
            )
        checked, problems = character_prompt_leaks(conn)
    assert checked == 2 and problems == ["p1 (Ben) sees Ann's 'ANN-SECRET'"]


def test_an_unexpected_call_is_recorded_and_answered_with_garbage() -> None:
    script = StrictScript({})
    calls: list[dict[str, Any]] = []
    with TestServer(script) as server:
        agents = seats(CharacterBoxLLMAgent(CharacterBoxLLMConfig(model=model(server), bdi=False)))
        result, _, _ = play(
            CharacterBoxWorld, one_round(), agents, seed=1, llm=LLMClient(record=calls.append)
        )
    assert script.unexpected[0] == "('act', 'Ann', 1, 1)"
    assert calls and {c["response"] for c in calls} == {GARBAGE} and result.invalid["p0"] == 1


def test_a_failed_bdi_is_noted_and_does_not_block_the_action() -> None:
    script = StrictScript({("act", "Ann", 1, 1): do("waits", "Still here.")})  # the BDI gets garbage
    calls: list[dict[str, Any]] = []
    with TestServer(script) as server:
        agents = seats(CharacterBoxLLMAgent(CharacterBoxLLMConfig(model=model(server))))
        result, events, _ = play(
            CharacterBoxWorld, one_round(), agents, seed=1, llm=LLMClient(record=calls.append)
        )
    bdis = [c for c in calls if c["purpose"] == "characterbox.bdi"]
    assert bdis and not any(c["valid"] for c in bdis)
    ann = next(e for e in events if e.kind == "action" and e.payload["character"] == "Ann")
    assert ann.payload["speech"] == "Still here."
    notes = next(e.payload["notes"] for e in events if e.kind == "rationale" and e.actor == "p0")
    assert "bdi_failed" in notes and "bdi" not in notes
    assert result.invalid["p0"] == 0


def test_a_narrator_verdict_naming_an_absent_character_is_logged_invalid_and_the_state_kept() -> None:
    # Dot is in the cast but not in the scene: the verdict passes the schema (a cast name) and fails the
    # world's check, so it is logged invalid and changes nothing.
    absent = ruling("Dot faints.", [{"character": "Dot", "state": {"mood": "faint"}}], ["Ann"])
    answers = {
        "influence": lambda key: affects(None),
        "rule": lambda key: absent,
        "summary": lambda key: {"text": "Nothing happened."},
    }
    calls: list[dict[str, Any]] = []
    with TestServer(by_stage(answers)) as server:
        narrator = LLMAgent(LLMAgentConfig(model=model(server)))
        agents = {**{f"p{i}": CharacterBoxCharacterBot() for i in range(4)}, "p4": narrator}
        _, events, world = play(
            CharacterBoxWorld, one_round(), agents, seed=1, llm=LLMClient(record=calls.append)
        )
    verdicts = [e.payload for e in events if e.kind == "verdict"]
    assert verdicts and all(not v["valid"] for v in verdicts)
    assert all(any("Dot" in err for err in v["errors"]) for v in verdicts)
    assert not [e for e in events if e.kind == "state_update"]
    assert world.states["Dot"] == {"mood": "calm", "alive": True}
    rules = [c for c in calls if c["purpose"] == "characterbox.rule"]
    assert rules and all(c["valid"] for c in rules)  # a legal answer: the world, not the schema, rejects it


def test_character_prompts_stay_bounded_in_a_long_scene() -> None:
    answers = {
        "bdi": lambda key: bdi(key[1], f"keep stirring the pot in round {key[3]}"),
        "act": lambda key: do(f"stirs the pot slowly (round {key[3]})", "Supper soon."),
        "react": lambda key: do("steps back from the stove"),
    }
    calls: list[dict[str, Any]] = []
    data = scene(rounds=16)
    params = CharacterBoxParams.model_validate({"scene": data, "stale_rounds": 20})
    with TestServer(by_stage(answers)) as server:
        cfg = CharacterBoxLLMConfig(model=model(server), memory_window=6, retrieve_k=3)
        agents = {f"p{i}": CharacterBoxLLMAgent(cfg) for i in range(4)}
        agents["p4"] = CharacterBoxNarratorBot()
        _, events, _ = play(CharacterBoxWorld, params, agents, seed=1, llm=LLMClient(record=calls.append))
    ann = [prompt_of(json.dumps(c["messages"])) for c in calls if c["player_id"] == "p0"]
    assert len([e for e in events if e.kind == "action"]) >= 3 * 16
    early, late = max(len(t) for t in ann[6:12]), max(len(t) for t in ann[-6:])
    assert late <= 1.2 * early, (early, late)
    assert "Earlier moments you remember:" in ann[-1]


def model(server: TestServer) -> ModelSettings:
    return ModelSettings(model="openai/stub", api_base=server.openai_base, max_tokens=256, backoff=0.0)


def one_round() -> CharacterBoxParams:
    return CharacterBoxParams.model_validate({"scene": scene(rounds=1), "stale_rounds": 5})


def seats(first: Any) -> dict[str, Any]:
    """``first`` as Ann (p0), scripted bots for the others and the narrator."""
    return {
        "p0": first,
        **{f"p{i}": CharacterBoxCharacterBot() for i in (1, 2, 3)},
        "p4": CharacterBoxNarratorBot(),
    }
