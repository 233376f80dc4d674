"""Avalon LLM seats that ask their model for one decision only, then play as AvalonBench's naive bot.

The real-model smoke test names them in scenario files (``real.one_decision:OneDecisionCoT``) so one
episode costs one model decision per agent type, not a whole game of them.
"""

from __future__ import annotations

from agents.llm.agent import LLMAgent
from agents.reasoning.recon import CoTAgent, ReConAgent
from agents.scripted.avalon import AvalonNaiveAgent
from sim.types import Action, Observation, PlayerId, WorldSpec


class FirstDecisionOnly:
    """Mixin for an LLM seat: the first ``act`` of an episode goes to the model, every later one to the
    naive bot of the same seat (seeded alike), so no later turn reaches the model."""

    def reset(self, seat: PlayerId, world: WorldSpec, seed: int) -> None:
        super().reset(seat, world, seed)  # type: ignore[misc]
        self.bot = AvalonNaiveAgent()
        self.bot.reset(seat, world, seed)
        self.decided = False

    async def act(self, observation: Observation) -> Action:
        if self.decided:
            return self.bot.decide(observation)
        self.decided = True
        action: Action = await super().act(observation)  # type: ignore[misc]
        return action


class OneDecisionLLM(FirstDecisionOnly, LLMAgent):
    """The generic LLM agent (the world's JSON prompt), one decision."""


class OneDecisionCoT(FirstDecisionOnly, CoTAgent):
    """AvalonBench's chain-of-thought seat, one decision."""


class OneDecisionReCon(FirstDecisionOnly, ReConAgent):
    """The ReCon seat (belief, formulation, second-order, refinement stages), one decision."""
