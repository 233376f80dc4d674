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
METRIC_COLUMNS = ("turn", "seat_metrics")


class SeatAgent(mesa.Agent):
    """One seat of the episode: which player id it is and which policy plays it."""

    def __init__(self, model: EpisodeModel, player: PlayerId, policy: Agent, label: str):
        super().__init__(model)
        self.player = player
        self.policy = policy
        self.label = label
        self.invalid_actions = 0
        self.decisions = 0  # turns this seat was asked to act


class EpisodeModel(mesa.Model):
    """Holds the world, the seats and the per-turn DataCollector of one episode."""

    def __init__(
        self, world: World, seats: Sequence[tuple[PlayerId, Agent, str]], seed: int, metrics_every: int = 1
    ):
        super().__init__(rng=seed)
        self.world = world
        self.metrics_every = metrics_every
        self.seats: dict[PlayerId, SeatAgent] = {}
        for player, policy, label in seats:
            self.seats[player] = SeatAgent(self, player, policy, label)
        # A DataCollector table (no per-step deepcopy, unlike model reporters): one row per collected
        # turn holding the world's fresh {player: {name: value}} mapping; unpacked once, at the end.
        self.datacollector = mesa.DataCollector(tables={METRICS_TABLE: list(METRIC_COLUMNS)})
        table = self.datacollector.tables[METRICS_TABLE]
        self._turns, self._metrics = table["turn"], table["seat_metrics"]

    def step(self) -> None:
        """Advance the turn counter and collect per-turn metrics when due.

        The engine calls :meth:`advance` instead, which does the same without Mesa's per-step logging
        wrapper (measurable at 100k turns per second); ``steps`` counts turns either way.
        """
        self._collect()

    def advance(self) -> None:
        """One turn has been played: count it (Mesa's ``steps``) and collect metrics when due."""
        self.steps += 1
        self._collect()

    def _collect(self) -> None:
        if self.metrics_every and self.steps % self.metrics_every == 0:
            self._turns.append(self.steps)
            self._metrics.append(self.world.turn_metrics())

    def metric_series(self) -> Iterator[tuple[PlayerId, str, list[int], list[float]]]:
        """The per-turn metrics as one ``(player, name, turns, values)`` series per seat and metric."""
        series: dict[tuple[PlayerId, str], tuple[list[int], list[float]]] = {}
        for turn, per_seat in zip(self._turns, self._metrics, strict=True):
            for player, metrics in per_seat.items():
                for name, value in metrics.items():
                    entry = series.get((player, name))
                    if entry is None:
                        entry = series[player, name] = ([], [])
                    entry[0].append(turn)
                    entry[1].append(value)
        for (player, name), (turns, values) in series.items():
            yield player, name, turns, values
