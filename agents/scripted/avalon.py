"""AvalonBench's naive bots (Light et al. 2023, ``baseline_agents.py``) for ``social/avalon-v1``.

One agent, ``avalon_naive``, plays the policy of whatever role it is dealt:

- Servant and Percival: a Bayesian filter over side assignments. Every assignment of the evil
  count to the other seats that fits the seat's night knowledge starts equally likely; after each
  quest, assignments with fewer evil on the team than fail cards are dropped. A team's preference is
  P(no evil on it); the bot proposes one of the most preferred teams and approves exactly those.
- Merlin: proposes itself and seats it does not know to be evil; approves teams without known evil.
- Minion (and Morgana, Mordred, Oberon): proposes itself, fails-needed - 1 known partners and good
  filler; approves teams with at least fails-needed evil; on a quest passes with too few evil, fails
  with exactly enough, and with more than enough passes in two-evil games with one fail needed
  (leaving the fail to the Assassin), else fails.
- Assassin: as Minion for teams and votes; fails iff the evil on the team reach fails-needed;
  names a random seat it does not know to be evil.

One deviation, documented: on the last proposal before the official hammer, good bots approve
(AvalonBench's engine auto-approves that team, so its bots never faced the rule). Speeches are one
plain sentence. Everything is deterministic under the seat seed; ``episode_metrics`` reports the
filter's deduction accuracy (P(evil) thresholded at 0.5 against the revealed roles).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from agents.scripted.base import ScriptedAgent
from sim.types import Action, ActionKind, Observation
from worlds.avalon.roles import is_evil


def evil_total(public: Mapping[str, Any]) -> int:
    """Evil seats in the game (from the public role set)."""
    return sum(k for r, k in public["role_set"].items() if is_evil(r))


class SideFilter:
    """Side assignments (bitmasks of evil seats) consistent with a good seat's knowledge and the quests."""

    def __init__(self, players: Sequence[str], me: str, known: Mapping[str, str], public: Mapping[str, Any]):
        self.players = tuple(players)
        self.bit = {p: 1 << i for i, p in enumerate(self.players)}
        others = [p for p in self.players if p != me]
        morgana = public["role_set"].get("morgana", 0)
        marked = [p for p, tag in known.items() if tag == "merlin_or_morgana"]
        self.assignments = []
        for evil in itertools.combinations(others, evil_total(public)):
            mask = sum(self.bit[p] for p in evil)
            if marked and sum(bool(mask & self.bit[p]) for p in marked) != (
                1 if morgana and len(marked) == 2 else 0
            ):
                continue  # Percival: exactly Morgana among the two thumbs, or Merlin alone is good
            self.assignments.append(mask)
        self.seen = 0
        self.largest: frozenset[str] = frozenset()
        self._best: dict[int, tuple[float, list[tuple[str, ...]]]] = {}

    def update(self, history: Sequence[Any]) -> None:
        """Drop assignments that put fewer evil on a quest team than it had fail cards; remember the
        largest clean team (ties between preferred teams go to its subsets, then its supersets)."""
        for record in history[self.seen :]:
            if record.kind == "quest" and not record.fails and len(record.team) > len(self.largest):
                self.largest = frozenset(record.team)
                self._best.clear()
            if record.kind == "quest" and record.fails:
                team = self.mask(record.team)
                kept = [a for a in self.assignments if (a & team).bit_count() >= record.fails]
                if kept and len(kept) != len(self.assignments):
                    self.assignments = kept
                    self._best.clear()
        self.seen = len(history)

    def mask(self, team: Sequence[str]) -> int:
        """The bitmask of a set of seats."""
        return sum(self.bit[p] for p in team)

    def p_clean(self, team: Sequence[str]) -> float:
        """P(no evil on ``team``)."""
        m = self.mask(team)
        return sum(not (a & m) for a in self.assignments) / len(self.assignments)

    def p_evil(self) -> dict[str, float]:
        """Marginal P(evil) per seat."""
        n = len(self.assignments)
        return {p: sum(bool(a & b) for a in self.assignments) / n for p, b in self.bit.items()}

    def best(self, size: int) -> tuple[float, list[tuple[str, ...]]]:
        """The highest P(no evil) of a team of ``size``, and the teams that reach it (cached until the
        assignments change)."""
        cached = self._best.get(size)
        if cached is None:
            scored = [(self.p_clean(t), t) for t in itertools.combinations(self.players, size)]
            top = max(s for s, _ in scored)
            teams = [t for s, t in scored if s >= top - 1e-12]
            if len(teams) > 1 and self.largest:
                teams = (
                    [t for t in teams if self.largest.issuperset(t)]
                    or [t for t in teams if self.largest.issubset(t)]
                    or teams
                )
            cached = self._best[size] = (top, teams)
        return cached


