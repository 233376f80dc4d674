"""The evaluator contract: one stored episode in, metric rows out.

An :class:`Evaluator` scores an episode after it was played (right after the run, or later with
``sim evaluate``). It reads the episode as the store holds it (:class:`StoredEpisode`: events,
seats, outcome, params), may ask a model through the LLM client it is given (each call an
``llm_calls`` row with the episode id and a purpose, cached like any call), and returns
:class:`MetricRow` s. The driver (:mod:`sim.evaluators.driver`) writes them tagged with the
evaluator's ``name`` and ``model``, replacing that evaluator's earlier rows of the episode.

Evaluators register under the entry-point group ``sim.evaluators``, by their ``name``.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from sim.rng import derive_seed
from sim.types import Event, Outcome, PlayerId

if TYPE_CHECKING:
    from sim.llm.client import CallContext, LLMClient

#: Engine events that hold a seat's private answers to the engine, not the game (kept out of transcripts).
ENGINE_KINDS = frozenset({"rationale", "rejected", "invalid"})


class EvaluatorConfig(BaseModel):
    """Base of every evaluator's config: unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class MetricRow:
    """One number about a seat (``player`` None: about the whole episode); ``value`` None is NULL."""

    player: PlayerId | None
    name: str
    value: float | None


@dataclass(frozen=True)
class StoredSeat:
    """A seat as stored: who played it, with the agent config as written in the scenario."""

    player_id: PlayerId
    agent: str
    label: str
    config: Mapping[str, Any]
    role: str = "player"
    score: float | None = None


@dataclass(frozen=True)
class StoredEpisode:
    """An episode as the store holds it (read by :func:`sim.evaluators.stored.load_episode`)."""

    id: int
    run_id: int
    index: int
    world_id: str
    params: Mapping[str, Any]
    seed: int
    status: str
    outcome: Outcome
    seats: tuple[StoredSeat, ...]
    events: tuple[Event, ...]

    def seat(self, player: PlayerId) -> StoredSeat:
        """The seat ``player``."""
        for seat in self.seats:
            if seat.player_id == player:
                return seat
        raise LookupError(f"episode {self.id} has no seat {player!r}")

    def seen_by(self, player: PlayerId, before: int | None = None) -> Iterator[Event]:
        """The game events ``player`` could see, in order, up to (not including) ``events[before]``;
        engine events (rationales, rejected answers, fallbacks) are left out."""
        for event in self.events[:before]:
            if event.kind not in ENGINE_KINDS and event.visible(player):
                yield event


class Evaluator(abc.ABC):
    """Scores one stored episode. Subclasses set ``name``, ``Config``, ``worlds`` and ``evaluate``."""

    #: The registered name; the ``metrics.evaluator`` tag of every row it writes.
    name: ClassVar[str]
    Config: ClassVar[type[EvaluatorConfig]] = EvaluatorConfig
    #: World ids this evaluator can score (None = any world).
    worlds: ClassVar[tuple[str, ...] | None] = None

    def __init__(self, config: EvaluatorConfig | None = None):
        self.config = config if config is not None else self.Config()

    @classmethod
    def applies_to(cls, world_id: str) -> bool:
        """Whether this evaluator can score episodes of ``world_id``."""
        return cls.worlds is None or world_id in cls.worlds

    @classmethod
    def configured(cls, seats: Sequence[StoredSeat]) -> list[EvaluatorConfig]:
        """The configs a run's scenario asks of this evaluator for an episode with these seats (a ReCon
        seat's ``judge``, say); empty when it asks nothing. Runs apply these after their episodes.

        A run first asks with every distinct seat of all its episodes at once, and skips reading its
        episodes when nothing is asked: ask for something there whenever one of its episodes would."""
        return []

    @property
    def model(self) -> str | None:
        """The model this evaluator asks (the ``metrics.evaluator_model`` tag); None if it asks none."""
        return None

    @abc.abstractmethod
    async def evaluate(self, episode: StoredEpisode, llm: LLMClient) -> list[MetricRow]:
        """The metric rows for ``episode`` (``llm``: the client to ask, recording and caching each call)."""

    def call_context(self, episode: StoredEpisode, player: PlayerId | None, turn: int | None) -> CallContext:
        """Where one of this evaluator's LLM calls belongs (its sample key: from the episode seed)."""
        from sim.llm.client import CallContext

        return CallContext(episode.id, player, turn, derive_seed(episode.seed, "evaluator", self.name))


class EvaluationError(ValueError):
    """An evaluator cannot be set up or run as asked (unknown name, bad config, wrong world, ...)."""
