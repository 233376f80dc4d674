"""Shared base of scripted (rule-based) agents."""

from __future__ import annotations

import random

from sim.agent import AgentBase, AgentConfig
from sim.types import Action, Observation, PlayerId, WorldSpec


class ScriptedAgent(AgentBase):
    """A bot: no I/O, with its own seeded RNG. Subclasses implement the synchronous ``decide``;
    ``act`` wraps it for the async protocol, and the engine calls ``decide`` directly when it can.
    A subclass may instead override ``act`` alone (it is then always awaited)."""

    def __init__(self, config: AgentConfig | None = None):
        super().__init__(config)
        self.rng = random.Random(0)
        self.seat: PlayerId = ""

    def reset(self, seat: PlayerId, world: WorldSpec, seed: int) -> None:
        """Start a new episode in ``seat`` with a fresh RNG."""
        self.seat = seat
        self.rng = random.Random(seed)

    @classmethod
    def answers_inline(cls) -> bool:
        """Bots that keep ``act`` as it is answer inline through ``decide``."""
        return not cls.concurrent and cls.act is ScriptedAgent.act

    async def act(self, observation: Observation) -> Action:
        """Choose an action (the async protocol method)."""
        return self.decide(observation)
