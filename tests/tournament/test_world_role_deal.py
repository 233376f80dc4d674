"""Role balance asks the world class (its ``deal_roles_by_seat`` hook), never a table of world ids."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from pydantic import BaseModel

from sim.registry import world_entry
from sim.scenario import ScenarioError
from sim.tournament.balance import role_deal
from sim.tournament.schedule import matches
from sim.world import SeatDeal
from tests.tournament.helpers import load, repeated
from worlds.repeated.params import RepeatedParams
from worlds.repeated.world import RepeatedGameWorld


class DealingRepeatedWorld(RepeatedGameWorld):
    """A test-only world: the repeated game, with a deal by seat (a role name per seat, and the rounds
    taken from the match seed so that the overrides can be seen in the matches' params)."""

    @classmethod
    def deal_roles_by_seat(cls, params: BaseModel, players: int, seed: int) -> SeatDeal:
        assert isinstance(params, RepeatedParams)
        return SeatDeal({"rounds": params.rounds + seed % 3}, tuple(f"role{i}" for i in range(players)))


def _seatings(balance: str, world: str = "matrix/repeated-v1") -> dict[str, object]:
    return repeated(world=world, schedule={"format": "seatings", "players": 2, "balance": balance})


def test_a_world_without_the_hook_deals_nothing_and_balances_seats_only(tmp_path: Path) -> None:
    world_cls = world_entry("matrix/repeated-v1").load()
    assert role_deal(world_cls, RepeatedParams(), 2, 7) is None
    played = matches(load(tmp_path, _seatings("seats")))
    assert played and all(m.game_roles is None and m.params == {"rounds": 5} for m in played)
    assert set(Counter((m.lineup[0], m.repetition) for m in played).values()) == {2}  # each agent, each seat
    with pytest.raises(ScenarioError, match=r"schedule.balance: matrix/repeated-v1 deals no roles"):
        load(tmp_path, _seatings("roles"))


def test_the_schedule_uses_the_hook_of_a_world_class_it_was_never_told_about(tmp_path: Path) -> None:
    played = matches(load(tmp_path, _seatings("roles", world=f"{__name__}:DealingRepeatedWorld")))
    assert played
    for m in played:
        assert m.game_roles == ("role0", "role1")
        assert m.params == {"rounds": 5 + m.seed % 3}
    counts = Counter(pair for m in played for pair in zip(m.lineup, m.game_roles or (), strict=True))
    assert counts and len(set(counts.values())) == 1  # every agent plays every role equally often
    assert {agent for agent, _ in counts} == {"tft", "alld", "allc"}
    assert {role for _, role in counts} == {"role0", "role1"}
