"""Per-seat metrics of a repeated 2x2 match, computed from the played moves.

Option index 0 counts as cooperation (C) and index 1 as defection (D).
- score, score_per_round, normalised_score (total / (rounds x the seat's best single payoff))
- cooperation_rate: share of rounds the seat played option 0
- coordination_rate: share of rounds both seats played the same option (Akata's BoS measure)
- forgiveness: mean rounds from an opponent defection until the seat next cooperates
  (NaN when it never does); unforgiven: opponent defections never followed by cooperation
- last_round_defection: 1 if the seat's last move was option 1
- cc/cd/dc/dd: shares of outcomes from the seat's perspective (own move first)
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sim.stats import mean, rate
from sim.summaries.model import Section, mean_cell, number, rate_cell
from worlds.repeated.games import MatrixGame

if TYPE_CHECKING:
    from sim.summaries.store import RunData, SeatRow


def seat_metrics(moves: Sequence[tuple[int, int]], seat: int, game: MatrixGame) -> dict[str, float]:
    """All metrics of one seat over the played ``moves`` (pairs of option indices, p0 first)."""
    n = len(moves)
    pairs = Counter((m[seat], m[1 - seat]) for m in moves)  # (own, other) -> rounds
    score = sum(game.payoff(seat, a, b) * k for (a, b), k in pairs.items())
    best = game.max_payoff(seat)
    share = (lambda k: k / n) if n else (lambda k: math.nan)
    out: dict[str, float] = {
        "rounds": float(n),
        "score": float(score),
        "score_per_round": share(score),
        "normalised_score": share(score / best) if best else math.nan,
        "cooperation_rate": share(pairs[0, 0] + pairs[0, 1]),
        "coordination_rate": share(pairs[0, 0] + pairs[1, 1]),
        "last_round_defection": float(moves[-1][seat] == 1) if n else math.nan,
    }
    gaps, unforgiven = forgiveness([m[seat] for m in moves], [m[1 - seat] for m in moves])
    out["forgiveness"] = sum(gaps) / len(gaps) if gaps else math.nan
    out["unforgiven"] = float(unforgiven)
    for name, cell in (("cc", (0, 0)), ("cd", (0, 1)), ("dc", (1, 0)), ("dd", (1, 1))):
        out[name] = share(pairs[cell])
    return out


def forgiveness(own: Sequence[int], other: Sequence[int]) -> tuple[list[int], int]:
    """For each opponent defection, rounds until the seat next cooperates; and how many it never forgave."""
    gaps: list[int] = []
    unforgiven = 0
    next_c = None  # scanning backwards: the first round after t where the seat cooperates
    for t in range(len(own) - 1, -1, -1):
        if other[t] == 1:
            if next_c is None:
                unforgiven += 1
            else:
                gaps.append(next_c - t)
        if own[t] == 0:
            next_c = t
    gaps.reverse()
    return gaps, unforgiven


def summary_sections(run: RunData) -> list[Section]:
    """The run summary's repeated-game sections (each distinct trajectory once): an Axelrod-style
    ranking by median normalised score with self-play left out, with the mean score per round and its
    bootstrap interval, and each agent's cooperation rate (Wilson, over rounds) with its n."""
    episodes = run.distinct()
    played: dict[str, list[SeatRow]] = defaultdict(list)  # agent -> its seats in matches, no self-play
    moves: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])  # agent -> [C moves, rounds]
    for episode in episodes:
        self_play = len({s.label for s in episode.seats}) == 1
        for seat in episode.seats:
            rounds = seat.metrics.get("rounds", 0.0)
            moves[seat.label][0] += round(seat.metrics.get("cooperation_rate", 0.0) * rounds)
            moves[seat.label][1] += rounds
            if not self_play:
                played[seat.label].append(seat)
    sections = []
    lengths = [s.metrics["rounds"] for e in episodes for s in e.seats if "rounds" in s.metrics]
    if played:
        medians = {
            agent: statistics.median(s.metrics.get("normalised_score", math.nan) for s in seats)
            for agent, seats in played.items()
        }
        ranking = Section(
            "ranking",
            "ranking: median normalised score, self-play excluded",
            ["rank", "agent", "n", "median", "score/round [95% CI]"],
            label_columns=2,
        )
        per_round = {
            a: mean(s.metrics.get("score_per_round", math.nan) for s in v) for a, v in played.items()
        }
        order = sorted(
            medians, key=lambda a: (-medians[a], -(per_round[a].value or 0.0), a)
        )  # ties: per round
        for i, agent in enumerate(order, 1):
            ranking.add(
                str(i), agent, len(played[agent]), number(medians[agent], 3), mean_cell(per_round[agent])
            )
        if lengths and min(lengths) != max(lengths):
            ranking.notes.append(
                f"episodes lasted {min(lengths):.0f}-{max(lengths):.0f} rounds: ranked per round, "
                "not by total"
            )
        sections.append(ranking)
    columns = ["agent", "rounds", "C", "rate [95% CI]"]
    cooperation = Section("cooperation", "cooperation (option 0 played), all matches", columns)
    for agent in sorted(moves):
        c, n = moves[agent]
        cooperation.add(agent, int(n), int(c), rate_cell(rate(int(c), int(n))))
    sections.append(cooperation)
    return sections
