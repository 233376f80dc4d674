"""Role balance: fixing a world's role deal by seat, so that rotating agents through the seats makes
every agent play every role equally often.

Avalon and Among Us deal roles with the episode's RNG (Avalon shuffles the cards, Among Us samples the
impostors), so a seat says nothing about its role and balance would hold only on average. Both worlds
can also deal by seat: Avalon's ``seating: fixed`` gives seat i the i-th card of the full role list,
Among Us's ``impostor_seats`` names the impostors' seats. A :data:`RoleDealer` returns those param
overrides and the game role each seat then gets; the schedule rotates every group of agents through
all open seats, so each agent holds each seat, and so each role card, once per rotation.

Fixing the deal by seat also fixes who leads first in Avalon (p0 with fixed seating); the dealer sets
``first_leader`` from the match seed instead (unless the file sets it), so the leader stays random.
A world without a dealer can still balance seats (``balance: seats``): for CharacterBox, whose
character seats play the scene's characters in file order, that is character balance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

#: (world params, seats per match, match seed) -> (param overrides, game role of each seat).
RoleDealer = Callable[[BaseModel, int, int], tuple[dict[str, Any], tuple[str, ...]]]


def _avalon(params: BaseModel, players: int, seed: int) -> tuple[dict[str, Any], tuple[str, ...]]:
    from worlds.avalon.roles import deal

    cards = deal(params.roles, players)  # type: ignore[attr-defined]
    overrides: dict[str, Any] = {"seating": "fixed"}
    if params.first_leader is None:  # type: ignore[attr-defined]
        overrides["first_leader"] = seed % players
    return overrides, tuple(str(card.value) for card in cards)


def _among_us(params: BaseModel, players: int, seed: int) -> tuple[dict[str, Any], tuple[str, ...]]:
    impostors = params.n_impostors(players)  # type: ignore[attr-defined]
    roles = tuple("impostor" if i < impostors else "crewmate" for i in range(players))
    return {"impostors": impostors, "impostor_seats": list(range(impostors))}, roles


_DEALERS: dict[str, RoleDealer] = {"social/avalon-v1": _avalon, "social/among_us-v1": _among_us}


def role_dealer(world_id: str) -> RoleDealer | None:
    """The dealer that fixes ``world_id``'s roles by seat, if the world has one."""
    return _DEALERS.get(world_id)
