"""Misbehaving agents for engine tests (importable as ``engine_agents:...`` from scenario files)."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from pydantic import Field

from agents.scripted.base import ScriptedAgent
from sim.agent import AgentConfig
from sim.types import Action, ActionKind, Observation


class StubbornConfig(AgentConfig):
    """``bad_answers``: how many illegal answers to give each turn before a legal one."""

    bad_answers: int = Field(100, ge=0)


class Stubborn(ScriptedAgent):
    """Answers an illegal option ``bad_answers`` times per turn, then the first option."""

    Config = StubbornConfig

    def reset(self, seat, world, seed) -> None:  # type: ignore[no-untyped-def]
        super().reset(seat, world, seed)
        self.feedback: list[str | None] = []

    def decide(self, observation: Observation) -> Action:
        assert isinstance(self.config, StubbornConfig)
        self.feedback.append(observation.feedback)
        tries = sum(1 for f in reversed(self.feedback) if f is not None)
        if observation.feedback is None or tries <= self.config.bad_answers:
            if observation.feedback is None and self.config.bad_answers == 0:
                return Action(ActionKind.CHOICE, observation.legal.options[0])
            return Action(ActionKind.CHOICE, "banana")
        return Action(ActionKind.CHOICE, observation.legal.options[0])


class Sleeper(ScriptedAgent):
    """An I/O-style agent that never answers in time."""

    concurrent: ClassVar[bool] = True

    async def act(self, observation: Observation) -> Action:
        await asyncio.sleep(30)
        return Action(ActionKind.CHOICE, observation.legal.options[0])


class CrashConfig(AgentConfig):
    """``at_turn``: turn at which to raise; ``interrupt``: raise KeyboardInterrupt instead of RuntimeError."""

    at_turn: int = 3
    interrupt: bool = False


class Crasher(ScriptedAgent):
    """Plays C, then raises at ``at_turn`` (a crash, or Ctrl-C)."""

    Config = CrashConfig

    def decide(self, observation: Observation) -> Action:
        assert isinstance(self.config, CrashConfig)
        if observation.turn >= self.config.at_turn:
            raise KeyboardInterrupt if self.config.interrupt else RuntimeError("agent exploded")
        return Action(ActionKind.CHOICE, observation.legal.options[0])


class Yielder(ScriptedAgent):
    """An I/O-style agent that yields to the event loop once per answer, then plays the first option
    (so that episodes played at once interleave turn by turn)."""

    concurrent: ClassVar[bool] = True

    async def act(self, observation: Observation) -> Action:
        await asyncio.sleep(0)
        return Action(ActionKind.CHOICE, observation.legal.options[0])
