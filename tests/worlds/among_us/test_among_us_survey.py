"""The optional survey ("who is most suspicious?"): before a meeting's first speech and after each speech
every living seat answers at once, in an event nobody sees; then the discussion goes on, then the vote."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sim.testing import drive, random_chooser
from sim.types import Action, ActionKind, Event, dumps
from tests.worlds.among_us.helpers import act, new_world
from tests.worlds.among_us.test_among_us_leaks import bot_chooser
from worlds.among_us.params import AmongUsParams
from worlds.among_us.records import Phase
from worlds.among_us.text import describe_event
from worlds.among_us.world import AmongUsWorld

#: Long enough for the bots to kill and meet (as the golden trace's setup).
LONG = {"short_tasks": 3, "long_tasks": 1, "initial_kill_cooldown": 0, "kill_cooldown": 2}


def answer_all(world: AmongUsWorld, **answers: str) -> list[Event]:
    """One survey step: unnamed living seats answer skip."""
    return world.step({p: Action(ActionKind.CHOICE, answers.get(p, "skip")) for p in world.to_act()})


def test_a_survey_before_the_first_speech_and_after_each_then_the_vote() -> None:
    world = new_world(4, discussion_rounds=2, survey=True)
    act(world, p0=("kill", "p1"))  # witnessed by p2 and p3 in the Hall
    meeting = act(world, p2="report")[-1]
    assert meeting.kind == "meeting" and meeting.phase == Phase.DISCUSS
    phases, surveys = [], []
    while world.phase is not Phase.VOTE:
        phases.append(world.phase.value)
        if world.phase is Phase.SURVEY:
            assert world.to_act() == ("p0", "p2", "p3")  # the living, all at once
            (event,) = answer_all(world, p2="p0", p3="p0")
            surveys.append(event.payload)
        else:
            (speaker,) = world.to_act()
            world.step({speaker: Action(ActionKind.TEXT, f"{speaker} speaks")})
    assert phases == ["survey", "discuss"] * 6 + ["survey"]
    speakers = [s["player"] for s in world.state.meeting.speeches]  # type: ignore[union-attr]
    assert [(s["after"], s["speech"]) for s in surveys] == [(None, None)] + [
        (p, i) for i, p in enumerate(speakers)
    ]
    assert all(s["meeting"] == 1 and s["answers"] == {"p0": "skip", "p2": "p0", "p3": "p0"} for s in surveys)


def test_only_the_living_answer_a_choice_of_the_living_others_or_skip() -> None:
    world = new_world(4, discussion_rounds=1, survey=True)
    act(world, p0=("kill", "p1"))
    act(world, p2="report")
    assert world.phase is Phase.SURVEY
    spec = world.legal_actions("p2")
    assert spec is not None and spec.kind is ActionKind.CHOICE
    assert spec.options == ("p0", "p3", "skip") and spec.fallback == "skip"
    assert world.legal_actions("p1") is None  # the dead are not asked
    assert "who is most suspicious? Name one of p0, p3, or skip." in world.render(world.observe("p2"))
    (event,) = answer_all(world)
    assert set(event.payload["answers"]) == {"p0", "p2", "p3"}
    assert event.visible_to == () and event.kind == "survey"
    assert "before the first speech" in describe_event(event)


def test_no_discussion_still_asks_once_before_the_vote() -> None:
    world = new_world(4, discussion_rounds=0, survey=True)
    act(world, p1="button")
    assert world.phase is Phase.SURVEY
    answer_all(world)
    assert world.phase is Phase.VOTE


@pytest.mark.parametrize("players", ["bots", "random"])
def test_no_seat_ever_sees_a_survey_answer(players: str) -> None:
    params = AmongUsParams.model_validate({**LONG, "survey": True})
    surveyed = 0
    for seed in range(6):
        world = AmongUsWorld()
        n = 5 + seed % 3

        def on_turn(w: AmongUsWorld) -> None:
            for seat in w.players:
                obs = w.observe(seat)
                assert all(r["kind"] != "survey" for r in obs.history)
                assert '"answers"' not in dumps({"public": obs.public, "private": obs.private})
                assert "most suspicious (" not in w.render(obs)

        choose = bot_chooser(world, n, seed) if players == "bots" else random_chooser(seed)
        events = drive(world, params, n, seed, choose, on_turn=on_turn)
        surveyed += sum(e.kind == "survey" for e in events)
        assert all(e.visible_to == () for e in events if e.kind == "survey")
    assert surveyed > 10


def _bots_game(seed: int, **params: Any) -> list[Event]:
    world = AmongUsWorld()
    return drive(
        world, AmongUsParams.model_validate({**LONG, **params}), 5, seed, bot_chooser(world, 5, seed)
    )


def test_the_same_seed_gives_the_same_log_with_surveys() -> None:
    first, second = _bots_game(7, survey=True), _bots_game(7, survey=True)
    assert any(e.kind == "survey" for e in first)
    assert [json.loads(dumps(e)) for e in first] == [json.loads(dumps(e)) for e in second]


def test_survey_off_is_the_game_without_surveys() -> None:
    """Off, the game is the one before the survey existed (rules unchanged, no survey event); on, the
    bots (who answer without randomness) play the same game with the survey steps added."""
    off, on = _bots_game(7), _bots_game(7, survey=True)
    assert "survey" not in off[0].payload["rules"] and on[0].payload["rules"]["survey"] is True
    assert not any(e.kind == "survey" for e in off)

    def game(events: list[Event]) -> list[Any]:
        return [(e.phase, e.kind, e.actor, e.visible_to, e.payload) for e in events[1:] if e.kind != "survey"]

    assert game(on) == game(off) and any(e.kind == "vote" for e in off)
