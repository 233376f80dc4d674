"""No crewmate's observation or rendered text names an impostor unless that crewmate saw something that
reveals it: a kill or a vent in its room (a sighting), a confirmed ejection, or the end of the game."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from agents.scripted.among_us import AmongUsBot
from sim.engine import seat_ids
from sim.rng import derive_seed
from sim.testing import drive, random_chooser
from sim.types import Action, ActionSpec, PlayerId, dumps
from worlds.among_us.params import AmongUsParams
from worlds.among_us.records import Role
from worlds.among_us.world import AmongUsWorld

REVEALING = ("kill", "vent", "appear")
SETUPS = [  # longer games than the presets, so that the bots kill
    {"short_tasks": 3, "long_tasks": 1, "initial_kill_cooldown": 0},
    {"impostors": 2, "short_tasks": 2, "long_tasks": 2, "confirm_ejects": True},
    {"map": "grid:2x2", "common_tasks": 0, "short_tasks": 0, "random_tasks": 4, "random_task_turns": 3},
]


def bot_chooser(world: AmongUsWorld, n: int, seed: int):  # type: ignore[no-untyped-def]
    bots = {}
    for p in seat_ids(n):
        bots[p] = AmongUsBot()
        bots[p].reset(p, AmongUsWorld.spec, derive_seed(seed, p))

    def choose(w: AmongUsWorld, player: PlayerId, spec: ActionSpec | None) -> Action:
        return bots[player].decide(w.observe(player))

    return choose


def strings(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every (key path, leaf) of a JSON value."""
    if isinstance(value, Mapping):
        return [item for k, v in value.items() for item in strings(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [item for v in value for item in strings(v, path)]
    return [(path, value)]


def check_crewmate(world: AmongUsWorld, seat: PlayerId) -> int:
    """Assert the seat's view names no impostor it has no sighting of; returns the leaves checked."""
    obs = world.observe(seat)
    impostors = set(world.state.impostors())
    sighted = {
        r.get("killer") or r.get("player")
        for r in obs.history
        if r["kind"] in REVEALING and (r.get("killer") or r.get("player")) in impostors
    }
    revealed = {r["player"] for r in obs.history if r["kind"] == "eject" and r.get("role") == Role.IMPOSTOR}
    over = world.is_terminal()
    view = json.loads(dumps({"public": obs.public, "private": obs.private, "history": list(obs.history)}))
    leaves = strings(view)
    for path, leaf in leaves:
        if over:
            break
        if "impostor" in path.rsplit(".", 1)[-1]:
            assert isinstance(leaf, int), f"{seat} is told {path} = {leaf!r}"
        if leaf == Role.IMPOSTOR:
            assert path.endswith(".role") and revealed, f"{seat} sees a role {path} before any reveal"
    for line in world.render(obs).splitlines():
        if "impostor" in line and not over:
            assert line.startswith("Among Us on") or "ejected" in line, f"{seat} reads {line!r}"
    for r in obs.history:
        if r["kind"] in REVEALING:
            assert (
                seat in (r.get("witnesses") or [])
                or seat in (r.get("victim"), r.get("killer"))
                or (r["kind"] != "kill")
            ), f"{seat} learned of a kill it did not witness: {r}"
    assert obs.private.impostors is None
    assert not (sighted - impostors)
    return len(leaves)


@pytest.mark.parametrize("setup", range(len(SETUPS)))
@pytest.mark.parametrize("players", ["bots", "random"])
def test_no_crewmate_view_names_an_impostor_without_a_sighting(setup: int, players: str) -> None:
    params = AmongUsParams.model_validate(SETUPS[setup])
    checked = sightings = kills = 0
    for seed in range(12 if players == "bots" else 5):
        n = 5 + seed % 4
        world = AmongUsWorld()

        def on_turn(w: AmongUsWorld) -> None:
            nonlocal checked, sightings
            for seat in w.players:
                if w.state.roles[seat] is Role.CREWMATE:
                    checked += check_crewmate(w, seat)

        choose = bot_chooser(world, n, seed) if players == "bots" else random_chooser(seed)
        drive(world, params, n, seed, choose, on_turn=on_turn)
        kills += len(world.state.kills)
        sightings += sum(
            1
            for seat in world.players
            if world.state.roles[seat] is Role.CREWMATE
            and any(r["kind"] in REVEALING for r in world.observe(seat).history)
        )
    assert checked > 1000 and kills > 0
    if players == "random":  # bots kill unseen; random play puts impostors in front of crewmates
        assert sightings > 0
