"""The World protocol: a pure, seeded state machine over typed actions. No LLM, no I/O."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel

from sim.types import Action, ActionSpec, Event, Observation, PlayerId, WorldSpec


@runtime_checkable
class World(Protocol):
    """A world. The engine owns the loop; the world owns the rules and who sees what."""

    spec: ClassVar[WorldSpec]

    def reset(self, players: Sequence[PlayerId], params: BaseModel, rng: random.Random) -> list[Event]:
        """Start an episode and return its opening events."""
        ...

    def to_act(self) -> tuple[PlayerId, ...]:
        """Seats that must act now (all of them act on the same state); empty iff terminal."""
        ...

    def legal_actions(self, player: PlayerId) -> ActionSpec:
        """What ``player`` may answer now."""
        ...

    def observe(self, player: PlayerId) -> Observation:
        """A fresh observation for ``player``; calling it changes nothing."""
        ...

    def render(self, observation: Observation) -> str:
        """The observation as text for a reader (LLM prompt context or a human)."""
        ...

    def step(self, actions: Mapping[PlayerId, Action]) -> list[Event]:
        """Apply one action per seat in ``to_act()``; raise IllegalActionError (no change) if illegal."""
        ...

    def is_terminal(self) -> bool:
        """Whether the episode is over."""
        ...

    def returns(self) -> dict[PlayerId, float]:
        """Each seat's score so far (final once terminal)."""
        ...

    def return_bounds(self) -> tuple[float, float]:
        """The lowest and highest return any seat can get in this episode."""
        ...

    def outcome(self) -> dict[str, Any]:
        """A JSON summary of how the episode ended (winner, reason, ...)."""
        ...

    def snapshot(self) -> dict[str, Any]:
        """The full state as JSON (for debugging and for checking that rejected actions change nothing)."""
        ...

    def turn_metrics(self) -> Mapping[PlayerId, Mapping[str, float]]:
        """Per-seat numbers collected every turn (cumulative score, ...), as a new mapping each call."""
        ...

    def episode_metrics(self) -> Mapping[PlayerId, Mapping[str, float]]:
        """Per-seat summary metrics once the episode is over."""
        ...

    def describe_event(self, event: Event) -> str:
        """One readable line for a transcript."""
        ...
