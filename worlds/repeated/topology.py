"""The 144 strict ordinal 2x2 games of the Robinson-Goforth topology, each with its family.

A strict ordinal game gives each seat the payoffs 1 < 2 < 3 < 4, one per cell. Games that differ only
by swapping the two rows and/or the two columns are the same game. Swapping the *players* is not
allowed, so a game and its mirror image are two games. That leaves 144 games. This module builds
them itself, with no data table, and labels each with one of the seven families that Akata et al.
use ("Playing repeated games with Large Language Models", repo eliaka/repeatedgames, file
``all_games/144_games_info.csv``).

Grid and order
    Every game is shown in one fixed orientation: columns are swapped so that p0's 4 is in
    column 0, and rows so that p1's 4 is in row 0. Each game has exactly one such form. What is
    left to choose is p0's matrix (where its 1, 2 and 3 go; 12 options) and p1's matrix (12
    options), which gives a 12x12 grid. Grid rows index p0's matrix. They start from Chicken's
    ``((3, 2), (4, 1))`` and follow the Robinson-Goforth swap cycle: each step swaps two payoffs
    with adjacent ranks, in the order 2-3, 1-2, 2-3, 1-2, 2-3, 3-4, and then that sequence again,
    which comes back to the start. Grid column ``j`` holds the transpose of row ``13 - j``'s
    matrix, so game ``(i, 13 - i)`` is symmetric. The symmetric games (Chicken, Battle, Hero,
    Delight, Deadlock, Prisoner's Dilemma, Stag Hunt, Assurance, Coordination, Mixed Harmony,
    Harmony, No Conflict) therefore lie on the anti-diagonal. `ordinal_games` goes through the
    grid row by row and calls the games ``rg_<row>_<col>`` (both 1-based). This is exactly the
    CSV's ``game_row``/``game_col`` layout, and its ``game_number`` is ``12 * (row - 1) + col``.

Families (checked rule by rule; the first rule that matches wins; NE = pure Nash equilibrium)
    1. Win-win (36): some cell pays (4, 4).
    2. Cyclic (18): no pure NE.
    3. Biased (44): some NE gives one seat its 4 and the other seat its 3 (Battle, Hero).
    4. Unfair (19): some NE gives one seat its 4, and the other seat only its 2 (Chicken).
    5. Second Best (12): the NE, which is unique from here on, pays (3, 3) (Deadlock).
    6. PD Family (7): the NE is Pareto-dominated, meaning another cell is better for both seats.
    7. Tragic (8): what is left. The NE pays (3, 2) or (2, 3) and no cell is better for both.

The family names are the CSV's. The rules were worked out from the CSV's labels (no published
definition of the seven families was found) and give the CSV's family for all 144 games. Fifteen
CSV rows contain a typo'd tie (games 17-24, 58-60, 83, 84, 95 and 96). For those, the generator
uses the tie-free matrices that the row and column pattern of the rest of the grid calls for.
"""

from __future__ import annotations

from functools import cache

from worlds.repeated.games import Matrix, MatrixGame

FAMILIES: tuple[str, ...] = ("Win-win", "Biased", "Unfair", "Cyclic", "Second Best", "Tragic", "PD Family")

LABELS: tuple[str, str] = ("A", "B")

_Ranks = tuple[tuple[int, int], tuple[int, int]]

# p0's matrix at grid row 1 (Chicken's) and the payoff swaps leading to rows 2..12 (the 12th swap
# closes the cycle back to row 1).
_START: _Ranks = ((3, 2), (4, 1))
_SWAPS: tuple[tuple[int, int], ...] = ((2, 3), (1, 2), (2, 3), (1, 2), (2, 3), (3, 4)) * 2

# Names of the 12 symmetric games (anti-diagonal), keyed by the row seat's (R, S, T, P) ranks, as the
# Akata et al. CSV names them.
_SYMMETRIC_NAMES: dict[tuple[int, int, int, int], str] = {
    (3, 2, 4, 1): "Chicken",
    (2, 3, 4, 1): "Battle (of the Sexes)",
    (1, 3, 4, 2): "Hero",
    (1, 2, 4, 3): "Pure Delight",
    (2, 1, 4, 3): "Deadlock",
    (3, 1, 4, 2): "Prisoner's Dilemma",
    (4, 1, 3, 2): "Stag Hunt",
    (4, 1, 2, 3): "Assurance",
    (4, 2, 1, 3): "Coordination",
    (4, 3, 1, 2): "Mixed Harmony",
    (4, 3, 2, 1): "Harmony",
    (4, 2, 3, 1): "No Conflict",
}


def _swap(m: _Ranks, a: int, b: int) -> _Ranks:
    s = {a: b, b: a}
    (w, x), (y, z) = m
    return ((s.get(w, w), s.get(x, x)), (s.get(y, y), s.get(z, z)))


