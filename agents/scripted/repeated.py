"""Classic strategies for repeated 2x2 games (Axelrod's library and Akata et al.'s hand-coded opponents).

Each strategy sees only its own observation: option 0 is C (cooperate), option 1 is D, and
``observation.history`` holds the played rounds from its own perspective. Stochastic strategies
draw from their own seeded RNG; every seat and every match gets a fresh instance. The others never
touch their RNG and say so (``deterministic``), so a tournament replays their matches.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

from pydantic import Field

from agents.scripted.base import ScriptedAgent
from sim.agent import AgentConfig
from sim.types import Action, ActionKind, Observation
from worlds.repeated.world import RepeatedGameWorld, RoundRecord

WORLD_ID = RepeatedGameWorld.spec.id
_CHOICE = ActionKind.CHOICE


class Strategy(ScriptedAgent):
    """Base of repeated-game strategies: subclasses return 0 (C) or 1 (D) from the history."""

    worlds: ClassVar[tuple[str, ...] | None] = (WORLD_ID,)
    #: The options the cached actions were made for, and the two actions (immutable, so reusable).
    _options: tuple[str, ...] = ()
    _actions: tuple[Action, Action]

    def decide(self, observation: Observation) -> Action:
        """Map the strategy's option index to its label."""
        options = observation.public.options
        if options is not self._options:
            self._options = options
            self._actions = (Action(_CHOICE, options[0]), Action(_CHOICE, options[1]))
        return self._actions[self.choose(observation.history, observation)]

    def choose(self, history: Sequence[RoundRecord], observation: Observation) -> int:
        """0 to cooperate, 1 to defect."""
        raise NotImplementedError

    @staticmethod
    def _is_d(observation: Observation, move: str) -> bool:
        return move == observation.public.options[1]


class Cooperator(Strategy):
    """Always plays option 0 (C); Akata's always-J."""

    deterministic: ClassVar[bool] = True

    def choose(self, history, observation) -> int:  # type: ignore[no-untyped-def]
        """Always C."""
        return 0


class Defector(Strategy):
    """Always plays option 1 (D); Akata's always-F."""

    deterministic: ClassVar[bool] = True

    def choose(self, history, observation) -> int:  # type: ignore[no-untyped-def]
        """Always D."""
        return 1


class AlternatorConfig(AgentConfig):
    """``start``: the option of the first round (C gives C,D,C,...; D gives D,C,D,...)."""

    start: Literal["C", "D"] = "C"


class Alternator(Strategy):
    """Alternates between the two options, starting with ``start`` (either phase)."""

    deterministic: ClassVar[bool] = True

    Config = AlternatorConfig

    def choose(self, history, observation) -> int:  # type: ignore[no-untyped-def]
        """Alternate by round parity."""
        assert isinstance(self.config, AlternatorConfig)
        first = 0 if self.config.start == "C" else 1
        return first if len(history) % 2 == 0 else 1 - first


class TitForTat(Strategy):
    """Cooperates first, then copies the opponent's last move."""

    deterministic: ClassVar[bool] = True

    def choose(self, history, observation) -> int:  # type: ignore[no-untyped-def]
        """C, then the opponent's last move."""
        return int(self._is_d(observation, history[-1].other)) if history else 0


class TitForTwoTats(Strategy):
    """Defects only after two opponent defections in a row."""

    deterministic: ClassVar[bool] = True

    def choose(self, history, observation) -> int:  # type: ignore[no-untyped-def]
        """D iff the opponent's last two moves were D."""
        return int(len(history) >= 2 and all(self._is_d(observation, r.other) for r in history[-2:]))


class SuspiciousTitForTat(Strategy):
    """Defects first, then copies the opponent's last move."""

    deterministic: ClassVar[bool] = True

    def choose(self, history, observation) -> int:  # type: ignore[no-untyped-def]
        """D, then the opponent's last move."""
        return int(self._is_d(observation, history[-1].other)) if history else 1


class ReverseTitForTat(Strategy):
    """Defects first, then plays the opposite of the opponent's last move."""

    deterministic: ClassVar[bool] = True

    def choose(self, history, observation) -> int:  # type: ignore[no-untyped-def]
        """D, then the opposite of the opponent's last move."""
        return int(not self._is_d(observation, history[-1].other)) if history else 1


