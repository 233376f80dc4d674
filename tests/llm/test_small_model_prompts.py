"""Every JSON prompt a world's pack or ReCon writes, for real observations of every decision kind, shows a
filled-in example answer that validates and every legal value, and never a raw JSON Schema."""

from __future__ import annotations

import json
import random
import re
from functools import cache
from typing import Any

import pytest
from pydantic import BaseModel

from agents.llm import parsing
from agents.reasoning.recon import ReConAgent, ReConConfig, belief_model
from agents.reasoning.recon_judge import judge_prompt
from agents.scripted.avalon import AvalonNaiveAgent
from sim.actions import answer_model
from sim.answer_examples import example_answer
from sim.llm.settings import ModelSettings
from sim.prompts import PromptSettings, prompt_pack
from sim.testing import play
from sim.types import Action, ActionKind, Observation
from worlds.avalon.params import AvalonParams
from worlds.avalon.world import AvalonWorld
from worlds.repeated.params import RepeatedParams
from worlds.repeated.world import RepeatedGameWorld

SCHEMA_MARKS = ("$defs", '"properties"', '"type": "object"', "$ref", '"enum"', '"anyOf"')
ROLES = ["merlin", "percival", "servant", "servant", "morgana", "assassin"]


class Watcher(AvalonNaiveAgent):
    """A scripted seat that keeps every observation it acted on (with the world's text)."""

    needs_text = True

    def __init__(self, seen: list[Observation]) -> None:
        super().__init__()
        self.seen = seen

    def decide(self, obs: Observation) -> Action:
        self.seen.append(obs)
        return super().decide(obs)


@cache
def avalon_observations() -> tuple[Observation, ...]:
    """One observation per distinct legal spec of a real 6-player game (votes, teams, cards, speeches,
    the assassin's target), the first with no history and one with history."""
    seen: list[Observation] = []
    agents: dict[str, Any] = {f"p{i}": Watcher(seen) for i in range(6)}
    play(AvalonWorld, AvalonParams(roles=ROLES, seating="fixed"), agents, seed=0)  # type: ignore[arg-type]
    kinds: dict[Any, Observation] = {}
    for obs in seen:
        assert obs.legal is not None
        legal = obs.legal
        kinds.setdefault(
            (legal.kind, legal.options, legal.max_count, legal.max_chars, bool(obs.history)), obs
        )
    return tuple(kinds.values())


def example_in(prompt: str) -> Any:
    match = re.search(r"like this example:\n(.*)\n", prompt)
    assert match, prompt
    return json.loads(match.group(1))


def assert_small_model_format(prompt: str, model: type[BaseModel], values: list[str]) -> None:
    """No schema dump; a valid example; every legal value spelled out as JSON."""
    assert not [mark for mark in SCHEMA_MARKS if mark in prompt], prompt
    model.model_validate(example_in(prompt))
    missing = [v for v in values if v not in prompt]
    assert not missing, (missing, prompt)


def legal_values(obs: Observation) -> list[str]:
    assert obs.legal is not None
    if obs.legal.kind is ActionKind.TEXT:
        return [f"at most {obs.legal.max_chars} characters"]
    return [json.dumps(o) for o in obs.legal.options]


def test_the_observations_cover_every_avalon_decision_kind() -> None:
    specs = [obs.legal for obs in avalon_observations() if obs.legal is not None]
    assert {spec.kind for spec in specs} == {ActionKind.CHOICE, ActionKind.MULTI_CHOICE, ActionKind.TEXT}
    assert ("approve", "reject") in {spec.options for spec in specs}  # votes
    assert any(len(spec.options) == 5 for spec in specs if spec.kind is ActionKind.CHOICE)  # a target


def test_the_llm_seat_prompt_in_avalon_shows_an_example_and_the_options() -> None:
    pack = prompt_pack(AvalonWorld.spec.id)
    for obs in avalon_observations():
        prompt = pack.act_prompt(pack.decision(obs, PromptSettings("json"), random.Random(0)))
        assert prompt.answer == "json"
        assert_small_model_format(prompt.text, prompt.model, legal_values(obs))


@pytest.mark.parametrize("obs", avalon_observations(), ids=lambda obs: f"{obs.player}-{obs.turn}")
def test_every_recon_json_stage_shows_an_example_and_the_allowed_values(obs: Observation) -> None:
    assert obs.legal is not None
    agent = ReConAgent(ReConConfig(model=ModelSettings(model="openai/none")))
    agent.reset(obs.player, AvalonWorld.spec, 0)
    staged = parsing.staged_answer_model(obs.legal)
    draft = staged.model_validate(example_answer(staged))
    for stage, context in [
        ("act", agent.prompts(obs)),
        ("formulate", agent.prompts(obs)),
        ("refine", agent.prompts(obs, draft=draft, after_draft=True)),
        ("refine", agent.prompts(obs, after_draft=True)),  # refinement without a draft
    ]:
        text = agent.messages(stage, context)[1]["content"]
        assert_small_model_format(text, staged, legal_values(obs))
    belief = agent.messages("belief", agent.prompts(obs))[1]["content"]
    others = [p for p in obs.public["players"] if p != obs.player]
    roles = [*obs.public["role_set"], "unknown"]
    assert_small_model_format(belief, belief_model(obs), [json.dumps(v) for v in [*others, *roles]])


def test_the_judge_prompt_shows_an_example_and_the_score_range() -> None:
    text = judge_prompt("Merlin", "good", "Round 1.", "I trust p1.")
    assert_small_model_format(text, parsing.JudgeScores, ['"concealment"', '"creativity"', "from 1 to 10"])


@pytest.mark.parametrize("style", ["json", "akata"])
def test_the_repeated_prompts_name_both_options_and_the_json_one_shows_example_answers(style: str) -> None:
    world = RepeatedGameWorld()
    world.reset(["p0", "p1"], RepeatedParams(), random.Random(0))
    obs = world.observe("p0")
    pack = prompt_pack(RepeatedGameWorld.spec.id)
    prompt = pack.act_prompt(pack.decision(obs, PromptSettings(style), random.Random(1)))
    assert not [mark for mark in SCHEMA_MARKS if mark in prompt.text]
    assert obs.legal is not None
    for option in obs.legal.options:
        assert f"Option {option}" in prompt.text
        if style == "json":  # each example answer is a legal answer
            example = f'{{"choice": "{option}"}}'
            assert example in prompt.text
            answer_model(obs.legal).model_validate_json(example)
