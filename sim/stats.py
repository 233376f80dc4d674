"""The statistics every report uses: the CLI summaries, the viewer and tournaments.

- Rates (win rate, cooperation rate, assassination accuracy): a Wilson score interval, which never
  leaves [0, 1] and has width for n = 1. A draw counts as half a win only where a caller asks for it
  (``draws_as_half=True``); the result says how many draws there were, so a table can say so.
- Means (score per round, payoff): a percentile bootstrap interval from scipy with a seeded generator,
  so the same data always gives the same interval; fewer than two values give no interval (None).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

Z_95 = 1.959963984540054
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0


@dataclass(frozen=True)
class Rate:
    """A proportion with its 95% Wilson interval. ``draws`` are counted in ``n`` and, when the caller
    asked for it, as half a success each (``successes`` then may end in .5)."""

    successes: float
    n: int
    low: float
    high: float
    draws: int = 0

    @property
    def value(self) -> float | None:
        return self.successes / self.n if self.n else None


@dataclass(frozen=True)
class Mean:
    """A mean with its 95% bootstrap interval (None with fewer than two values or no spread)."""

    value: float | None
    n: int
    low: float | None
    high: float | None


def wilson(successes: float, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of ``successes`` out of ``n``: (0, 1) when n is 0, always inside [0, 1]."""
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be within [0, {n}], got {successes}")
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exact ends: no rounding residue at 0 or n
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def rate(successes: int, n: int, *, draws: int = 0, draws_as_half: bool = False) -> Rate:
    """A rate of ``successes`` in ``n`` trials, of which ``draws`` were draws (neither success nor
    failure). With ``draws_as_half`` a draw scores 1/2; otherwise it scores 0."""
    if draws < 0 or successes < 0 or successes + draws > n:
        raise ValueError(f"need 0 <= successes + draws <= n, got {successes} + {draws} > {n}")
    scored = successes + (draws / 2 if draws_as_half else 0)
    low, high = wilson(scored, n)
    return Rate(successes=scored, n=n, low=low, high=high, draws=draws)


def mean(
    values: Iterable[float], *, seed: int = BOOTSTRAP_SEED, resamples: int = BOOTSTRAP_RESAMPLES
) -> Mean:
    """The mean of ``values`` with a 95% percentile-bootstrap interval (deterministic for a seed)."""
    xs = np.asarray([float(v) for v in values], dtype=float)
    n = int(xs.size)
    if n == 0:
        return Mean(None, 0, None, None)
    centre = float(xs.mean())
    if n < 2 or float(xs.min()) == float(xs.max()):
        return Mean(centre, n, None, None)
    from scipy.stats import bootstrap  # scipy costs ~0.3 s to import: only when an interval is asked for

    result = bootstrap(
        (xs,), np.mean, n_resamples=resamples, method="percentile", rng=np.random.default_rng(seed)
    )
    interval = result.confidence_interval
    return Mean(centre, n, float(interval.low), float(interval.high))