class HardTitForTat(Strategy):
    """Cooperates first; defects if the opponent defected in any of the last three rounds."""

    deterministic: ClassVar[bool] = True

    def choose(self, history, observation) -> int:  # type: ignore[no-untyped-def]
        """D iff any D among the opponent's last three moves."""
        return int(any(self._is_d(observation, r.other) for r in history[-3:]))


class Grudger(Strategy):
    """Grim trigger: cooperates until the opponent defects once, then defects forever."""

    deterministic: ClassVar[bool] = True

    def reset(self, seat, world, seed) -> None:  # type: ignore[no-untyped-def]
        """Forget any grudge."""
        super().reset(seat, world, seed)
        self.grudge = False

    def choose(self, history, observation) -> int:  # type: ignore[no-untyped-def]
        """D forever after the first opponent D."""
        if history and self._is_d(observation, history[-1].other):
            self.grudge = True
        return int(self.grudge)


class WinStayLoseShift(Strategy):
    """Pavlov: cooperates first; repeats its move after a high payoff, switches after a low one.

    A payoff is high when it is one of the two best of the seat's four payoffs (T or R in a PD).
    """

    deterministic: ClassVar[bool] = True

    _public: object = None  # the public view the threshold ``_win`` was computed for
    _win: float

    def choose(self, history, observation) -> int:  # type: ignore[no-untyped-def]
        """Stay after a win, shift after a loss."""
        if not history:
            return 0
        last = history[-1]
        public = observation.public
        if public is not self._public:  # the win threshold, once per stage game
            self._public = public
            self._win = sorted((o.own_points for o in public.outcomes), reverse=True)[1]
        own = int(self._is_d(observation, last.own))
        return own if last.own_points >= self._win else 1 - own


class GenerousConfig(AgentConfig):
    """``generosity``: P(cooperate) after an opponent defection (Nowak & Sigmund's 1/3 for 3,0,5,1)."""

    generosity: float = Field(1 / 3, ge=0, le=1)


class GenerousTitForTat(Strategy):
    """Tit for tat that forgives a defection with probability ``generosity``."""

    Config = GenerousConfig

    def choose(self, history, observation) -> int:  # type: ignore[no-untyped-def]
        """TFT, but cooperate after a D with probability ``generosity``."""
        assert isinstance(self.config, GenerousConfig)
        if not history or not self._is_d(observation, history[-1].other):
            return 0
        return 0 if self.rng.random() < self.config.generosity else 1


class RandomConfig(AgentConfig):
    """``p``: probability of cooperating each round."""

    p: float = Field(0.5, ge=0, le=1)


class RandomStrategy(Strategy):
    """Cooperates with probability ``p`` each round."""

    Config = RandomConfig

    def choose(self, history, observation) -> int:  # type: ignore[no-untyped-def]
        """C with probability p."""
        assert isinstance(self.config, RandomConfig)
        return 0 if self.rng.random() < self.config.p else 1


class DefectOnceThenCooperate(Strategy):
    """Akata's defect-once opponent: D in the first round, C ever after."""

    deterministic: ClassVar[bool] = True

    def choose(self, history, observation) -> int:  # type: ignore[no-untyped-def]
        """D first, then C."""
        return 0 if history else 1


class ProberConfig(AgentConfig):
    """``p``: probability of a random defection when tit for tat would cooperate."""

    p: float = Field(0.1, ge=0, le=1)


class NaiveProber(Strategy):
    """Tit for tat that also defects at random with probability ``p`` (Akata's Naive Prober 10%/20%)."""

    Config = ProberConfig

    def choose(self, history, observation) -> int:  # type: ignore[no-untyped-def]
        """TFT plus random probing defections."""
        assert isinstance(self.config, ProberConfig)
        if history and self._is_d(observation, history[-1].other):
            return 1
        if not history:
            return 0
        return 1 if self.rng.random() < self.config.p else 0


class GoByMajority(Strategy):
    """Axelrod's soft Go By Majority: C while the opponent's cooperations are at least its defections."""

    deterministic: ClassVar[bool] = True

    def reset(self, seat, world, seed) -> None:  # type: ignore[no-untyped-def]
        """Forget the count."""
        super().reset(seat, world, seed)
        self.counted = 0
        self.defections = 0

    def choose(self, history, observation) -> int:  # type: ignore[no-untyped-def]
        """D iff the opponent has defected more often than it cooperated (a tie cooperates)."""
        self.defections += sum(self._is_d(observation, r.other) for r in history[self.counted :])
        self.counted = len(history)
        return int(2 * self.defections > self.counted)
