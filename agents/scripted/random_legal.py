"""An agent that plays uniformly random legal actions in any world."""

from __future__ import annotations

import string

from agents.scripted.base import ScriptedAgent
from sim.types import Action, ActionKind, ActionSpec, Observation


def sample_action(spec: ActionSpec, rng) -> Action:  # type: ignore[no-untyped-def]
    """A uniformly random legal action for ``spec`` drawn from ``rng``."""
    if spec.kind is ActionKind.CHOICE:
        return Action(spec.kind, rng.choice(spec.options))
    if spec.kind is ActionKind.MULTI_CHOICE:
        k = rng.randint(spec.min_count, min(spec.max_count, len(spec.options)))
        return Action(spec.kind, rng.sample(list(spec.options), k))
    if spec.kind is ActionKind.NUMBER:
        lo = spec.minimum if spec.minimum is not None else -1e6
        hi = spec.maximum if spec.maximum is not None else 1e6
        return Action(spec.kind, rng.uniform(lo, hi))
    limit = min(spec.max_chars or 40, 40)
    return Action(
        spec.kind, "".join(rng.choice(string.ascii_lowercase + " ") for _ in range(rng.randint(0, limit)))
    )


class RandomLegalAgent(ScriptedAgent):
    """Uniformly random legal actions, in any world (used by the conformance suite)."""

    def decide(self, observation: Observation) -> Action:
        """A random legal action."""
        return sample_action(observation.legal, self.rng)
