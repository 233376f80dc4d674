"""The world contract: a pure, seeded state machine over typed actions. No LLM, no I/O.

:class:`WorldBase` declares every hook the engine, the scenario loader, the CLI, the viewer and the
conformance suite use, with defaults for the optional ones; nothing is discovered with ``getattr``.
A world subclasses it, sets ``spec`` (a :class:`sim.types.WorldSpec` naming its phase enum,
observation types and seat roles), and implements the abstract methods.
"""

from __future__ import annotations

import abc
import random
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

from pydantic import BaseModel

from sim.types import ActionSpec, Event, IllegalActionError, Observation, Outcome, PlayerId, WorldSpec, dumps


class GameRole(NamedTuple):
    """A seat's role in play as the world dealt it (Avalon's ``merlin``) and its side (``good``), if any."""

    role: str
    side: str | None = None


class SeatDeal(NamedTuple):
    """A role deal fixed by seat: the param overrides that fix it, and the game role each seat gets."""

    overrides: dict[str, Any]
    roles: tuple[str, ...]


class WorldBase(abc.ABC):
    """A world. The engine owns the loop; the world owns the rules and who sees what."""

    spec: ClassVar[WorldSpec]
    #: Parameter sets the conformance suite plays (each validated by ``spec.params_model``).
    examples: ClassVar[tuple[dict[str, Any], ...]] = ({},)

    # the episode ----------------------------------------------------------------------------
    @abc.abstractmethod
    def reset(
        self,
        players: Sequence[PlayerId],
        params: BaseModel,
        rng: random.Random,
        roles: Mapping[PlayerId, str] | None = None,
    ) -> list[Event]:
        """Start an episode and return its opening events. ``roles`` gives each seat its declared
        seat role (None: every seat has the spec's default role)."""

    @abc.abstractmethod
    def to_act(self) -> tuple[PlayerId, ...]:
        """Seats that must act now (all of them act on the same state); empty iff terminal."""

    @abc.abstractmethod
    def legal_actions(self, player: PlayerId) -> ActionSpec | None:
        """What ``player`` may answer now; None when it is not to act."""

    @abc.abstractmethod
    def observe(self, player: PlayerId) -> Observation:
        """A fresh observation for ``player``; calling it changes nothing."""

    @abc.abstractmethod
    def step(self, actions: Mapping[PlayerId, Any]) -> list[Event]:
        """Apply one action per seat in ``to_act()``; raise IllegalActionError (no change) if illegal."""

    @abc.abstractmethod
    def is_terminal(self) -> bool:
        """Whether the episode is over."""

    @abc.abstractmethod
    def returns(self) -> dict[PlayerId, float]:
        """Each seat's score so far (final once terminal)."""

    @abc.abstractmethod
    def outcome(self) -> Outcome:
        """How the episode ended (winners, reason, draw, the world's details)."""

    @abc.abstractmethod
    def snapshot(self) -> dict[str, Any]:
        """The full state as JSON (debugging; checking that rejected actions change nothing)."""

    # optional hooks, with defaults -------------------------------------------------------------
    def render(self, observation: Observation) -> str:
        """The observation as text for a reader (LLM prompt context or a human). Default: JSON."""
        return dumps(
            {"phase": observation.phase, "public": observation.public, "private": observation.private}
        )

    def return_bounds(self) -> tuple[float, float]:
        """The lowest and highest return any seat can get in this episode (default: unbounded)."""
        return float("-inf"), float("inf")

    def turn_metrics(self) -> Mapping[PlayerId, Mapping[str, float]]:
        """Per-seat numbers collected every turn (cumulative score, ...), as a new mapping each call."""
        return {}

    def episode_metrics(self) -> Mapping[PlayerId, Mapping[str, float]]:
        """Per-seat summary metrics once the episode is over."""
        return {}

    def game_roles(self) -> Mapping[PlayerId, GameRole]:
        """Once the episode is over: each seat's role and side in play, the omniscient view (stored in
        ``seats.game_role`` and ``seats.side`` for analysis by role). Default: none (worlds without)."""
        return {}

    def describe_event(self, event: Event) -> str:
        """One readable line for a transcript."""
        return describe_generic(event)

    def permute_secrets(self, viewer: PlayerId, rng: random.Random) -> bool:
        """Right after ``reset``: change the hidden state to another deal that ``viewer`` cannot tell
        apart from this one (the conformance suite then checks that ``viewer`` sees exactly the same
        game). Returns False when there is no such other deal. Worlds with ``hidden_info`` implement it."""
        return False

    @classmethod
    def check_players(cls, params: BaseModel, n_players: int) -> str | None:
        """Why ``params`` cannot seat ``n_players`` (for worlds whose params depend on it), or None."""
        return None

    @classmethod
    def replayable(cls, params: BaseModel) -> bool:
        """Whether, with ``params``, an episode's rows depend only on the seats' decisions, never on
        the episode seed (the world draws nothing from its RNG). Then a tournament replays a match of
        deterministic agents instead of playing it again with another seed. Default: False."""
        return False

    @classmethod
    def deal_roles_by_seat(cls, params: BaseModel, players: int, seed: int) -> SeatDeal | None:
        """The param overrides that make a table of ``players`` deal the same role to a seat every time,
        and the game role each seat then gets (a tournament that rotates agents through the seats then
        has every agent play every role equally often). ``seed`` is the match's seed, for whatever the
        fixed deal would otherwise stop being random. None (the default): the world cannot deal by seat
        (a tournament can still balance seats)."""
        return None

    @classmethod
    def run_report(cls, episodes: Sequence[Mapping[str, Any]]) -> dict[str, float]:
        """World-level numbers over a run's episodes (``{"outcome": ..., "metrics": ...}`` each)."""
        return {}


#: The world contract, by its old name.
World = WorldBase


def check_actions(world: WorldBase, actions: Mapping[PlayerId, Any], phase: str) -> None:
    """Raise ``IllegalActionError`` unless ``actions`` holds one legal action for each seat in
    ``world.to_act()`` and nothing else (the check a ``step`` makes before changing any state)."""
    actors = world.to_act()
    if not actors:
        raise IllegalActionError(next(iter(actions), ""), "the game is over")
    for p in actors:
        if p not in actions:
            raise IllegalActionError(p, f"{p} must act in the {phase} phase")
    for p in actions:
        if p not in actors:
            raise IllegalActionError(p, f"it is not {p}'s turn")
        legal = world.legal_actions(p)
        assert legal is not None
        problem = legal.check(actions[p])
        if problem is not None:
            raise IllegalActionError(p, problem)


def describe_generic(event: Event) -> str:
    """A transcript line for any event: the engine's own kinds spelled out, others as their payload."""
    p = event.payload
    if event.kind == "rationale":
        return f"rationale of {event.actor}: {p.get('text')}"
    if event.kind == "rejected":
        return f"rejected answer from {event.actor} (try {p['attempt']}): {p['error']}"
    if event.kind == "invalid":
        return f"invalid answer from {event.actor}: {p['errors'][-1]} -> fallback {p['fallback']}"
    return f"{event.kind} {event.actor or ''} {dict(p)}"
