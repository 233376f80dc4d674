"""Horizon, noise, perspective, hidden information and metrics of the repeated-games world."""

from __future__ import annotations

import math
import statistics

from agents.scripted import repeated as s
from sim.rng import stream
from sim.testing import drive, play
from sim.types import Action, ActionKind, dumps
from worlds.repeated.metrics import forgiveness, seat_metrics
from worlds.repeated.params import RepeatedParams
from worlds.repeated.world import RepeatedGameWorld

C = Action(ActionKind.CHOICE, "C")
D = Action(ActionKind.CHOICE, "D")


def _always(action: Action):  # type: ignore[no-untyped-def]
    return lambda world, player, spec: action


def test_geometric_horizon_mean_length_close_to_one_over_p() -> None:
    p = 0.2
    params = RepeatedParams(stop_probability=p)
    lengths = []
    for seed in range(3000):
        world = RepeatedGameWorld()
        drive(world, params, 2, seed, _always(C))
        lengths.append(len(world.moves))
    mean = statistics.fmean(lengths)
    assert abs(mean - 1 / p) < 0.25, mean  # standard error is about 0.08
    assert min(lengths) == 1


def test_geometric_horizon_respects_the_cap() -> None:
    world = RepeatedGameWorld()
    drive(world, RepeatedParams(stop_probability=0.001, max_rounds=7), 2, 0, _always(C))
    assert len(world.moves) == 7


def test_noise_is_seeded_reproducible_and_at_its_rate() -> None:
    params = RepeatedParams(rounds=4000, noise=0.2)

    def flips(seed: int) -> list:
        _, events, _ = play(
            RepeatedGameWorld, params, {"p0": s.Cooperator(), "p1": s.Cooperator()}, seed=seed
        )
        return [(e.turn, e.actor) for e in events if e.kind == "noise"]

    first = flips(5)
    assert first == flips(5)
    assert first != flips(6)
    assert abs(len(first) / 8000 - 0.2) < 0.015
    _, events, _ = play(RepeatedGameWorld, params, {"p0": s.Cooperator(), "p1": s.Cooperator()}, seed=5)
    played_d = sum(m == "D" for e in events if e.kind == "round" for m in e.payload["moves"].values())
    assert played_d == len(first)


def test_each_seat_sees_the_game_from_its_own_perspective() -> None:
    world = RepeatedGameWorld()
    world.reset(["p0", "p1"], RepeatedParams(game="akata_battle_of_the_sexes"), stream(0))
    o0, o1 = world.observe("p0"), world.observe("p1")
    jj0 = next(o for o in o0.public["outcomes"] if o["own"] == "J" and o["other"] == "J")
    jj1 = next(o for o in o1.public["outcomes"] if o["own"] == "J" and o["other"] == "J")
    assert (jj0["own_points"], jj0["other_points"]) == (10, 7)
    assert (jj1["own_points"], jj1["other_points"]) == (7, 10)
    text1 = world.render(o1)
    assert (
        "If you choose Option F and the other player chooses Option F, then you win 10 points and the other "
        "player wins 7 points."
    ) in text1
    world.step({"p0": Action(ActionKind.CHOICE, "J"), "p1": Action(ActionKind.CHOICE, "F")})
    h0, h1 = world.observe("p0").history[0], world.observe("p1").history[0]
    assert (h0.own, h0.other, h1.own, h1.other) == ("J", "F", "F", "J")
    assert (
        "In round 1, you chose Option F and the other player chose Option J. Thus, you won 0 points and the "
        "other player won 0 points."
    ) in world.render(world.observe("p1"))


def test_hidden_horizon_is_not_shown_to_any_seat() -> None:
    world = RepeatedGameWorld()
    events = world.reset(["p0", "p1"], RepeatedParams(stop_probability=0.137, horizon_known=False), stream(1))
    for p in ("p0", "p1"):
        obs = world.observe(p)
        blob = dumps(obs) + world.render(obs)
        assert "0.137" not in blob and "geometric" not in blob and "stop_probability" not in blob
    setup = next(e for e in events if e.kind == "setup")
    assert setup.visible_to == () and setup.payload["stop_probability"] == 0.137
    assert all("0.137" not in dumps(e.payload) for e in events if e.visible_to == "all")


def test_a_flipped_intention_never_reaches_the_other_seat() -> None:
    """Non-interference: p1's view is the same whether p0 meant C (flipped to D) or meant D."""
    params = RepeatedParams(rounds=3, noise=0.5)

    def after_round(seed: int, p0_move: Action) -> tuple:
        world = RepeatedGameWorld()
        world.reset(["p0", "p1"], params, stream(seed))
        events = world.step({"p0": p0_move, "p1": C})
        flipped = {e.actor for e in events if e.kind == "noise"}
        return flipped, world

    flipped_seed = next(sd for sd in range(200) if after_round(sd, C)[0] == {"p0"})
    clean_seed = next(sd for sd in range(200) if after_round(sd, D)[0] == set())
    _, w_flipped = after_round(flipped_seed, C)
    _, w_clean = after_round(clean_seed, D)
    assert dumps(w_flipped.observe("p1")) == dumps(w_clean.observe("p1"))
    assert w_flipped.render(w_flipped.observe("p1")) == w_clean.render(w_clean.observe("p1"))
    assert w_flipped.observe("p0").private["intended"] == ("C",)
    assert w_clean.observe("p0").private["intended"] == ("D",)


def test_metrics_match_hand_counts() -> None:
    from worlds.repeated.games import LIBRARY

    pd = LIBRARY["prisoners_dilemma"]
    moves = [(0, 0), (0, 1), (1, 0), (1, 1), (0, 1), (1, 1), (0, 0)]
    m = seat_metrics(moves, 0, pd)
    assert m["score"] == 3 + 0 + 5 + 1 + 0 + 1 + 3
    assert m["cooperation_rate"] == 4 / 7
    assert m["coordination_rate"] == 4 / 7
    assert m["cc"] == 2 / 7 and m["cd"] == 2 / 7 and m["dc"] == 1 / 7 and m["dd"] == 2 / 7
    assert m["normalised_score"] == 13 / (7 * 5)
    assert m["last_round_defection"] == 0.0
    # opponent defects in rounds 2, 4, 5, 6 (0-based 1, 3, 4, 5); own C at 0-based 4 and 6
    assert forgiveness([0, 0, 1, 1, 0, 1, 0], [0, 1, 0, 1, 1, 1, 0]) == ([3, 1, 2, 1], 0)
    assert forgiveness([0, 1, 1], [1, 1, 0]) == ([], 2)
    assert math.isnan(seat_metrics(moves, 1, pd)["forgiveness"]) is False


def test_episode_metrics_reach_the_result() -> None:
    result, _, _ = play(
        RepeatedGameWorld, RepeatedParams(rounds=10), {"p0": s.TitForTat(), "p1": s.Defector()}
    )
    m0 = result.metrics["p0"]
    assert m0["score"] == 9 and m0["cooperation_rate"] == 0.1 and m0["unforgiven"] == 10
    assert result.metrics["p1"]["last_round_defection"] == 1.0
