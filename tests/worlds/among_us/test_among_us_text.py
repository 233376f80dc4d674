"""Event lines, the rendered observation and the transcript formatter."""

from __future__ import annotations

import random

from sim.testing import drive, random_chooser
from sim.types import Action, ActionKind, Event
from tests.worlds.among_us.helpers import act, new_world, vote
from worlds.among_us.params import AmongUsParams
from worlds.among_us.transcript import AmongUsFormatter
from worlds.among_us.world import AmongUsWorld


def test_every_event_kind_of_random_games_has_its_own_line() -> None:
    kinds: set[str] = set()
    for seed in range(6):
        world = AmongUsWorld()
        params = AmongUsParams.model_validate({"impostors": "auto", "confirm_ejects": True})
        for event in drive(world, params, 9, seed, random_chooser(seed)):
            kinds.add(event.kind)
            line = world.describe_event(event)
            assert "{'" not in line, line  # not the generic fallback (a raw payload)
    assert kinds >= {"start", "setup", "role", "move", "kill", "meeting", "speech", "vote", "end", "busy"}


def test_the_rendered_observation_lists_the_branches_and_the_meeting() -> None:
    world = new_world(5, discussion_rounds=1)
    text = world.render(world.observe("p0"))
    assert "You are p0, an impostor." in text
    assert "- kill: kill someone here (p1, p2, p3, p4)" in text and "- vent:" in text
    act(world, p1="button")
    text = world.render(world.observe("p2"))
    assert "Meeting 1 called by p1 (button in Hall)." in text and "It is your turn" not in text


def test_the_formatter_puts_speeches_in_the_chat_and_colours_impostors_red() -> None:
    world = new_world(4, discussion_rounds=1)
    events: list[Event] = list(act(world, p1="button"))
    while world.phase.value == "discuss":
        (speaker,) = world.to_act()
        events += world.step({speaker: Action(ActionKind.TEXT, f"{speaker} here")})
    events += vote(world, p1="p0", p2="p0")
    formatter = AmongUsFormatter()
    entries = [formatter.entry(e) for e in events]
    assert [e.speech for e in entries if e.kind == "speech"] == ["p1 here", "p2 here", "p3 here", "p0 here"]
    (ballots,) = [e for e in entries if e.kind == "vote"]
    assert ballots.sections[0].table[0] == {"voter": "p0", "vote": "skip"}
    setup = AmongUsWorld().reset(("p0", "p1", "p2", "p3"), world.params, random.Random(1))
    assert formatter.sides(setup) == {"p0": "evil", "p1": "good", "p2": "good", "p3": "good"}
