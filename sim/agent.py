"""The agent contract shared by scripted bots and LLM agents, so any seat can be any kind of agent.

:class:`AgentBase` declares every hook the engine and the scenario loader use, with defaults:
``reset`` and ``act`` (required), ``decide`` (synchronous answers for bots the engine can call
inline), ``attach`` (the run's services), ``episode_metrics`` and ``check_config``.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from sim.types import Action, Observation, PlayerId, WorldSpec


class AgentConfig(BaseModel):
    """Base of every agent's config: unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class AgentServices:
    """What the engine lends an agent for one episode."""

    episode_id: int | None
    llm: Any = None  # the run's sim.llm.client.LLMClient (typed loosely: sim.agent never imports litellm)


Metrics = Mapping[str, float | None]


class AgentBase(abc.ABC):
    """A seat's policy. ``act`` is async so that LLM agents can wait on I/O concurrently."""

    Config: ClassVar[type[AgentConfig]] = AgentConfig
    #: True for agents that wait on I/O (LLMs): the engine then asks simultaneous seats concurrently
    #: and enforces the per-action timeout. Scripted bots are False.
    concurrent: ClassVar[bool] = False
    #: Whether the agent reads ``Observation.text`` (the engine only renders text for those that do).
    needs_text: bool = False
    #: World ids this agent can play (None = any world).
    worlds: ClassVar[tuple[str, ...] | None] = None
    #: True only when the agent's decisions depend only on what its seat observed, never on its RNG,
    #: the clock or anything else: a tournament may then replay its deterministic matches
    #: (:mod:`sim.tournament.replay`). Random bots and LLM agents stay False.
    deterministic: ClassVar[bool] = False

    def __init__(self, config: AgentConfig | None = None):
        self.config = config if config is not None else self.Config()
        self.services = AgentServices(None)

    @abc.abstractmethod
    def reset(self, seat: PlayerId, world: WorldSpec, seed: int) -> None:
        """Prepare for a new episode in ``seat``; ``seed`` drives any randomness of the agent."""

    @abc.abstractmethod
    async def act(self, observation: Observation) -> Action:
        """Choose an action for the observation."""

    # optional hooks, with defaults -------------------------------------------------------------
    @classmethod
    def answers_inline(cls) -> bool:
        """Whether the engine may call :meth:`decide` instead of awaiting :meth:`act` (bots)."""
        return False

    def decide(self, observation: Observation) -> Action:
        """Choose an action without awaiting anything (agents that answer inline)."""
        raise NotImplementedError(f"{type(self).__name__} answers through act()")

    def attach(self, services: AgentServices) -> None:
        """Take what the engine lends for this episode (the LLM client, the episode id)."""
        self.services = services

    def episode_metrics(self, final: Observation) -> Metrics | Awaitable[Metrics]:
        """The agent's own numbers once the episode is over (stored as ``agent.NAME``)."""
        return {}

    @classmethod
    def plays(cls, world_id: str) -> bool:
        """Whether this agent can play the world ``world_id``."""
        return cls.worlds is None or world_id in cls.worlds

    @classmethod
    def check_config(cls, config: AgentConfig, world: WorldSpec) -> list[tuple[str, str]]:
        """Problems of ``config`` for ``world`` as ``(key path under config, expectation)``."""
        return []


#: The agent contract, by its old name.
Agent = AgentBase


class AgentError(RuntimeError):
    """An agent cannot go on (for example a replay list that does not fit the game). Ends the episode."""


class NoAnswer(Exception):
    """Raised by ``act`` when the agent could not produce a legal answer after its own re-asks (an LLM
    agent's). The engine logs it as rejected and plays the world's fallback at once, without re-asking."""
