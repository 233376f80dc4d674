"""Avalon's rules as pure functions: the deal and who can tell it apart, team votes, the leader's
rotation, the hammer, quest cards and the win checks. No state object; the world glue calls these."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from sim.types import PlayerId
from worlds.avalon.records import FAIL, SUCCESS, Deal, Phase, QuestRecord
from worlds.avalon.roles import Role, Side, night_knowledge

HAMMER = 5  # rejected teams in one quest that end the game (official rules)
QUESTS_TO_WIN = 3


# the deal ---------------------------------------------------------------------------------------
def make_deal(roles: Mapping[PlayerId, Role], evil_sees_roles: bool) -> Deal:
    """The deal of ``roles`` (seat -> role, in seat order) with every fact derived from it."""
    roles = dict(roles)
    return Deal(
        roles=MappingProxyType(roles),
        sides=MappingProxyType({p: r.side for p, r in roles.items()}),
        known=MappingProxyType(
            {p: MappingProxyType(night_knowledge(roles, p, evil_sees_roles)) for p in roles}
        ),
        conferring=tuple(p for p, r in roles.items() if r.side is Side.EVIL and r is not Role.OBERON),
        assassin=next((p for p, r in roles.items() if r is Role.ASSASSIN), None),
    )


def indistinguishable_pairs(deal: Deal, viewer: PlayerId) -> list[tuple[PlayerId, PlayerId]]:
    """Pairs of other seats holding different roles that ``viewer`` cannot tell apart at night (the
    same night tag, or both unknown to it): swapping their roles gives a deal ``viewer`` cannot
    tell from this one until the rules reveal roles."""
    known = deal.known[viewer]
    others = [p for p in deal.roles if p != viewer]
    return [
        (a, b)
        for a, b in itertools.combinations(others, 2)
        if deal.roles[a] is not deal.roles[b] and known.get(a) == known.get(b)
    ]


def swap_roles(deal: Deal, a: PlayerId, b: PlayerId, evil_sees_roles: bool) -> Deal:
    """The deal with the roles of seats ``a`` and ``b`` exchanged (everything derived anew)."""
    roles = dict(deal.roles)
    roles[a], roles[b] = roles[b], roles[a]
    return make_deal(roles, evil_sees_roles)


# proposals and votes ------------------------------------------------------------------------------
def clockwise(players: Sequence[PlayerId], start: int) -> list[PlayerId]:
    """Every seat, from seat index ``start`` on, clockwise."""
    n = len(players)
    return [players[(start + i) % n] for i in range(n)]


def next_leader(leader: int, n_players: int) -> int:
    """The leader token passes clockwise after every vote (and every forced team)."""
    return (leader + 1) % n_players


def default_team(players: Sequence[PlayerId], leader: int, size: int) -> list[PlayerId]:
    """The fallback team: the leader and the next seats clockwise."""
    return clockwise(players, leader)[:size]


def speaking_order(players: Sequence[PlayerId], leader: int, order: str) -> list[PlayerId]:
    """Who speaks about a proposal, in order: the leader first (``leader_first``) or last."""
    seats = clockwise(players, leader)
    return seats if order == "leader_first" else seats[1:] + seats[:1]


def is_forced(rejections: int, forced_after_rejections: int | None) -> bool:
    """Whether the next team goes on the quest without discussion or vote (the house rule)."""
    return forced_after_rejections is not None and rejections >= forced_after_rejections


def vote_passes(approvals: int, n_players: int, tie_approves: bool) -> bool:
    """A strict majority approves (a tie too with ``tie_approves``)."""
    return approvals * 2 > n_players or (tie_approves and approvals * 2 == n_players)


def auto_approved(passed: bool, hammer: str, rejections: int) -> bool:
    """With ``hammer="auto_approve"`` the fifth team of a quest passes whatever the vote."""
    return not passed and hammer == "auto_approve" and rejections == HAMMER - 1


def hammer_falls(rejections: int) -> bool:
    """Five rejected teams in one quest: evil wins."""
    return rejections >= HAMMER


# quests and the end ------------------------------------------------------------------------------
def card_options(side: Side) -> tuple[str, ...]:
    """The quest cards a seat may play: good seats only success."""
    return (SUCCESS,) if side is Side.GOOD else (SUCCESS, FAIL)


def quest_succeeds(fails: int, fails_required: int) -> bool:
    """A quest fails with at least ``fails_required`` fail cards."""
    return fails < fails_required


def quests_winner(results: Sequence[QuestRecord]) -> Side | None:
    """The side that has won three quests, if one has."""
    failed = sum(not r.success for r in results)
    if failed == QUESTS_TO_WIN:
        return Side.EVIL
    if len(results) - failed == QUESTS_TO_WIN:
        return Side.GOOD
    return None


def after_good_quests(deal: Deal, evil_confer: bool) -> Phase:
    """What follows three successful quests: END (no Assassin: good wins), the evil conference
    (``evil_confer`` and two or more conferring seats), or the assassination."""
    if deal.assassin is None:
        return Phase.END
    if evil_confer and len(deal.conferring) > 1:
        return Phase.CONFER
    return Phase.ASSASSINATE


def conference_order(deal: Deal) -> list[PlayerId]:
    """The conferring evil seats in seat order, the Assassin (one of them) last."""
    assert deal.assassin is not None
    return [p for p in deal.conferring if p != deal.assassin] + [deal.assassin]


def merlin_named(deal: Deal, target: PlayerId) -> bool:
    """Whether the Assassin's target is Merlin (evil wins)."""
    return deal.roles[target] is Role.MERLIN
