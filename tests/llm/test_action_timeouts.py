"""Timeouts that agree: an unset ``engine.action_timeout`` covers the seat's model settings, and a model
timeout above an explicit limit is a scenario warning (printed once)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from agents.llm.agent import LLMAgent, LLMAgentConfig
from sim.agent import AgentBase, AgentConfig
from sim.llm.budget import ask_budget
from sim.llm.settings import ModelSettings
from sim.scenario import ScenarioWarning, validate_scenario
from sim.settings import DEFAULT_ACTION_TIMEOUT, EngineSettings
from sim.types import Action, Observation, PlayerId, WorldSpec

SLOW_LOCAL = {"model": "openai/smollm2", "api_base": "http://127.0.0.1:8080/v1", "timeout": 180}


def _scenario(engine: dict[str, Any], model: dict[str, Any] = SLOW_LOCAL) -> dict[str, Any]:
    return {
        "name": "slow",
        "world": "matrix/repeated-v1",
        "params": {"game": "akata_prisoners_dilemma", "rounds": 1},
        "seats": [{"agent": "llm", "config": {"model": model}}, {"agent": "tit_for_tat"}],
        "engine": engine,
    }


def test_one_ask_is_covered_with_every_try_reask_and_backoff() -> None:
    settings = ModelSettings(model="openai/m", timeout=180, retries=4, reasks=2, backoff=0.5)
    assert ask_budget(settings) == 3 * (5 * 180 + (0.5 + 1 + 2 + 4))
    capped = ModelSettings(model="openai/m", timeout=1, retries=3, reasks=0, backoff=20)
    assert ask_budget(capped) == 4 * 1 + 20 + 30 + 30  # one backoff wait is at most 30 s


def test_the_default_action_limit_is_derived_from_the_seat_model() -> None:
    engine = EngineSettings()
    assert engine.action_timeout is None
    model = ModelSettings(**SLOW_LOCAL)
    plain = LLMAgent(LLMAgentConfig(model=model))
    scot = LLMAgent(LLMAgentConfig(model=model, scot=True))
    assert engine.action_limit(plain) == ask_budget(model) > 180 * 5
    assert engine.action_limit(scot) == 2 * ask_budget(model)  # SCoT asks twice per action
    assert EngineSettings(action_timeout=30).action_limit(plain) == 30  # an explicit limit wins
    assert engine.action_limit(_Stalling()) == DEFAULT_ACTION_TIMEOUT  # no budget of its own


class _Stalling(AgentBase):
    """A concurrent agent that never answers in time; its budget is what the engine must enforce."""

    concurrent = True
    budget: float | None = None

    def reset(self, seat: PlayerId, world: WorldSpec, seed: int) -> None:
        pass

    async def act(self, observation: Observation) -> Action:
        await asyncio.sleep(30)
        raise AssertionError("cancelled before")

    def action_budget(self) -> float | None:
        return self.budget


def test_the_engine_cancels_an_action_at_the_derived_limit() -> None:
    from agents.scripted.repeated import Cooperator
    from sim.testing import play
    from worlds.repeated.params import RepeatedParams
    from worlds.repeated.world import RepeatedGameWorld

    agent = _Stalling(AgentConfig())
    agent.budget = 0.2
    _, events, _ = play(
        RepeatedGameWorld,
        RepeatedParams(rounds=1),
        {"p0": agent, "p1": Cooperator()},
        settings=EngineSettings(max_retries=0),
    )
    (invalid,) = [e for e in events if e.kind == "invalid"]
    assert invalid.payload["errors"] == ["no answer within 0.2 s"]


def test_a_model_timeout_above_an_explicit_action_limit_warns() -> None:
    with pytest.warns(ScenarioWarning, match=r"seats\[0\]\.config: a model timeout of 180 s .* \(60 s\)"):
        validate_scenario(_scenario({"action_timeout": 60}), "slow.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate_scenario(_scenario({}), "derived.yaml")  # unset: derived, no warning
        validate_scenario(_scenario({"action_timeout": 200}), "enough.yaml")


def test_the_warning_is_printed_once_and_the_scenario_still_loads(tmp_path: Path) -> None:
    code = (
        "from tests.llm.test_action_timeouts import _scenario\n"
        "from sim.scenario import validate_scenario\n"
        "for _ in range(3): validate_scenario(_scenario({'action_timeout': 60}), 'slow.yaml')\n"
        "print('loaded')\n"
    )
    root = Path(__file__).parent.parent.parent
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "loaded"
    assert done.stderr.count("ScenarioWarning") == 1


def test_a_recon_seat_budgets_one_ask_per_enabled_stage() -> None:
    from agents.reasoning.recon import CoTAgent, CoTConfig, ReConAgent, ReConConfig

    model = {"model": "openai/x", "timeout": 10, "retries": 0, "reasks": 0}
    assert ReConAgent(ReConConfig(model=model)).action_budget() == 40.0  # belief, draft, reading, refine
    assert CoTAgent(CoTConfig(model=model)).action_budget() == 10.0
    no_belief = ReConConfig(model=model, first_order=False)
    assert ReConAgent(no_belief).action_budget() == 30.0
