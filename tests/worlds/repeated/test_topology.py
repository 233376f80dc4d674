"""Tests for the Robinson-Goforth 144-game generator and its family classifier."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worlds.repeated.games import LIBRARY, Matrix, MatrixGame, symmetric
from worlds.repeated.topology import FAMILIES, family_of, locate, ordinal_game, ordinal_games

# Rows copied by hand from eliaka/repeatedgames all_games/144_games_info.csv (commit c1535fef):
# (game_row, game_col, game_name, game_family,
#  r1_c1_p1, r1_c1_p2, r1_c2_p1, r1_c2_p2, r2_c1_p1, r2_c1_p2, r2_c2_p1, r2_c2_p2).
# Only rows without the CSV's typo'd ties are used here.
CSV_SAMPLE = [
    (1, 1, "Hegemony", "Unfair", (3, 4, 2, 3, 4, 2, 1, 1)),
    (1, 4, "Biased Cycle", "Cyclic", (3, 4, 2, 1, 4, 2, 1, 3)),
    (1, 12, "Chicken", "Unfair", (3, 3, 2, 4, 4, 2, 1, 1)),
    (2, 2, "Generous", "Biased", (2, 4, 3, 2, 4, 3, 1, 1)),
    (3, 10, "Hero", "Biased", (1, 1, 3, 4, 4, 3, 2, 2)),
    (4, 4, "Second Best", "Second Best", (1, 4, 2, 1, 4, 2, 3, 3)),
    (4, 6, "Big Bully", "Tragic", (1, 4, 2, 3, 4, 1, 3, 2)),
    (5, 8, "Deadlock", "Second Best", (2, 2, 1, 4, 4, 1, 3, 3)),
    (6, 4, "Revelation", "PD Family", (3, 4, 1, 1, 4, 2, 2, 3)),
    (6, 7, "Prisoners' Dilemma", "PD Family", (3, 3, 1, 4, 4, 1, 2, 2)),
    (6, 8, "Total Conflict", "Tragic", (3, 2, 1, 4, 4, 1, 2, 3)),
    (7, 6, "Stag Hunt", "Win-win", (4, 4, 1, 3, 3, 1, 2, 2)),
    (8, 4, "Pure Coordination", "Win-win", (4, 4, 1, 1, 2, 2, 3, 3)),
    (9, 10, "Pursuit Cycle", "Cyclic", (4, 1, 2, 4, 1, 3, 3, 2)),
    (11, 2, "Harmony", "Win-win", (4, 4, 3, 2, 2, 3, 1, 1)),
    (12, 12, "Hegemony", "Unfair", (4, 3, 2, 4, 3, 2, 1, 1)),
]

EXPECTED_COUNTS = {
    "Win-win": 36,
    "Biased": 44,
    "Unfair": 19,
    "Cyclic": 18,
    "Second Best": 12,
    "Tragic": 8,
    "PD Family": 7,
}


def _cells(game: MatrixGame) -> list[tuple[float, float]]:
    return [(game.row[i][j], game.col[i][j]) for i in (0, 1) for j in (0, 1)]


def _flip_rows(g: MatrixGame) -> MatrixGame:
    return MatrixGame(g.name, g.labels, (g.row[1], g.row[0]), (g.col[1], g.col[0]))


def _flip_cols(g: MatrixGame) -> MatrixGame:
    def f(m: Matrix) -> Matrix:
        return ((m[0][1], m[0][0]), (m[1][1], m[1][0]))

    return MatrixGame(g.name, g.labels, f(g.row), f(g.col))


def _orbit(g: MatrixGame) -> frozenset:
    """All four row/column relabellings of a game, as (row, col) payoff pairs."""
    variants = [g, _flip_rows(g), _flip_cols(g), _flip_rows(_flip_cols(g))]
    return frozenset((v.row, v.col) for v in variants)


def test_exactly_144_games_with_permutation_payoffs() -> None:
    games = ordinal_games()
    assert len(games) == 144
    assert len({g.name for g in games}) == 144
    for g in games:
        assert sorted(v for r in g.row for v in r) == [1, 2, 3, 4]
        assert sorted(v for r in g.col for v in r) == [1, 2, 3, 4]
        assert g.labels == ("A", "B")
        assert g.family in FAMILIES


def test_games_distinct_up_to_row_and_column_relabelling() -> None:
    orbits = {_orbit(g) for g in ordinal_games()}
    assert len(orbits) == 144
    # And the 144 orbits cover every strict ordinal game: 24 * 24 matrices / 4 relabellings.
    assert sum(len(o) for o in orbits) == 24 * 24


def test_order_names_and_lookup() -> None:
    games = ordinal_games()
    assert games is ordinal_games()  # cached
    assert [g.name for g in games[:3]] == ["rg_1_1", "rg_1_2", "rg_1_3"]
    assert games[-1].name == "rg_12_12"
    for k, g in enumerate(games):
        row, col = divmod(k, 12)
        assert g.name == f"rg_{row + 1}_{col + 1}"
        assert ordinal_game(row + 1, col + 1) is g
        assert locate(g) == (row + 1, col + 1)
    with pytest.raises(ValueError):
        ordinal_game(0, 1)
    with pytest.raises(ValueError):
        ordinal_game(1, 13)


def test_family_counts() -> None:
    assert set(FAMILIES) == set(EXPECTED_COUNTS)
    assert Counter(g.family for g in ordinal_games()) == EXPECTED_COUNTS
    assert all(family_of(g) == g.family for g in ordinal_games())


@pytest.mark.parametrize(("row", "col", "name", "family", "flat"), CSV_SAMPLE)
def test_matches_akata_csv_sample(row: int, col: int, name: str, family: str, flat: tuple[int, ...]) -> None:
    g = ordinal_game(row, col)
    a11, b11, a12, b12, a21, b21, a22, b22 = flat
    assert g.row == ((a11, a12), (a21, a22)), name
    assert g.col == ((b11, b12), (b21, b22)), name
    assert g.family == family, name


def test_csv_typo_row_battle_is_fixed() -> None:
    # CSV game 23 "Battle" (2, 11) lists p1's payoffs as 3,3,4,1 (a tie); the grid pattern of
    # row 2 (games 13-16) is ((2, 3), (4, 1)), which makes it the symmetric Battle game.
    g = ordinal_game(2, 11)
    assert g.row == ((2, 3), (4, 1))
    assert g.col == ((2, 4), (3, 1))
    assert g.family == "Biased"
    assert "Battle" in g.description


def test_symmetric_games_on_anti_diagonal() -> None:
    for i in range(1, 13):
        for j in range(1, 13):
            g = ordinal_game(i, j)
            is_symmetric = g.col == tuple(zip(*g.row, strict=True))
            assert is_symmetric == (i + j == 13)
            assert ("symmetric" in g.description) == is_symmetric


def test_cyclic_means_no_pure_equilibrium() -> None:
    for g in ordinal_games():
        assert (g.family == "Cyclic") == (not g.pure_nash_equilibria())


def test_win_win_means_a_4_4_cell() -> None:
    for g in ordinal_games():
        assert (g.family == "Win-win") == ((4, 4) in _cells(g))


@pytest.mark.parametrize(
    ("game", "family"),
    [
        (symmetric("axelrod_pd", ("C", "D"), 3, 0, 5, 1), "PD Family"),
        (symmetric("akata_pd", ("J", "F"), 8, 0, 10, 5), "PD Family"),
        (symmetric("stag_hunt", ("S", "H"), 4, 1, 3, 2), "Win-win"),
        (symmetric("chicken", ("S", "T"), 3, 2, 4, 1), "Unfair"),
        (symmetric("harmony", ("C", "D"), 4, 3, 2, 1), "Win-win"),
        (symmetric("deadlock", ("C", "D"), 2, 1, 4, 3), "Second Best"),
        # Battle of the Sexes made strict: AA 4/3, BB 3/4, the two mismatches 2/2 and 1/1.
        (MatrixGame("bos_strict", ("A", "B"), ((4, 2), (1, 3)), ((3, 2), (1, 4))), "Biased"),
        (MatrixGame("bos_strict_2", ("A", "B"), ((4, 1), (2, 3)), ((3, 1), (2, 4))), "Biased"),
        # Matching pennies made strict: p0 wants to match, p1 to mismatch.
        (MatrixGame("pennies", ("H", "T"), ((4, 1), (2, 3)), ((1, 4), (3, 2))), "Cyclic"),
    ],
    ids=lambda x: x.name if isinstance(x, MatrixGame) else x,
)
def test_well_known_games(game: MatrixGame, family: str) -> None:
    assert family_of(game) == family


def test_well_known_games_in_grid() -> None:
    assert locate(symmetric("pd", ("C", "D"), 3, 0, 5, 1)) == (6, 7)
    assert locate(symmetric("chicken", ("S", "T"), 3, 2, 4, 1)) == (1, 12)
    assert locate(symmetric("stag", ("S", "H"), 4, 1, 3, 2)) == (7, 6)
    assert locate(symmetric("harmony", ("C", "D"), 4, 3, 2, 1)) == (11, 2)
    assert locate(symmetric("deadlock", ("C", "D"), 2, 1, 4, 3)) == (5, 8)


def test_ties_raise() -> None:
    with pytest.raises(ValueError, match="ties"):
        family_of(LIBRARY["akata_battle_of_the_sexes"])  # mismatch pays 0/0 twice
    with pytest.raises(ValueError, match="ties"):
        family_of(MatrixGame("t", ("A", "B"), ((1, 2), (3, 4)), ((1, 1), (2, 3))))


_perm = st.permutations([1, 2, 3, 4])


@given(_perm, _perm, st.booleans(), st.booleans(), st.floats(0.1, 10), st.floats(-5, 5))
def test_family_invariant_under_relabelling(
    p0: list[int], p1: list[int], swap_rows: bool, swap_cols: bool, scale: float, shift: float
) -> None:
    g = MatrixGame("g", ("A", "B"), ((p0[0], p0[1]), (p0[2], p0[3])), ((p1[0], p1[1]), (p1[2], p1[3])))
    h = g
    if swap_rows:
        h = _flip_rows(h)
    if swap_cols:
        h = _flip_cols(h)
    # A positive affine change of p0's payoffs keeps the ordinal game (ranks are unchanged).
    h = MatrixGame("h", h.labels, tuple(tuple(v * scale + shift for v in r) for r in h.row), h.col)  # type: ignore[arg-type]
    assert family_of(h) == family_of(g)
    assert locate(h) == locate(g)
    assert ordinal_game(*locate(g)).family == family_of(g)
