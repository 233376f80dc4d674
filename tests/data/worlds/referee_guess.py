"""World ``test/referee-guess``: a tiny game with a referee seat, for tests of seat roles and of
STRUCTURED and ONE_OF actions (importable as ``referee_guess:RefereeGuessWorld``).

Rules. A secret target from 0 to 10 is drawn at reset. Each round every player at once either
guesses a number (ONE_OF branch ``guess``, a NUMBER from 0 to 10) or passes (branch ``pass``, no
argument). Then the referee rules (a STRUCTURED verdict: which guessing player was closest, and a
short note); the world checks the named seat guessed this round. The closest player named gets a
point. After ``rounds`` rounds the players with the most points win; the referee never wins or loses.

Who sees what. Players see the round, every player's guess once all have chosen, every verdict and
the points; never the target. The referee (``omniscient``, ``rated: false``) sees everything: the
target and the guesses of the round it rules on. The ``setup`` event (the target) is visible to the
referee only.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from agents.scripted.base import ScriptedAgent
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
    SeatRole,
    View,
    WorldSpec,
)
from sim.world import WorldBase


class Params(BaseModel):
    """Rounds to play."""

    model_config = ConfigDict(extra="forbid")
    rounds: int = Field(3, ge=1, le=20)


class Phase(enum.StrEnum):
    """Players guess, then the referee rules."""

    GUESS = "guess"
    RULE = "rule"
    END = "end"


@dataclass(frozen=True, slots=True)
class Public(View):
    """What every seat sees."""

    round: int
    players: tuple[PlayerId, ...]
    points: Mapping[PlayerId, int]
    guesses: Mapping[PlayerId, Any] | None = None  # this round's, once everyone has chosen


@dataclass(frozen=True, slots=True)
class Private(View):
    """The referee's secret knowledge (players' private part is empty)."""

    target: int | None = None


class Verdict(BaseModel):
    """The referee's ruling (its ``closest`` is narrowed to the guessing seats per episode)."""

    model_config = ConfigDict(extra="forbid")
    closest: str
    note: str = Field(max_length=80)


GUESS_SPEC = ActionSpec(
    ActionKind.ONE_OF,
    branches=(("guess", ActionSpec(ActionKind.NUMBER, minimum=0, maximum=10)), ("pass", None)),
    fallback={"branch": "pass", "value": None},
)


