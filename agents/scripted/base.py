"""Shared base of scripted (rule-based) agents."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import ClassVar

from sim.agent import AgentConfig
from sim.types import Action, Observation, PlayerId, WorldSpec


class ScriptedAgent:
    """A bot: no I/O, with its own seeded RNG. Subclasses implement the synchronous ``decide``;
    ``act`` wraps it for the async protocol, and the engine calls ``decide`` directly when it can."""

    Config: ClassVar[type[AgentConfig]] = AgentConfig
    concurrent: ClassVar[bool] = False
    needs_text: ClassVar[bool] = False
    #: World ids this agent can play (None = any world).
    worlds: ClassVar[tuple[str, ...] | None] = None

    def __init__(self, config: AgentConfig | None = None):
        self.config = config if config is not None else self.Config()
        self.rng = random.Random(0)
        self.seat: PlayerId = ""

    def reset(self, seat: PlayerId, world: WorldSpec, seed: int) -> None:
        """Start a new episode in ``seat`` with a fresh RNG."""
        self.seat = seat
        self.rng = random.Random(seed)

    #: Subclasses define ``decide(observation) -> Action``; the engine then calls it directly, and
    #: ``act`` wraps it for the async protocol. A subclass may instead override ``act`` alone.
    decide: Callable[[Observation], Action]

    async def act(self, observation: Observation) -> Action:
        """Choose an action (the async protocol method)."""
        return self.decide(observation)
