"""ReCon and chain-of-thought seats against the offline test server (real litellm, real HTTP)."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from agents.reasoning.recon import CoTAgent, CoTConfig, ReConAgent, ReConConfig
from agents.scripted.avalon import AvalonNaiveAgent
from sim.llm.client import LLMClient
from sim.llm.settings import ModelSettings
from sim.llm.testserver import Request, TestServer, answer
from sim.runner import run_scenario
from sim.scenario import load_scenario
from sim.testing import play
from sim.types import ActionKind, Observation, dumps
from worlds.avalon.params import AvalonParams
from worlds.avalon.world import AvalonWorld

ROLES = ["merlin", "percival", "servant", "servant", "morgana", "assassin"]
PARAMS = AvalonParams(roles=ROLES, seating="fixed")  # type: ignore[arg-type]


def stage_of(prompt: str) -> str:
    if "REVISED THINK" in prompt:
        return "refine"
    if "Respond in two stages" in prompt:
        return "formulate"
    if "Think step by step" in prompt:
        return "act"
    if "Analyze the identities" in prompt:
        return "belief"
    if "expert judge" in prompt:
        return "judge"
    return "second_order"


def tagged(req: Request) -> str:
    """Schema-valid answers whose THINK and SPEAK name the stage that wrote them."""
    stage = stage_of(req.messages[-1]["content"])
    if req.schema is None:
        return f"ANALYSIS-{stage}"
    if stage == "judge":
        return json.dumps(
            {d: 7 for d in ("concealment", "logic", "contribution", "persuasiveness")}
            | {
                "information": 7,
                "creativity": 7,
            }
        )
    reply = json.loads(answer(req, lambda values: values[0]))
    if "think" in reply:
        reply["think"] = f"THINK-{stage}-secret"
    if "speak" in reply:
        reply["speak"] = f"SPEAK-{stage}"
    return json.dumps(reply)


class Recording(ReConAgent):
    """A ReCon seat that remembers every observation it was asked to act on."""

    def reset(self, seat, world, seed) -> None:  # type: ignore[no-untyped-def]
        super().reset(seat, world, seed)
        self.asked: list[Observation] = []

    async def act(self, obs: Observation):  # type: ignore[no-untyped-def]
        self.asked.append(obs)
        return await super().act(obs)


def play_one(server: TestServer, config: ReConConfig, seat: str = "p0", seed: int = 1):  # type: ignore[no-untyped-def]
    calls: list[dict[str, Any]] = []
    agents: dict[str, Any] = {f"p{i}": AvalonNaiveAgent() for i in range(6)}
    agents[seat] = Recording(config)
    result, events, _world = play(AvalonWorld, PARAMS, agents, seed=seed, llm=LLMClient(record=calls.append))
    return result, events, agents[seat], calls


def model(server: TestServer) -> ModelSettings:
    return ModelSettings(model="openai/stub", api_base=server.openai_base, temperature=0, max_tokens=512)


SWITCHES = [
    dict(first_order=True, formulation=True, second_order=True, refinement=True),
    dict(first_order=False, formulation=True, second_order=True, refinement=True),
    dict(first_order=True, formulation=False, second_order=True, refinement=True),
    dict(first_order=True, formulation=True, second_order=False, refinement=True),
    dict(first_order=True, formulation=True, second_order=True, refinement=False),
    dict(first_order=False, formulation=False, second_order=False, refinement=False),
]


@pytest.mark.parametrize("switches", SWITCHES, ids=lambda s: "".join("1" if v else "0" for v in s.values()))
def test_stage_switches_make_exactly_the_expected_calls_per_action(switches: dict[str, bool]) -> None:
    with TestServer(tagged) as server:
        result, _, agent, calls = play_one(server, ReConConfig(model=model(server), **switches))
        requests = server.count
    decisions = [
        o for o in agent.asked if not (o.legal.kind is ActionKind.CHOICE and len(o.legal.options) == 1)
    ]
    assert decisions
    expected: Counter[str] = Counter()
    for obs in decisions:
        if switches["first_order"] and len(obs.history):
            expected["avalon.recon.belief"] += 1
        expected["avalon.recon.formulate" if switches["formulation"] else "avalon.cot.act"] += 1
        if switches["second_order"]:
            expected["avalon.recon.second_order"] += 1
        if switches["refinement"]:
            expected["avalon.recon.refine"] += 1
    assert Counter(c["purpose"] for c in calls) == expected
    assert all(c["valid"] for c in calls) and requests == sum(expected.values())
    assert result.invalid["p0"] == 0


def test_only_the_final_speech_is_public_and_thinking_stays_private() -> None:
    with TestServer(tagged) as server:
        _, events, _agent, _ = play_one(server, ReConConfig(model=model(server)))
    speeches = [e for e in events if e.kind == "speech" and e.actor == "p0"]
    assert speeches and {e.payload["text"] for e in speeches} == {"SPEAK-refine"}
    for e in events:
        text = dumps(e.payload)
        if "THINK-" in text or "SPEAK-formulate" in text or "ANALYSIS-" in text:
            assert e.visible_to == ("p0",) and e.kind == "rationale", e
    rationale = [e for e in events if e.kind == "rationale" and e.actor == "p0"]
    assert rationale and rationale[-1].payload["text"] == "THINK-refine-secret"
    assert {"belief", "draft", "analysis"} <= set(rationale[-1].payload["notes"])


def test_cot_baseline_makes_one_call_per_decision() -> None:
    with TestServer(tagged) as server:
        calls: list[dict[str, Any]] = []
        agents: dict[str, Any] = {f"p{i}": AvalonNaiveAgent() for i in range(6)}
        agents["p5"] = CoTAgent(CoTConfig(model=model(server)))  # the Assassin
        _result, _events, _ = play(AvalonWorld, PARAMS, agents, seed=2, llm=LLMClient(record=calls.append))
    assert calls and {c["purpose"] for c in calls} == {"avalon.cot.act"}
    assert len(calls) == server.count


def test_stage_models_route_each_stage_to_its_own_model() -> None:
    with TestServer(tagged) as server:
        base = model(server)
        cheap = base.model_copy(update={"model": "openai/cheap"})
        config = ReConConfig(model=base, stage_models={"formulation": cheap})  # type: ignore[arg-type]
        _, _, _, calls = play_one(server, config)
    by_purpose = {(c["purpose"], c["model"]) for c in calls}
    assert ("avalon.recon.formulate", "openai/cheap") in by_purpose
    assert all(m == "openai/stub" for p, m in by_purpose if p != "avalon.recon.formulate")


def _judge_run(tmp_path: Path, policy: Any) -> list[tuple[str, float | None]]:
    scenario = tmp_path / "judge.yaml"
    with TestServer(policy) as server:
        seat = {
            "agent": "recon",
            "config": {
                "model": model(server).model_dump(exclude_defaults=True),
                "judge": model(server).model_dump(exclude_defaults=True),
                "first_order": False,
                "second_order": False,
                "refinement": False,
            },
        }
        scenario.write_text(
            json.dumps(
                {
                    "name": "judge",
                    "world": "social/avalon-v1",
                    "params": {"roles": ROLES, "seating": "fixed"},
                    "seats": [seat] + [{"agent": "avalon_naive"}] * 5,
                    "seed": 4,
                }
            )
        )
        summary = run_scenario(load_scenario(scenario), tmp_path / "judge.db")
    with sqlite3.connect(summary.db) as conn:
        rows = conn.execute(
            "SELECT name, value FROM metrics WHERE player_id = 'p0' AND name LIKE 'agent.judge.%'"
            " ORDER BY name"
        ).fetchall()
        purposes = {r[0] for r in conn.execute("SELECT purpose FROM llm_calls")}
    assert "avalon.judge" in purposes
    return rows


def test_judge_scores_speeches_on_six_dimensions(tmp_path: Path) -> None:
    rows = dict(_judge_run(tmp_path, tagged))
    assert set(rows) == {
        f"agent.judge.{d}"
        for d in ("concealment", "logic", "contribution", "persuasiveness", "information", "creativity")
    }
    assert set(rows.values()) == {7.0}


def test_a_judge_score_that_never_parses_is_null_not_zero(tmp_path: Path) -> None:
    def unparseable_judge(req: Request) -> str:
        return "I refuse to score." if stage_of(req.messages[-1]["content"]) == "judge" else tagged(req)

    rows = _judge_run(tmp_path, unparseable_judge)
    assert len(rows) == 6 and all(value is None for _, value in rows)