class RefereeGuessWorld(WorldBase):
    """Guess the referee's secret number; the referee rules each round."""

    spec: ClassVar[WorldSpec] = WorldSpec(
        id="test/referee-guess",
        title="Referee guess",
        min_players=2,
        max_players=5,
        dynamics=Dynamics.MIXED,
        hidden_info=True,
        max_turns=100,
        params_model=Params,
        phases=Phase,
        public_type=Public,
        private_type=Private,
        roles=(
            SeatRole("player", 1, 4, description="guesses"),
            SeatRole("referee", 1, 1, rated=False, omniscient=True, description="rules on every round"),
        ),
    )

    def reset(
        self,
        players: Sequence[PlayerId],
        params: BaseModel,
        rng: random.Random,
        roles: Mapping[PlayerId, str] | None = None,
    ) -> list[Event]:
        """Draw the target and seat the referee."""
        assert isinstance(params, Params)
        roles = roles or {p: "player" for p in players}
        self.referee = next(p for p in players if roles[p] == "referee")
        self.players = tuple(p for p in players if roles[p] == "player")
        self.rounds = params.rounds
        self.target = rng.randint(0, 10)
        self.round = 1
        self.phase = Phase.GUESS
        self.points = {p: 0 for p in self.players}
        self.guesses: dict[PlayerId, Any] = {}
        self.turn = 0
        verdict: Any = create_model(
            "Verdict",
            __base__=Verdict,
            closest=(Literal[self.players], ...),  # type: ignore[valid-type]
        )
        self.rule_spec = ActionSpec(ActionKind.STRUCTURED, schema=verdict)
        return [
            Event(0, Phase.GUESS, "start", {"players": list(self.players), "referee": self.referee}),
            Event(0, Phase.GUESS, "setup", {"target": self.target}, visible_to=(self.referee,)),
        ]

    def to_act(self) -> tuple[PlayerId, ...]:
        """Every player guesses at once; then the referee rules (if anybody guessed)."""
        if self.phase is Phase.GUESS:
            return self.players
        return (self.referee,) if self.phase is Phase.RULE else ()

    def legal_actions(self, player: PlayerId) -> ActionSpec | None:
        """A guess or a pass; the referee's verdict; None when not to act."""
        if player not in self.to_act():
            return None
        return GUESS_SPEC if self.phase is Phase.GUESS else self.rule_spec

    def observe(self, player: PlayerId) -> Observation:
        """Players: round, points, this round's guesses once in; the referee also the target."""
        shown = dict(self.guesses) if self.phase is Phase.RULE or player == self.referee else None
        public = Public(self.round, self.players, dict(self.points), shown)
        private = Private(self.target if player == self.referee else None)
        return Observation(player, self.turn, self.phase, public, private, (), self.legal_actions(player))

    def step(self, actions: Mapping[PlayerId, Action]) -> list[Event]:
        """Record the guesses, or apply the verdict."""
        actors = self.to_act()
        if not actors or set(actions) != set(actors):
            raise IllegalActionError(next(iter(actions), "?"), f"expected actions from {actors}")
        for p, action in actions.items():
            legal = self.legal_actions(p)
            problem = legal.check(action) if legal is not None else "not your turn"
            if problem:
                raise IllegalActionError(p, problem)
        if self.phase is Phase.RULE:
            closest = actions[self.referee].value["closest"]
            if self.guesses.get(closest) is None:
                raise IllegalActionError(self.referee, f"{closest} did not guess this round")
        self.turn += 1
        if self.phase is Phase.GUESS:
            self.guesses = {p: a.value["value"] for p, a in actions.items()}
            events = [Event(self.turn, Phase.GUESS, "guesses", {"guesses": dict(self.guesses)})]
            if any(v is not None for v in self.guesses.values()):
                self.phase = Phase.RULE
                return events
            return events + self._next_round()
        verdict = actions[self.referee].value
        self.points[verdict["closest"]] += 1
        events = [Event(self.turn, Phase.RULE, "verdict", dict(verdict), actor=self.referee)]
        return events + self._next_round()

    def _next_round(self) -> list[Event]:
        self.guesses = {}
        if self.round == self.rounds:
            self.phase = Phase.END
            return [Event(self.turn, Phase.END, "end", {"points": dict(self.points), "target": self.target})]
        self.round += 1
        self.phase = Phase.GUESS
        return []

    def is_terminal(self) -> bool:
        """Whether every round has been played."""
        return self.phase is Phase.END

    def returns(self) -> dict[PlayerId, float]:
        """Points for players; the referee's return is 0 (it is not rated)."""
        return {**{p: float(v) for p, v in self.points.items()}, self.referee: 0.0}

    def return_bounds(self) -> tuple[float, float]:
        """From no point to a point every round."""
        return 0.0, float(self.rounds)

    def outcome(self) -> Outcome:
        """The players with the most points win (a draw when all players tie)."""
        best = max(self.points.values())
        winners = tuple(p for p, v in self.points.items() if v == best)
        draw = len(winners) == len(self.players)
        return Outcome(() if draw else winners, "points", draw, {"points": dict(self.points)})

    def snapshot(self) -> dict[str, Any]:
        """The whole state."""
        return {
            "round": self.round,
            "phase": self.phase.value,
            "points": dict(self.points),
            "guesses": dict(self.guesses),
            "target": self.target,
            "turn": self.turn,
        }

    def permute_secrets(self, viewer: PlayerId, rng: random.Random) -> bool:
        """Players cannot tell one target from another (the referee sees it)."""
        if viewer == self.referee:
            return False
        self.target = (self.target + 1 + rng.randrange(10)) % 11
        return True


class FairReferee(ScriptedAgent):
    """Names the player whose guess is closest to the target (the first seat on a tie)."""

    worlds: ClassVar[tuple[str, ...] | None] = ("test/referee-guess",)

    def decide(self, observation: Observation) -> Action:
        """Rule on this round's guesses."""
        target = observation.private.target
        guesses = {p: g for p, g in observation.public.guesses.items() if g is not None}
        closest = min(guesses, key=lambda p: abs(guesses[p] - target))
        return Action(ActionKind.STRUCTURED, {"closest": closest, "note": f"{closest} was closest"})
