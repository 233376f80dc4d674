"""Among Us vocabulary: phases, roles, action branches and the task record."""

from __future__ import annotations

import enum
from typing import NamedTuple

SKIP = "skip"


class Phase(enum.StrEnum):
    """Task rounds (everyone alive acts at once), meeting discussion (one speaker at a time), the
    optional survey between speeches (everyone alive answers at once), the vote."""

    TASKS = "tasks"
    DISCUSS = "discuss"
    SURVEY = "survey"
    VOTE = "vote"
    END = "end"


class Role(enum.StrEnum):
    """The two roles; each is also its own side."""

    CREWMATE = "crewmate"
    IMPOSTOR = "impostor"


class Branch(enum.StrEnum):
    """The branches of a task-round action (one ONE_OF choice)."""

    MOVE = "move"
    VENT = "vent"
    TASK = "task"
    FAKE_TASK = "fake_task"
    KILL = "kill"
    REPORT = "report"
    BUTTON = "button"
    WAIT = "wait"


class TaskKind(enum.StrEnum):
    """Common tasks are shared by every crewmate; long tasks take two turns, the others one."""

    COMMON = "common"
    SHORT = "short"
    LONG = "long"


class Task(NamedTuple):
    """A task at a room; ``turns``: DO_TASK rounds it needs."""

    name: str
    room: str
    turns: int

    @property
    def label(self) -> str:
        """``Name (Room)``."""
        return f"{self.name} ({self.room})"
