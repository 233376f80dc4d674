"""The rule-based narrator and the scripted character of ``roleplay/characterbox-v1``."""

from __future__ import annotations

from typing import Any

from agents.scripted.characterbox import CharacterBoxCharacterBot, CharacterBoxNarratorBot
from sim.types import ActionKind, dumps
from sim.world import WorldBase
from tests.worlds.characterbox.helpers import NARRATOR, SEATS, act, new_world, scene
from worlds.characterbox.world import CharacterBoxWorld


def _narrator() -> CharacterBoxNarratorBot:
    bot = CharacterBoxNarratorBot()
    bot.reset(NARRATOR, CharacterBoxWorld.spec, 7)
    return bot


def _decide(world: WorldBase, bot: CharacterBoxNarratorBot | CharacterBoxCharacterBot) -> Any:
    """The bot answers for the seat to act; its answer must be legal."""
    (seat,) = world.to_act()
    action = bot.decide(world.observe(seat))
    legal = world.legal_actions(seat)
    assert legal is not None and legal.check(action) is None
    world.step({seat: action})
    return action.value


def test_the_narrator_names_the_first_mentioned_character_free_to_react() -> None:
    world = new_world()
    act(world, "shoves Cal past Ben", "Out of my way, Ben")
    assert _decide(world, _narrator())["target"] == "Ben"  # Ben comes first in the scene
    world = new_world()
    act(world, "hums to herself")
    assert _decide(world, _narrator())["target"] is None
    world = new_world()
    act(world, "taps Ann on the shoulder")  # only the actor herself is named
    assert _decide(world, _narrator())["target"] is None


def test_the_narrator_applies_each_scripted_change_once_in_its_round() -> None:
    death = {"round": 2, "character": "Cal", "state": {"alive": False}, "outcome": "Cal falls."}
    world = new_world(scene(changes=[death]))
    bot = _narrator()
    rulings = []
    while not world.is_terminal():
        (seat,) = world.to_act()
        if seat == NARRATOR:
            ruling = world.phase == "rule"
            round_ = world.round
            value = _decide(world, bot)
            if ruling:
                rulings.append((round_, value["changes"]))
        else:
            act(world, "waits")
    applied = [(r, c) for r, c in rulings if c]
    assert applied == [(2, [{"character": "Cal", "position": None, "state": {"alive": False}}])]
    assert world.states["Cal"]["alive"] is False


def test_the_character_bot_is_seeded_and_keeps_its_secret() -> None:
    def lines(seed: int) -> list[str]:
        world = new_world()
        bot = CharacterBoxCharacterBot()
        bot.reset(SEATS["Ann"], CharacterBoxWorld.spec, seed)
        out = []
        for _ in range(3):
            value = _decide(world, bot)
            out.append(dumps(value))
            while world.to_act() != (SEATS["Ann"],) and not world.is_terminal():
                (seat,) = world.to_act()
                kind = world.legal_actions(seat).kind  # type: ignore[union-attr]
                if kind is ActionKind.TEXT:
                    world.step({seat: _narrator().decide(world.observe(seat))})
                elif seat == NARRATOR:
                    _decide(world, _narrator())
                else:
                    act(world)
        return out

    assert lines(1) == lines(1) and lines(1) != lines(2)
    assert not any("SECRET-OF-ANN" in line for line in lines(1) + lines(2) + lines(3))
    assert any("GOAL-OF-ANN".lower() in line.lower() for line in lines(1) + lines(2) + lines(3))
