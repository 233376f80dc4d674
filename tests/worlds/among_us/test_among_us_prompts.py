"""The Among Us prompt pack without a model: one prompt per phase (the survey on hand-made observations),
the bounded memory, the prompt size over a long bots game, and answers the parse refuses."""

from __future__ import annotations

import random
from typing import Any

import pytest

from agents.llm import parsing
from agents.reasoning.among_us import AmongUsLLMAgent, AmongUsLLMConfig
from sim import registry
from sim.llm.settings import ModelSettings
from sim.prompts import Prompt, PromptSettings, prompt_pack
from sim.testing import drive, random_chooser
from sim.types import ActionKind, ActionSpec, Observation
from worlds.among_us.memory import memory
from worlds.among_us.params import AmongUsParams
from worlds.among_us.prompt_pack import AmongUsPromptPack, AmongUsPromptSettings
from worlds.among_us.world import AmongUsWorld

from .helpers import act, new_world, vote

PACK = prompt_pack("social/among_us-v1")
JSON = PromptSettings("json")


def prompt(obs: Observation, settings: PromptSettings = JSON) -> Prompt:
    return PACK.act_prompt(PACK.decision(obs, settings, random.Random(0)))


def survey_of(obs: Observation, options: tuple[str, ...]) -> Observation:
    """A hand-made survey observation (the SURVEY CONTRACT: phase "survey", a CHOICE with skip)."""
    return obs._replace(
        phase="survey", legal=ActionSpec(ActionKind.CHOICE, (*options, "skip"), fallback="skip")
    )


def test_the_pack_is_registered_with_its_agent() -> None:
    assert isinstance(PACK, AmongUsPromptPack)
    assert registry.agents()["among_us_llm"].load() is AmongUsLLMAgent
    purposes = {PACK.purpose("social/among_us-v1", s) for s in ("act", "speak", "vote", "survey")}
    assert purposes == {"among_us.act", "among_us.speak", "among_us.vote", "among_us.survey"}


def test_a_task_round_prompt_is_one_branch_and_target_answer() -> None:
    world = new_world(5, discussion_rounds=1)
    p = prompt(world.observe("p0"))  # the impostor in Hall with everyone, off cooldown
    assert p.stage == "act" and p.answer == "json"
    assert "- kill: kill someone here (p1, p2, p3, p4)" in p.text
    assert '{"branch": "kill", "value": one of "p1", "p2", "p3", "p4"}' in p.text
    assert "You are an impostor" in p.text and "$defs" not in p.text
    value = parsing.parse_answer('{"action": {"branch": "kill", "value": "p2"}}', p)
    assert value == {"branch": "kill", "value": "p2"}
    crew = prompt(world.observe("p1")).text
    assert "You are a crewmate" in crew and "kill" not in crew.split("Choose one action:")[1]


@pytest.mark.parametrize(
    "answer",
    [
        '{"action": {"branch": "kill", "value": "p9"}}',  # nobody of that name
        '{"action": {"branch": "kill", "value": "p0"}}',  # itself
        '{"action": {"branch": "report", "value": null}}',  # no body here
        '{"action": {"branch": "move", "value": "Hall"}}',  # not a neighbour
        '{"branch": "wait", "value": null}',  # not wrapped
    ],
)
def test_an_answer_the_round_does_not_offer_is_refused_by_the_parse(answer: str) -> None:
    p = prompt(new_world(5).observe("p0"))
    with pytest.raises(ValueError):
        parsing.parse_answer(answer, p)


def test_speech_and_vote_prompts_carry_the_meeting_and_the_length_cap() -> None:
    world = new_world(5, discussion_rounds=1, message_max_chars=120)
    act(world, p0=("kill", "p1"))
    act(world, p2="report")
    speaker = world.to_act()[0]
    speech = prompt(world.observe(speaker))
    assert speech.stage == "speak"
    assert "Meeting 1, called by p2 (reported the body of p1 in Hall)" in speech.text
    assert "at most 120 characters" in speech.text and '"text": free text of at most 120' in speech.text
    with pytest.raises(ValueError):
        parsing.parse_answer('{"text": "' + "x" * 121 + '"}', speech)
    while str(world.phase) == "discuss":
        world.step({world.to_act()[0]: _speech("I was in Hall.")})
    ballot = prompt(world.observe("p3"))
    assert ballot.stage == "vote" and "Vote to eject one of p0, p2, p4, or skip" in ballot.text
    assert "p2: I was in Hall." in ballot.text
    assert parsing.parse_answer('{"choice": "skip"}', ballot) == "skip"
    with pytest.raises(ValueError):
        parsing.parse_answer('{"choice": "p1"}', ballot)  # dead
    vote(world)


