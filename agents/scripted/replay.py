"""The replay agent: plays a fixed list of actions from the scenario file, and fails loudly on a misfit."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from agents.scripted.base import ScriptedAgent
from sim.agent import AgentConfig, AgentError
from sim.types import Action, Observation


class ReplayConfig(AgentConfig):
    """``actions``: values in order (or mappings of ``value`` and optional ``rationale`` only; a ONE_OF
    value ``{branch: ..., value: ...}`` is a value)."""

    actions: list[Any] = Field(min_length=1)


class ReplayAgent(ScriptedAgent):
    """Plays a fixed list of actions; raises if one is illegal or the list runs out (golden tests, bugs)."""

    Config = ReplayConfig
    deterministic: ClassVar[bool] = True

    def reset(self, seat, world, seed) -> None:  # type: ignore[no-untyped-def]
        """Rewind to the first action."""
        super().reset(seat, world, seed)
        self.position = 0

    def decide(self, observation: Observation) -> Action:
        """The next listed action, checked against what is legal now."""
        assert isinstance(self.config, ReplayConfig)
        actions = self.config.actions
        if self.position >= len(actions):
            raise AgentError(
                f"replay for {self.seat}: ran out of actions at turn {observation.turn} after {len(actions)}"
            )
        item = actions[self.position]
        wrapped = isinstance(item, dict) and "value" in item and set(item) <= {"value", "rationale"}
        value, rationale = (item["value"], item.get("rationale")) if wrapped else (item, None)
        legal = observation.legal
        if legal is None:
            raise AgentError(
                f"replay for {self.seat}: asked to act at turn {observation.turn} with nothing legal"
            )
        action = Action(legal.kind, value, rationale)
        problem = legal.check(action)
        if problem is not None:
            raise AgentError(
                f"replay for {self.seat}: action #{self.position + 1} {value!r} is illegal at turn "
                f"{observation.turn} ({problem})"
            )
        self.position += 1
        return action
