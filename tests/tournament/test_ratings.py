"""Ratings on a constructed result set against hand arithmetic and OpenSkill's own numbers."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openskill.models import PlackettLuce

from sim import stats
from sim.tournament.ratings import (
    MatchResult,
    SeatResult,
    axelrod_ranking,
    openskill_ratings,
    pairwise,
    role_table,
    standings,
)


def duel(match_id: str, repetition: int, a: str, score_a: float, b: str, score_b: float) -> MatchResult:
    """A two-seat repeated game of 10 turns; the higher score wins, equal scores draw."""
    result_a = "win" if score_a > score_b else "draw" if score_a == score_b else "loss"
    result_b = {"win": "loss", "draw": "draw", "loss": "win"}[result_a]
    seats = (SeatResult(a, score_a, result_a), SeatResult(b, score_b, result_b))  # type: ignore[arg-type]
    return MatchResult(match_id, repetition, seats, turns=10)


RESULTS = [
    duel("m0", 0, "A", 30, "B", 20),
    duel("m1", 0, "A", 10, "C", 40),
    duel("m2", 0, "B", 25, "C", 25),
    duel("m3", 0, "A", 30, "A", 30),  # self-play
    duel("m4", 1, "A", 20, "B", 20),
    duel("m5", 1, "A", 30, "C", 10),
    duel("m6", 1, "B", 50, "C", 0),
]


def test_axelrod_ranking_by_hand() -> None:
    # score per turn, averaged over the opponents of each repetition (self-play left out), then median:
    # A: (3.0 + 1.0) / 2 = 2.0 and (2.0 + 3.0) / 2 = 2.5 -> 2.25 (with self-play rep 0 would be 7/3)
    # B: (2.0 + 2.5) / 2 = 2.25 and (2.0 + 5.0) / 2 = 3.5 -> 2.875
    # C: (4.0 + 2.5) / 2 = 3.25 and (1.0 + 0.0) / 2 = 0.5 -> 1.875
    ranking = axelrod_ranking(RESULTS)
    assert [(r.agent, r.median, r.per_repetition) for r in ranking] == [
        ("B", 2.875, (2.25, 3.5)),
        ("A", 2.25, (2.0, 2.5)),
        ("C", 1.875, (3.25, 0.5)),
    ]


def test_axelrod_ranking_needs_turns() -> None:
    seats = (SeatResult("A", 1, "win"), SeatResult("B", 0, "loss"))
    with pytest.raises(ValueError, match="has no turns"):
        axelrod_ranking([MatchResult("x", 0, seats)])


def test_standings_by_hand() -> None:
    rows = {r.agent: r for r in standings(RESULTS)}
    assert [r.agent for r in standings(RESULTS)] == ["A", "B", "C"]
    # A: win, loss, draw, win (self-play left out) -> 2.5 of 4; scores 30, 10, 20, 30
    assert (rows["A"].seats, rows["A"].win.successes, rows["A"].win.draws) == (4, 2.5, 1)
    assert (rows["A"].win.low, rows["A"].win.high) == stats.wilson(2.5, 4)
    assert rows["A"].score == stats.mean([30, 10, 20, 30])
    assert rows["B"].win.value == 0.5 and rows["B"].score.value == (20 + 25 + 20 + 50) / 4
    assert rows["C"].win.value == 1.5 / 4 and rows["C"].score.value == 75 / 4


def test_pairwise_by_hand() -> None:
    table = pairwise(RESULTS)
    assert table.value.loc["A", "B"] == 0.75 and table.value.loc["B", "A"] == 0.25
    assert table.value.loc["A", "C"] == 0.5 and table.value.loc["B", "C"] == 0.75
    assert table.value.loc["A", "A"] == 0.5 and table.count.loc["A", "A"] == 2
    assert math.isnan(table.value.loc["B", "B"]) and table.count.loc["A", "B"] == 2


def test_openskill_equals_the_library_run_by_hand() -> None:
    model = PlackettLuce()
    r = {name: model.rating() for name in "ABC"}
    for match in RESULTS:
        a, b = match.seats
        if a.agent == b.agent:
            continue
        ranks = [1 if a.result != "loss" else 2, 1 if b.result != "loss" else 2]
        [[r[a.agent]], [r[b.agent]]] = model.rate([[r[a.agent]], [r[b.agent]]], ranks=ranks)
    ratings = openskill_ratings(RESULTS)
    got = {x.agent: x for x in ratings.table}
    for name in "ABC":
        assert got[name].mu == pytest.approx(r[name].mu, rel=1e-12)
        assert got[name].sigma == pytest.approx(r[name].sigma, rel=1e-12)
        assert got[name].matches == 4
    assert [x.agent for x in ratings.table] == sorted("ABC", key=lambda n: -(r[n].mu - 3 * r[n].sigma))
    assert len({p.match for p in ratings.trajectory}) == 6 and len(ratings.trajectory) == 12
    last_a = [p for p in ratings.trajectory if p.agent == "A"][-1]
    assert (last_a.mu, last_a.sigma) == (got["A"].mu, got["A"].sigma)


def test_openskill_teams_by_side_and_unrated_seats_left_out() -> None:
    seats = (
        SeatResult("A", 0, "loss", side="good", game_role="merlin"),
        SeatResult("B", 0, "loss", side="good", game_role="servant"),
        SeatResult("C", 1, "win", side="evil", game_role="assassin"),
        SeatResult("D", 1, "win", side="evil", game_role="minion"),
        SeatResult("N", 0, "loss", rated=False),
    )
    model = PlackettLuce()
    a, b, c, d = (model.rating() for _ in range(4))
    [[a, b], [c, d]] = model.rate([[a, b], [c, d]], ranks=[2, 1])
    got = {x.agent: x for x in openskill_ratings([MatchResult("m", 0, seats)]).table}
    assert set(got) == {"A", "B", "C", "D"}
    for name, expected in zip("ABCD", (a, b, c, d), strict=True):
        assert (got[name].mu, got[name].sigma) == pytest.approx((expected.mu, expected.sigma), rel=1e-12)


def test_an_agent_in_two_seats_gets_the_mean_of_its_updates() -> None:
    seats = (SeatResult("A", 3, "win"), SeatResult("A", 1, "loss"), SeatResult("B", 0, "loss"))
    model = PlackettLuce()
    [[a1], [a2], [b]] = model.rate([[model.rating()], [model.rating()], [model.rating()]], ranks=[1, 2, 2])
    got = {x.agent: x for x in openskill_ratings([MatchResult("m", 0, seats)]).table}
    assert got["A"].mu == pytest.approx((a1.mu + a2.mu) / 2) and got["B"].mu == pytest.approx(b.mu)


def test_role_table() -> None:
    def seat(agent: str, role: str, side: str, result: str) -> SeatResult:
        return SeatResult(agent, 1.0 if result == "win" else 0.0, result, side, role)  # type: ignore[arg-type]

    results = [
        MatchResult("m0", 0, (seat("A", "merlin", "good", "win"), seat("B", "assassin", "evil", "loss"))),
        MatchResult("m1", 0, (seat("B", "merlin", "good", "loss"), seat("A", "assassin", "evil", "win"))),
        MatchResult("m2", 1, (seat("A", "merlin", "good", "loss"), seat("B", "assassin", "evil", "win"))),
    ]
    rows = [(r.role, r.agent, r.side, r.seats, r.win.value) for r in role_table(results)]
    assert rows == [
        ("assassin", "A", "evil", 1, 1.0),
        ("assassin", "B", "evil", 2, 0.5),
        ("merlin", "A", "good", 2, 0.5),
        ("merlin", "B", "good", 1, 0.0),
    ]


@given(
    st.lists(
        st.tuples(st.sampled_from("ABCD"), st.sampled_from("ABCD"), st.integers(0, 30), st.integers(0, 30)),
        max_size=30,
    )
)
def test_pairwise_is_complementary(games: list[tuple[str, str, int, int]]) -> None:
    table = pairwise([duel(f"m{i}", 0, a, x, b, y) for i, (a, b, x, y) in enumerate(games)])
    for a in table.value.index:
        for b in table.value.columns:
            if a != b and table.count.loc[a, b]:
                assert table.value.loc[a, b] + table.value.loc[b, a] == pytest.approx(1.0)
                assert table.count.loc[a, b] == table.count.loc[b, a]
