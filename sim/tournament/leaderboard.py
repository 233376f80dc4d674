"""A stored tournament's leaderboard as plain tables (pandas), for ``sim leaderboard`` and the viewer.

Every number comes from :mod:`sim.tournament.ratings` over :func:`sim.tournament.results`' rows:
standings (win rate and mean score with 95% intervals, self-play left out), OpenSkill ratings, Axelrod's
median normalised score for repeated games, the pairwise matrix and, in role worlds, per-role tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.plural import plural
from sim.tournament.ratings import Rating, axelrod_ranking, openskill_ratings, pairwise, role_table, standings
from sim.tournament.results import StoredTournament, load_stored_tournament

#: World id prefixes of repeated games, ranked by Axelrod's median normalised score.
REPEATED_WORLDS = ("matrix/",)
NOTE = (
    "Intervals are 95% (Wilson for win rates, bootstrap for mean scores); a draw counts half a win; "
    "self-play is left out of every total."
)


@dataclass(frozen=True)
class Leaderboard:
    """A tournament's tables. ``standings``: one row per agent in rank order (``rank``, ``agent``,
    ``seats`` played against other agents, ``win_rate`` / ``win_low`` / ``win_high``, ``draws``,
    ``score`` / ``score_low`` / ``score_high``, ``mu``, ``sigma``, ``ordinal`` and, for repeated games,
    ``axelrod``);
    ``pairwise`` / ``pairwise_n``: agent (rows) against opponent (columns); ``roles``: per (role, agent)
    in role worlds (empty otherwise); ``trajectory``: OpenSkill rating of each agent after each match."""

    stored: StoredTournament
    standings: pd.DataFrame
    pairwise: pd.DataFrame
    pairwise_n: pd.DataFrame
    roles: pd.DataFrame
    trajectory: pd.DataFrame

    @property
    def repeated(self) -> bool:
        """Ranked by Axelrod's median normalised score (a repeated game), else by OpenSkill ordinal."""
        return "axelrod" in self.standings

    @property
    def headline(self) -> str:
        s = self.stored
        line = (
            f"Tournament {s.name} (run {s.run_id}, {s.spec.world_id}, {s.status}): "
            f"{len(s.results)} of {plural(s.planned, 'match', 'matches')} finished"
        )
        if s.unfinished:
            line += " (" + ", ".join(f"{n} {status}" for status, n in sorted(s.unfinished.items())) + ")"
        return line

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by name, as ``--csv`` and ``--markdown`` write them (agent as a column)."""
        out = {
            "standings": self.standings,
            "pairwise": self.pairwise.rename_axis("agent").reset_index(),
            "pairwise_n": self.pairwise_n.rename_axis("agent").reset_index(),
        }
        if not self.roles.empty:
            out["roles"] = self.roles
        return out


def load_leaderboard(db: str | Path, run: int | str) -> Leaderboard:
    """The leaderboard of tournament ``run`` (id or name) in store ``db``."""
    return leaderboard(load_stored_tournament(db, run))


def leaderboard(stored: StoredTournament) -> Leaderboard:
    """The tables of a stored tournament."""
    results = stored.results
    ratings = openskill_ratings(results)
    table = pd.DataFrame(
        [
            {
                "agent": s.agent,
                "seats": s.seats,
                "win_rate": s.win.value,
                "win_low": s.win.low,
                "win_high": s.win.high,
                "draws": s.win.draws,
                "score": s.score.value,
                "score_low": s.score.low,
                "score_high": s.score.high,
            }
            for s in standings(results)
        ],
        columns=["agent", "seats", "win_rate", "win_low", "win_high", "draws", "score", "score_low",
                 "score_high"],
    )  # fmt: skip
    rated = pd.DataFrame(
        [(r.agent, r.mu, r.sigma, r.ordinal) for r in ratings.table],
        columns=["agent", "mu", "sigma", "ordinal"],
    )
    table = table.merge(rated, on="agent", how="left")
    rank_by = "ordinal"
    if stored.spec.world_id.startswith(REPEATED_WORLDS):
        axelrod = pd.DataFrame(
            [(r.agent, r.median) for r in axelrod_ranking(results)], columns=["agent", "axelrod"]
        )
        table = table.merge(axelrod, on="agent", how="left")
        rank_by = "axelrod"
    table = table.sort_values(
        [rank_by, "win_rate", "agent"], ascending=[False, False, True], na_position="last"
    )
    table.insert(0, "rank", range(1, len(table) + 1))
    matrix = pairwise(results)
    order = [a for a in table["agent"] if a in matrix.value.index]
    order += [a for a in matrix.value.index if a not in order]  # only ever met itself
    roles = pd.DataFrame(
        [
            {
                "role": r.role,
                "side": r.side,
                "agent": r.agent,
                "seats": r.seats,
                "win_rate": r.win.value,
                "win_low": r.win.low,
                "win_high": r.win.high,
                "score": r.score.value,
                "score_low": r.score.low,
                "score_high": r.score.high,
            }
            for r in role_table(results)
        ]
    )
    trajectory = pd.DataFrame(
        [
            (p.match, p.agent, p.mu, p.sigma, Rating(p.agent, p.mu, p.sigma, 0).ordinal)
            for p in ratings.trajectory
        ],
        columns=["match", "agent", "mu", "sigma", "ordinal"],
    )
    return Leaderboard(
        stored,
        table.reset_index(drop=True),
        matrix.value.loc[order, order],
        matrix.count.loc[order, order],
        roles,
        trajectory,
    )
