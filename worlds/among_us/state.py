"""The mutable game state of one Among Us episode (positions, life, bodies, tasks, cooldowns, meetings)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.types import PlayerId
from worlds.among_us.records import Role, Task


@dataclass
class Meeting:
    """A meeting in progress: its trigger, the speaking queue and what was said."""

    number: int
    caller: PlayerId
    call: str  # "report" or "button"
    room: str
    body: PlayerId | None
    queue: list[tuple[int, PlayerId]]  # (round, speaker) still to speak
    speeches: list[Mapping[str, Any]] = field(default_factory=list)


@dataclass
class GameState:
    """Everything the rules change; the world class owns one."""

    roles: dict[PlayerId, Role]
    room: dict[PlayerId, str]
    alive: dict[PlayerId, bool]
    tasks: dict[PlayerId, dict[Task, int]]  # crewmate -> task -> turns done
    fake_tasks: tuple[Task, ...]
    kill_cd: dict[PlayerId, int]  # impostor -> rounds until KILL is offered again
    buttons: dict[PlayerId, int] | int  # per player, or one count for the game
    bodies: dict[PlayerId, str] = field(default_factory=dict)  # unreported victim -> room
    known_dead: list[PlayerId] = field(default_factory=list)
    clock: int = 0
    meetings: int = 0
    meeting: Meeting | None = None
    kills: list[Mapping[str, Any]] = field(default_factory=list)
    ejections: list[PlayerId | None] = field(default_factory=list)

    def impostors(self) -> list[PlayerId]:
        """Every impostor seat."""
        return [p for p, r in self.roles.items() if r is Role.IMPOSTOR]

    def living(self, role: Role | None = None) -> list[PlayerId]:
        """Living seats (of ``role``), in seat order."""
        return [p for p, ok in self.alive.items() if ok and (role is None or self.roles[p] is role)]

    def in_room(self, room: str) -> list[PlayerId]:
        """Living seats in ``room``."""
        alive = self.alive
        return [p for p, r in self.room.items() if r == room and alive[p]]

    def unfinished(self, player: PlayerId, room: str | None = None) -> list[Task]:
        """A crewmate's unfinished tasks (in ``room``)."""
        return [
            t for t, done in self.tasks.get(player, {}).items() if done < t.turns and room in (None, t.room)
        ]

    def buttons_left(self, player: PlayerId) -> int:
        """Emergency meetings ``player`` may still call."""
        return self.buttons if isinstance(self.buttons, int) else self.buttons[player]

    def use_button(self, player: PlayerId) -> None:
        """One button press."""
        if isinstance(self.buttons, int):
            self.buttons -= 1
        else:
            self.buttons[player] -= 1

    def snapshot(self) -> dict[str, Any]:
        """The state as JSON."""
        return {
            "roles": {p: r.value for p, r in self.roles.items()},
            "room": dict(self.room),
            "alive": dict(self.alive),
            "tasks": {
                p: [[t.name, t.room, t.turns, d] for t, d in ts.items()] for p, ts in self.tasks.items()
            },
            "kill_cd": dict(self.kill_cd),
            "buttons": self.buttons if isinstance(self.buttons, int) else dict(self.buttons),
            "bodies": dict(self.bodies),
            "known_dead": list(self.known_dead),
            "clock": self.clock,
            "meetings": self.meetings,
            "meeting": None
            if self.meeting is None
            else {
                "caller": self.meeting.caller,
                "queue": self.meeting.queue,
                "said": len(self.meeting.speeches),
            },
        }
