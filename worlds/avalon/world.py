"""World ``social/avalon-v1``: The Resistance: Avalon for 5-10 players, official rules by default.

Rules. Roles are dealt secretly (evil = ceil(n/3) seats; Merlin, Percival, Assassin, Morgana, Mordred,
Oberon as configured, the rest Loyal Servants and Minions). Five quests with fixed team sizes per
player count. Each proposal: the leader names exactly the quest's team size of distinct seats (the
leader may leave itself out); then, with ``discussion``, every player speaks once (leader first, or
leader last); then everyone votes approve/reject at once. A team passes only with a strict majority
(``tie_approves`` makes a tie pass). The leader passes clockwise after every vote. Five rejected
teams in one quest give evil the win (``hammer="auto_approve"``: the fifth team passes whatever the
vote; ``forced_after_rejections=k``: after k rejections the next team goes on the quest unvoted).
On a quest each member plays success or fail at once; good players can only play success. The
quest fails with one fail card (two on quest 4 with 7+ players). Three failed quests: evil wins.
Three successful quests: evil (not Oberon) may confer, then the Assassin names one player; naming
Merlin wins for evil, anything else for good.

Who sees what. A seat's private view holds its role, its side, its night knowledge (Merlin: the evil
seats but Mordred; Percival: Merlin and Morgana, unlabelled; evil but Oberon: each other, as "evil"
or by role with ``evil_sees_roles``; Oberon and servants: nothing), its own quest cards and, for
conferring evil, the evil conference. Public: the role set, proposals, speeches, every seat's vote,
and each quest's number of fail cards (never who played them). The ``setup`` event (the full deal) is
visible to no seat; roles are revealed to all when the game ends. Returns: 1 to each winner, 0 else.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar, NamedTuple

from pydantic import BaseModel

from sim.types import (
    Action,
    ActionKind,
    ActionSpec,
    Dynamics,
    Event,
    HistoryView,
    IllegalActionError,
    Observation,
    Outcome,
    PlayerId,
)
from sim.types import WorldSpec as Spec
from sim.world import WorldBase
from worlds.avalon import metrics, text
from worlds.avalon.params import AvalonParams
from worlds.avalon.roles import (
    MAX_PLAYERS,
    MIN_PLAYERS,
    QUESTS,
    Role,
    Side,
    deal,
    fails_required,
    night_knowledge,
    quest_size,
    role_counts,
)

HAMMER = 5  # rejected teams in one quest that end the game (official rules)
APPROVE, REJECT = "approve", "reject"
SUCCESS, FAIL = "success", "fail"
_VOTES = (APPROVE, REJECT)


class Phase(enum.StrEnum):
    """Where the game is."""

    PROPOSE = "propose"
    DISCUSS = "discuss"
    VOTE = "vote"
    QUEST = "quest"
    CONFER = "confer"
    ASSASSINATE = "assassinate"
    END = "end"


class ProposalRecord(NamedTuple):
    """A team named by a leader (``forced``: it goes on the quest without a vote)."""

    kind: str
    quest: int
    attempt: int
    leader: PlayerId
    team: tuple[PlayerId, ...]
    forced: bool


class SpeechRecord(NamedTuple):
    """One public speech during a proposal's discussion (or, privately, the evil conference)."""

    kind: str
    quest: int
    attempt: int
    player: PlayerId
    text: str


class VoteRecord(NamedTuple):
    """Everyone's public vote on a team (``auto``: approved by the auto-approve hammer)."""

    kind: str
    quest: int
    attempt: int
    leader: PlayerId
    team: tuple[PlayerId, ...]
    votes: Mapping[PlayerId, str]
    approvals: int
    approved: bool
    auto: bool


class QuestRecord(NamedTuple):
    """A quest's result: only the number of fail cards is public."""

    kind: str
    quest: int
    team: tuple[PlayerId, ...]
    fails: int
    fails_required: int
    success: bool


class AssassinationRecord(NamedTuple):
    """The Assassin's guess."""

    kind: str
    assassin: PlayerId
    target: PlayerId
    correct: bool


