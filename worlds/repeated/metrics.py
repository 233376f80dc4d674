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
from collections.abc import Sequence

from worlds.repeated.games import MatrixGame


def seat_metrics(moves: Sequence[tuple[int, int]], seat: int, game: MatrixGame) -> dict[str, float]:
    """All metrics of one seat over the played ``moves`` (pairs of option indices, p0 first)."""
    n = len(moves)
    own = [m[seat] for m in moves]
    other = [m[1 - seat] for m in moves]
    score = sum(game.payoff(seat, a, b) for a, b in zip(own, other, strict=True))
    best = game.max_payoff(seat)
    out: dict[str, float] = {
        "rounds": float(n),
        "score": float(score),
        "score_per_round": score / n if n else math.nan,
        "normalised_score": score / (n * best) if n and best else math.nan,
        "cooperation_rate": own.count(0) / n if n else math.nan,
        "coordination_rate": sum(a == b for a, b in zip(own, other, strict=True)) / n if n else math.nan,
        "last_round_defection": float(own[-1] == 1) if n else math.nan,
    }
    gaps, unforgiven = forgiveness(own, other)
    out["forgiveness"] = sum(gaps) / len(gaps) if gaps else math.nan
    out["unforgiven"] = float(unforgiven)
    for name, (a, b) in {"cc": (0, 0), "cd": (0, 1), "dc": (1, 0), "dd": (1, 1)}.items():
        out[name] = sum(x == a and y == b for x, y in zip(own, other, strict=True)) / n if n else math.nan
    return out


def forgiveness(own: Sequence[int], other: Sequence[int]) -> tuple[list[int], int]:
    """For each opponent defection, rounds until the seat next cooperates; and how many it never forgave."""
    gaps: list[int] = []
    unforgiven = 0
    for t, move in enumerate(other):
        if move != 1:
            continue
        later = next((u for u in range(t + 1, len(own)) if own[u] == 0), None)
        if later is None:
            unforgiven += 1
        else:
            gaps.append(later - t)
    return gaps, unforgiven
