"""The pool's order of a stored tournament, which fixes its schedule, recovered from its matchups.

The store writes JSON with sorted keys, so a stored tournament file loses the order of its ``pool``;
the schedule (:func:`sim.tournament.schedule.matches`) depends on it. A stored ``pool_order`` list is
taken as is; otherwise the order in which the pool names first appear in the matches is tried (exact
for round robins and enumerated seatings), then, for sampled seatings, every order under which each
group's first rotation lists its agents in pool order. The first order whose schedule gives every
stored matchup wins.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import replace

from sim.tournament.schedule import Match, matches
from sim.tournament.spec import TournamentSpec

#: Orders tried at most for sampled seatings (8 agents: 40,320); past that, store ``pool_order``.
MAX_ORDERS = 40_320


def with_pool_order(
    spec: TournamentSpec, matchups: dict[int, str], stored_order: Sequence[str] = ()
) -> tuple[TournamentSpec, list[Match]] | None:
    """``spec`` with its pool reordered so its schedule gives each ``matchups[index]``, and that
    schedule; None if no order tried does."""
    for order in _candidates(spec, matchups, stored_order):
        pool = spec.file.pool
        candidate = replace(spec, file=spec.file.model_copy(update={"pool": {n: pool[n] for n in order}}))
        schedule = matches(candidate)
        fits = all(0 <= i < len(schedule) and schedule[i].matchup == m for i, m in matchups.items())
        if fits:
            return candidate, schedule
    return None


def _candidates(
    spec: TournamentSpec, matchups: dict[int, str], stored_order: Sequence[str]
) -> Iterator[list[str]]:
    names = list(spec.file.pool)
    lineups = {i: [n for n in m.split(" vs ") if n in spec.file.pool] for i, m in sorted(matchups.items())}
    if sorted(stored_order) == sorted(names):
        yield list(stored_order)
    seen = list(dict.fromkeys(n for lineup in lineups.values() for n in lineup))
    yield seen + sorted(set(names) - set(seen))
    schedule = spec.file.schedule
    if schedule.format != "seatings" or schedule.seatings != "sample":
        return
    size = min(spec.players - len(schedule.fixed), len(names))
    shifts = 1 if schedule.balance == "none" else size
    groups = [lineup[:size] for i, lineup in lineups.items() if i % shifts == 0]
    for order in itertools.islice(itertools.permutations(sorted(names)), MAX_ORDERS):
        rank = {n: k for k, n in enumerate(order)}
        if all(all(rank[a] < rank[b] for a, b in itertools.pairwise(g)) for g in groups):
            yield list(order)
