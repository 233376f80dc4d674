"""Avalon metrics: per seat at the end of an episode, and aggregated over a run's outcomes."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sim.types import PlayerId
from worlds.avalon.records import (
    APPROVE,
    FAIL,
    AssassinationRecord,
    Deal,
    ProposalRecord,
    PublicRecord,
    QuestRecord,
    VoteRecord,
)
from worlds.avalon.roles import Role, Side

EVIL_REASONS = ("quests_failed", "hammer", "merlin_assassinated")


def seat_metrics(
    deal: Deal,
    log: Sequence[PublicRecord],
    cards: Mapping[PlayerId, Sequence[tuple[int, str]]],
    winner: Side | None,
) -> dict[PlayerId, dict[str, float]]:
    """Win, side, leadership (own teams approved), vote influence, quest play and the assassination,
    from the deal, the public log, each seat's quest cards and the winning side."""
    votes = [r for r in log if isinstance(r, VoteRecord) and not r.auto]
    led: dict[PlayerId, list[bool]] = {p: [] for p in deal.roles}  # each team a seat led: approved?
    for r in log:
        if isinstance(r, VoteRecord):
            led[r.leader].append(r.approved)
        elif isinstance(r, ProposalRecord) and r.forced:
            led[r.leader].append(True)
    hit = next((r for r in log if isinstance(r, AssassinationRecord)), None)
    out: dict[PlayerId, dict[str, float]] = {}
    for p, role in deal.roles.items():
        good = deal.sides[p] is Side.GOOD
        m: dict[str, float] = {
            "win": float(winner is not None and deal.sides[p] is winner),
            "good": float(good),
        }
        m["proposals"] = float(len(led[p]))
        m["proposals_approved"] = float(sum(led[p]))
        mine = [v for v in votes if p in v.votes]
        if mine:
            m["votes"] = float(len(mine))
            m["approve_rate"] = sum(v.votes[p] == APPROVE for v in mine) / len(mine)
            m["vote_influence"] = sum((v.votes[p] == APPROVE) == v.approved for v in mine) / len(mine)
        quests = [r for r in log if isinstance(r, QuestRecord) and p in r.team]
        m["quests_joined"] = float(len(quests))
        if not good:
            m["fails_played"] = float(sum(card == FAIL for _, card in cards[p]))
        if hit is not None:
            if hit.assassin == p:
                m["assassination_correct"] = float(hit.correct)
            if role is Role.MERLIN:
                m["assassinated"] = float(hit.correct)
        out[p] = m
    return out


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion."""
    if not n:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def aggregate(episodes: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Over a run's episodes (each ``{"outcome": ..., "metrics": {seat: {...}}}``): win rate by side
    with its 95% Wilson interval, how evil won, assassination accuracy, and per-seat means
    (proposal approval, vote influence, deduction accuracy, invalid actions)."""
    games = [e for e in episodes if e["outcome"].get("winner") in ("good", "evil")]
    n = len(games)
    if not n:
        return {"games": 0.0}
    outcomes = [e["outcome"] for e in games]
    good = sum(o["winner"] == "good" for o in outcomes)
    low, high = wilson(good, n)
    reasons = [o["reason"] for o in outcomes]
    tried = [o["assassination"] for o in outcomes if o.get("assassination")]
    out = {
        "games": float(n),
        "good_win_rate": good / n,
        "good_win_rate_ci_low": low,
        "good_win_rate_ci_high": high,
        "evil_win_rate": 1 - good / n,
        **{f"evil_wins_{r}": reasons.count(r) / n for r in EVIL_REASONS},
        "assassinations": float(len(tried)),
    }
    if tried:
        out["assassination_accuracy"] = sum(a["correct"] for a in tried) / len(tried)
    seats = [m for e in games for m in e["metrics"].values()]
    proposals = sum(m.get("proposals", 0.0) for m in seats)
    if proposals:
        out["proposal_approval_rate"] = sum(m.get("proposals_approved", 0.0) for m in seats) / proposals
    for name in ("vote_influence", "agent.deduction_accuracy", "engine.invalid_rate"):
        values = [m[name] for m in seats if m.get(name) is not None]
        if values:
            out[f"mean_{name.removeprefix('agent.').removeprefix('engine.')}"] = sum(values) / len(values)
    return out
