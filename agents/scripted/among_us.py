"""Rule-based bots for ``social/among_us-v1``. One agent, ``among_us_bot``, plays the role it is dealt.

- Crewmate: reports a body in its room; does a task when one is here; otherwise walks the shortest
  corridor path to its nearest unfinished task (ties by room name), and with every task done wanders.
  It remembers what it saw: a kill or a vent makes that seat certain, being in a room with a body it
  found makes the occupants suspects. It presses the button when it knows an impostor. It speaks its
  certainty or suspicion ("I suspect pX.") or its whereabouts, and votes the certain impostor, else a
  suspect, else the seat most accused in this meeting, else skip.
- Impostor: kills when off cooldown and alone with one crewmate; next to a body it vents away (or
  walks); alone, it follows the last player it saw walk out of its room; otherwise it fakes a task in
  a room of its fake list once per visit or walks at random. It
  claims a task, deflects onto whoever accused it (else the most accused crewmate) and votes that seat,
  else skip; it never votes a fellow impostor.
- The survey ("who is most suspicious?", when the world asks): the seat it would vote for now, else skip.

Every choice is deterministic under the seat's seed (its own ``rng``; no global RNG).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx

from agents.scripted.base import ScriptedAgent
from sim.types import Action, ActionKind, ActionSpec, Observation, PlayerId, WorldSpec
from worlds.among_us.observations import AmongUsPrivate, AmongUsPublic
from worlds.among_us.records import SKIP, Branch, Phase, Role

ACCUSATION = re.compile(r"suspect (p\d+)")


class AmongUsBot(ScriptedAgent):
    """Among Us by role: crewmates do tasks, report and vote on evidence; impostors kill alone and deflect."""

    worlds = ("social/among_us-v1",)

    def reset(self, seat: PlayerId, world: WorldSpec, seed: int) -> None:
        """Forget the last game."""
        super().reset(seat, world, seed)
        self.certain: set[PlayerId] = set()
        self.suspects: Counter[PlayerId] = Counter()
        self.read = 0  # history records already read
        self.graph: nx.Graph | None = None
        self.faked_in: str | None = None
        self.trail: tuple[str, str] | None = None  # the last walk seen: (from, to)

    def decide(self, observation: Observation) -> Action:
        """One action for the current phase."""
        pub, me = observation.public, observation.private
        assert isinstance(pub, AmongUsPublic) and isinstance(me, AmongUsPrivate)
        legal = observation.action_spec()
        self._learn(observation.history, me)
        if pub.phase is Phase.DISCUSS:
            return Action(ActionKind.TEXT, self._speech(pub, me)[: legal.max_chars or None])
        if pub.phase is Phase.VOTE:
            return Action(ActionKind.CHOICE, self._vote(pub, me, legal.options))
        if pub.phase is Phase.SURVEY:
            return Action(ActionKind.CHOICE, self._survey_answer(pub, me, legal.options))
        branches = dict(legal.branches)
        branch, value = (
            self._impostor(me, branches) if me.role is Role.IMPOSTOR else self._crew(pub, me, branches)
        )
        return Action(ActionKind.ONE_OF, {"branch": str(branch), "value": value})

    # memory ---------------------------------------------------------------------------------
    def _learn(self, history: Sequence[Mapping[str, Any]], me: AmongUsPrivate) -> None:
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
        self.read = len(history)
        if me.bodies:
            for p in me.occupants:
                self.suspects[p] += 1
        if me.impostors is not None:  # an impostor never suspects its partners
            for p in (*me.impostors, self.seat):
                self.certain.discard(p)
                self.suspects.pop(p, None)

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
        graph = self._graph(pub)
        goal = min(todo, key=lambda r: (nx.shortest_path_length(graph, me.room, r), r))
        hops = {r: nx.shortest_path_length(graph, r, goal) for r in move.options}
        return Branch.MOVE, min(move.options, key=lambda r: (hops[r], r))

    def _impostor(self, me: AmongUsPrivate, branches: Mapping[str, ActionSpec | None]) -> tuple[str, Any]:
        kill = branches.get(Branch.KILL)
        partners = set(me.impostors or ())
        crew_here = [p for p in me.occupants if p not in partners]
        if kill is not None and len(crew_here) == 1 and crew_here[0] in kill.options:
            return Branch.KILL, crew_here[0]
        move = branches.get(Branch.MOVE)
        if me.bodies:
            vent = branches.get(Branch.VENT)
            if vent is not None:
                return Branch.VENT, self.rng.choice(vent.options)
            if move is not None:
                return Branch.MOVE, self.rng.choice(move.options)
        if me.room != self.faked_in and any(t.room == me.room for t in me.tasks):
            self.faked_in = me.room
            return Branch.FAKE_TASK, None
        if move is not None and self.trail is not None and self.trail[0] == me.room and not crew_here:
            follow = self.trail[1]
            self.trail = None
            if follow in move.options:
                self.faked_in = None
                return Branch.MOVE, follow
        if move is not None and self.rng.random() < 0.8:
            self.faked_in = None
            return Branch.MOVE, self.rng.choice(move.options)
        return Branch.FAKE_TASK, None

    def _graph(self, pub: AmongUsPublic) -> nx.Graph:
        if self.graph is None:
            self.graph = nx.Graph()
            self.graph.add_nodes_from(pub.rooms)
            self.graph.add_edges_from(pub.corridors)
        return self.graph

    # meetings -------------------------------------------------------------------------------
    def _accusations(self, pub: AmongUsPublic) -> Counter[PlayerId]:
        said: Counter[PlayerId] = Counter()
        if pub.meeting is not None:
            for speech in pub.meeting.speeches:
                for target in ACCUSATION.findall(str(speech["text"])):
                    if target != speech["player"]:
                        said[target] += 1
        return said

    def _target(self, pub: AmongUsPublic, me: AmongUsPrivate, living: Sequence[PlayerId]) -> PlayerId | None:
        """Whom this seat would eject, if anyone."""
        alive = [p for p in living if p != self.seat and p not in (me.impostors or ())]
        certain = [p for p in alive if p in self.certain]
        if certain:
            return certain[0]
        if me.role is Role.IMPOSTOR and pub.meeting is not None:
            accusers = [s["player"] for s in pub.meeting.speeches if f"suspect {self.seat}" in str(s["text"])]
            accusers = [p for p in accusers if p in alive]
            if accusers:
                return accusers[0]
        suspects = [p for p in alive if self.suspects[p]]
        if suspects:
            return max(suspects, key=lambda p: (self.suspects[p], -alive.index(p)))
        said = self._accusations(pub)
        ranked = [p for p in alive if said[p]]
        if ranked:
            top = max(said[p] for p in ranked)
            leaders = [p for p in ranked if said[p] == top]
            if len(leaders) == 1:
                return leaders[0]
        return None

    def _speech(self, pub: AmongUsPublic, me: AmongUsPrivate) -> str:
        living = [p for p in pub.players if p not in pub.known_dead]
        target = self._target(pub, me, living)
        if me.role is Role.IMPOSTOR:
            task = me.tasks[0] if me.tasks else None
            alibi = f"I was doing {task.name} in {task.room}." if task else "I was doing my tasks."
            return f"{alibi} I suspect {target}." if target else alibi
        if target in self.certain:
            return f"I saw it: I suspect {target}."
        if target is not None:
            return f"I was near a body with them: I suspect {target}."
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
