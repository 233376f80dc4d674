"""Helpers for Among Us rule tests: a small map, a world with a fixed deal, and one-line rounds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.engine import seat_ids
from sim.rng import stream
from sim.types import Action, ActionKind, Event
from worlds.among_us.params import AmongUsParams
from worlds.among_us.world import AmongUsWorld

SMALL = str(Path(__file__).parent / "maps" / "small.yaml")
#: Only the common task (Wiring in Hall) for every crewmate unless a test asks for more.
BASE: dict[str, Any] = {
    "map": SMALL,
    "common_tasks": 1,
    "short_tasks": 0,
    "long_tasks": 0,
    "impostor_seats": [0],
    "initial_kill_cooldown": 0,
    "discussion_rounds": 0,
}


def new_world(n: int = 5, seed: int = 0, **params: Any) -> AmongUsWorld:
    """A world reset with the small map and ``params`` over :data:`BASE`."""
    world = AmongUsWorld()
    world.reset(seat_ids(n), AmongUsParams.model_validate({**BASE, **params}), stream(seed, "world"))
    return world


def one_of(branch: str, value: Any = None) -> Action:
    return Action(ActionKind.ONE_OF, {"branch": branch, "value": value})


def act(world: AmongUsWorld, **moves: tuple[str, Any] | str) -> list[Event]:
    """One task round: ``p0=("kill", "p1")``, ``p2="report"``; everyone else waits."""
    actions = {}
    for p in world.to_act():
        move = moves.get(p, "wait")
        branch, value = (move, None) if isinstance(move, str) else move
        actions[p] = one_of(branch, value)
    return world.step(actions)


def vote(world: AmongUsWorld, **votes: str) -> list[Event]:
    """The vote: unnamed living seats skip."""
    return world.step({p: Action(ActionKind.CHOICE, votes.get(p, "skip")) for p in world.to_act()})


def branches(world: AmongUsWorld, player: str) -> dict[str, tuple[str, ...] | None]:
    """The branches offered to ``player`` with their options."""
    spec = world.legal_actions(player)
    assert spec is not None
    return {name: None if arg is None else arg.options for name, arg in spec.branches}


def kinds(events: list[Event]) -> list[str]:
    return [e.kind for e in events]
