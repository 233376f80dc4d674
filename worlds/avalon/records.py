"""Avalon's vocabulary: the phases, the answers, the public records of the game and the secret deal.

Records are typed NamedTuples (cheap, immutable, JSON through ``_asdict``); each carries its ``kind``
so a history of mixed records reads one way in text, templates and JSON.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import NamedTuple

from sim.types import PlayerId
from worlds.avalon.roles import Role, Side

APPROVE, REJECT = "approve", "reject"
SUCCESS, FAIL = "success", "fail"
VOTES = (APPROVE, REJECT)


class Phase(enum.StrEnum):
    """Where the game is."""

    PROPOSE = "propose"
    DISCUSS = "discuss"
    VOTE = "vote"
    QUEST = "quest"
    CONFER = "confer"
    ASSASSINATE = "assassinate"
    END = "end"


class ProposalRecord(NamedTuple):
    """A team named by a leader (``forced``: it goes on the quest without a vote)."""

    kind: str
    quest: int
    attempt: int
    leader: PlayerId
    team: tuple[PlayerId, ...]
    forced: bool


class SpeechRecord(NamedTuple):
    """One public speech during a proposal's discussion (or, privately, the evil conference)."""

    kind: str
    quest: int
    attempt: int
    player: PlayerId
    text: str


class VoteRecord(NamedTuple):
    """Everyone's public vote on a team (``auto``: approved by the auto-approve hammer)."""

    kind: str
    quest: int
    attempt: int
    leader: PlayerId
    team: tuple[PlayerId, ...]
    votes: Mapping[PlayerId, str]
    approvals: int
    approved: bool
    auto: bool


class QuestRecord(NamedTuple):
    """A quest's result: only the number of fail cards is public."""

    kind: str
    quest: int
    team: tuple[PlayerId, ...]
    fails: int
    fails_required: int
    success: bool


class AssassinationRecord(NamedTuple):
    """The Assassin's guess."""

    kind: str
    assassin: PlayerId
    target: PlayerId
    correct: bool


#: Any record of the public log, in the order things happened.
PublicRecord = ProposalRecord | SpeechRecord | VoteRecord | QuestRecord | AssassinationRecord


class Deal(NamedTuple):
    """The secret setup, and everything derived from it: each seat's role and side, what each seat
    learned at night, the evil seats that confer before the assassination, and the Assassin."""

    roles: Mapping[PlayerId, Role]
    sides: Mapping[PlayerId, Side]
    known: Mapping[PlayerId, Mapping[PlayerId, str]]
    conferring: tuple[PlayerId, ...]
    assassin: PlayerId | None
