"""Ratings and tables from match results: standings with intervals (:mod:`sim.stats` only), the pairwise
matrix, OpenSkill Plackett–Luce ratings, Axelrod's median-normalised-score ranking and per-role tables.

Everything here reads :class:`MatchResult` rows (plain data; the store reader that makes them lives
with the leaderboard), in playing order. Seats of unrated roles (a narrator) are left out everywhere.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sim import stats

if TYPE_CHECKING:
    import pandas as pd

Result = Literal["win", "draw", "loss"]
_POINTS: dict[str, float] = {"win": 1.0, "draw": 0.5, "loss": 0.0}


@dataclass(frozen=True)
class SeatResult:
    """One seat of a finished match: its pool agent, return, result and (in role worlds) side and role."""

    agent: str
    score: float
    result: Result
    side: str | None = None
    game_role: str | None = None
    rated: bool = True

    @property
    def points(self) -> float:
        """1 for a win, 0.5 for a draw, 0 for a loss (as :meth:`sim.types.Outcome.points`)."""
        return _POINTS[self.result]


@dataclass(frozen=True)
class MatchResult:
    """A finished match: its id, repetition, seats in order, and turns played (repeated games)."""

    match_id: str
    repetition: int
    seats: tuple[SeatResult, ...]
    turns: int | None = None

    @property
    def rated(self) -> tuple[SeatResult, ...]:
        return tuple(s for s in self.seats if s.rated)

    @property
    def self_play(self) -> bool:
        """Whether every rated seat is the same agent."""
        return len({s.agent for s in self.rated}) == 1


# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Standing:
    """An agent's seats played, win rate (draws count half) and mean score, with 95% intervals."""

    agent: str
    seats: int
    win: stats.Rate
    score: stats.Mean


def standings(results: Iterable[MatchResult]) -> list[Standing]:
    """One row per agent, best win rate first (then mean score, then name); self-play left out."""
    by_agent: dict[str, list[SeatResult]] = defaultdict(list)
    for match in _against_others(results):
        for seat in match.rated:
            by_agent[seat.agent].append(seat)
    rows = [_standing(agent, seats) for agent, seats in by_agent.items()]
    return sorted(rows, key=lambda r: (-(r.win.value or 0.0), -(r.score.value or 0.0), r.agent))


def _against_others(results: Iterable[MatchResult]) -> Iterator[MatchResult]:
    """The matches that are not an agent against itself (those always score 1/2 a seat: left out)."""
    return (match for match in results if not match.self_play)


def _standing(agent: str, seats: Sequence[SeatResult]) -> Standing:
    wins = sum(s.result == "win" for s in seats)
    draws = sum(s.result == "draw" for s in seats)
    win = stats.rate(wins, len(seats), draws=draws, draws_as_half=True)
    return Standing(agent, len(seats), win, stats.mean(s.score for s in seats))


@dataclass(frozen=True)
class RoleStanding:
    """An agent's results in one game role (and its side)."""

    agent: str
    role: str
    side: str | None
    seats: int
    win: stats.Rate
    score: stats.Mean


def role_table(results: Iterable[MatchResult]) -> list[RoleStanding]:
    """One row per (agent, game role), ordered by role then agent; seats without a role are left out."""
    groups: dict[tuple[str, str, str | None], list[SeatResult]] = defaultdict(list)
    for match in _against_others(results):
        for seat in match.rated:
            if seat.game_role is not None:
                groups[seat.game_role, seat.agent, seat.side].append(seat)
    rows = []
    for (role, agent, side), seats in sorted(
        groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")
    ):
        row = _standing(agent, seats)
        rows.append(RoleStanding(agent, role, side, row.seats, row.win, row.score))
    return rows


# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pairwise:
    """``value[a][b]``: how often a finished ahead of b in matches where both sat (1 ahead, 1/2 level,
    0 behind, by points, over every pair of their seats); ``count[a][b]``: how many seat pairs."""

    value: pd.DataFrame
    count: pd.DataFrame


def pairwise(results: Iterable[MatchResult]) -> Pairwise:
    """The pairwise result matrix (rows: the agent; columns: the opponent; NaN where they never met).
    Two seats of one side finish level, so teammates add 1/2; a self-play match fills the diagonal."""
    import pandas as pd

    total: dict[tuple[str, str], float] = defaultdict(float)
    count: dict[tuple[str, str], int] = defaultdict(int)
    agents: set[str] = set()
    for match in results:
        seats = match.rated
        agents.update(s.agent for s in seats)
        for i, a in enumerate(seats):
            for j, b in enumerate(seats):
                if i != j:
                    total[a.agent, b.agent] += 0.5 + 0.5 * ((a.points > b.points) - (a.points < b.points))
                    count[a.agent, b.agent] += 1
    names = sorted(agents)
    value = pd.DataFrame(index=names, columns=names, dtype=float)
    counts = pd.DataFrame(0, index=names, columns=names, dtype=int)
    for (row, col), n in count.items():
        value.loc[row, col] = total[row, col] / n
        counts.loc[row, col] = n
    return Pairwise(value, counts)


# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rating:
    """An OpenSkill rating: ``mu`` with uncertainty ``sigma``; ``ordinal`` (mu - 3 sigma) ranks."""

    agent: str
    mu: float
    sigma: float
    matches: int

    @property
    def ordinal(self) -> float:
        return self.mu - 3 * self.sigma


@dataclass(frozen=True)
class TrajectoryPoint:
    """An agent's rating right after the ``match``-th rated match (0-based)."""

    match: int
    agent: str
    mu: float
    sigma: float


@dataclass(frozen=True)
class Ratings:
    """Final ratings, best ordinal first, and every agent's rating after each match it played."""

    table: list[Rating]
    trajectory: list[TrajectoryPoint]


def openskill_ratings(results: Iterable[MatchResult], model: Any = None) -> Ratings:
    """OpenSkill ratings (Plackett–Luce unless ``model`` is given), updated match by match in order.

    Teams are the seats of one side (every seat its own team where no side is given); a team ranks by
    its best points (winners first; a draw ranks everyone level). Matches of one agent against itself
    carry no information and are skipped. An agent holding several seats of one match gets the mean of
    its seats' updates.
    """
    from openskill.models import PlackettLuce

    model = model if model is not None else PlackettLuce()
    current: dict[str, Any] = {}
    played: dict[str, int] = defaultdict(int)
    trajectory: list[TrajectoryPoint] = []
    rated_matches = 0
    for match in results:
        seats = match.rated
        if len(seats) < 2 or match.self_play:
            continue
        teams = _teams(seats)
        for seat in seats:
            current.setdefault(seat.agent, model.rating(name=seat.agent))
        rating_teams = [
            [model.rating(mu=current[s.agent].mu, sigma=current[s.agent].sigma) for s in t] for t in teams
        ]
        ranks = [-max(s.points for s in t) for t in teams]
        new = model.rate(rating_teams, ranks=ranks)
        updates: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for team, rated in zip(teams, new, strict=True):
            for seat, r in zip(team, rated, strict=True):
                updates[seat.agent].append((r.mu, r.sigma))
        for agent, values in updates.items():
            mu = statistics.fmean(v[0] for v in values)
            sigma = statistics.fmean(v[1] for v in values)
            current[agent] = model.rating(mu=mu, sigma=sigma, name=agent)
            played[agent] += 1
            trajectory.append(TrajectoryPoint(rated_matches, agent, mu, sigma))
        rated_matches += 1
    table = [Rating(a, r.mu, r.sigma, played[a]) for a, r in current.items()]
    return Ratings(sorted(table, key=lambda r: (-r.ordinal, r.agent)), trajectory)


def _teams(seats: Sequence[SeatResult]) -> list[list[SeatResult]]:
    """Seats grouped by side (in order of first appearance), or one team per seat without sides."""
    if all(s.side is None for s in seats):
        return [[s] for s in seats]
    sides: dict[str, list[SeatResult]] = {}
    for i, seat in enumerate(seats):
        sides.setdefault(seat.side if seat.side is not None else f"#{i}", []).append(seat)
    return list(sides.values())


# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AxelrodRank:
    """An agent's normalised score (mean score per turn over its matches against others) in each
    repetition, and their median, which ranks."""

    agent: str
    median: float
    per_repetition: tuple[float, ...]


def axelrod_ranking(results: Iterable[MatchResult]) -> list[AxelrodRank]:
    """Axelrod's ranking for repeated games: for each agent and repetition, the mean over its matches
    against other agents (self-play excluded) of its score per turn; agents ranked by the median over
    repetitions, highest first (ties by name). Every match needs ``turns``."""
    per: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for match in results:
        if match.self_play:
            continue
        if not match.turns:
            raise ValueError(f"match {match.match_id} has no turns: Axelrod's ranking is for repeated games")
        for seat in match.rated:
            per[seat.agent][match.repetition].append(seat.score / match.turns)
    rows = []
    for agent, reps in per.items():
        normalised = tuple(statistics.fmean(reps[r]) for r in sorted(reps))
        rows.append(AxelrodRank(agent, statistics.median(normalised), normalised))
    return sorted(rows, key=lambda r: (-r.median, r.agent))