def _transpose(m: _Ranks) -> _Ranks:
    return ((m[0][0], m[1][0]), (m[0][1], m[1][1]))


@cache
def _row_forms() -> tuple[_Ranks, ...]:
    """p0's 12 matrices, grid rows 1..12, built by walking the swap cycle."""
    forms = [_START]
    for a, b in _SWAPS:
        forms.append(_swap(forms[-1], a, b))
    if forms[-1] != _START or len(set(forms[:-1])) != 12:  # pragma: no cover - construction invariant
        raise AssertionError("swap cycle does not close on 12 distinct matrices")
    return tuple(forms[:-1])


@cache
def _col_forms() -> tuple[_Ranks, ...]:
    """p1's 12 matrices indexed [p0 option][p1 option], grid columns 1..12."""
    return tuple(_transpose(m) for m in reversed(_row_forms()))


def _ranks(m: Matrix, who: str) -> _Ranks:
    """Replace one seat's four payoffs by their ranks 1..4. Raises ValueError on ties."""
    flat = (m[0][0], m[0][1], m[1][0], m[1][1])
    if len(set(flat)) != 4:
        raise ValueError(f"{who}'s payoffs {flat} have ties; not a strict ordinal game")
    order = sorted(flat)
    r = [order.index(v) + 1 for v in flat]
    return ((r[0], r[1]), (r[2], r[3]))


def ordinal_ranks(game: MatrixGame) -> tuple[_Ranks, _Ranks]:
    """Both seats' payoffs as ordinal ranks 1..4, in the game's (row, col) layout."""
    return _ranks(game.row, f"{game.name} p0"), _ranks(game.col, f"{game.name} p1")


def _classify(a: _Ranks, b: _Ranks) -> str:
    cells = [(a[i][j], b[i][j]) for i in (0, 1) for j in (0, 1)]
    if (4, 4) in cells:
        return "Win-win"
    ne = [
        (a[i][j], b[i][j]) for i in (0, 1) for j in (0, 1) if a[i][j] > a[1 - i][j] and b[i][j] > b[i][1 - j]
    ]
    if not ne:
        return "Cyclic"
    if any(set(p) == {3, 4} for p in ne):
        return "Biased"
    if any(4 in p for p in ne):
        return "Unfair"
    [(x, y)] = ne  # only one NE is possible from here on
    if (x, y) == (3, 3):
        return "Second Best"
    if any(u > x and v > y for u, v in cells):
        return "PD Family"
    return "Tragic"


def family_of(game: MatrixGame) -> str:
    """The topology family of any strict ordinal 2x2 game (cardinal payoffs are ranked first).

    Raises ValueError if either seat has two equal payoffs.
    """
    return _classify(*ordinal_ranks(game))


def locate(game: MatrixGame) -> tuple[int, int]:
    """The game's 1-based (row, col) in the grid, after ranking payoffs and fixing its orientation."""
    a, b = ordinal_ranks(game)
    if a[0][1] == 4 or a[1][1] == 4:  # swap columns: p0's 4 goes to column 0
        a, b = ((a[0][1], a[0][0]), (a[1][1], a[1][0])), ((b[0][1], b[0][0]), (b[1][1], b[1][0]))
    if b[1][0] == 4 or b[1][1] == 4:  # swap rows: p1's 4 goes to row 0
        a, b = (a[1], a[0]), (b[1], b[0])
    return _row_forms().index(a) + 1, _col_forms().index(b) + 1


def _describe(row: int, col: int, a: _Ranks, b: _Ranks, family: str) -> str:
    text = f"Robinson-Goforth strict ordinal game, grid row {row}, column {col} (Akata et al. game "
    text += f"{12 * (row - 1) + col})"
    if b == _transpose(a):
        rstp = (a[0][0], a[0][1], a[1][0], a[1][1])
        text += f": symmetric {_SYMMETRIC_NAMES[rstp]}, R,S,T,P = {','.join(map(str, rstp))}"
    return f"{text}. Family: {family}."


@cache
def ordinal_games() -> tuple[MatrixGame, ...]:
    """All 144 games, grid row by grid row (``rg_1_1``, ``rg_1_2``, ..., ``rg_12_12``)."""
    games = []
    for i, a in enumerate(_row_forms(), start=1):
        for j, b in enumerate(_col_forms(), start=1):
            family = _classify(a, b)
            games.append(MatrixGame(f"rg_{i}_{j}", LABELS, a, b, family, _describe(i, j, a, b, family)))
    return tuple(games)


def ordinal_game(row: int, col: int) -> MatrixGame:
    """The game at 1-based grid position (row, col)."""
    if not (1 <= row <= 12 and 1 <= col <= 12):
        raise ValueError(f"grid position must be within 1..12, got ({row}, {col})")
    return ordinal_games()[12 * (row - 1) + (col - 1)]
