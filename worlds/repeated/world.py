"""World ``matrix/repeated-v1``: a finitely repeated two-player 2x2 game (Akata et al. 2023).

Rules. Two seats, p0 (row) and p1 (column), play the same 2x2 stage game each round,
choosing simultaneously between two labelled options. Each gets the payoff of its own matrix for
the pair of moves. The game lasts a fixed number of rounds, or ends after each round with a
seeded probability ``stop_probability`` (geometric horizon, mean length 1/p, capped at
``max_rounds``). With ``noise`` > 0 each played move is flipped with that probability (seeded);
scores use the moves as played.

Who sees what. Each seat sees the stage game from its own perspective (its own payoff first),
the round number, the horizon if ``horizon_known``, and the history of both played moves and
both scores. Private to a seat: the move it intended when noise flipped it (``noise`` events
and ``private.intended``). Nobody sees the other's move before both have chosen. The ``setup``
event (horizon and noise) is visible to no seat; when the horizon is hidden no seat is told the
stop probability or the round count at all. Rationales are the engine's business and never reach
the other seat.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from pydantic import BaseModel

from sim.types import (
    ALL,
    Action,
    ActionKind,
    ActionSpec,
    Dynamics,
    Event,
    HistoryView,
    IllegalActionError,
    Observation,
    Outcome,
    PlayerId,
    View,
)
from sim.types import WorldSpec as Spec
from sim.world import WorldBase
from worlds.repeated import metrics, text
from worlds.repeated.games import MatrixGame
from worlds.repeated.params import RepeatedParams


class Phase(enum.StrEnum):
    """A repeated game has one phase: both seats choose."""

    PLAY = "play"


PHASE = Phase.PLAY


@dataclass(frozen=True, slots=True)
class StageOutcome(View):
    """One cell of the stage game from a seat's own perspective."""

    own: str
    other: str
    own_points: float
    other_points: float


@dataclass(frozen=True, slots=True)
class RepeatedPublic(View):
    """What both seats know, each from its own perspective: the stage game and, if told, the horizon."""

    game: str
    options: tuple[str, str]
    outcomes: tuple[StageOutcome, ...]
    horizon_known: bool
    horizon: str | None = None  # "fixed" or "geometric", only when the horizon is known
    rounds: int | None = None
    stop_probability: float | None = None
    max_rounds: int | None = None


@dataclass(frozen=True, slots=True)
class RepeatedPrivate(View):
    """A seat's own secret: the moves it intended when noise flipped them (only with noise)."""

    intended: Sequence[str] | None = None


_EMPTY = RepeatedPrivate()

# Hot path (each seat, each round): named tuples built with ``tuple.__new__`` skip their Python-level
# ``__new__`` (several times cheaper); the field orders are checked here, once.
_new = tuple.__new__
_CHOICE = ActionKind.CHOICE


class RoundRecord(NamedTuple):
    """One past round from a seat's own perspective."""

    round: int
    own: str
    other: str
    own_points: float
    other_points: float


assert RoundRecord._fields == ("round", "own", "other", "own_points", "other_points")
assert Observation._fields[-2:] == ("text", "feedback") and len(Observation._fields) == 9
assert Event._fields == ("turn", "phase", "kind", "payload", "actor", "visible_to")


