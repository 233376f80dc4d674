"""Exact scores of classic pairs, computed by hand, through the real engine."""

from __future__ import annotations

import pytest

from agents.scripted import repeated as s
from sim.testing import play
from worlds.repeated.params import RepeatedParams
from worlds.repeated.world import RepeatedGameWorld

PD = RepeatedParams(game="prisoners_dilemma", rounds=10)

HAND_COMPUTED = [
    # (p0, p1, p0 total, p1 total) at R,S,T,P = 3,0,5,1 over 10 rounds
    (s.TitForTat(), s.Defector(), 9, 14),  # 0 + 9*1 vs 5 + 9*1
    (s.TitForTat(), s.Cooperator(), 30, 30),
    (s.Defector(), s.Cooperator(), 50, 0),
    (s.Grudger(), s.DefectOnceThenCooperate(), 45, 5),  # 0/5, then 9 x 5/0
    (s.TitForTat(), s.Alternator(), 23, 28),  # 3/3, then (C,D) x5 and (D,C) x4
    (s.TitForTat(), s.SuspiciousTitForTat(), 25, 25),  # out of phase: 0/5, 5/0, ...
    (s.WinStayLoseShift(), s.Defector(), 5, 30),  # C,D,C,D,... against D
    (s.TitForTwoTats(), s.Defector(), 8, 18),  # two C, then 8 x 1/1
    (s.ReverseTitForTat(), s.Cooperator(), 50, 0),
    (s.HardTitForTat(), s.DefectOnceThenCooperate(), 33, 23),  # 0/5, 3 x 5/0, 6 x 3/3
]


@pytest.mark.parametrize(
    ("a", "b", "score_a", "score_b"),
    HAND_COMPUTED,
    ids=lambda x: type(x).__name__ if not isinstance(x, int) else str(x),
)
def test_classic_pair_scores(a, b, score_a: int, score_b: int) -> None:  # type: ignore[no-untyped-def]
    result, _, _ = play(RepeatedGameWorld, PD, {"p0": a, "p1": b})
    assert result.returns == {"p0": score_a, "p1": score_b}
    assert result.turns == 10


def test_alternator_d_phase_against_grudger() -> None:
    # Alternator(D): D,C,D,C,...; Grudger: C, then D forever. Round 1: 5/0; then Alternator plays C on even
    # rounds (0/5) and D on odd rounds (1/1): 5 + 5*0 + 4*1 = 9 vs 0 + 5*5 + 4*1 = 29.
    result, _, _ = play(
        RepeatedGameWorld, PD, {"p0": s.Alternator(s.AlternatorConfig(start="D")), "p1": s.Grudger()}
    )
    assert result.returns == {"p0": 9, "p1": 29}


def test_alternator_self_play_in_battle_of_the_sexes_stays_in_phase() -> None:
    params = RepeatedParams(game="akata_battle_of_the_sexes", rounds=10)
    result, events, _ = play(RepeatedGameWorld, params, {"p0": s.Alternator(), "p1": s.Alternator()})
    moves = [e.payload["moves"] for e in events if e.kind == "round"]
    assert all(m["p0"] == m["p1"] for m in moves)
    assert [m["p0"] for m in moves] == ["J", "F"] * 5
    assert result.returns == {"p0": 85, "p1": 85}
    assert result.metrics["p0"]["coordination_rate"] == 1.0


def test_akata_prisoners_dilemma_payoffs() -> None:
    params = RepeatedParams(game="akata_prisoners_dilemma", rounds=10)
    result, _, _ = play(RepeatedGameWorld, params, {"p0": s.TitForTat(), "p1": s.DefectOnceThenCooperate()})
    # TFT: J,F,J,J,...; defect-once: F,J,J,...: 0/10, 10/0, then 8 x 8/8
    assert result.returns == {"p0": 0 + 10 + 64, "p1": 10 + 0 + 64}


def test_stochastic_strategies_are_reproducible_and_seed_dependent() -> None:
    def run(seed: int) -> list:
        _, events, _ = play(
            RepeatedGameWorld,
            RepeatedParams(rounds=50),
            {"p0": s.RandomStrategy(), "p1": s.NaiveProber(s.ProberConfig(p=0.3))},
            seed=seed,
        )
        return [e.payload["moves"] for e in events if e.kind == "round"]

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_generous_tit_for_tat_forgives_at_its_rate() -> None:
    _, events, _ = play(
        RepeatedGameWorld,
        RepeatedParams(rounds=3001),
        {"p0": s.GenerousTitForTat(), "p1": s.Defector()},
        seed=3,
    )
    own = [e.payload["moves"]["p0"] for e in events if e.kind == "round"][1:]
    assert abs(own.count("C") / len(own) - 1 / 3) < 0.03
