"""Two-player 2x2 stage games: two payoff matrices with arbitrary option labels.

Convention: ``row[i][j]`` is seat p0's payoff and ``col[i][j]`` seat p1's payoff when p0 plays
option ``i`` and p1 plays option ``j``. Option index 0 is the "cooperative" (first) option that
strategies such as TitForTat call C; index 1 is D. Families follow the Robinson–Goforth labels of
Akata et al.'s 144-game table for strict ordinal games (see ``topology.family_of``); games with
tied payoffs carry a hand-set label.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Matrix = tuple[tuple[float, float], tuple[float, float]]


@dataclass(frozen=True, slots=True)
class MatrixGame:
    """A 2x2 stage game with labelled options and one payoff matrix per seat."""

    name: str
    labels: tuple[str, str]
    row: Matrix
    col: Matrix
    family: str = ""
    description: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if len(self.labels) != 2 or self.labels[0] == self.labels[1]:
            raise ValueError(f"game {self.name!r}: needs two distinct option labels, got {self.labels!r}")
        for m in (self.row, self.col):
            if len(m) != 2 or any(len(r) != 2 for r in m):
                raise ValueError(f"game {self.name!r}: payoff matrices must be 2x2")

    def payoff(self, seat: int, own: int, other: int) -> float:
        """Payoff to ``seat`` (0 or 1) when it plays ``own`` and its opponent plays ``other``."""
        return self.row[own][other] if seat == 0 else self.col[other][own]

    def seat_matrix(self, seat: int) -> Matrix:
        """The seat's own payoffs indexed [own option][other option]."""
        p = self.payoff
        return ((p(seat, 0, 0), p(seat, 0, 1)), (p(seat, 1, 0), p(seat, 1, 1)))

    def max_payoff(self, seat: int) -> float:
        """The largest single-round payoff the seat can get."""
        return max(max(r) for r in self.seat_matrix(seat))

    def min_payoff(self, seat: int) -> float:
        """The smallest single-round payoff the seat can get."""
        return min(min(r) for r in self.seat_matrix(seat))

    def pure_nash_equilibria(self) -> list[tuple[int, int]]:
        """Cells (i, j) where neither seat gains by deviating alone (weakly)."""
        cells = []
        for i in (0, 1):
            for j in (0, 1):
                if self.row[i][j] >= self.row[1 - i][j] and self.col[i][j] >= self.col[i][1 - j]:
                    cells.append((i, j))
        return cells

    def relabelled(self, labels: tuple[str, str]) -> MatrixGame:
        """The same game with other option labels."""
        return MatrixGame(self.name, tuple(labels), self.row, self.col, self.family, self.description)  # type: ignore[arg-type]


def symmetric(
    name: str,
    labels: tuple[str, str],
    r: float,
    s: float,
    t: float,
    p: float,
    family: str = "",
    description: str = "",
) -> MatrixGame:
    """A symmetric game from R (CC), S (CD), T (DC), P (DD) for the row player."""
    row = ((r, s), (t, p))
    col = ((r, t), (s, p))
    return MatrixGame(name, labels, row, col, family, description)


LIBRARY: dict[str, MatrixGame] = {
    g.name: g
    for g in (
        symmetric(
            "prisoners_dilemma",
            ("C", "D"),
            3,
            0,
            5,
            1,
            "PD Family",
            "Axelrod's Prisoner's Dilemma, R,S,T,P = 3,0,5,1.",
        ),
        symmetric(
            "akata_prisoners_dilemma",
            ("J", "F"),
            8,
            0,
            10,
            5,
            "PD Family",
            "Akata et al.'s Prisoner's Dilemma: JJ 8/8, JF 0/10, FJ 10/0, FF 5/5.",
        ),
        MatrixGame(
            "akata_battle_of_the_sexes",
            ("J", "F"),
            ((10, 0), (0, 7)),
            ((7, 0), (0, 10)),
            "Biased",
            "Akata et al.'s Battle of the Sexes: p0 prefers JJ (10/7), p1 prefers FF (7/10), mismatch 0/0.",
        ),
        MatrixGame(
            "battle_of_the_sexes",
            ("A", "B"),
            ((2, 0), (0, 1)),
            ((1, 0), (0, 2)),
            "Biased",
            "Classic Battle of the Sexes: AA 2/1, BB 1/2, mismatch 0/0.",
        ),
        symmetric(
            "stag_hunt",
            ("Stag", "Hare"),
            4,
            1,
            3,
            2,
            "Win-win",
            "Stag Hunt: hunting stag together pays 4, hare is a safe 2-3.",
        ),
        symmetric(
            "chicken",
            ("Swerve", "Straight"),
            3,
            2,
            4,
            1,
            "Unfair",
            "Chicken (Hawk-Dove): going straight against a swerver pays most; a crash pays least.",
        ),
        symmetric(
            "harmony",
            ("C", "D"),
            4,
            3,
            2,
            1,
            "Win-win",
            "Harmony: cooperation dominates and is best for both.",
        ),
        symmetric(
            "deadlock",
            ("C", "D"),
            2,
            1,
            4,
            3,
            "Second Best",
            "Deadlock: defection dominates and mutual defection is each seat's second best.",
        ),
        symmetric(
            "coordination",
            ("A", "B"),
            1,
            0,
            0,
            1,
            "Win-win",
            "Pure coordination: matching pays 1, mismatching 0.",
        ),
        MatrixGame(
            "matching_pennies",
            ("Heads", "Tails"),
            ((1, -1), (-1, 1)),
            ((-1, 1), (1, -1)),
            "Cyclic",
            "Matching Pennies: p0 wins on a match, p1 on a mismatch (zero-sum).",
        ),
    )
}
