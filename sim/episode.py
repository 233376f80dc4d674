"""A running episode as a ``mesa.Model``: seats are ``mesa.Agent``s, per-turn metrics go through a DataCollector.

Mesa is the bookkeeping layer (seeded RNG, agent set, data collection); the engine owns the async
turn loop. There is deliberately no ``async def step`` here: Mesa would silently never await it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import mesa

from sim.agent import Agent
from sim.types import PlayerId
from sim.world import World


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

    def __init__(self, world: World, seats: Sequence[tuple[PlayerId, Agent, str]], seed: int,
                 metrics_every: int = 1):
        super().__init__(rng=seed)
        self.world = world
        self.turn = 0
        self.metrics_every = metrics_every
        self.seats: dict[PlayerId, SeatAgent] = {}
        for player, policy, label in seats:
            self.seats[player] = SeatAgent(self, player, policy, label)
        self.datacollector = mesa.DataCollector(
            model_reporters={"turn": "turn", "seat_metrics": lambda m: m.world.turn_metrics()})

    def step(self) -> None:
        """Advance the turn counter and collect per-turn metrics when due."""
        self.turn += 1
        if self.metrics_every and self.turn % self.metrics_every == 0:
            self.datacollector.collect(self)

    def metric_rows(self) -> Iterator[tuple[int, PlayerId, str, float]]:
        """The collected per-turn metrics as ``(turn, player, name, value)`` rows."""
        columns = self.datacollector.model_vars
        for turn, per_seat in zip(columns["turn"], columns["seat_metrics"], strict=True):
            for player, values in per_seat.items():
                for name, value in values.items():
                    yield turn, player, name, value
