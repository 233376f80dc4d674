"""One task round, resolved in the spec's fixed order over everyone's simultaneous choices.

1) MOVE and VENT at once; 2) KILL against post-move positions (the victim's own task, report or button
is void; the body stays in the room); 3) DO_TASK progress for surviving crewmates (and ghosts);
4) REPORT / BUTTON: the first valid caller in seat order. The world then advances the clock, checks
for a winner, ticks the cooldowns of impostors who did not kill, and runs a meeting if one was called.

Who sees what: a corridor move is seen by the living in the room left (at the start of the round) and
in the room entered (after moves); a vent by the living in the room left, while the destination sees
only an ``appear``; a kill by the killer, the victim and the witnesses (the living in the room after
moves but the killer and the victims; with ``busy_blind`` not those doing a task); a task by its doer,
and as ``busy`` (real and fake tasks alike) by the others in the room. Ghosts are seen by nobody. A
living seat that entered a room (or, with ``busy_blind``, spent the round on a task) gets a ``sight``
of the living and the bodies there after the round, for itself alone: what its observation shows, so
a stored log says what each seat saw.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.types import Event, PlayerId
from worlds.among_us.maps import GameMap
from worlds.among_us.params import AmongUsParams
from worlds.among_us.records import Branch, Phase, Role
from worlds.among_us.state import GameState

Choice = tuple[Branch, Any]


@dataclass(frozen=True)
class Call:
    """A meeting called this round."""

    caller: PlayerId
    call: str  # "report" or "button"
    room: str
    body: PlayerId | None


def _event(turn: int, kind: str, payload: Mapping[str, Any], actor: PlayerId, seen: set[PlayerId]) -> Event:
    return Event(turn, Phase.TASKS.value, kind, dict(payload), actor=actor, visible_to=tuple(sorted(seen)))


def resolve_round(
    state: GameState, game_map: GameMap, params: AmongUsParams, choices: Mapping[PlayerId, Choice], turn: int
) -> tuple[list[Event], Call | None, set[PlayerId]]:
    """Apply one round's choices (seat order); returns its events, the meeting called (if any) and the
    impostors who killed."""
    events: list[Event] = []
    living_start = [p for p in choices if state.alive[p]]
    start_room = dict(state.room)
    start_bodies = dict(state.bodies)
    # 1) moves and vents, all at once
    for p, (branch, target) in choices.items():
        if branch in (Branch.MOVE, Branch.VENT):
            state.room[p] = target
    for p, (branch, target) in choices.items():
        origin = start_room[p]
        if branch is Branch.MOVE:
            seen = {p}
            if state.alive[p]:
                seen |= {q for q in living_start if start_room[q] == origin or state.room[q] == target}
            events.append(_event(turn, "move", {"player": p, "from": origin, "to": target}, p, seen))
        elif branch is Branch.VENT:
            seen = {p} | {q for q in living_start if start_room[q] == origin}
            events.append(_event(turn, "vent", {"player": p, "from": origin, "to": target}, p, seen))
            arrivals = {q for q in living_start if state.room[q] == target} - {p}
            if arrivals:
                events.append(_event(turn, "appear", {"player": p, "room": target}, p, arrivals))
    # 2) kills against post-move positions
    killers: set[PlayerId] = set()
    kills: list[tuple[PlayerId, PlayerId]] = []
    for p, (branch, target) in choices.items():
        if branch is not Branch.KILL:
            continue
        if not state.alive[target] or state.room[target] != state.room[p]:
            why = "already dead" if not state.alive[target] else "no longer in the room"
            events.append(_event(turn, "kill_failed", {"killer": p, "target": target, "reason": why}, p, {p}))
            continue
        state.alive[target] = False
        state.bodies[target] = state.room[p]
        state.kill_cd[p] = params.kill_cooldown
        killers.add(p)
        kills.append((p, target))
    busy = {p for p, (b, _) in choices.items() if b in (Branch.TASK, Branch.FAKE_TASK)}
    for killer, victim in kills:
        room = state.room[killer]
        witnesses = [q for q in state.in_room(room) if q != killer and not (params.busy_blind and q in busy)]
        record = {
            "killer": killer,
            "victim": victim,
            "room": room,
            "witnesses": witnesses,
            "clock": state.clock + 1,
        }
        state.kills.append(record)
        events.append(_event(turn, "kill", record, killer, {killer, victim, *witnesses}))
    # 3) task progress (the dead's void, ghosts' counted with dead_tasks=ghosts)
    for p, (branch, target) in choices.items():
        was_alive = p in living_start
        if (was_alive and not state.alive[p]) or branch not in (Branch.TASK, Branch.FAKE_TASK):
            continue
        room = state.room[p]
        if branch is Branch.TASK:
            task = next(t for t in state.unfinished(p, room) if t.name == target)
            state.tasks[p][task] += 1
            done = state.tasks[p][task]
            payload = {"player": p, "task": task.name, "room": room, "done": done, "turns": task.turns}
            events.append(_event(turn, "task", payload, p, {p}))
        else:
            events.append(_event(turn, "fake_task", {"player": p, "room": room}, p, {p}))
        if state.alive[p]:
            onlookers = set(state.in_room(room)) - {p}
            if onlookers:
                events.append(_event(turn, "busy", {"player": p, "room": room}, p, onlookers))
    # what each seat that entered a room (or, with busy_blind, worked blind) finds there after the round
    for p, (branch, _) in choices.items():
        looked = branch in (Branch.MOVE, Branch.VENT) or (params.busy_blind and p in busy)
        if looked and state.alive[p]:
            events.append(_sight(turn, state, p))
    # 4) the first valid report or button press, in seat order
    call = None
    for p, (branch, _) in choices.items():
        if not state.alive[p] or branch not in (Branch.REPORT, Branch.BUTTON):
            continue
        room = state.room[p]
        if branch is Branch.REPORT:
            body = next(v for v, r in start_bodies.items() if r == room)
            call = Call(p, "report", room, body)
        else:
            state.use_button(p)
            call = Call(p, "button", room, None)
        break
    return events, call, killers


def _sight(turn: int, state: GameState, p: PlayerId) -> Event:
    """The living others and the bodies in ``p``'s room, for ``p`` alone (what its observation shows)."""
    room = state.room[p]
    occupants = [q for q in state.in_room(room) if q != p]
    bodies = sorted(v for v, r in state.bodies.items() if r == room)
    payload = {"player": p, "room": room, "occupants": occupants, "bodies": bodies}
    return _event(turn, "sight", payload, p, {p})


def offered_kill_targets(state: GameState, player: PlayerId) -> tuple[PlayerId, ...]:
    """Living crewmates in an impostor's room, when its cooldown is over."""
    if state.roles[player] is not Role.IMPOSTOR or state.kill_cd[player] > 0:
        return ()
    room = state.room[player]
    return tuple(q for q in state.in_room(room) if state.roles[q] is Role.CREWMATE)
