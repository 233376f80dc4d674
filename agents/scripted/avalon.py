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

from agents.scripted.base import ScriptedAgent
from sim.types import Action, ActionKind, Observation, PlayerId, WorldSpec
from worlds.avalon.observations import AvalonPrivate, AvalonPublic
from worlds.avalon.records import APPROVE, FAIL, REJECT, SUCCESS, Phase, PublicRecord, QuestRecord
from worlds.avalon.roles import Role, Side, is_evil
from worlds.avalon.world import AvalonWorld

#: Good roles that judge teams with the side filter (Merlin knows the evil seats instead).
FILTERING_ROLES = (Role.SERVANT, Role.PERCIVAL)
GOOD_ROLES = (Role.SERVANT, Role.PERCIVAL, Role.MERLIN)


def evil_total(role_set: Mapping[str, int]) -> int:
    """Evil seats in the game (from the public role set)."""
    return sum(k for r, k in role_set.items() if is_evil(r))


class SideFilter:
    """Side assignments (bitmasks of evil seats) consistent with a good seat's knowledge and the quests."""

    def __init__(
        self,
        players: Sequence[PlayerId],
        me: PlayerId,
        known: Mapping[PlayerId, str],
        role_set: Mapping[str, int],
    ):
        self.players = tuple(players)
        self.bit = {p: 1 << i for i, p in enumerate(self.players)}
        others = [p for p in self.players if p != me]
        morgana = role_set.get(Role.MORGANA, 0)
        marked = [p for p, tag in known.items() if tag == "merlin_or_morgana"]
        self.assignments: list[int] = []
        for evil in itertools.combinations(others, evil_total(role_set)):
            mask = sum(self.bit[p] for p in evil)
            if marked and sum(bool(mask & self.bit[p]) for p in marked) != (
                1 if morgana and len(marked) == 2 else 0
            ):
                continue  # Percival: exactly Morgana among the two thumbs, or Merlin alone is good
            self.assignments.append(mask)
        self.seen = 0
        self.largest: frozenset[PlayerId] = frozenset()
        self._best: dict[int, tuple[float, list[tuple[PlayerId, ...]]]] = {}

    def update(self, history: Sequence[PublicRecord]) -> None:
        """Drop assignments that put fewer evil on a quest team than it had fail cards; remember the
        largest clean team (ties between preferred teams go to its subsets, then its supersets)."""
        for record in history[self.seen :]:
            if not isinstance(record, QuestRecord):
                continue
            if not record.fails and len(record.team) > len(self.largest):
                self.largest = frozenset(record.team)
                self._best.clear()
            if record.fails:
                team = self.mask(record.team)
                kept = [a for a in self.assignments if (a & team).bit_count() >= record.fails]
                if kept and len(kept) != len(self.assignments):
                    self.assignments = kept
                    self._best.clear()
        self.seen = len(history)

    def mask(self, team: Sequence[PlayerId]) -> int:
        """The bitmask of a set of seats."""
        return sum(self.bit[p] for p in team)

    def p_clean(self, team: Sequence[PlayerId]) -> float:
        """P(no evil on ``team``)."""
        m = self.mask(team)
        return sum(not (a & m) for a in self.assignments) / len(self.assignments)

    def p_evil(self) -> dict[PlayerId, float]:
        """Marginal P(evil) per seat."""
        n = len(self.assignments)
        return {p: sum(bool(a & b) for a in self.assignments) / n for p, b in self.bit.items()}

    def best(self, size: int) -> tuple[float, list[tuple[PlayerId, ...]]]:
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

    worlds = (AvalonWorld.spec.id,)

    def reset(self, seat: PlayerId, world: WorldSpec, seed: int) -> None:
        """New game: no belief filter yet."""
        super().reset(seat, world, seed)
        self.filter: SideFilter | None = None

    def decide(self, obs: Observation) -> Action:
        """Act by phase and role."""
        pub: AvalonPublic = obs.public
        me: AvalonPrivate = obs.private
        phase = obs.phase
        if phase == Phase.PROPOSE:
            return Action(ActionKind.MULTI_CHOICE, list(self._propose(obs, pub, me)))
        if phase == Phase.VOTE:
            return Action(ActionKind.CHOICE, APPROVE if self._approves(obs, pub, me) else REJECT)
        if phase == Phase.QUEST:
            return Action(ActionKind.CHOICE, self._card(obs, pub, me))
        legal = obs.legal
        assert legal is not None, f"{obs.player} is not to act"
        if phase == Phase.ASSASSINATE:
            return Action(ActionKind.CHOICE, self.rng.choice(self._suspected_good(obs, me, legal.options)))
        if phase == Phase.DISCUSS:
            verdict = "support" if self._approves(obs, pub, me) else "do not trust"
            return Action(ActionKind.TEXT, f"I {verdict} the team {', '.join(pub.team)}.")
        if phase == Phase.CONFER:
            return Action(ActionKind.TEXT, "Let the Assassin choose.")
        return Action(legal.kind, legal.fallback)

    # good ------------------------------------------------------------------------------------
    def _beliefs(self, obs: Observation, pub: AvalonPublic, me: AvalonPrivate) -> SideFilter:
        if self.filter is None:
            self.filter = SideFilter(pub.players, obs.player, me.known, pub.role_set)
        self.filter.update(obs.history)
        return self.filter

    @staticmethod
    def _size(pub: AvalonPublic) -> int:
        return pub.quest_sizes[pub.quest - 1]

    @staticmethod
    def _needed(pub: AvalonPublic) -> int:
        return pub.fails_required[pub.quest - 1]

    @staticmethod
    def _known_evil(obs: Observation, me: AvalonPrivate) -> set[PlayerId]:
        evil = {p for p, tag in me.known.items() if tag != "merlin_or_morgana"}
        return evil | ({obs.player} if me.side is Side.EVIL else set())

    # decisions -------------------------------------------------------------------------------
    def _propose(self, obs: Observation, pub: AvalonPublic, me: AvalonPrivate) -> tuple[PlayerId, ...]:
        size = self._size(pub)
        players = list(pub.players)
        seat = obs.player
        if me.role in FILTERING_ROLES:
            return self.rng.choice(self._beliefs(obs, pub, me).best(size)[1])
        evil = self._known_evil(obs, me)
        if me.role is Role.MERLIN:
            clean = [p for p in players if p not in evil and p != seat]
            return (seat, *self.rng.sample(clean, size - 1))
        partners = [p for p in sorted(evil) if p != seat][: self._needed(pub) - 1]
        filler = [p for p in players if p not in evil]
        return (seat, *partners, *self.rng.sample(filler, size - 1 - len(partners)))

    def _approves(self, obs: Observation, pub: AvalonPublic, me: AvalonPrivate) -> bool:
        team = list(pub.team)
        if me.role in GOOD_ROLES:
            if pub.rules["hammer"] == "evil_wins" and pub.rejections == 4:
                return True  # rejecting the fifth team loses at once
            if me.role is Role.MERLIN:
                return not (self._known_evil(obs, me) & set(team))
            beliefs = self._beliefs(obs, pub, me)
            return tuple(team) in beliefs.best(len(team))[1]
        return len(self._known_evil(obs, me) & set(team)) >= self._needed(pub)

    def _card(self, obs: Observation, pub: AvalonPublic, me: AvalonPrivate) -> str:
        if me.side is Side.GOOD:
            return SUCCESS
        on_team = len(self._known_evil(obs, me) & set(pub.team))
        needed = self._needed(pub)
        if me.role is Role.ASSASSIN:
            return FAIL if on_team >= needed else SUCCESS
        if on_team < needed:
            return SUCCESS
        if on_team == needed:
            return FAIL
        return SUCCESS if evil_total(pub.role_set) == 2 and needed == 1 else FAIL

    def _suspected_good(
        self, obs: Observation, me: AvalonPrivate, options: Sequence[PlayerId]
    ) -> list[PlayerId]:
        evil = self._known_evil(obs, me)
        return [p for p in options if p not in evil] or list(options)

    def episode_metrics(self, final: Observation) -> dict[str, float]:
        """Good seats: deduction accuracy of the side filter against the revealed roles."""
        pub: AvalonPublic = final.public
        me: AvalonPrivate = final.private
        roles = pub.roles
        if me.side is not Side.GOOD or not roles:
            return {}
        beliefs = self._beliefs(final, pub, me).p_evil()
        others = [p for p in roles if p != final.player]
        hits = sum((beliefs[p] > 0.5) == is_evil(roles[p]) for p in others)
        return {"deduction_accuracy": hits / len(others)}
