"""An agent that plays uniformly random legal actions in any world."""

from __future__ import annotations

import random

from agents.scripted.base import ScriptedAgent
from sim.actions import sample
from sim.types import Action, ActionSpec, Observation


def sample_action(spec: ActionSpec, rng: random.Random) -> Action:
    """A uniformly random legal action for ``spec`` drawn from ``rng`` (:func:`sim.actions.sample`)."""
    return sample(spec, rng)


class RandomLegalAgent(ScriptedAgent):
    """Uniformly random legal actions, in any world (used by the conformance suite)."""

    def decide(self, observation: Observation) -> Action:
        """A random legal action."""
        assert observation.legal is not None
        return sample(observation.legal, self.rng)