class AvalonNaiveAgent(ScriptedAgent):
    """AvalonBench's naive policy for whichever role the seat is dealt."""

    worlds = ("social/avalon-v1",)

    def reset(self, seat, world, seed) -> None:  # type: ignore[no-untyped-def]
        """New game: no belief filter yet."""
        super().reset(seat, world, seed)
        self.filter: SideFilter | None = None

    def decide(self, obs: Observation) -> Action:
        """Act by phase and role."""
        role = obs.private["role"]
        phase = obs.phase
        if phase == "propose":
            return Action(ActionKind.MULTI_CHOICE, list(self._propose(obs, role)))
        if phase == "vote":
            return Action(ActionKind.CHOICE, "approve" if self._approves(obs, role) else "reject")
        if phase == "quest":
            return Action(ActionKind.CHOICE, self._card(obs, role))
        if phase == "assassinate":
            return Action(ActionKind.CHOICE, self.rng.choice(self._suspected_good(obs, obs.legal.options)))
        if phase == "discuss":
            verdict = "support" if self._approves(obs, role) else "do not trust"
            return Action(ActionKind.TEXT, f"I {verdict} the team {', '.join(obs.public['team'])}.")
        if phase == "confer":
            return Action(ActionKind.TEXT, "Let the Assassin choose.")
        return Action(obs.legal.kind, obs.legal.fallback)

    # good ------------------------------------------------------------------------------------
    def _beliefs(self, obs: Observation) -> SideFilter:
        if self.filter is None:
            self.filter = SideFilter(obs.public["players"], obs.player, obs.private["known"], obs.public)
        self.filter.update(obs.history)
        return self.filter

    def _size(self, obs: Observation) -> int:
        return int(obs.public["quest_sizes"][obs.public["quest"] - 1])

    def _needed(self, obs: Observation) -> int:
        return int(obs.public["fails_required"][obs.public["quest"] - 1])

    def _known_evil(self, obs: Observation) -> set[str]:
        evil = {p for p, tag in obs.private["known"].items() if tag != "merlin_or_morgana"}
        return evil | ({obs.player} if obs.private["side"] == "evil" else set())

    # decisions -------------------------------------------------------------------------------
    def _propose(self, obs: Observation, role: str) -> tuple[str, ...]:
        size = self._size(obs)
        players = list(obs.public["players"])
        me = obs.player
        if role in ("servant", "percival"):
            return self.rng.choice(self._beliefs(obs).best(size)[1])
        evil = self._known_evil(obs)
        if role == "merlin":
            clean = [p for p in players if p not in evil and p != me]
            return (me, *self.rng.sample(clean, size - 1))
        partners = [p for p in sorted(evil) if p != me][: self._needed(obs) - 1]
        filler = [p for p in players if p not in evil]
        return (me, *partners, *self.rng.sample(filler, size - 1 - len(partners)))

    def _approves(self, obs: Observation, role: str) -> bool:
        team = list(obs.public["team"])
        if role in ("servant", "percival", "merlin"):
            rules = obs.public["rules"]
            if rules["hammer"] == "evil_wins" and obs.public["rejections"] == 4:
                return True  # rejecting the fifth team loses at once
            if role == "merlin":
                return not (self._known_evil(obs) & set(team))
            beliefs = self._beliefs(obs)
            return tuple(team) in beliefs.best(len(team))[1]
        return len(self._known_evil(obs) & set(team)) >= self._needed(obs)

    def _card(self, obs: Observation, role: str) -> str:
        if obs.private["side"] == "good":
            return "success"
        on_team = len(self._known_evil(obs) & set(obs.public["team"]))
        needed = self._needed(obs)
        if role == "assassin":
            return "fail" if on_team >= needed else "success"
        if on_team < needed:
            return "success"
        if on_team == needed:
            return "fail"
        return "success" if evil_total(obs.public) == 2 and needed == 1 else "fail"

    def _suspected_good(self, obs: Observation, options: Sequence[str]) -> list[str]:
        evil = self._known_evil(obs)
        return [p for p in options if p not in evil] or list(options)

    def episode_metrics(self, final: Observation) -> dict[str, float]:
        """Good seats: deduction accuracy of the side filter against the revealed roles."""
        roles = final.public.get("roles")
        if final.private["side"] != "good" or not roles:
            return {}
        beliefs = self._beliefs(final).p_evil()
        others = [p for p in roles if p != final.player]
        hits = sum((beliefs[p] > 0.5) == is_evil(roles[p]) for p in others)
        return {"deduction_accuracy": hits / len(others)}
