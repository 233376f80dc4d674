"""``first_leader``: a seat index that leads the first proposal, or (default) random as before."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sim.rng import stream
from sim.scenario import ScenarioError, validate_scenario
from sim.types import Action, ActionKind
from worlds.avalon.params import AvalonParams
from worlds.avalon.world import AvalonWorld


def seats(n: int) -> list[str]:
    return [f"p{i}" for i in range(n)]


def started(params: AvalonParams, n: int, seed: int) -> tuple[AvalonWorld, str]:
    world = AvalonWorld()
    events = world.reset(seats(n), params, stream(seed, "w"))
    return world, events[0].payload["leader"]


def test_the_named_seat_leads_first_and_the_deal_is_unchanged() -> None:
    leaders = set()
    for seed in range(12):
        n = 5 + seed % 6
        random_world, random_leader = started(AvalonParams(), n, seed)
        leaders.add(random_leader)
        for first in (0, n - 1, seed % n):
            world, leader = started(AvalonParams(first_leader=first), n, seed)
            assert leader == f"p{first}" and world.to_act() == (f"p{first}",)
            assert world.roles == random_world.roles  # the same shuffle: only the leader draw is skipped
    assert len(leaders) > 3  # by default the first leader is still drawn at random


def test_with_fixed_seating_the_default_is_p0_and_the_token_passes_on_from_the_named_seat() -> None:
    assert started(AvalonParams(seating="fixed"), 5, 0)[1] == "p0"
    world, leader = started(AvalonParams(seating="fixed", first_leader=3, discussion=False), 5, 0)
    assert leader == "p3"
    world.step({"p3": Action(ActionKind.MULTI_CHOICE, ["p0", "p1"])})
    world.step({p: Action(ActionKind.CHOICE, "reject") for p in world.players})
    assert world.to_act() == ("p4",)
    world.step({"p4": Action(ActionKind.MULTI_CHOICE, ["p0", "p1"])})
    world.step({p: Action(ActionKind.CHOICE, "reject") for p in world.players})
    assert world.to_act() == ("p0",)


def test_a_first_leader_outside_the_table_is_refused_with_a_clear_message() -> None:
    params = AvalonParams(first_leader=6)
    assert AvalonWorld.check_players(params, 7) is None
    problem = "first_leader 6 is not a seat: 5 players sit at seats 0-4"
    assert AvalonWorld.check_players(params, 5) == problem
    with pytest.raises(ValueError, match=problem):
        AvalonWorld().reset(seats(5), params, stream(0, "w"))
    scenario = {
        "name": "x",
        "world": "social/avalon-v1",
        "params": {"first_leader": 6},
        "seats": [{"agent": "avalon_naive"}] * 5,
    }
    with pytest.raises(ScenarioError, match=f"params: {problem} \\(with 5 seats\\)"):
        validate_scenario(scenario, "s.yaml")
    for bad in (-1, 10):
        with pytest.raises(ValidationError):
            AvalonParams(first_leader=bad)
