"""Role balance: fixing a world's role deal by seat, so that rotating agents through the seats makes
every agent play every role equally often.

A world that deals roles at random (Avalon shuffles its cards, Among Us samples its impostors) makes
a seat say nothing about its role, and balance would hold only on average. A world that can deal by
seat says how through its :meth:`sim.world.WorldBase.deal_roles_by_seat` hook: the param overrides
that give each seat the same role every time, and the game role each seat then gets. The schedule
rotates every group of agents through all open seats, so each agent holds each seat, and so each
role, once per rotation. A world without the hook can still balance seats (``balance: seats``): for
CharacterBox, whose character seats play the scene's characters in file order, that is character
balance.
"""

from __future__ import annotations

from pydantic import BaseModel

from sim.world import SeatDeal, WorldBase


def role_deal(world_cls: type[WorldBase], params: BaseModel, players: int, seed: int) -> SeatDeal | None:
    """The deal by seat of a match of ``world_cls`` (``params``, ``players`` seats, match ``seed``),
    or None when the world cannot deal its roles by seat."""
    return world_cls.deal_roles_by_seat(params, players, seed)
