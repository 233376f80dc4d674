"""The Agent protocol shared by scripted bots and LLM agents, so any seat can be any kind of agent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from sim.types import Action, Observation, PlayerId, WorldSpec


class AgentConfig(BaseModel):
    """Base of every agent's config: unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@runtime_checkable
class Agent(Protocol):
    """A seat's policy. ``act`` is async so that LLM agents can wait on I/O concurrently."""

    Config: ClassVar[type[AgentConfig]]
    #: True for agents that wait on I/O (LLMs): the engine then asks simultaneous seats concurrently
    #: and enforces the per-action timeout. Scripted bots are False and are awaited inline.
    concurrent: ClassVar[bool]
    #: Whether the agent reads ``Observation.text`` (the engine only renders text for those that do).
    needs_text: ClassVar[bool]

    def reset(self, seat: PlayerId, world: WorldSpec, seed: int) -> None:
        """Prepare for a new episode in ``seat``; ``seed`` drives any randomness of the agent."""
        ...

    async def act(self, observation: Observation) -> Action:
        """Choose an action for the observation."""
        ...


class AgentError(RuntimeError):
    """An agent cannot go on (for example a replay list that does not fit the game). Ends the episode."""


class NoAnswer(Exception):
    """Raised by ``act`` when the agent could not produce a legal answer after its own re-asks (an LLM
    agent's). The engine logs it as rejected and plays the world's fallback at once, without re-asking."""


@dataclass(frozen=True)
class AgentServices:
    """What the engine lends an agent for one episode (agents with an ``attach(services)`` method get it)."""

    episode_id: int | None
    llm: Any = None  # the run's sim.llm.client.LLMClient (typed loosely: sim.agent never imports litellm)


@runtime_checkable
class InlineAgent(Protocol):
    """An agent that can also answer synchronously (scripted bots): the engine calls ``decide`` directly."""

    def decide(self, observation: Observation) -> Action:
        """Choose an action without awaiting anything."""
        ...
