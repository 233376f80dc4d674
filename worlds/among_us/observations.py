"""The typed parts of an Among Us observation.

Public (every seat): the table, the rules, the map, the phase and game clock, who is publicly known
dead (announced at meetings and ejections), buttons left, and the current meeting (caller, kind, the
speaker, the speeches and, after it, the vote). Private (one seat): its role, its fellow impostors
(impostors only), whether it is alive, its room, who and which bodies are in it, its tasks and their
progress (a fake list for impostors), its kill cooldown and buttons left (per-player buttons).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.types import PlayerId, View
from worlds.among_us.records import Phase, Role


@dataclass(frozen=True, slots=True)
class TaskView(View):
    """A task and how many of its turns are done."""

    name: str
    room: str
    turns: int
    done: int


@dataclass(frozen=True, slots=True)
class MeetingView(View):
    """The meeting in progress: who called it, why, where the body was, and what has been said."""

    number: int
    caller: PlayerId
    call: str  # "report" or "button"
    room: str
    body: PlayerId | None
    speeches: Sequence[Mapping[str, Any]]
    speaker: PlayerId | None = None


@dataclass(frozen=True, slots=True)
class AmongUsPublic(View):
    """What every seat knows."""

    players: tuple[PlayerId, ...]
    n_impostors: int
    rules: Mapping[str, Any]
    map_name: str
    rooms: tuple[str, ...]
    corridors: tuple[tuple[str, str], ...]
    vents: tuple[tuple[str, str], ...]
    phase: Phase
    clock: int  # game time: task rounds + meetings so far
    max_turns: int
    known_dead: tuple[PlayerId, ...]
    buttons_left: int | None = None  # per game (None with per-player buttons)
    meeting: MeetingView | None = None
    winner: str | None = None
    reason: str | None = None
    roles: Mapping[PlayerId, str] | None = None  # revealed at the end


@dataclass(frozen=True, slots=True)
class AmongUsPrivate(View):
    """What only this seat knows."""

    role: Role
    alive: bool
    room: str
    occupants: tuple[PlayerId, ...]  # other living players in the room
    bodies: tuple[PlayerId, ...]  # unreported bodies in the room
    tasks: tuple[TaskView, ...]  # the crewmate's tasks, or the impostor's fake list
    impostors: tuple[PlayerId, ...] | None = None  # fellow impostors (impostors only)
    kill_cooldown: int | None = None  # impostors only
    buttons_left: int | None = None  # with per-player buttons
