"""The typed parts of a CharacterBox observation.

Public (every seat): the world description, the scene (title, time, location, description), round and
phase, who is present with their positions and whether they live, and which character is to act.
Private: a character seat's own full profile (goal and secret included), state, this scene's premise,
its relationships and, when reacting, what it reacts to; the narrator's (omniscient) every character's
full profile and state, the world's rules, the interaction it rules on and this round's scripted changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.types import View
from worlds.characterbox.records import Phase


@dataclass(frozen=True, slots=True)
class Present(View):
    """A character in the scene, as anyone there sees it."""

    name: str
    position: str
    alive: bool


@dataclass(frozen=True, slots=True)
class CharacterBoxPublic(View):
    """What every seat knows."""

    world: str
    scene: int  # 1-based
    scenes: int
    title: str
    time: str
    location: str
    description: str
    round: int
    rounds: int
    phase: Phase
    present: tuple[Present, ...]
    acting: str | None = None  # the character to act or react now
    reason: str | None = None  # how the last scene ended, once over


@dataclass(frozen=True, slots=True)
class CharacterBoxPrivate(View):
    """What only this seat knows (``seat_role``: character, narrator, or idle for a seat without one)."""

    seat_role: str
    character: Mapping[str, Any] | None = None  # own profile, goal, secret, position and state
    premise: str | None = None
    relationships: Sequence[Mapping[str, Any]] | None = None
    reacting_to: Mapping[str, Any] | None = None  # actor, action, speech, impact
    cast: Mapping[str, Mapping[str, Any]] | None = None  # narrator: every character, in full
    rules: Sequence[str] | None = None  # narrator
    interaction: Mapping[str, Any] | None = None  # narrator: actor, action, target, reaction
    acted: Sequence[str] | None = None  # narrator: who has acted or reacted this round, in order
    scripted: Sequence[Mapping[str, Any]] | None = None  # narrator: this round's scripted changes
