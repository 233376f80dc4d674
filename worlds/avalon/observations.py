"""The typed parts of an Avalon observation: what every seat sees, and what only one seat knows.

Both read as mappings too (``public.team`` and ``public["team"]``); a field that is None is absent
from the mapping and the JSON (``speaker`` outside discussions and the conference; ``winner``,
``reason`` and ``roles`` until the game ends; ``conference`` for seats that do not confer).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.types import PlayerId, View
from worlds.avalon.records import Phase, SpeechRecord
from worlds.avalon.roles import Role, Side


@dataclass(frozen=True, slots=True)
class AvalonPublic(View):
    """The table: seats, role set, quest track and rules; where the game is; the reveal at the end."""

    players: tuple[PlayerId, ...]
    n_players: int
    role_set: Mapping[str, int]  # role value -> how many (announced)
    quest_sizes: tuple[int, ...]
    fails_required: tuple[int, ...]
    rules: Mapping[str, Any]  # hammer, forced_after_rejections, tie_approves, discussion, evil_confer
    phase: Phase
    quest: int  # 1-based
    attempt: int  # proposal number within the quest
    rejections: int  # rejected teams in this quest so far
    leader: PlayerId
    team: tuple[PlayerId, ...]
    results: tuple[str, ...]  # "success" / "fail" per finished quest
    speaker: PlayerId | None = None  # whose turn it is to speak (discussion and conference)
    winner: str | None = None  # the winning side, once the game is over
    reason: str | None = None
    roles: Mapping[PlayerId, str] | None = None  # every seat's role, revealed at the end


@dataclass(frozen=True, slots=True)
class AvalonPrivate(View):
    """One seat's secrets: its role and side, its night knowledge, its own quest cards and, for
    conferring evil seats, the evil conference."""

    role: Role
    side: Side
    known: Mapping[PlayerId, str]  # seat -> "evil", "merlin_or_morgana" or (evil_sees_roles) a role
    cards: Sequence[tuple[int, str]]  # (quest, card) this seat played
    conference: Sequence[SpeechRecord] | None = None
