"""Rule-based bots for ``social/among_us-v1``. One agent, ``among_us_bot``, plays the role it is dealt.

- Crewmate: reports a body in its room; does a task when one is here; otherwise walks the shortest
  corridor path to its nearest unfinished task (ties by room name), and with every task done wanders.
  It remembers what it saw: a kill or a vent makes that seat certain, being in a room with a body it
  found makes the occupants suspects, and so does being the last seat it saw walk into the room where a
  body is announced. It presses the button when it knows an impostor. It speaks its certainty or
  suspicion ("I suspect pX.") or its whereabouts; falsely accused, it names its accuser. It votes the
  certain impostor, else a suspect, else the seat most accused in this meeting, else skip.
- Impostor: kills when off cooldown and alone with one crewmate. Next to a body it sometimes reports
  it itself (framing the crewmate it saw last), else leaves by vent or corridor. While its cooldown
  runs it fakes the tasks of its fake list in their rooms (as many rounds as each takes). Hunting (its
  cooldown about to end) it stays with crewmates until one walks away and follows that one, or walks
  the shortest path to where it last saw a crewmate (else to a fake-task room, which every crewmate
  visits). In meetings it claims the room it faked in and joins the most accused crewmate, else
  deflects onto whoever accused it, else (after reporting its own kill) frames; it never votes a fellow
  impostor.
- The survey ("who is most suspicious?", when the world asks): the seat it would vote for now, else skip.

Every choice is deterministic under the seat's seed (its own ``rng``; no global RNG).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import networkx as nx

from agents.scripted.base import ScriptedAgent
from sim.types import Action, ActionKind, ActionSpec, Observation, PlayerId, WorldSpec
from worlds.among_us.observations import AmongUsPrivate, AmongUsPublic
from worlds.among_us.records import SKIP, Branch, Phase, Role

ACCUSATION = re.compile(r"suspect (p\d+)")
#: An impostor starts hunting when its cooldown is at most this (the kill comes a round later).
HUNT_AHEAD = 1
#: How often an impostor alone with a body reports it itself.
SELF_REPORT = 0.2
#: How often an impostor leaving a body takes a vent rather than a corridor (a vent arrival is seen).
VENT_AWAY = 0.5

Hops = Mapping[str, Mapping[str, int]]


class AmongUsBot(ScriptedAgent):
    """Among Us by role: crewmates do tasks, report and vote on evidence; impostors hunt, kill alone and
    deflect."""

    worlds = ("social/among_us-v1",)

    def reset(self, seat: PlayerId, world: WorldSpec, seed: int) -> None:
        """Forget the last game."""
        super().reset(seat, world, seed)
        self.certain: set[PlayerId] = set()
        self.suspects: Counter[PlayerId] = Counter()
        self.read = 0  # history records already read
        self.hops: Hops | None = None
        self.faked: Counter[str] = Counter()  # impostor: fake-task rounds done per room
        self.alibi: str | None = None  # impostor: the last room it faked a task in
        self.frame: PlayerId | None = None  # impostor: whom it accuses after reporting its own kill
        self.trail: tuple[str, str] | None = None  # the last walk seen since the last decision
        self.last_seen: dict[PlayerId, tuple[int, str]] = {}  # seat -> (turn, room) where last seen
        self.entered: dict[str, list[PlayerId]] = {}  # room -> the seats seen walking in, latest last
        self.patrol: str | None = None  # impostor: the room it walks to when it knows of nobody

    def decide(self, observation: Observation) -> Action:
        """One action for the current phase."""
        pub, me = observation.public, observation.private
        assert isinstance(pub, AmongUsPublic) and isinstance(me, AmongUsPrivate)
        legal = observation.action_spec()
        self._learn(observation.history, me, observation.turn)
        if pub.phase is Phase.DISCUSS:
            return Action(ActionKind.TEXT, self._speech(pub, me)[: legal.max_chars or None])
        if pub.phase is Phase.VOTE:
            return Action(ActionKind.CHOICE, self._vote(pub, me, legal.options))
        if pub.phase is Phase.SURVEY:
            return Action(ActionKind.CHOICE, self._survey_answer(pub, me, legal.options))
        branches = dict(legal.branches)
        branch, value = (
            self._impostor(pub, me, branches) if me.role is Role.IMPOSTOR else self._crew(pub, me, branches)
        )
        return Action(ActionKind.ONE_OF, {"branch": str(branch), "value": value})

    # memory ---------------------------------------------------------------------------------
    def _learn(self, history: Sequence[Mapping[str, Any]], me: AmongUsPrivate, turn: int) -> None:
        self.trail = None
        for record in history[self.read :]:
            kind = record["kind"]
            if kind == "kill" and record["killer"] != self.seat:
                self.certain.add(record["killer"])
            elif kind == "vent" and record["player"] != self.seat:
                self.certain.add(record["player"])
            elif kind == "appear":
                self.suspects[record["player"]] += 1
            elif kind == "move" and record["player"] != self.seat:
                self.trail = (record["from"], record["to"])
                self.last_seen[record["player"]] = (record["turn"], record["to"])
                walked_in = self.entered.setdefault(record["to"], [])
                if record["player"] in walked_in:
                    walked_in.remove(record["player"])
                walked_in.append(record["player"])
            elif kind == "meeting":
                self._on_meeting(record)
        self.read = len(history)
        for p, (_, room) in list(self.last_seen.items()):
            if room == me.room and p not in me.occupants:  # gone since
                del self.last_seen[p]
        for p in me.occupants:
            self.last_seen[p] = (turn, me.room)
        if me.bodies:
            for p in me.occupants:
                self.suspects[p] += 1
        if me.impostors is not None:  # an impostor never suspects its partners
            for p in (*me.impostors, self.seat):
                self.certain.discard(p)
                self.suspects.pop(p, None)

    def _on_meeting(self, record: Mapping[str, Any]) -> None:
        """A body announced in a room: the last seat this one saw walk in there becomes a suspect."""
        body, room = record.get("body"), record.get("room")
        if body is not None:
            ignore = {self.seat, body, record["caller"]}
            walked_in = [p for p in self.entered.get(str(room), []) if p not in ignore]
            if walked_in:
                self.suspects[walked_in[-1]] += 1
        self.entered.clear()
        self.last_seen.clear()  # everyone is gathered and then scatters

    def _hops(self, pub: AmongUsPublic) -> Hops:
        """Corridor distances between every two rooms of this game's map."""
        if self.hops is None:
            self.hops = corridor_hops(pub.rooms, pub.corridors)
        return self.hops

    def _toward(self, pub: AmongUsPublic, here: str, goal: str, options: Sequence[str]) -> str:
        """The corridor neighbour on a shortest path to ``goal`` (ties by name)."""
        hops = self._hops(pub)
        return min(options, key=lambda r: (hops[r][goal], r))

    # task rounds ----------------------------------------------------------------------------
    def _crew(
        self, pub: AmongUsPublic, me: AmongUsPrivate, branches: Mapping[str, ActionSpec | None]
    ) -> tuple[str, Any]:
        if Branch.REPORT in branches:
            return Branch.REPORT, None
        if Branch.BUTTON in branches and self.certain - set(pub.known_dead):
            return Branch.BUTTON, None
        task = branches.get(Branch.TASK)
        if task is not None:
            return Branch.TASK, task.options[0]
        move = branches.get(Branch.MOVE)
        todo = [t.room for t in me.tasks if t.done < t.turns]
        if move is None or (not me.alive and not todo):
            return Branch.WAIT, None
        if not todo:
            return Branch.MOVE, self.rng.choice(move.options)
        hops = self._hops(pub)
        goal = min(todo, key=lambda r: (hops[me.room][r], r))
        return Branch.MOVE, self._toward(pub, me.room, goal, move.options)

    def _impostor(
        self, pub: AmongUsPublic, me: AmongUsPrivate, branches: Mapping[str, ActionSpec | None]
    ) -> tuple[str, Any]:
        partners = set(me.impostors or ())
        crew_here = [p for p in me.occupants if p not in partners]
        kill = branches.get(Branch.KILL)
        if kill is not None and len(crew_here) == 1 and crew_here[0] in kill.options:
            return Branch.KILL, crew_here[0]
        if me.bodies:
            return self._leave_body(me, branches, crew_here)
        move = branches.get(Branch.MOVE)
        fake = self._fake_goal(pub, me)
        hunting = (me.kill_cooldown or 0) <= HUNT_AHEAD or fake is None
        if hunting:
            if self.trail is not None and self.trail[0] == me.room and move and self.trail[1] in move.options:
                return Branch.MOVE, self.trail[1]  # follow whoever just walked away
            if crew_here or move is None:
                return self._fake_here(me)  # wait with them until one is alone
            goal: str | None = self._prey_room(pub, me) or fake or self._patrol(pub, me)
        else:
            goal = fake
        if goal is None or goal == me.room or move is None:
            return self._fake_here(me)
        return Branch.MOVE, self._toward(pub, me.room, goal, move.options)

    def _patrol(self, pub: AmongUsPublic, me: AmongUsPrivate) -> str:
        """A random room to walk to, kept until reached."""
        if self.patrol is None or self.patrol == me.room:
            self.patrol = self.rng.choice([r for r in pub.rooms if r != me.room])
        return self.patrol

    def _leave_body(
        self, me: AmongUsPrivate, branches: Mapping[str, ActionSpec | None], crew_here: list[PlayerId]
    ) -> tuple[str, Any]:
        """Report it itself now and then (nobody else here), else vent or walk away."""
        if not crew_here and Branch.REPORT in branches and self.rng.random() < SELF_REPORT:
            seen = [p for p in self.last_seen if p not in me.bodies and p not in (me.impostors or ())]
            self.frame = max(seen, key=lambda p: (self.last_seen[p][0], p)) if seen else None
            return Branch.REPORT, None
        vent, move = branches.get(Branch.VENT), branches.get(Branch.MOVE)
        if vent is not None and (move is None or self.rng.random() < VENT_AWAY):
            return Branch.VENT, self.rng.choice(vent.options)
        if move is not None:
            return Branch.MOVE, self.rng.choice(move.options)
        return self._fake_here(me)

    def _fake_goal(self, pub: AmongUsPublic, me: AmongUsPrivate) -> str | None:
        """The nearest room of the fake list with fake-task rounds left, or None when all are done."""
        hops = self._hops(pub)
        left = [t.room for t in me.tasks if self.faked[t.room] < t.turns]
        return min(left, key=lambda r: (hops[me.room][r], r)) if left else None

    def _fake_here(self, me: AmongUsPrivate) -> tuple[str, Any]:
        self.faked[me.room] += 1
        self.alibi = me.room
        return Branch.FAKE_TASK, None

    def _prey_room(self, pub: AmongUsPublic, me: AmongUsPrivate) -> str | None:
        """Where the crewmate seen most recently (ties: the nearer room, then the seat) was, if elsewhere."""
        hops = self._hops(pub)
        partners = set(me.impostors or ())
        sightings = [
            (turn, room, p)
            for p, (turn, room) in self.last_seen.items()
            if p not in partners and p not in pub.known_dead and room != me.room
        ]
        if not sightings:
            return None
        _, room, _ = max(sightings, key=lambda s: (s[0], -hops[me.room][s[1]], s[2]))
        return room

    # meetings -------------------------------------------------------------------------------
    def _accusations(self, pub: AmongUsPublic) -> Counter[PlayerId]:
        said: Counter[PlayerId] = Counter()
        if pub.meeting is not None:
            for speech in pub.meeting.speeches:
                for target in ACCUSATION.findall(str(speech["text"])):
                    if target != speech["player"]:
                        said[target] += 1
        return said

    def _accusers(self, pub: AmongUsPublic, alive: Sequence[PlayerId]) -> list[PlayerId]:
        """Seats that accused this one in this meeting, still in ``alive``."""
        if pub.meeting is None:
            return []
        said = [s["player"] for s in pub.meeting.speeches if f"suspect {self.seat}." in str(s["text"])]
        return [p for p in dict.fromkeys(said) if p in alive]

    def _most_accused(self, pub: AmongUsPublic, alive: Sequence[PlayerId]) -> PlayerId | None:
        said = self._accusations(pub)
        ranked = [p for p in alive if said[p]]
        if ranked:
            top = max(said[p] for p in ranked)
            leaders = [p for p in ranked if said[p] == top]
            if len(leaders) == 1:
                return leaders[0]
        return None

    def _target(self, pub: AmongUsPublic, me: AmongUsPrivate, living: Sequence[PlayerId]) -> PlayerId | None:
        """Whom this seat would eject, if anyone."""
        alive = [p for p in living if p != self.seat and p not in (me.impostors or ())]
        if me.role is Role.IMPOSTOR:
            leader = self._most_accused(pub, alive)
            if leader is not None:
                return leader
            accusers = self._accusers(pub, alive)
            if accusers:
                return accusers[0]
            return self.frame if self.frame in alive else None
        certain = [p for p in alive if p in self.certain]
        if certain:
            return certain[0]
        suspects = [p for p in alive if self.suspects[p]]
        if suspects:
            return max(suspects, key=lambda p: (self.suspects[p], -alive.index(p)))
        accusers = self._accusers(pub, alive)
        if accusers:  # it knows it is innocent: whoever accuses it is wrong or lying
            return accusers[0]
        return self._most_accused(pub, alive)

    def _speech(self, pub: AmongUsPublic, me: AmongUsPrivate) -> str:
        living = [p for p in pub.players if p not in pub.known_dead]
        target = self._target(pub, me, living)
        if me.role is Role.IMPOSTOR:
            faked = [t for t in me.tasks if t.room == self.alibi] or list(me.tasks)
            task = faked[0] if faked else None
            alibi = f"I was doing {task.name} in {task.room}." if task else "I was doing my tasks."
            return f"{alibi} I suspect {target}." if target else alibi
        if target in self.certain:
            return f"I saw it: I suspect {target}."
        if target is not None and self.suspects[target]:
            return f"I was near a body with them: I suspect {target}."
        if target is not None and target in self._accusers(pub, [target]):
            return f"I am innocent: I suspect {target}."
        return f"No evidence; I was in {me.room}."

    def _vote(self, pub: AmongUsPublic, me: AmongUsPrivate, options: Sequence[str]) -> str:
        living = [o for o in options if o != SKIP]
        target = self._target(pub, me, living)
        return target if target is not None and target in options else SKIP

    # the survey -----------------------------------------------------------------------------
    def _survey_answer(self, pub: AmongUsPublic, me: AmongUsPrivate, options: Sequence[str]) -> str:
        """The most suspicious seat: the one it would vote for now (certain, suspect, most accused in the
        speeches so far), else skip. No randomness: answering does not change its later play."""
        return self._vote(pub, me, options)


@lru_cache(maxsize=16)
def corridor_hops(rooms: tuple[str, ...], corridors: tuple[tuple[str, str], ...]) -> Hops:
    """All-pairs corridor distances of a map, computed once per map."""
    graph = nx.Graph()
    graph.add_nodes_from(rooms)
    graph.add_edges_from(corridors)
    return dict(nx.all_pairs_shortest_path_length(graph))
