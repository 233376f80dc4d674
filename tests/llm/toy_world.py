"""A toy world with no prompt pack (importable as ``toy_world:ColourWorld`` from scenario files)."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from sim.types import (
    Action,
    ActionKind,
    ActionSpec,
    Dynamics,
    Event,
    IllegalActionError,
    Observation,
    Outcome,
    PlayerId,
    WorldSpec,
)
from sim.world import WorldBase

COLOURS = ("teal", "amber", "plum")


class ColourParams(BaseModel):
    """How many rounds to play."""

    model_config = ConfigDict(extra="forbid")
    rounds: int = 2


class ColourWorld(WorldBase):
    """One seat names a colour each round; the world says which it hoped for."""

    spec: ClassVar[WorldSpec] = WorldSpec(
        id="toy/colours-v1",
        title="Colours",
        min_players=1,
        max_players=1,
        dynamics=Dynamics.SEQUENTIAL,
        hidden_info=False,
        max_turns=10,
        params_model=ColourParams,
    )

    def reset(
        self,
        players: Sequence[PlayerId],
        params: BaseModel,
        rng: random.Random,
        roles: Mapping[PlayerId, str] | None = None,
    ) -> list[Event]:
        assert isinstance(params, ColourParams)
        self.player, self.rounds, self.turn = players[0], params.rounds, 1
        self.said: list[str] = []
        return [Event(0, "play", "start", {"rounds": params.rounds})]

    def to_act(self) -> tuple[PlayerId, ...]:
        return () if self.is_terminal() else (self.player,)

    def legal_actions(self, player: PlayerId) -> ActionSpec | None:
        return None if self.is_terminal() else ActionSpec(ActionKind.CHOICE, COLOURS, fallback=COLOURS[0])

    def observe(self, player: PlayerId) -> Observation:
        public = {"round": self.turn, "said": list(self.said)}
        return Observation(player, self.turn, "play", public, {}, (), self.legal_actions(player))

    def render(self, observation: Observation) -> str:
        said = ", ".join(observation.public["said"]) or "nothing yet"
        return f"Round {observation.turn} of the colour game. You said: {said}. Name a colour."

    def step(self, actions: Mapping[PlayerId, Any]) -> list[Event]:
        action = actions.get(self.player)
        if not isinstance(action, Action) or action.value not in COLOURS:
            raise IllegalActionError(self.player, "name one of the colours")
        self.said.append(action.value)
        self.turn += 1
        return [Event(self.turn - 1, "play", "said", {"colour": action.value}, actor=self.player)]

    def is_terminal(self) -> bool:
        return self.turn > self.rounds

    def returns(self) -> dict[PlayerId, float]:
        return {self.player: float(self.said.count("plum"))}

    def outcome(self) -> Outcome:
        return Outcome(winners=(self.player,), reason="rounds played")

    def snapshot(self) -> dict[str, Any]:
        return {"turn": self.turn, "said": list(self.said)}
