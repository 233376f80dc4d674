"""The repeated world's secrets: a hidden horizon (``permute_secrets``) and the other seat's intentions."""

from __future__ import annotations

import random

import pytest

from sim.rng import stream
from sim.types import Action, ActionKind, Event, dumps
from worlds.repeated.params import RepeatedParams
from worlds.repeated.world import RepeatedGameWorld

PLAYERS = ("p0", "p1")


def _play(params: RepeatedParams, seed: int, permute_for: str | None = None) -> list[Event]:
    """Random play to the end (the actions depend on the seed only); B is permuted for ``permute_for``."""
    world = RepeatedGameWorld()
    world.reset(PLAYERS, params, stream(seed, "world"))
    if permute_for is not None:
        assert world.permute_secrets(permute_for, random.Random(seed))
    chooser = random.Random(seed + 100)
    events: list[Event] = []
    while not world.is_terminal():
        events += world.step({p: world.legal_actions(p).sample(chooser) for p in world.to_act()})  # type: ignore[union-attr]
    return events


def _rounds_and_flips(events: list[Event], upto: int) -> list[str]:
    """The round and noise events of rounds 1..``upto``."""
    return [dumps(e) for e in events if e.kind in ("round", "noise") and e.turn <= upto]


def _length(events: list[Event]) -> int:
    return sum(e.kind == "round" for e in events)


@pytest.mark.parametrize(
    "params",
    [
        RepeatedParams(),
        RepeatedParams(stop_probability=0.1, noise=0.2),
        RepeatedParams(rounds=3, noise=0.2, game="stag_hunt"),
    ],
)
def test_nothing_dealt_is_hidden_when_the_horizon_is_known(params: RepeatedParams) -> None:
    world = RepeatedGameWorld()
    world.reset(PLAYERS, params, stream(1, "world"))
    before = (world.snapshot(), world.return_bounds())
    assert not any(world.permute_secrets(p, random.Random(0)) for p in PLAYERS)
    assert (world.snapshot(), world.return_bounds()) == before


@pytest.mark.parametrize("viewer", PLAYERS)
def test_a_hidden_fixed_horizon_gets_another_length_and_the_same_draws(viewer: str) -> None:
    params = RepeatedParams(rounds=8, horizon_known=False, noise=0.3)
    for seed in range(10):
        original, permuted = _play(params, seed), _play(params, seed, viewer)
        assert _length(original) == 8 and _length(permuted) in set(range(1, 18)) - {8}
        shared = min(_length(original), _length(permuted))
        # the same noise draws: moves and flips agree for as long as both games run
        assert _rounds_and_flips(original, shared) == _rounds_and_flips(permuted, shared)
        assert any(e.kind == "noise" for e in original)


def test_a_hidden_geometric_horizon_stops_elsewhere_with_the_same_noise() -> None:
    params = RepeatedParams(stop_probability=0.2, max_rounds=40, horizon_known=False, noise=0.25)
    lengths = []
    for seed in range(12):
        original, permuted = _play(params, seed), _play(params, seed, "p1")
        shared = min(_length(original), _length(permuted))
        assert _rounds_and_flips(original, shared) == _rounds_and_flips(permuted, shared)
        lengths.append((_length(original), _length(permuted)))
    assert any(a != b for a, b in lengths), lengths


@pytest.mark.parametrize(("rounds", "low", "high"), [(1, 2, 3), (100_000, 1, 99_999), (5, 1, 11)])
def test_another_round_count_stays_valid(rounds: int, low: int, high: int) -> None:
    params = RepeatedParams(rounds=rounds, horizon_known=False)
    for seed in range(20):
        world = RepeatedGameWorld()
        world.reset(PLAYERS, params, stream(seed, "world"))
        assert world.permute_secrets("p0", random.Random(seed))
        assert low <= world.params.rounds <= high and world.params.rounds != rounds
        RepeatedParams.model_validate(world.params.model_dump())


class ScriptedDraws(random.Random):
    """A world RNG whose ``random()`` draws are given in order (noise: p0's then p1's, each round)."""

    def __init__(self, draws: list[float]):
        super().__init__(0)
        self.draws = list(draws)

    def random(self) -> float:
        return self.draws.pop(0)


def test_the_other_seats_intended_moves_stay_private() -> None:
    """p1 means C and is never flipped in A, means D and is always flipped in B: p0 sees the same game."""
    params = RepeatedParams(rounds=4, noise=0.5)
    p0_moves = ["C", "D", "D", "C"]
    p0_draws = [0.1, 0.9, 0.2, 0.8]  # p0's own flips, the same in both worlds
    worlds = []
    for p1_move, p1_draw in (("C", 0.9), ("D", 0.1)):
        world = RepeatedGameWorld()
        world.reset(PLAYERS, params, ScriptedDraws([d for p in p0_draws for d in (p, p1_draw)]))
        views, seen = [], []
        for move in p0_moves:
            obs = world.observe("p0")
            views.append((dumps(obs), world.render(obs), dumps(world.observe("p1"))))
            events = world.step(
                {"p0": Action(ActionKind.CHOICE, move), "p1": Action(ActionKind.CHOICE, p1_move)}
            )
            seen.append(dumps([e for e in events if e.visible("p0")]))
        obs = world.observe("p0")
        views.append((dumps(obs), world.render(obs), dumps(world.observe("p1"))))
        worlds.append((views, seen))
    (views_a, seen_a), (views_b, seen_b) = worlds
    assert [v[:2] for v in views_a] == [v[:2] for v in views_b]
    assert seen_a == seen_b
    assert views_a[-1][2] != views_b[-1][2], "p1's own view records its intended moves"
