"""Helpers for CharacterBox rule tests: an inline three-character scene and one-line answers."""

from __future__ import annotations

import copy
from typing import Any

from sim.engine import seat_ids
from sim.rng import stream
from sim.types import Action, ActionKind, Event
from worlds.characterbox.params import CharacterBoxParams
from worlds.characterbox.world import CharacterBoxWorld

#: Ann, Ben and Cal in a kitchen; Dot is declared but not in the scene. Seats: p0 Ann, p1 Ben, p2 Cal,
#: p3 Dot, p4 the narrator.
SCENE: dict[str, Any] = {
    "id": "kitchen",
    "title": "Kitchen",
    "source": "original",
    "world": "A farmhouse kitchen.",
    "characters": [
        {
            "name": name,
            "profile": f"{name} the cook",
            "goal": f"GOAL-OF-{name.upper()}",
            "secret": f"SECRET-OF-{name.upper()}",
            "position": "by the stove",
            "state": {"mood": "calm"},
        }
        for name in ("Ann", "Ben", "Cal", "Dot")
    ],
    "scenes": [
        {
            "title": "Supper",
            "time": "evening",
            "location": "the kitchen",
            "description": "Pots on the stove.",
            "participants": ["Ann", "Ben", "Cal"],
            "rounds": 3,
        }
    ],
}
SEATS = {"Ann": "p0", "Ben": "p1", "Cal": "p2", "Dot": "p3"}
NARRATOR = "p4"


def scene(**changes: Any) -> dict[str, Any]:
    """A copy of :data:`SCENE` with scene-level keys of its first scene changed."""
    data = copy.deepcopy(SCENE)
    data["scenes"][0].update(changes)
    return data


def new_world(data: dict[str, Any] | None = None, stale_rounds: int = 5) -> CharacterBoxWorld:
    """A world reset with the inline scene (the narrator in the last seat)."""
    world = CharacterBoxWorld()
    params = CharacterBoxParams.model_validate({"scene": data or SCENE, "stale_rounds": stale_rounds})
    n = len((data or SCENE)["characters"]) + 1
    world.reset(seat_ids(n), params, stream(0, "world"))
    return world


def act(
    world: CharacterBoxWorld, action: str = "waits", speech: str = "", leave: bool = False
) -> list[Event]:
    """The seat to act (or react) answers."""
    (seat,) = world.to_act()
    value = {"action": action, "speech": speech, "leave": leave}
    return world.step({seat: Action(ActionKind.STRUCTURED, value)})


def influence(world: CharacterBoxWorld, target: str | None, impact: str = "a nudge") -> list[Event]:
    """The narrator names the character affected."""
    return world.step({NARRATOR: Action(ActionKind.STRUCTURED, {"target": target, "impact": impact})})


def verdict(
    world: CharacterBoxWorld, outcome: str = "ok", changes: list[Any] | None = None, perceived_by: Any = ()
) -> list[Event]:
    """The narrator rules."""
    value = {"outcome": outcome, "changes": changes or [], "perceived_by": list(perceived_by)}
    return world.step({NARRATOR: Action(ActionKind.STRUCTURED, value)})


def summary(world: CharacterBoxWorld, text: str = "a round") -> list[Event]:
    """The narrator summarises the round."""
    return world.step({NARRATOR: Action(ActionKind.TEXT, text)})


def quiet_turn(world: CharacterBoxWorld) -> list[Event]:
    """The acting character waits, nobody is affected, nothing happens."""
    events = act(world)
    if world.phase == "influence":
        events += influence(world, None)
    return events + verdict(world)


def quiet_round(world: CharacterBoxWorld) -> list[Event]:
    """Every character waits and the narrator summarises."""
    events: list[Event] = []
    while world.phase != "summary":
        events += quiet_turn(world)
    return events + summary(world)


def kinds(events: list[Event]) -> list[str]:
    return [e.kind for e in events]
