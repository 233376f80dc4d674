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
from collections import Counter
from collections.abc import Sequence

from worlds.repeated.games import MatrixGame


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
