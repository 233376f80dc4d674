"""A running episode as a ``mesa.Model``: seats are ``mesa.Agent``s; per-turn metrics go through a
DataCollector.

Mesa is the bookkeeping layer (seeded RNG, agent set, data collection); the engine owns the async
turn loop. There is deliberately no ``async def step`` here: Mesa would silently never await it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import mesa

from sim.agent import Agent
from sim.types import PlayerId
from sim.world import World

METRICS_TABLE = "seat_metrics"
METRIC_COLUMNS = ("turn", "player_id", "name", "value")


class SeatAgent(mesa.Agent):
    """One seat of the episode: which player id it is and which policy plays it."""

    def __init__(self, model: EpisodeModel, player: PlayerId, policy: Agent, label: str):
        super().__init__(model)
        self.player = player
        self.policy = policy
        self.label = label
        self.invalid_actions = 0


class EpisodeModel(mesa.Model):
    """Holds the world, the seats and the per-turn DataCollector of one episode."""

    def __init__(
        self, world: World, seats: Sequence[tuple[PlayerId, Agent, str]], seed: int, metrics_every: int = 1
    ):
        super().__init__(rng=seed)
        self.world = world
        self.turn = 0
        self.metrics_every = metrics_every
        self.seats: dict[PlayerId, SeatAgent] = {}
        for player, policy, label in seats:
            self.seats[player] = SeatAgent(self, player, policy, label)
        # A DataCollector table (no per-step deepcopy, unlike model reporters): one row per seat and metric.
        self.datacollector = mesa.DataCollector(tables={METRICS_TABLE: list(METRIC_COLUMNS)})
        self._rows = self.datacollector.tables[METRICS_TABLE]
        self._columns = tuple(self._rows[c] for c in METRIC_COLUMNS)

    def step(self) -> None:
        """Advance the turn counter and collect per-turn metrics when due."""
        self.turn += 1
        if self.metrics_every and self.turn % self.metrics_every == 0:
            turns, players, names, values = self._columns
            for player, metrics in self.world.turn_metrics().items():
                for name, value in metrics.items():
                    turns.append(self.turn)
                    players.append(player)
                    names.append(name)
                    values.append(value)

    def metric_series(self) -> Iterator[tuple[PlayerId, str, list[int], list[float]]]:
        """The per-turn metrics as one ``(player, name, turns, values)`` series per seat and metric."""
        series: dict[tuple[PlayerId, str], tuple[list[int], list[float]]] = {}
        for turn, player, name, value in zip(*self._columns, strict=True):
            turns, values = series.setdefault((player, name), ([], []))
            turns.append(turn)
            values.append(value)
        for (player, name), (turns, values) in series.items():
            yield player, name, turns, values