class AvalonWorld(WorldBase):
    """Avalon as a pure state machine: one phase at a time, simultaneous votes and quest cards."""

    spec: ClassVar[Spec] = Spec(
        id="social/avalon-v1",
        title="The Resistance: Avalon",
        min_players=MIN_PLAYERS,
        max_players=MAX_PLAYERS,
        dynamics=Dynamics.SEQUENTIAL,
        hidden_info=True,
        max_turns=2_000,
        params_model=AvalonParams,
    )
    #: Parameter sets the conformance suite plays.
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {},
        {"roles": ["merlin", "percival", "morgana", "assassin"], "discussion_order": "after_leader"},
        {"roles": ["merlin", "assassin", "mordred"], "hammer": "auto_approve", "evil_sees_roles": True},
        {"roles": ["merlin", "assassin", "oberon"], "forced_after_rejections": 3, "tie_approves": True},
        {"roles": ["merlin", "assassin"], "discussion": False, "evil_confer": False, "seating": "fixed"},
    )

    @classmethod
    def run_report(cls, episodes: Sequence[Mapping[str, Any]]) -> dict[str, float]:
        """Win rate by side, how evil won, assassination accuracy and seat means over a run's episodes
        (``{"outcome": ..., "metrics": ...}`` each)."""
        return metrics.aggregate(episodes)

    @classmethod
    def check_players(cls, params: BaseModel, n_players: int) -> str | None:
        """Why ``params`` cannot seat ``n_players`` (the role set does not fit), or None."""
        assert isinstance(params, AvalonParams)
        try:
            deal(params.roles, n_players)
        except ValueError as exc:
            return str(exc)
        return None

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
        n = self.n = len(players)
        cards = deal(params.roles, n)  # raises ValueError naming the problem
        if params.seating == "shuffled":
            rng.shuffle(cards)
            self.leader = rng.randrange(n)
        else:
            self.leader = 0
        self.roles: dict[PlayerId, Role] = dict(zip(self.players, cards, strict=True))
        self.sides = {p: r.side for p, r in self.roles.items()}
        self.sizes = tuple(quest_size(n, q) for q in range(QUESTS))
        self.required = tuple(fails_required(n, q) for q in range(QUESTS))
        self.steps = 0
        self.phase = Phase.PROPOSE
        self.quest = 0  # 0-based
        self.attempt = 1  # proposal number within the quest
        self.rejections = 0
        self.team: tuple[PlayerId, ...] = ()
        self.speakers: list[PlayerId] = []
        self.log: list[Any] = []  # public records, in order
        self.results: list[QuestRecord] = []
        self.cards: dict[PlayerId, list[tuple[int, str]]] = {p: [] for p in self.players}
        self.conference: list[SpeechRecord] = []
        self.conferring = tuple(
            p for p, r in self.roles.items() if r.side is Side.EVIL and r is not Role.OBERON
        )
        self.assassination: AssassinationRecord | None = None
        self.winner: Side | None = None
        self.reason = ""
        self.proposals: dict[PlayerId, list[bool]] = {p: [] for p in self.players}  # approved?
        self.known = {
            p: MappingProxyType(night_knowledge(self.roles, p, params.evil_sees_roles)) for p in self.players
        }
        self._static = {
            "players": self.players,
            "n_players": n,
            "role_set": MappingProxyType(role_counts(cards)),
            "quest_sizes": self.sizes,
            "fails_required": self.required,
            "rules": MappingProxyType(
                {
                    "hammer": params.hammer,
                    "forced_after_rejections": params.forced_after_rejections,
                    "tie_approves": params.tie_approves,
                    "discussion": params.discussion,
                    "evil_confer": params.evil_confer,
                }
            ),
        }
        self._observations: dict[PlayerId, Observation] = {}
        self._public: Mapping[str, Any] | None = None
        events = [
            Event(
                0,
                Phase.PROPOSE,
                "start",
                {
                    "players": list(self.players),
                    "role_set": role_counts(cards),
                    "quest_sizes": list(self.sizes),
                    "fails_required": list(self.required),
                    "leader": self.players[self.leader],
                    "rules": params.model_dump(mode="json", exclude={"roles"}),
                },
            ),
            Event(
                0,
                Phase.PROPOSE,
                "setup",
                {"roles": {p: r.value for p, r in self.roles.items()}},
                visible_to=(),
            ),
        ]
        for p in self.players:
            role = self.roles[p]
            payload = {"role": role.value, "side": role.side.value, "known": dict(self.known[p])}
            events.append(Event(0, Phase.PROPOSE, "night", payload, actor=p, visible_to=(p,)))
        return events

    # protocol -------------------------------------------------------------------------------
    def to_act(self) -> tuple[PlayerId, ...]:
        """The leader, the speaker, every seat (votes), the team (cards), or the Assassin."""
        phase = self.phase
        if phase is Phase.PROPOSE:
            return (self.players[self.leader],)
        if phase in (Phase.DISCUSS, Phase.CONFER):
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
        if player not in self.roles:
            raise KeyError(f"{player!r} is not a seat of this game")
        if player not in self.to_act():
            return None
        phase = self.phase
        if phase is Phase.PROPOSE:
            size = self.sizes[self.quest]
            fallback = [self.players[(self.leader + i) % self.n] for i in range(size)]
            return ActionSpec(ActionKind.MULTI_CHOICE, self.players, size, size, fallback=fallback)
        if phase in (Phase.DISCUSS, Phase.CONFER):
            return ActionSpec(ActionKind.TEXT, max_chars=self.params.speech_max_chars, fallback="")
        if phase is Phase.VOTE:
            return ActionSpec(ActionKind.CHOICE, _VOTES, fallback=APPROVE)
        if phase is Phase.QUEST:
            options = (SUCCESS,) if self.sides[player] is Side.GOOD else (SUCCESS, FAIL)
            return ActionSpec(ActionKind.CHOICE, options, fallback=SUCCESS)
        targets = tuple(p for p in self.players if p != player)
        return ActionSpec(ActionKind.CHOICE, targets, fallback=targets[0])

    def observe(self, player: PlayerId) -> Observation:
        """The seat's view: public state and log, its own role, night knowledge and cards."""
        cached = self._observations.get(player)
        if cached is not None:
            return cached
        if player not in self.roles:
            raise KeyError(f"{player!r} is not a seat of this game")
        role = self.roles[player]
        private: dict[str, Any] = {
            "role": role.value,
            "side": role.side.value,
            "known": self.known[player],
            "cards": HistoryView(self.cards[player]),
        }
        if player in self.conferring and self.params.evil_confer:
            private["conference"] = HistoryView(self.conference)
        obs = Observation(
            player,
            self.steps,
            self.phase.value,
            self._public_view(),
            MappingProxyType(private),
            HistoryView(self.log),
            self.legal_actions(player),
        )
        self._observations[player] = obs
        return obs

    def _public_view(self) -> Mapping[str, Any]:
        if self._public is None:
            public: dict[str, Any] = {
                **self._static,
                "phase": self.phase.value,
                "quest": self.quest + 1,
                "attempt": self.attempt,
                "rejections": self.rejections,
                "leader": self.players[self.leader],
                "team": self.team,
                "results": tuple(SUCCESS if r.success else FAIL for r in self.results),
                "speaker": self.speakers[0] if self.phase in (Phase.DISCUSS, Phase.CONFER) else None,
            }
            if self.phase is Phase.END:
                public["winner"] = self.winner.value if self.winner else None
                public["reason"] = self.reason
                public["roles"] = MappingProxyType({p: r.value for p, r in self.roles.items()})
            self._public = MappingProxyType(public)
        return self._public

    def render(self, observation: Observation) -> str:
        """The observation as text (rules summary, own role and knowledge, game so far, what to do)."""
        return text.render_observation(observation)

    def step(self, actions: Mapping[PlayerId, Action]) -> list[Event]:
        """Apply the actions of every seat in ``to_act()``; illegal actions change nothing."""
        actors = self.to_act()
        if not actors:
            raise IllegalActionError(self.players[0], "the game is over")
        for p in actors:
            if p not in actions:
                raise IllegalActionError(p, f"{p} must act in the {self.phase} phase")
        for p in actions:
            if p not in actors:
                raise IllegalActionError(p, f"it is not {p}'s turn")
            legal = self.legal_actions(p)
            assert legal is not None
            problem = legal.check(actions[p])
            if problem is not None:
                raise IllegalActionError(p, problem)
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
        team = tuple(p for p in self.players if p in set(actions[leader].value))  # seat order
        forced = (
            self.params.forced_after_rejections is not None
            and self.rejections >= self.params.forced_after_rejections
        )
        self.team = team
        record = ProposalRecord("proposal", self.quest + 1, self.attempt, leader, team, forced)
        self.log.append(record)
        if forced:  # counts as approved; voted teams are counted when the vote is in
            self.proposals[leader].append(True)
        events = [self._event("proposal", record._asdict(), actor=leader)]
        if forced:
            self._pass_leader()
            self.phase = Phase.QUEST
        elif self.params.discussion:
            order = [self.players[(self.leader + i) % self.n] for i in range(self.n)]
            self.speakers = order if self.params.discussion_order == "leader_first" else order[1:] + order[:1]
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
        passed = approvals * 2 > self.n or (self.params.tie_approves and approvals * 2 == self.n)
        auto = not passed and self.params.hammer == "auto_approve" and self.rejections == HAMMER - 1
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
        self.proposals[leader].append(approved)
        self._pass_leader()
        if not approved:
            self.rejections += 1
        # ``rejections``: rejected teams in this quest so far, this vote included
        events = [self._event("vote", {**record._asdict(), "votes": votes, "rejections": self.rejections})]
        if approved:
            self.phase = Phase.QUEST
            return events
        self.attempt += 1
        self.team = ()
        if self.rejections >= HAMMER:
            events.append(self._finish(Side.EVIL, "hammer"))
        else:
            self.phase = Phase.PROPOSE
        return events

    def _play_quest(self, actions: Mapping[PlayerId, Action]) -> list[Event]:
        q = self.quest
        events = []
        for p in self.team:
            card = actions[p].value
            self.cards[p].append((q + 1, card))
            events.append(self._event("quest_card", {"quest": q + 1, "card": card}, actor=p, visible_to=(p,)))
        fails = sum(actions[p].value == FAIL for p in self.team)
        record = QuestRecord("quest", q + 1, self.team, fails, self.required[q], fails < self.required[q])
        self.log.append(record)
        self.results.append(record)
        events.append(self._event("quest", record._asdict()))
        self.team = ()
        failed = sum(not r.success for r in self.results)
        succeeded = len(self.results) - failed
        if failed == 3:
            events.append(self._finish(Side.EVIL, "quests_failed"))
        elif succeeded == 3:
            if Role.ASSASSIN not in self.roles.values():
                events.append(self._finish(Side.GOOD, "quests_succeeded"))
            elif self.params.evil_confer and len(self.conferring) > 1:
                assassin = self._assassin()
                self.speakers = [p for p in self.conferring if p != assassin] + [assassin]
                self.phase = Phase.CONFER
            else:
                self.phase = Phase.ASSASSINATE
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
        if not self.speakers:
            self.phase = Phase.ASSASSINATE
        return [self._event("confer", record._asdict(), actor=speaker, visible_to=self.conferring)]

    def _assassinate(self, actions: Mapping[PlayerId, Action]) -> list[Event]:
        assassin = self._assassin()
        target = actions[assassin].value
        correct = self.roles[target] is Role.MERLIN
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
        visible_to: tuple[PlayerId, ...] | str = "all",
    ) -> Event:
        return Event(self.steps, self.phase.value, kind, payload, actor=actor, visible_to=visible_to)  # type: ignore[arg-type]

    def _pass_leader(self) -> None:
        self.leader = (self.leader + 1) % self.n

    def _assassin(self) -> PlayerId:
        return next(p for p, r in self.roles.items() if r is Role.ASSASSIN)

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
        return metrics.seat_metrics(self)

    def describe_event(self, event: Event) -> str:
        """One transcript line."""
        return text.describe_event(event)
