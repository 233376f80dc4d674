"""Avalon metrics: per seat at the end of an episode, and aggregated over a run's outcomes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sim.stats import rate
from sim.summaries.model import Section, rate_cell
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

if TYPE_CHECKING:
    from sim.summaries.store import RunData

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
    interval = rate(good, n)
    reasons = [o["reason"] for o in outcomes]
    tried = [o["assassination"] for o in outcomes if o.get("assassination")]
    out = {
        "games": float(n),
        "good_win_rate": good / n,
        "good_win_rate_ci_low": interval.low,
        "good_win_rate_ci_high": interval.high,
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


def summary_sections(run: RunData) -> list[Section]:
    """The run summary's Avalon sections (each distinct trajectory once): win rate per side and per
    role (with the agent that played it), how games ended, assassination accuracy and quest results.
    A game without a winner (stopped by a step limit) is a draw, counted in n and shown."""
    from sim.summaries.build import endings, win_rates

    episodes = run.distinct()
    sides: dict[tuple[str, ...], list[str | None]] = {("good",): [], ("evil",): []}
    roles: dict[tuple[str, ...], list[str | None]] = defaultdict(list)
    for episode in episodes:
        winner = episode.outcome.get("winner")
        dealt = episode.outcome.get("roles") or {}
        for side in ("good", "evil"):
            sides[side,].append(
                "draw" if winner not in ("good", "evil") else "win" if winner == side else "loss"
            )
        for seat in episode.seats:
            role = dealt.get(seat.player_id, seat.role)
            roles[role, seat.label].append(seat.result)
    order = {r.value: i for i, r in enumerate(Role)}
    by_role = dict(sorted(roles.items(), key=lambda kv: (order.get(kv[0][0], len(order)), kv[0][1])))
    sections = [
        win_rates("win rate per side", "sides", sides, ["side"]),
        win_rates("win rate per role", "roles", by_role, ["role", "agent"]),
        endings(episodes),
    ]
    tried = [e.outcome["assassination"] for e in episodes if e.outcome.get("assassination")]
    if tried:
        hits = sum(bool(a.get("correct")) for a in tried)
        shots = Section(
            "assassination", "assassination", ["attempts", "Merlin hit", "accuracy [95% CI]"], label_columns=0
        )
        shots.add(len(tried), hits, rate_cell(rate(hits, len(tried))))
        sections.append(shots)
    sections.append(_quests(episodes))
    return sections


def _quests(episodes: Sequence[Any]) -> Section:
    """Per quest number: how often it was played and how often it succeeded (Wilson interval)."""
    played: dict[int, list[bool]] = defaultdict(list)
    for episode in episodes:
        for i, result in enumerate(episode.outcome.get("quests") or (), 1):
            played[i].append(result != FAIL)
    section = Section("quests", "quests", ["quest", "played", "succeeded", "success rate [95% CI]"])
    for quest, results in sorted(played.items()):
        section.add(str(quest), len(results), sum(results), rate_cell(rate(sum(results), len(results))))
    return section
