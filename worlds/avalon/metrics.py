"""Avalon metrics: per seat at the end of an episode, and aggregated over a run's outcomes."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sim.types import PlayerId

if TYPE_CHECKING:
    from worlds.avalon.world import AvalonWorld

EVIL_REASONS = ("quests_failed", "hammer", "merlin_assassinated")


def seat_metrics(world: AvalonWorld) -> dict[PlayerId, dict[str, float]]:
    """Win, side, leadership (own teams approved), vote influence, quest play and the assassination."""
    from worlds.avalon.world import FAIL, QuestRecord, VoteRecord

    votes = [r for r in world.log if isinstance(r, VoteRecord) and not r.auto]
    won = set(world.winners())
    out: dict[PlayerId, dict[str, float]] = {}
    for p in world.players:
        good = world.sides[p].value == "good"
        m: dict[str, float] = {"win": float(p in won), "good": float(good)}
        led = world.proposals[p]
        m["proposals"] = float(len(led))
        m["proposals_approved"] = float(sum(led))
        mine = [v for v in votes if p in v.votes]
        if mine:
            m["votes"] = float(len(mine))
            m["approve_rate"] = sum(v.votes[p] == "approve" for v in mine) / len(mine)
            m["vote_influence"] = sum((v.votes[p] == "approve") == v.approved for v in mine) / len(mine)
        quests = [r for r in world.log if isinstance(r, QuestRecord) and p in r.team]
        m["quests_joined"] = float(len(quests))
        if not good:
            m["fails_played"] = float(sum(card == FAIL for _, card in world.cards[p]))
        hit = world.assassination
        if hit is not None:
            if hit.assassin == p:
                m["assassination_correct"] = float(hit.correct)
            if world.roles[p].value == "merlin":
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
