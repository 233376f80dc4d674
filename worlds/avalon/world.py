"""World ``social/avalon-v1``: The Resistance: Avalon for 5-10 players, official rules by default.

Rules. Roles are dealt secretly (evil = ceil(n/3) seats; Merlin, Percival, Assassin, Morgana, Mordred,
Oberon as configured, the rest Loyal Servants and Minions); the first leader is drawn at random
(``first_leader`` names a seat). Five quests with fixed team sizes per player count. Each proposal: the
leader names exactly the quest's team size of distinct seats (the leader may leave itself out); then,
with ``discussion``, every player speaks once (leader first, or leader last); then everyone votes
approve/reject at once. A team passes only with a strict majority (``tie_approves`` makes a tie pass).
The leader passes clockwise after every vote. Five rejected teams in one quest give evil the win
(``hammer="auto_approve"``: the fifth team passes whatever the vote; ``forced_after_rejections=k``: after
k rejections the next team goes on the quest unvoted). On a quest each member plays success or fail at
once; good players can only play success. The quest fails with one fail card (two on quest 4 with 7+
players). Three failed quests: evil wins. Three successful quests: evil (not Oberon) may confer, then the
Assassin names one player; naming Merlin wins for evil, anything else for good.

Who sees what. A seat's private view holds its role, its side, its night knowledge (Merlin: the evil
seats but Mordred; Percival: Merlin and Morgana, unlabelled; evil but Oberon: each other, as "evil"
or by role with ``evil_sees_roles``; Oberon and servants: nothing), its own quest cards and, for
conferring evil, the evil conference. Public: the role set, proposals, speeches, every seat's vote,
and each quest's number of fail cards (never who played them). The ``setup`` event (the full deal) is
visible to no seat; the conferring evil seats and the Assassin act openly in the endgame (who speaks
in the conference, who names Merlin), and roles are revealed to all when the game ends. Returns: 1 to
each winner, 0 else. Dynamics are mixed: one leader proposes and one seat speaks at a time; votes and
quest cards are played at once.

Modules. ``records`` (phases, answers, the public records, the deal), ``rules`` (pure functions),
``observations`` (the typed public and private parts), ``metrics``, ``text``; this one is the glue.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar, Literal

from pydantic import BaseModel

from sim.types import (
    ALL,
    Action,
    ActionKind,
    ActionSpec,
    Dynamics,
    Event,
    HistoryView,
    Observation,
    Outcome,
    PlayerId,
)
from sim.types import WorldSpec as Spec
from sim.world import GameRole, SeatDeal, WorldBase, check_actions
from worlds.avalon import metrics, rules, text
from worlds.avalon.observations import AvalonPrivate, AvalonPublic
from worlds.avalon.params import AvalonParams
from worlds.avalon.records import (
    APPROVE,
    FAIL,
    REJECT,
    SUCCESS,
    VOTES,
    AssassinationRecord,
    Phase,
    ProposalRecord,
    PublicRecord,
    QuestRecord,
    SpeechRecord,
    VoteRecord,
)
from worlds.avalon.roles import (
    MAX_PLAYERS,
    MIN_PLAYERS,
    QUESTS,
    Role,
    Side,
    deal,
    fails_required,
    quest_size,
    role_counts,
)
from worlds.avalon.rules import HAMMER

#: The answers that are the same whenever they are asked (shared: specs are immutable).
VOTE_SPEC = ActionSpec(ActionKind.CHOICE, VOTES, fallback=APPROVE)
CARD_SPECS = {
    side: ActionSpec(ActionKind.CHOICE, rules.card_options(side), fallback=SUCCESS) for side in Side
}

__all__ = [
    "APPROVE",
    "FAIL",
    "HAMMER",
    "REJECT",
    "SUCCESS",
    "AssassinationRecord",
    "AvalonWorld",
    "Phase",
    "ProposalRecord",
    "QuestRecord",
    "SpeechRecord",
    "VoteRecord",
]


class AvalonWorld(WorldBase):
    """Avalon as a pure state machine: one phase at a time, simultaneous votes and quest cards."""

    spec: ClassVar[Spec] = Spec(
        id="social/avalon-v1",
        title="The Resistance: Avalon",
        min_players=MIN_PLAYERS,
        max_players=MAX_PLAYERS,
        dynamics=Dynamics.MIXED,  # one leader proposes, one seat speaks; votes and quest cards at once
        hidden_info=True,
        max_turns=2_000,
        params_model=AvalonParams,
        phases=Phase,
        public_type=AvalonPublic,
        private_type=AvalonPrivate,
    )
    #: Parameter sets the conformance suite plays.
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {},
        {"roles": ["merlin", "percival", "morgana", "assassin"], "discussion_order": "after_leader"},
        {"roles": ["merlin", "assassin", "mordred"], "hammer": "auto_approve", "evil_sees_roles": True},
        {"roles": ["merlin", "assassin", "oberon"], "forced_after_rejections": 3, "tie_approves": True},
        {"roles": ["merlin", "assassin"], "discussion": False, "evil_confer": False, "seating": "fixed"},
        {"roles": ["merlin", "percival", "morgana", "assassin"], "first_leader": 4, "discussion": False},
    )

    @classmethod
    def run_report(cls, episodes: Sequence[Mapping[str, Any]]) -> dict[str, float]:
        """Win rate by side, how evil won, assassination accuracy and seat means over a run's episodes
        (``{"outcome": ..., "metrics": ...}`` each)."""
        return metrics.aggregate(episodes)

    @classmethod
    def deal_roles_by_seat(cls, params: BaseModel, players: int, seed: int) -> SeatDeal:
        """Avalon shuffles the cards with the episode's RNG; ``seating: fixed`` gives seat i the i-th
        card of the full role list instead. Fixed seating would also make p0 lead first, so
        ``first_leader`` comes from the match ``seed`` (unless the params set it): the leader stays random."""
        assert isinstance(params, AvalonParams)
        overrides: dict[str, Any] = {"seating": "fixed"}
        if params.first_leader is None:
            overrides["first_leader"] = seed % players
        return SeatDeal(overrides, tuple(str(card.value) for card in deal(params.roles, players)))

    @classmethod
    def check_players(cls, params: BaseModel, n_players: int) -> str | None:
        """Why ``params`` cannot seat ``n_players`` (the role set does not fit, or ``first_leader`` is
        not a seat), or None."""
        assert isinstance(params, AvalonParams)
        try:
            deal(params.roles, n_players)
        except ValueError as exc:
            return str(exc)
        return params.first_leader_problem(n_players)

    # setup ----------------------------------------------------------------------------------
    def reset(
        self,
        players: Sequence[PlayerId],
        params: BaseModel,
        rng: random.Random,
        roles: Mapping[PlayerId, str] | None = None,
    ) -> list[Event]:
        """Deal the roles, tell each seat what it sees at night, and give the first leader the token."""
        assert isinstance(params, AvalonParams)
        self.params = params
        self.players = tuple(players)
        self._seats = frozenset(self.players)
        n = self.n = len(players)
        cards = deal(params.roles, n)  # raises ValueError naming the problem
        problem = params.first_leader_problem(n)
        if problem:
            raise ValueError(problem)
        if params.seating == "shuffled":
            rng.shuffle(cards)
            self.leader = rng.randrange(n) if params.first_leader is None else params.first_leader
        else:
            self.leader = 0 if params.first_leader is None else params.first_leader
        self.deal = rules.make_deal(dict(zip(self.players, cards, strict=True)), params.evil_sees_roles)
        self.sizes = tuple(quest_size(n, q) for q in range(QUESTS))
        self.required = tuple(fails_required(n, q) for q in range(QUESTS))
        self.steps = 0
        self.phase = Phase.PROPOSE
        self.quest = 0  # 0-based
        self.attempt = 1  # proposal number within the quest
        self.rejections = 0
        self.team: tuple[PlayerId, ...] = ()
        self.speakers: list[PlayerId] = []
        self.log: list[PublicRecord] = []  # public records, in order
        self.results: list[QuestRecord] = []
        self.cards: dict[PlayerId, list[tuple[int, str]]] = {p: [] for p in self.players}
        self.conference: list[SpeechRecord] = []
        self.assassination: AssassinationRecord | None = None
        self.winner: Side | None = None
        self.reason = ""
        self._role_set = MappingProxyType(role_counts(cards))
        self._rules = MappingProxyType(
            {
                "hammer": params.hammer,
                "forced_after_rejections": params.forced_after_rejections,
                "tie_approves": params.tie_approves,
                "discussion": params.discussion,
                "evil_confer": params.evil_confer,
            }
        )
        self._speech_spec = ActionSpec(ActionKind.TEXT, max_chars=params.speech_max_chars, fallback="")
        self._observations: dict[PlayerId, Observation] = {}  # this step's, by seat
        self._privates: dict[PlayerId, AvalonPrivate] = {}  # until a seat's cards or conference change
        self._public: AvalonPublic | None = None
        start = {
            "players": list(self.players),
            "role_set": dict(self._role_set),
            "quest_sizes": list(self.sizes),
            "fails_required": list(self.required),
            "leader": self.players[self.leader],
            "rules": params.model_dump(mode="json", exclude={"roles", "first_leader"}),
        }
        return [Event(0, Phase.PROPOSE, "start", start), *self._deal_events()]

    def _deal_events(self) -> list[Event]:
        """The hidden ``setup`` event (the full deal) and each seat's private ``night`` event."""
        events = [
            Event(
                0,
                Phase.PROPOSE,
                "setup",
                {"roles": {p: r.value for p, r in self.roles.items()}},
                visible_to=(),
            )
        ]
        for p, role in self.roles.items():
            payload = {"role": role.value, "side": role.side.value, "known": dict(self.known[p])}
            events.append(Event(0, Phase.PROPOSE, "night", payload, actor=p, visible_to=(p,)))
        return events

    def permute_secrets(self, viewer: PlayerId, rng: random.Random) -> bool:
        """Right after ``reset``: swap the roles of two other seats ``viewer`` cannot tell apart (the
        same night tag, or both unknown to it), re-deriving sides, every seat's night knowledge and the
        conferring seats. False if every such pair holds equal roles."""
        if self.steps:
            raise RuntimeError("permute_secrets is for a world fresh from reset")
        pairs = rules.indistinguishable_pairs(self.deal, viewer)
        if not pairs:
            return False
        a, b = rng.choice(pairs)
        self.deal = rules.swap_roles(self.deal, a, b, self.params.evil_sees_roles)
        self._observations = {}
        self._privates = {}
        self._public = None
        return True

    # the deal, as the rest of the world reads it ------------------------------------------------
    @property
    def roles(self) -> Mapping[PlayerId, Role]:
        """Each seat's role."""
        return self.deal.roles

    @property
    def sides(self) -> Mapping[PlayerId, Side]:
        """Each seat's side."""
        return self.deal.sides

    @property
    def known(self) -> Mapping[PlayerId, Mapping[PlayerId, str]]:
        """What each seat learned at night."""
        return self.deal.known

    @property
    def conferring(self) -> tuple[PlayerId, ...]:
        """The evil seats that confer before the assassination (evil but Oberon)."""
        return self.deal.conferring

    # protocol -------------------------------------------------------------------------------
    def to_act(self) -> tuple[PlayerId, ...]:
        """The leader, the speaker, every seat (votes), the team (cards), or the Assassin."""
        phase = self.phase
        if phase is Phase.PROPOSE:
            return (self.players[self.leader],)
        if phase is Phase.DISCUSS or phase is Phase.CONFER:
            return (self.speakers[0],)
        if phase is Phase.VOTE:
            return self.players
        if phase is Phase.QUEST:
            return self.team
        if phase is Phase.ASSASSINATE:
            return (self._assassin(),)
        return ()

    def legal_actions(self, player: PlayerId) -> ActionSpec | None:
        """What ``player`` may answer now (None if it is not its turn)."""
        if player not in self._seats:
            raise KeyError(f"{player!r} is not a seat of this game")
        if player not in self.to_act():
            return None
        phase = self.phase
        if phase is Phase.PROPOSE:
            size = self.sizes[self.quest]
            fallback = rules.default_team(self.players, self.leader, size)
            return ActionSpec(ActionKind.MULTI_CHOICE, self.players, size, size, fallback=fallback)
        if phase is Phase.DISCUSS or phase is Phase.CONFER:
            return self._speech_spec
        if phase is Phase.VOTE:
            return VOTE_SPEC
        if phase is Phase.QUEST:
            return CARD_SPECS[self.sides[player]]
        targets = tuple(p for p in self.players if p != player)
        return ActionSpec(ActionKind.CHOICE, targets, fallback=targets[0])

    def observe(self, player: PlayerId) -> Observation:
        """The seat's view: public state and log, its own role, night knowledge and cards."""
        cached = self._observations.get(player)
        if cached is not None:
            return cached
        if player not in self._seats:
            raise KeyError(f"{player!r} is not a seat of this game")
        private = self._privates.get(player)
        if private is None:
            private = self._privates[player] = self._private_view(player)
        obs = Observation(
            player,
            self.steps,
            self.phase,
            self._public_view(),
            private,
            HistoryView(self.log),
            self.legal_actions(player),
        )
        self._observations[player] = obs
        return obs

    def _private_view(self, player: PlayerId) -> AvalonPrivate:
        role = self.roles[player]
        confers = self.params.evil_confer and player in self.conferring
        return AvalonPrivate(
            role,
            role.side,
            self.known[player],
            HistoryView(self.cards[player]),
            HistoryView(self.conference) if confers else None,
        )

    def _public_view(self) -> AvalonPublic:
        if self._public is None:
            phase = self.phase
            over = phase is Phase.END
            self._public = AvalonPublic(
                players=self.players,
                n_players=self.n,
                role_set=self._role_set,
                quest_sizes=self.sizes,
                fails_required=self.required,
                rules=self._rules,
                phase=phase,
                quest=self.quest + 1,
                attempt=self.attempt,
                rejections=self.rejections,
                leader=self.players[self.leader],
                team=self.team,
                results=tuple(SUCCESS if r.success else FAIL for r in self.results),
                speaker=self.speakers[0] if phase is Phase.DISCUSS or phase is Phase.CONFER else None,
                winner=self.winner.value if over and self.winner else None,
                reason=self.reason if over else None,
                roles=MappingProxyType({p: r.value for p, r in self.roles.items()}) if over else None,
            )
        return self._public

    def render(self, observation: Observation) -> str:
        """The observation as text (rules summary, own role and knowledge, game so far, what to do)."""
        return text.render_observation(observation)

    def step(self, actions: Mapping[PlayerId, Action]) -> list[Event]:
        """Apply the actions of every seat in ``to_act()``; illegal actions change nothing."""
        check_actions(self, actions, self.phase)
        self.steps += 1
        self._observations = {}
        self._public = None
        handler = {
            Phase.PROPOSE: self._propose,
            Phase.DISCUSS: self._speak,
            Phase.VOTE: self._vote,
            Phase.QUEST: self._play_quest,
            Phase.CONFER: self._confer,
            Phase.ASSASSINATE: self._assassinate,
        }[self.phase]
        return handler(actions)

    # phases ---------------------------------------------------------------------------------
    def _propose(self, actions: Mapping[PlayerId, Action]) -> list[Event]:
        leader = self.players[self.leader]
        chosen = set(actions[leader].value)
        team = tuple(p for p in self.players if p in chosen)  # seat order
        forced = rules.is_forced(self.rejections, self.params.forced_after_rejections)
        self.team = team
        record = ProposalRecord("proposal", self.quest + 1, self.attempt, leader, team, forced)
        self.log.append(record)
        events = [self._event("proposal", record._asdict(), actor=leader)]
        if forced:  # goes on the quest unvoted; the token passes as after a vote
            self.leader = rules.next_leader(self.leader, self.n)
            self.phase = Phase.QUEST
        elif self.params.discussion:
            self.speakers = rules.speaking_order(self.players, self.leader, self.params.discussion_order)
            self.phase = Phase.DISCUSS
        else:
            self.phase = Phase.VOTE
        return events

    def _speak(self, actions: Mapping[PlayerId, Action]) -> list[Event]:
        speaker = self.speakers.pop(0)
        record = SpeechRecord("speech", self.quest + 1, self.attempt, speaker, actions[speaker].value)
        self.log.append(record)
        if not self.speakers:
            self.phase = Phase.VOTE
        return [self._event("speech", record._asdict(), actor=speaker)]

    def _vote(self, actions: Mapping[PlayerId, Action]) -> list[Event]:
        votes = {p: actions[p].value for p in self.players}
        approvals = sum(v == APPROVE for v in votes.values())
        passed = rules.vote_passes(approvals, self.n, self.params.tie_approves)
        auto = rules.auto_approved(passed, self.params.hammer, self.rejections)
        approved = passed or auto
        leader = self.players[self.leader]
        record = VoteRecord(
            "vote",
            self.quest + 1,
            self.attempt,
            leader,
            self.team,
            MappingProxyType(votes),
            approvals,
            approved,
            auto,
        )
        self.log.append(record)
        self.leader = rules.next_leader(self.leader, self.n)
        if not approved:
            self.rejections += 1
        # ``rejections``: rejected teams in this quest so far, this vote included
        events = [self._event("vote", {**record._asdict(), "votes": votes, "rejections": self.rejections})]
        if approved:
            self.phase = Phase.QUEST
            return events
        self.attempt += 1
        self.team = ()
        if rules.hammer_falls(self.rejections):
            events.append(self._finish(Side.EVIL, "hammer"))
        else:
            self.phase = Phase.PROPOSE
        return events

    def _play_quest(self, actions: Mapping[PlayerId, Action]) -> list[Event]:
        q = self.quest
        events = []
        self._privates = {}  # the team's cards change
        for p in self.team:
            card = actions[p].value
            self.cards[p].append((q + 1, card))
            events.append(self._event("quest_card", {"quest": q + 1, "card": card}, actor=p, visible_to=(p,)))
        fails = sum(actions[p].value == FAIL for p in self.team)
        success = rules.quest_succeeds(fails, self.required[q])
        record = QuestRecord("quest", q + 1, self.team, fails, self.required[q], success)
        self.log.append(record)
        self.results.append(record)
        events.append(self._event("quest", record._asdict()))
        self.team = ()
        winner = rules.quests_winner(self.results)
        if winner is Side.EVIL:
            events.append(self._finish(Side.EVIL, "quests_failed"))
        elif winner is Side.GOOD:
            after = rules.after_good_quests(self.deal, self.params.evil_confer)
            if after is Phase.END:  # no Assassin
                events.append(self._finish(Side.GOOD, "quests_succeeded"))
            else:
                if after is Phase.CONFER:
                    self.speakers = rules.conference_order(self.deal)
                self.phase = after
        else:
            self.quest += 1
            self.attempt = 1
            self.rejections = 0
            self.phase = Phase.PROPOSE
        return events

    def _confer(self, actions: Mapping[PlayerId, Action]) -> list[Event]:
        speaker = self.speakers.pop(0)
        record = SpeechRecord("conference", self.quest + 1, 0, speaker, actions[speaker].value)
        self.conference.append(record)
        self._privates = {}  # the conferring seats' conference changes
        if not self.speakers:
            self.phase = Phase.ASSASSINATE
        return [self._event("confer", record._asdict(), actor=speaker, visible_to=self.conferring)]

    def _assassinate(self, actions: Mapping[PlayerId, Action]) -> list[Event]:
        assassin = self._assassin()
        target = actions[assassin].value
        correct = rules.merlin_named(self.deal, target)
        self.assassination = record = AssassinationRecord("assassination", assassin, target, correct)
        self.log.append(record)
        event = self._event("assassination", record._asdict(), actor=assassin)
        if correct:
            return [event, self._finish(Side.EVIL, "merlin_assassinated")]
        return [event, self._finish(Side.GOOD, "quests_succeeded")]

    # helpers --------------------------------------------------------------------------------
    def _event(
        self,
        kind: str,
        payload: Mapping[str, Any],
        actor: PlayerId | None = None,
        visible_to: tuple[PlayerId, ...] | Literal["all"] = ALL,
    ) -> Event:
        return Event(self.steps, self.phase.value, kind, payload, actor=actor, visible_to=visible_to)

    def _assassin(self) -> PlayerId:
        assassin = self.deal.assassin
        assert assassin is not None, "this game has no Assassin"
        return assassin

    def _finish(self, winner: Side, reason: str) -> Event:
        self.phase = Phase.END
        self.winner = winner
        self.reason = reason
        self.team = ()
        self.speakers = []
        return self._event("end", self._outcome_details())

    def is_terminal(self) -> bool:
        """Whether a side has won."""
        return self.phase is Phase.END

    def winners(self) -> tuple[PlayerId, ...]:
        """Seats of the winning side (empty while the game runs)."""
        return tuple(p for p in self.players if self.winner is not None and self.sides[p] is self.winner)

    def returns(self) -> dict[PlayerId, float]:
        """1 for each seat of the winning side, 0 otherwise."""
        won = set(self.winners())
        return {p: float(p in won) for p in self.players}

    def return_bounds(self) -> tuple[float, float]:
        """A seat wins (1) or not (0)."""
        return 0.0, 1.0

    def outcome(self) -> Outcome:
        """The seats of the winning side win; details: the side, the full deal, quests, assassination."""
        return Outcome(self.winners(), self.reason, False, self._outcome_details())

    def _outcome_details(self) -> dict[str, Any]:
        """Winning side, how, the winners, the full deal, and the assassination if any (the end event)."""
        return {
            "winner": self.winner.value if self.winner else None,
            "winners": list(self.winners()),
            "reason": self.reason,
            "roles": {p: r.value for p, r in self.roles.items()},
            "quests": [SUCCESS if r.success else FAIL for r in self.results],
            "assassination": self.assassination._asdict() if self.assassination else None,
        }

    def snapshot(self) -> dict[str, Any]:
        """Full state as JSON."""
        return {
            "phase": self.phase.value,
            "steps": self.steps,
            "quest": self.quest,
            "attempt": self.attempt,
            "rejections": self.rejections,
            "leader": self.leader,
            "team": list(self.team),
            "speakers": list(self.speakers),
            "log": len(self.log),
            "cards": {p: list(c) for p, c in self.cards.items()},
            "conference": len(self.conference),
            "roles": {p: r.value for p, r in self.roles.items()},
            "winner": self.winner.value if self.winner else None,
        }

    def turn_metrics(self) -> Mapping[PlayerId, Mapping[str, float]]:
        """Quests succeeded and failed so far (the same for every seat)."""
        ok = float(sum(r.success for r in self.results))
        row = {"quests_succeeded": ok, "quests_failed": len(self.results) - ok}
        return {p: row for p in self.players}

    def episode_metrics(self) -> Mapping[PlayerId, Mapping[str, float]]:
        """Per seat: win, side, leadership, vote influence, quest play, assassination."""
        return metrics.seat_metrics(self.deal, self.log, self.cards, self.winner)

    def game_roles(self) -> Mapping[PlayerId, GameRole]:
        """Each seat's dealt role (``merlin``, ``assassin``, ...) and side (``good``, ``evil``)."""
        return {p: GameRole(r.value, r.side.value) for p, r in self.roles.items()}

    def describe_event(self, event: Event) -> str:
        """One transcript line."""
        return text.describe_event(event)