def _speech(text: str) -> Any:
    from sim.types import Action

    return Action(ActionKind.TEXT, text)


def test_the_survey_prompt_asks_who_is_most_suspicious_under_its_own_stage() -> None:
    world = new_world(5, discussion_rounds=1)
    act(world, p0=("kill", "p1"))
    act(world, p2="report")
    obs = survey_of(world.observe("p3"), ("p0", "p2", "p4"))
    p = prompt(obs)
    assert p.stage == "survey" and AmongUsPromptPack().stage_of(obs) == "survey"
    assert "who do you find most suspicious right now? Name one of p0, p2, p4, or skip" in p.text
    assert "Meeting 1, called by p2" in p.text and "Vote to eject" not in p.text
    assert parsing.parse_answer('{"choice": "p0"}', p) == "p0"
    for refused in ('{"choice": "p3"}', '{"choice": "p1"}', "p0"):  # itself, the dead, not JSON
        with pytest.raises(ValueError):
            parsing.parse_answer(refused, p)
    with pytest.raises(ValueError, match="AmongUsPromptPack has no prompt for phase"):
        prompt(obs._replace(phase="end"))


def long_game(window: int, summary: str = "facts") -> list[tuple[int, int]]:
    """(turn, words) of every task-round prompt over one long game of random legal play (to the time
    limit, with meetings)."""
    params = AmongUsParams.model_validate(
        {"short_tasks": 5, "long_tasks": 3, "max_turns": 150, "kill_cooldown": 10, "discussion_rounds": 1}
    )
    settings = AmongUsPromptSettings("json", window=window, summary=summary)  # type: ignore[arg-type]
    sizes: list[tuple[int, int]] = []

    def on_turn(w: Any) -> None:
        if str(w.phase) == "tasks":
            for p in w.to_act():
                sizes.append((w.steps, len(prompt(w.observe(p), settings).text.split())))

    world = AmongUsWorld()
    drive(world, params, 8, 0, random_chooser(0), on_turn=on_turn)
    assert world.state.clock >= 60 and world.state.meetings > 0
    return sizes


def late_over_early(sizes: list[tuple[int, int]]) -> float:
    quarter = len(sizes) // 4
    early = sum(n for _, n in sizes[:quarter]) / quarter
    return sum(n for _, n in sizes[-quarter:]) / quarter / early


def test_prompts_stay_bounded_in_a_long_game_and_would_not_without_the_window() -> None:
    assert late_over_early(long_game(window=12)) <= 1.5
    assert late_over_early(long_game(window=10_000)) > 1.5  # everything verbatim grows with the game


def test_the_memory_keeps_the_window_verbatim_and_summarises_the_rest() -> None:
    world = new_world(5, discussion_rounds=0, kill_cooldown=0)
    act(world, p1=("move", "Lab"), p2=("move", "Lab"))
    act(world, p0=("move", "Lab"))
    act(world, p0=("kill", "p1"))
    act(world, p2="report")
    vote(world, p2="p0")
    for _ in range(6):
        act(world, p3=("move", "Vault"))
        act(world, p3=("move", "Hall"))
    obs = world.observe("p2")
    full = memory(obs, window=1000)
    assert not full.summarised and any("p0 kills p1 in Lab" in line for line in full.recent)
    kept = memory(obs, window=4)
    assert len(kept.recent) == 4 and kept.recent == full.recent[-4:]
    assert any("p0 kills p1 in Lab (witnesses: p2)" in line for line in kept.witnessed)
    assert any(
        line.startswith("meeting 1: p2 reported p1's body") and "nobody is ejected" in line
        for line in kept.meetings
    )
    assert {line.split(":")[0] for line in kept.sightings} <= {"p0", "p1", "p3", "p4"}
    assert any(line.startswith("p1: ") and "p2 sees in Lab: p1" in line for line in kept.sightings)
    dropped = memory(obs, window=4, summary="none")
    assert dropped.recent == kept.recent and not dropped.summarised
    assert memory(obs, window=0).recent == ()


def test_the_agent_config_sets_the_memory_of_its_prompts() -> None:
    agent = AmongUsLLMAgent(
        AmongUsLLMConfig(model=ModelSettings(model="openai/stub"), memory_window=3, summary="none")
    )
    agent.reset("p0", AmongUsWorld.spec, 1)
    assert isinstance(agent.settings, AmongUsPromptSettings)
    assert (agent.settings.window, agent.settings.summary, agent.settings.style) == (3, "none", "json")
    assert not agent.needs_text  # prompts come from the typed observation
