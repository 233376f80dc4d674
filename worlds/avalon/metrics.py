"""Avalon metrics: per seat at the end of an episode, and aggregated over a run's outcomes."""

from __future__ import annotations

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


def aggregate(outcomes: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Over a run's episode outcomes: win rate by side, how evil won, assassination accuracy."""
    games = [o for o in outcomes if o.get("winner") in ("good", "evil")]
    n = len(games)
    if not n:
        return {"games": 0.0}
    reasons = [o["reason"] for o in games]
    tried = [o["assassination"] for o in games if o.get("assassination")]
    out = {
        "games": float(n),
        "good_win_rate": sum(o["winner"] == "good" for o in games) / n,
        "evil_win_rate": sum(o["winner"] == "evil" for o in games) / n,
        **{f"evil_wins_{r}": reasons.count(r) / n for r in EVIL_REASONS},
        "assassinations": float(len(tried)),
    }
    if tried:
        out["assassination_accuracy"] = sum(a["correct"] for a in tried) / len(tried)
    return out