class RepeatedGameWorld(WorldBase):
    """A finitely repeated 2x2 game between two seats."""

    spec: ClassVar[Spec] = Spec(
        id="matrix/repeated-v1",
        title="Repeated 2x2 game",
        min_players=2,
        max_players=2,
        dynamics=Dynamics.SIMULTANEOUS,
        hidden_info=True,
        max_turns=100_000,
        params_model=RepeatedParams,
        phases=Phase,
        public_type=RepeatedPublic,
        private_type=RepeatedPrivate,
    )
    #: Parameter sets the conformance suite plays (defaults, noise, a hidden geometric horizon, a 144-game).
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {},
        {"game": "akata_battle_of_the_sexes", "rounds": 12, "noise": 0.2},
        {"game": "stag_hunt", "stop_probability": 0.2, "horizon_known": False, "max_rounds": 50},
        {"game": "rg_6_7", "labels": ["X", "Q"], "rounds": 5},
    )

    def reset(
        self,
        players: Sequence[PlayerId],
        params: BaseModel,
        rng: random.Random,
        roles: Mapping[PlayerId, str] | None = None,
    ) -> list[Event]:
        """Start a match between two seats."""
        assert isinstance(params, RepeatedParams)
        if len(players) != 2:
            raise ValueError(f"repeated games need exactly 2 players, got {len(players)}")
        self.params = params
        self.game: MatrixGame = params.stage_game()
        self.players = tuple(players)
        self.rng = rng
        self.round = 1
        self.over = False
        self.end_reason = ""
        self.moves: list[tuple[int, int]] = []
        self.intended: list[tuple[int, int]] = []
        self.scores = [0.0, 0.0]
        self.histories: list[list[RoundRecord]] = [[], []]
        labels = self.game.labels
        self._seats = {p: i for i, p in enumerate(players)}
        self._private: list[RepeatedPrivate] = [_EMPTY, _EMPTY]
        self._observations: list[Observation | None] = [None, None]
        self._intended_labels: list[list[str]] = [[], []]
        self._labels = labels
        self._index = {labels[0]: 0, labels[1]: 1}
        self._payoff = [[[float(self.game.payoff(s, a, b)) for b in (0, 1)] for a in (0, 1)] for s in (0, 1)]
        self._noise = params.noise
        self._stop_probability = params.stop_probability
        self._round_cap = params.round_cap
        self._legal = ActionSpec(ActionKind.CHOICE, labels, fallback=labels[params.fallback])
        self._public = [self._static_public(s) for s in (0, 1)]
        start = Event(
            0,
            PHASE,
            "start",
            {
                "game": self.game.name,
                "family": self.game.family,
                "labels": list(labels),
                "row": [list(r) for r in self.game.row],
                "col": [list(r) for r in self.game.col],
                "players": list(players),
                "horizon_known": params.horizon_known,
                **(self._horizon() if params.horizon_known else {}),
            },
        )
        setup = Event(0, PHASE, "setup", {**self._horizon(), "noise": params.noise}, visible_to=())
        return [start, setup]

    @classmethod
    def replayable(cls, params: BaseModel) -> bool:
        """True without noise and with a fixed horizon: the world's RNG (noise flips, geometric stops)
        is then never drawn from (the stage game comes from the params; ``permute_secrets`` is the
        conformance suite's only)."""
        assert isinstance(params, RepeatedParams)
        return params.noise == 0 and not params.geometric

    def permute_secrets(self, viewer: PlayerId, rng: random.Random) -> bool:
        """Deal another hidden horizon: a fixed game gets another round count, a geometric one another
        stop probability and cap (the stop draws then fall differently). Kind and RNG draws stay the same,
        so noise flips are unchanged. The other seat's intended moves come from its actions, not from a
        deal. False when the horizon is known: then nothing dealt is hidden from ``viewer``."""
        self._seat(viewer)
        if self.params.horizon_known:
            return False
        if self.params.geometric:
            p = self.params.stop_probability
            new_p = p
            while new_p == p:
                new_p = 1.0 - rng.random()  # in (0, 1]
            update: dict[str, Any] = {
                "stop_probability": new_p,
                "max_rounds": _another_count(self._round_cap, rng),
            }
            self._stop_probability = new_p
        else:
            update = {"rounds": _another_count(self._round_cap, rng)}
        self.params = self.params.model_copy(update=update)
        self._round_cap = self.params.round_cap
        return True

    def _horizon(self) -> dict[str, Any]:
        p = self.params
        if p.geometric:
            return {
                "horizon": "geometric",
                "stop_probability": p.stop_probability,
                "max_rounds": p.max_rounds,
            }
        return {"horizon": "fixed", "rounds": p.rounds}

    def _static_public(self, seat: int) -> RepeatedPublic:
        labels = self._labels
        outcomes = tuple(
            StageOutcome(labels[a], labels[b], self._payoff[seat][a][b], self._payoff[1 - seat][b][a])
            for a in (0, 1)
            for b in (0, 1)
        )
        horizon = self._horizon() if self.params.horizon_known else {}
        return RepeatedPublic(self.game.name, labels, outcomes, self.params.horizon_known, **horizon)

    # protocol -------------------------------------------------------------------------------
    def to_act(self) -> tuple[PlayerId, ...]:
        """Both seats act every round until the game is over."""
        return () if self.over else self.players

    def legal_actions(self, player: PlayerId) -> ActionSpec | None:
        """Choose one of the two options (None once the game is over)."""
        self._seat(player)
        return None if self.over else self._legal

    def observe(self, player: PlayerId) -> Observation:
        """The seat's view: its own payoffs, the round (``turn``), and the played history."""
        seat = self._seats.get(player)
        if seat is None:
            seat = self._seat(player)  # raises KeyError
        cached = self._observations[seat]
        if cached is not None:  # observations are immutable: the same one serves until the next step
            return cached
        history = self.histories[seat]
        obs = self._observations[seat] = _new(
            Observation,
            (
                player,
                self.round,
                PHASE,
                self._public[seat],
                self._private[seat],
                HistoryView(history, len(history)),
                None if self.over else self._legal,
                "",
                None,
            ),
        )
        return obs

    def render(self, observation: Observation) -> str:
        """Akata-style text of the observation."""
        return text.render_observation(observation)

    def step(self, actions: Mapping[PlayerId, Action]) -> list[Event]:
        """Play one round with both seats' actions."""
        p0, p1 = self.players
        if self.over:
            raise IllegalActionError(p0, "the game is over")
        a0, a1 = actions.get(p0), actions.get(p1)
        if a0 is None or a1 is None or len(actions) != 2:
            raise IllegalActionError(p0 if a0 is None else p1, "both seats must act each round")
        index = self._index
        i = index.get(a0.value) if type(a0) is Action and a0.kind is _CHOICE else None
        if i is None:
            i = self._choice_index(p0, a0)
        j = index.get(a1.value) if type(a1) is Action and a1.kind is _CHOICE else None
        if j is None:
            j = self._choice_index(p1, a1)
        r = self.round
        events: list[Event] = []
        if self._noise:
            i, j = self._apply_noise(r, i, j, events)
            self.moves.append((i, j))
        else:
            played = (i, j)
            self.intended.append(played)
            self.moves.append(played)
        observations = self._observations
        observations[0] = observations[1] = None
        pay0 = self._payoff[0][i][j]
        pay1 = self._payoff[1][j][i]
        scores = self.scores
        scores[0] += pay0
        scores[1] += pay1
        labels = self._labels
        la, lb = labels[i], labels[j]
        histories = self.histories
        histories[0].append(_new(RoundRecord, (r, la, lb, pay0, pay1)))
        histories[1].append(_new(RoundRecord, (r, lb, la, pay1, pay0)))
        payload = {"round": r, "moves": {p0: la, p1: lb}, "payoffs": {p0: pay0, p1: pay1}}
        events.append(_new(Event, (r, PHASE, "round", payload, None, ALL)))
        if self._stop_probability is not None:
            self.over = r >= self._round_cap or self.rng.random() < self._stop_probability
        else:
            self.over = r >= self._round_cap
        if self.over:
            self.end_reason = (
                "horizon"
                if self._stop_probability is None
                else ("cap" if r >= self._round_cap else "stopped")
            )
            events.append(
                Event(r, PHASE, "end", {"rounds": r, "scores": self.returns(), "reason": self.end_reason})
            )
        else:
            self.round = r + 1
        return events

    def _choice_index(self, player: PlayerId, action: object) -> int:
        if isinstance(action, Action) and action.kind is ActionKind.CHOICE:
            index = self._index.get(action.value)
            if index is not None:
                return index
        value = action.value if isinstance(action, Action) else action
        raise IllegalActionError(player, f"{value!r} is not one of {list(self._labels)}")

    def _apply_noise(self, r: int, i: int, j: int, events: list[Event]) -> tuple[int, int]:
        """Flip each intended move with probability ``noise``; the flip is private to its seat."""
        played = []
        for seat, want in enumerate((i, j)):
            got = 1 - want if self.rng.random() < self._noise else want
            if got != want:
                player = self.players[seat]
                events.append(
                    Event(
                        r,
                        PHASE,
                        "noise",
                        {"intended": self._labels[want], "played": self._labels[got]},
                        actor=player,
                        visible_to=(player,),
                    )
                )
            played.append(got)
        self.intended.append((i, j))
        for seat, want in enumerate((i, j)):
            self._intended_labels[seat].append(self._labels[want])
            self._private[seat] = RepeatedPrivate(HistoryView(self._intended_labels[seat]))
        return played[0], played[1]

    def is_terminal(self) -> bool:
        """Whether the last round has been played."""
        return self.over

    def returns(self) -> dict[PlayerId, float]:
        """Total points of each seat."""
        return {self.players[0]: self.scores[0], self.players[1]: self.scores[1]}

    def return_bounds(self) -> tuple[float, float]:
        """Lowest and highest possible totals over the longest possible game."""
        cap = self.params.round_cap
        lo = min(self.game.min_payoff(0), self.game.min_payoff(1), 0.0)
        hi = max(self.game.max_payoff(0), self.game.max_payoff(1), 0.0)
        return lo * cap, hi * cap

    def outcome(self) -> Outcome:
        """The seat with more points wins (a draw on equal points); details: rounds, scores, winner."""
        s0, s1 = self.scores
        winner = None if s0 == s1 else self.players[0 if s0 > s1 else 1]
        details = {"rounds": len(self.moves), "scores": self.returns(), "winner": winner}
        return Outcome((winner,) if winner else (), self.end_reason, winner is None, details)

    def snapshot(self) -> dict[str, Any]:
        """Full state as JSON."""
        return {
            "round": self.round,
            "over": self.over,
            "moves": [list(m) for m in self.moves],
            "intended": [list(m) for m in self.intended],
            "scores": list(self.scores),
            "rng": repr(self.rng.getstate()[1][:4]),
        }

    def turn_metrics(self) -> Mapping[PlayerId, Mapping[str, float]]:
        """Cumulative score per seat."""
        return {self.players[0]: {"score": self.scores[0]}, self.players[1]: {"score": self.scores[1]}}

    def episode_metrics(self) -> Mapping[PlayerId, Mapping[str, float]]:
        """Score, cooperation, coordination, forgiveness and outcome shares per seat."""
        return {
            player: metrics.seat_metrics(self.moves, seat, self.game)
            for seat, player in enumerate(self.players)
        }

    def describe_event(self, event: Event) -> str:
        """One transcript line."""
        return text.describe_event(event)

    def _seat(self, player: PlayerId) -> int:
        try:
            return self._seats[player]
        except KeyError:
            raise KeyError(f"{player!r} is not a seat of this game") from None


def _another_count(current: int, rng: random.Random, limit: int = 100_000) -> int:
    """A round count in 1..min(2 * current + 1, limit) other than ``current``."""
    pick = rng.randint(1, min(2 * current + 1, limit) - 1)
    return pick + 1 if pick >= current else pick
