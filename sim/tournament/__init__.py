"""Tournaments: many seeded matches of pool agents against each other in any world, and their ratings.

The planned flow (modules marked * come later):

1. :func:`sim.tournament.spec.load_tournament` reads and validates a tournament file into a
   :class:`~sim.tournament.spec.TournamentSpec` (world, params, pool, schedule, repetitions, seed,
   budget and concurrency caps), reporting every problem at once like a scenario file.
2. :func:`sim.tournament.schedule.matches` expands it into :class:`~sim.tournament.schedule.Match`
   objects, each with a stable id and seed; ``Match.to_job`` makes the :class:`sim.jobs.EpisodeJob`
   the existing executors play.
3. *execute: ``sim tournament T.yaml [--resume] [--backend local|process|ray]`` plays the matches not
   yet stored under their ids (resume = skip finished ids), concurrently under the ``concurrency`` caps,
   and stops scheduling once ``budget`` is spent; only the driver writes SQLite.
4. *results: stored episodes become :class:`~sim.tournament.ratings.MatchResult` rows (one per match,
   a :class:`~sim.tournament.ratings.SeatResult` per seat with its pool name, score, result, side and
   game role).
5. :mod:`sim.tournament.ratings` turns results into standings with intervals, the pairwise matrix,
   OpenSkill ratings (and their trajectory), Axelrod's median-normalised-score ranking and per-role
   tables; *``sim leaderboard --db D TOURNAMENT`` and the viewer's Compare page show them.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    """``sim.tournament.run_tournament`` (imported on first use: it pulls in the runner)."""
    if name in ("run_tournament", "TournamentSummary", "BACKENDS"):
        from sim.tournament import run

        return getattr(run, name)
    raise AttributeError(f"module 'sim.tournament' has no attribute {name!r}")
