"""Avalon's roles, team sizes and night-phase knowledge (the official rules for 5-10 players)."""

from __future__ import annotations

import enum
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from sim.types import PlayerId

MIN_PLAYERS, MAX_PLAYERS = 5, 10
QUESTS = 5
#: Quest team sizes by player count (rulebook table).
QUEST_SIZES: Mapping[int, tuple[int, ...]] = {
    5: (2, 3, 2, 3, 3),
    6: (2, 3, 4, 3, 4),
    7: (2, 3, 3, 4, 4),
    8: (3, 4, 4, 5, 5),
    9: (3, 4, 4, 5, 5),
    10: (3, 4, 4, 5, 5),
}


class Side(enum.StrEnum):
    """The two teams."""

    GOOD = "good"
    EVIL = "evil"


class Role(enum.StrEnum):
    """Every standard character card."""

    MERLIN = "merlin"
    PERCIVAL = "percival"
    SERVANT = "servant"
    ASSASSIN = "assassin"
    MORGANA = "morgana"
    MORDRED = "mordred"
    OBERON = "oberon"
    MINION = "minion"

    @property
    def side(self) -> Side:
        """Good or evil."""
        return Side.GOOD if self in GOOD_ROLES else Side.EVIL

    @property
    def card(self) -> str:
        """The card's name."""
        return TITLES[self]


GOOD_ROLES = frozenset({Role.MERLIN, Role.PERCIVAL, Role.SERVANT})
#: Roles a game can hold at most once; servants and minions fill the remaining seats.
UNIQUE_ROLES = frozenset(set(Role) - {Role.SERVANT, Role.MINION})
TITLES: Mapping[Role, str] = {
    Role.MERLIN: "Merlin",
    Role.PERCIVAL: "Percival",
    Role.SERVANT: "Loyal Servant of Arthur",
    Role.ASSASSIN: "Assassin",
    Role.MORGANA: "Morgana",
    Role.MORDRED: "Mordred",
    Role.OBERON: "Oberon",
    Role.MINION: "Minion of Mordred",
}


def is_evil(role: str) -> bool:
    """Whether a role, given by its value (``"morgana"``), is on the evil side."""
    return Role(role).side is Side.EVIL


def evil_count(n_players: int) -> int:
    """Evil players at the table: 2, 2, 3, 3, 3, 4 for 5..10 players (ceil(n / 3))."""
    _check_count(n_players)
    return math.ceil(n_players / 3)


def quest_size(n_players: int, quest: int) -> int:
    """Team size of ``quest`` (0-based) with ``n_players``."""
    _check_count(n_players)
    return QUEST_SIZES[n_players][quest]


def fails_required(n_players: int, quest: int) -> int:
    """Fail cards that make ``quest`` (0-based) fail: 2 on the fourth quest with 7 or more players, else 1."""
    _check_count(n_players)
    return 2 if quest == 3 and n_players >= 7 else 1


def _check_count(n_players: int) -> None:
    if not MIN_PLAYERS <= n_players <= MAX_PLAYERS:
        raise ValueError(f"Avalon is played by {MIN_PLAYERS}-{MAX_PLAYERS} players, got {n_players}")


def role_set_problem(specials: Sequence[Role]) -> str | None:
    """Why a list of special roles can never make a legal game (independent of the player count)."""
    counts = Counter(specials)
    repeated = sorted(r.value for r in UNIQUE_ROLES if counts[r] > 1)
    if repeated:
        return f"{', '.join(repeated)} can appear at most once"
    if (Role.MERLIN in counts) != (Role.ASSASSIN in counts):
        return "merlin and assassin come together (the assassin's guess is evil's last chance)"
    if Role.PERCIVAL in counts and Role.MERLIN not in counts:
        return "percival needs merlin"
    return None


def deal(specials: Sequence[Role], n_players: int) -> list[Role]:
    """The full role list for ``n_players``: the specials, then servants and minions up to each side's count.

    Raises ``ValueError`` naming the problem if the specials do not fit the table.
    """
    problem = role_set_problem(specials)
    if problem:
        raise ValueError(problem)
    evil = evil_count(n_players)
    good = n_players - evil
    n_good = sum(r.side is Side.GOOD for r in specials)
    n_evil = len(specials) - n_good
    if n_evil > evil:
        raise ValueError(f"{n_evil} evil roles but {n_players} players have only {evil} evil seats")
    if n_good > good:
        raise ValueError(f"{n_good} good roles but {n_players} players have only {good} good seats")
    return [*specials, *[Role.SERVANT] * (good - n_good), *[Role.MINION] * (evil - n_evil)]


def night_knowledge(
    roles: Mapping[PlayerId, Role], viewer: PlayerId, evil_sees_roles: bool = False
) -> dict[PlayerId, str]:
    """What ``viewer`` learns at night about other seats: seat -> ``"evil"``, ``"merlin_or_morgana"``,
    or (evil, with ``evil_sees_roles``) the partner's role.

    Merlin sees every evil seat but Mordred (Oberon included). Percival sees Merlin and Morgana,
    unlabelled. Evil seats other than Oberon see each other, but not Oberon. Oberon, servants and
    minion-less roles see nothing more.
    """
    role = roles[viewer]
    others = [(p, r) for p, r in roles.items() if p != viewer]
    if role is Role.MERLIN:
        return {p: Side.EVIL.value for p, r in others if r.side is Side.EVIL and r is not Role.MORDRED}
    if role is Role.PERCIVAL:
        return {p: "merlin_or_morgana" for p, r in others if r in (Role.MERLIN, Role.MORGANA)}
    if role.side is Side.EVIL and role is not Role.OBERON:
        return {
            p: (r.value if evil_sees_roles else Side.EVIL.value)
            for p, r in others
            if r.side is Side.EVIL and r is not Role.OBERON
        }
    return {}


def role_counts(roles: Iterable[Role]) -> dict[str, int]:
    """How many of each role are in the game (public: the role set is announced)."""
    counts = Counter(roles)
    return {r.value: counts[r] for r in Role if counts[r]}
