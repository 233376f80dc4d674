"""What the Among Us viewer draws, as data (Streamlit-free, so each builder is testable on its own).

Everything is rebuilt from the events a view may show (:class:`sim.viewer.renderers.EpisodeView`):
all of them for the omniscient view, else only those the seat could see. A seat view is built from
the seat's knowledge, never from the true state: it starts with everyone at the spawn (public), and
then knows who is in its own room only from what it saw (a walk or vent into or out of its room, an
``appear``, a kill and its witnesses, someone busy with a task) and from the meetings (everyone living
gathers in the meeting room). It draws players only in its own room and bodies only where it saw them
(until a meeting clears them); after its death nothing new is added. A seat that walks into a room
does not learn from the events who was already there, so a seat view may show fewer players than
the seat's observation listed, never more.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

import networkx as nx
import pandas as pd

from sim.types import Event, PlayerId
from worlds.among_us.maps import GameMap, load_map
from worlds.among_us.records import Role
from worlds.among_us.rules import slot_turns

GRID_ROOM = re.compile(r"\((\d+),(\d+)\)")
LAYOUT_SEED = 0  # the spring layout of a map without coordinates: deterministic
OFFSET = 0.32  # how far players sharing a room sit from its centre (map units)
POSITION_COLUMNS = ["player", "room", "status", "x", "y"]
MOVE_COLUMNS = ["player", "kind", "from", "to", "x", "y", "x2", "y2"]

#: The Skeld's rooms where the game's ship has them (left to right, bottom to top), for both Skeld maps.
SKELD_LAYOUT: Mapping[str, tuple[float, float]] = {
    "Upper Engine": (1.0, 8.0),
    "Reactor": (0.0, 5.0),
    "Security": (2.2, 5.0),
    "Lower Engine": (1.0, 2.0),
    "Medbay": (3.8, 6.6),
    "Electrical": (3.8, 3.2),
    "Cafeteria": (6.0, 8.2),
    "Storage": (6.0, 2.4),
    "Admin": (7.6, 4.6),
    "Weapons": (9.2, 8.0),
    "O2": (8.4, 6.2),
    "Navigation": (11.0, 5.0),
    "Shields": (9.2, 2.0),
    "Communications": (7.6, 0.6),
}


# the map -------------------------------------------------------------------------------------------
def room_layout(game_map: GameMap) -> dict[str, tuple[float, float]]:
    """Each room's position: the Skeld's own layout, a grid room's ``(x,y)``, else a seeded spring
    layout of the corridors (the same picture every time)."""
    rooms = game_map.rooms
    if all(r in SKELD_LAYOUT for r in rooms):
        return {r: SKELD_LAYOUT[r] for r in rooms}
    cells = {r: GRID_ROOM.fullmatch(r) for r in rooms}
    if all(cells.values()):
        return {r: (2.0 * float(m[1]), 2.0 * float(m[2])) for r, m in cells.items() if m}
    laid = nx.spring_layout(game_map.corridors, seed=LAYOUT_SEED, scale=5.0)
    return {r: (float(laid[r][0]), float(laid[r][1])) for r in rooms}


def map_frames(game_map: GameMap, layout: Mapping[str, tuple[float, float]]) -> dict[str, pd.DataFrame]:
    """``rooms`` (name, x, y, what is there), ``corridors`` and ``vents`` (x, y, x2, y2 per edge)."""

    def edges(graph: nx.Graph) -> pd.DataFrame:
        rows = []
        for a, b in sorted(tuple(sorted(e)) for e in graph.edges):
            (x, y), (x2, y2) = layout[a], layout[b]
            rows.append({"from": a, "to": b, "x": x, "y": y, "x2": x2, "y2": y2})
        return pd.DataFrame(rows, columns=["from", "to", "x", "y", "x2", "y2"])

    rooms = pd.DataFrame(
        [
            {
                "room": r,
                "x": layout[r][0],
                "y": layout[r][1],
                "tasks": ", ".join(s.name for s in game_map.tasks[r]) or "none",
                "special": ", ".join(sorted(game_map.special[r])),
            }
            for r in game_map.rooms
        ],
        columns=["room", "x", "y", "tasks", "special"],
    )
    return {"rooms": rooms, "corridors": edges(game_map.corridors), "vents": edges(game_map.vents)}


@dataclass(frozen=True)
class Game:
    """What the ``start`` event tells every seat: the players, the map (and its layout), the rules."""

    players: tuple[PlayerId, ...]
    map: GameMap
    layout: Mapping[str, tuple[float, float]]
    rules: Mapping[str, Any]

    @classmethod
    def of(cls, events: Iterable[Event]) -> Game | None:
        """The game of ``events`` (None before its ``start``)."""
        start = next((e.payload for e in events if e.kind == "start"), None)
        if start is None:
            return None
        game_map = load_map(start["map"])
        return cls(tuple(start["players"]), game_map, room_layout(game_map), start["rules"])


# who is where --------------------------------------------------------------------------------------
@dataclass
class Sight:
    """Positions as a view knows them: the living by room, bodies by room, ghosts by room."""

    living: dict[PlayerId, str]
    bodies: dict[PlayerId, str] = field(default_factory=dict)
    ghosts: dict[PlayerId, str] = field(default_factory=dict)

    def rows(self) -> list[tuple[PlayerId, str, str]]:
        """(player, room, status) for each drawn player."""
        return [
            *((p, r, "alive") for p, r in self.living.items()),
            *((p, r, "body") for p, r in self.bodies.items()),
            *((p, r, "ghost") for p, r in self.ghosts.items()),
        ]


def death_turn(events: Iterable[Event], seat: PlayerId) -> int | None:
    """The turn ``seat`` was killed or ejected, or None while it lives."""
    for e in events:
        if (e.kind == "kill" and e.payload["victim"] == seat) or (
            e.kind == "eject" and e.payload["player"] == seat
        ):
            return e.turn
    return None


def until_death(events: Sequence[Event], seat: PlayerId | None) -> list[Event]:
    """The events a view shows: all for the omniscient view, a seat's only up to its death's turn."""
    if seat is None:
        return list(events)
    died = death_turn(events, seat)
    return [e for e in events if died is None or e.turn <= died]


def omniscient_sight(events: Sequence[Event], meeting_room: str, ghosts: bool) -> Sight:
    """Where everyone is after ``events`` (all of them): the living, unreported bodies, and with
    ``dead_tasks=ghosts`` the ghosts."""
    start = next(e.payload for e in events if e.kind == "start")
    room = dict.fromkeys(start["players"], start["spawn"])
    alive = dict.fromkeys(start["players"], True)
    bodies: dict[PlayerId, str] = {}
    for e in events:
        p = e.payload
        if e.kind in ("move", "vent"):
            room[p["player"]] = p["to"]
        elif e.kind == "kill":
            alive[p["victim"]] = False
            bodies[p["victim"]] = p["room"]
        elif e.kind == "meeting":
            bodies.clear()
            room.update(dict.fromkeys(p["alive"], meeting_room))
        elif e.kind == "eject":
            alive[p["player"]] = False
    return Sight(
        {q: room[q] for q, ok in alive.items() if ok},
        bodies,
        {q: room[q] for q, ok in alive.items() if ghosts and not ok and q not in bodies},
    )


def seat_sight(events: Sequence[Event], seat: PlayerId, meeting_room: str) -> Sight:
    """What ``seat`` knows of positions after ``events`` (those it saw, up to its death): itself,
    the players it knows are in its room, the bodies it saw. A ``sight`` (the seat entered a room, or
    worked blind under ``busy_blind``) says exactly who and which bodies are there."""
    start = next(e.payload for e in events if e.kind == "start")
    here: str = start["spawn"]
    with_me = {q for q in start["players"] if q != seat}
    bodies: dict[PlayerId, str] = {}
    dead = False
    for _, batch in groupby(events, key=lambda e: e.turn):
        turn_events = list(batch)
        moves = [e for e in turn_events if e.kind in ("move", "vent", "appear")]
        mine = next((e.payload["to"] for e in moves if e.payload.get("player") == seat), here)
        if mine != here:
            here, with_me = mine, set()
        for e in moves:
            q = e.payload["player"]
            if q == seat:
                continue
            arrived = e.payload["room"] if e.kind == "appear" else e.payload["to"]
            if arrived == here:
                with_me.add(q)
            else:
                with_me.discard(q)
        for e in turn_events:
            p = e.payload
            if e.kind == "kill":
                bodies[p["victim"]] = p["room"]
                with_me.discard(p["victim"])
                with_me |= {p["killer"], *p["witnesses"]} - {seat}
                dead = dead or p["victim"] == seat
            elif e.kind == "sight" and e.actor == seat:  # who and what is in its room: the whole truth
                here, with_me = p["room"], set(p["occupants"])
                bodies = {v: r for v, r in bodies.items() if r != here} | dict.fromkeys(p["bodies"], here)
            elif e.kind == "busy" and p["room"] == here:
                with_me.add(p["player"])
            elif e.kind == "meeting":
                here, bodies = meeting_room, {}
                with_me = set(p["alive"]) - {seat}
            elif e.kind == "eject":
                with_me.discard(p["player"])
                dead = dead or p["player"] == seat
    living = {} if dead else {seat: here, **{q: here for q in sorted(with_me)}}
    return Sight(living, bodies)


def positions(events: Sequence[Event], seat: PlayerId | None, game: Game) -> pd.DataFrame:
    """The positions frame (player, room, status alive/body/ghost, x, y) after ``events``, as the view
    knows them; players sharing a room sit on a small circle around it, in seat order."""
    shown = until_death(events, seat)
    meeting_room = game.map.meeting_room
    sight = (
        omniscient_sight(shown, meeting_room, game.rules.get("dead_tasks") == "ghosts")
        if seat is None
        else seat_sight(shown, seat, meeting_room)
    )
    order = {p: i for i, p in enumerate(game.players)}
    rows = sorted(sight.rows(), key=lambda row: (row[1], order[row[0]], row[2]))
    out = []
    for room, group in groupby(rows, key=lambda row: row[1]):
        members = list(group)
        cx, cy = game.layout[room]
        r = OFFSET if len(members) > 1 else 0.0
        for i, (player, _, status) in enumerate(members):
            angle = 2 * math.pi * i / len(members) + math.pi / 2
            out.append(
                {
                    "player": player,
                    "room": room,
                    "status": status,
                    "x": cx + r * math.cos(angle),
                    "y": cy + r * math.sin(angle),
                }
            )
    return pd.DataFrame(out, columns=POSITION_COLUMNS)


def turn_moves(events: Sequence[Event], turn: int, layout: Mapping[str, tuple[float, float]]) -> pd.DataFrame:
    """The walks and vents of ``turn`` among ``events`` (those the view shows), with their ends."""
    rows = []
    for e in events:
        if e.turn == turn and e.kind in ("move", "vent"):
            p = e.payload
            (x, y), (x2, y2) = layout[p["from"]], layout[p["to"]]
            rows.append(
                {"player": p["player"], "kind": e.kind, "from": p["from"], "to": p["to"]}
                | {"x": x, "y": y, "x2": x2, "y2": y2}
            )
    return pd.DataFrame(rows, columns=MOVE_COLUMNS)


def turn_kills(events: Sequence[Event], turn: int) -> list[Mapping[str, Any]]:
    """The kills of ``turn`` the view shows."""
    return [e.payload for e in events if e.turn == turn and e.kind == "kill"]


# tasks ----------------------------------------------------------------------------------------------
TASK_COLUMNS = ["player", "task", "room", "done", "turns"]


def _label_task(label: str) -> tuple[str, str]:
    """``Name (Room)`` as (name, room); a room may itself hold parentheses, as ``(0,1)``."""
    name, _, room = label.partition(" (")
    return name, room[:-1]


def task_table(events: Sequence[Event], seat: PlayerId | None, game: Game) -> pd.DataFrame:
    """Each task the view may know, one row (player, task, room, done, turns): every crewmate's from
    the deal (omniscient view), else a crewmate seat's own from its role; an impostor seat has none."""
    listed: list[tuple[PlayerId, str, str, int]] = []
    setup = next((e.payload for e in events if e.kind == "setup"), None)
    if seat is None and setup is not None:
        listed = [(p, n, r, t) for p, ts in setup["tasks"].items() for n, r, t in ts]
    elif seat is not None:
        role = next((e.payload for e in events if e.kind == "role" and e.actor == seat), None)
        if role is not None and role["role"] == Role.CREWMATE:
            for label in role["tasks"]:
                name, room = _label_task(label)
                kinds = {s.name: s.kind for s in game.map.tasks.get(room, ())}
                turns = slot_turns(kinds[name]) if name in kinds else int(game.rules["random_task_turns"])
                listed.append((seat, name, room, turns))
    done: dict[tuple[PlayerId, str, str], int] = {}
    for e in events:
        if e.kind == "task" and (seat is None or e.payload["player"] == seat):
            p = e.payload
            done[p["player"], p["task"], p["room"]] = int(p["done"])
    rows = [
        {"player": p, "task": n, "room": r, "done": done.get((p, n, r), 0), "turns": t}
        for p, n, r, t in listed
    ]
    return pd.DataFrame(rows, columns=TASK_COLUMNS)


def task_bars(tasks: pd.DataFrame, players: Sequence[PlayerId]) -> pd.DataFrame:
    """Per player with tasks: turns done, turns needed and the fraction done (seat order)."""
    rows = []
    for p in players:
        mine = tasks[tasks["player"] == p]
        if len(mine):
            done, need = int(mine["done"].sum()), int(mine["turns"].sum())
            rows.append({"player": p, "done": done, "turns": need, "progress": done / need if need else 1.0})
    return pd.DataFrame(rows, columns=["player", "done", "turns", "progress"])


# meetings -------------------------------------------------------------------------------------------
@dataclass
class MeetingRecord:
    """One meeting as the view shows it: the call, the speeches, the vote, the ejection, the surveys."""

    number: int
    turn: int
    caller: PlayerId
    call: str
    room: str
    body: PlayerId | None
    dead: list[PlayerId]
    speeches: list[Mapping[str, Any]] = field(default_factory=list)
    vote: Mapping[str, Any] | None = None
    eject: Mapping[str, Any] | None = None
    surveys: list[Mapping[str, Any]] = field(default_factory=list)


def meeting_records(events: Sequence[Event]) -> list[MeetingRecord]:
    """The meetings among ``events``, in order."""
    out: list[MeetingRecord] = []
    for e in events:
        p = e.payload
        if e.kind == "meeting":
            out.append(
                MeetingRecord(p["number"], e.turn, p["caller"], p["call"], p["room"], p["body"], p["dead"])
            )
        elif out and e.kind == "speech":
            out[-1].speeches.append(p)
        elif out and e.kind == "vote":
            out[-1].vote = p
        elif out and e.kind == "eject":
            out[-1].eject = p
        elif out and e.kind == "survey":
            out[-1].surveys.append(p)
    return out


def vote_table(vote: Mapping[str, Any]) -> pd.DataFrame:
    """One row per ballot: voter and the seat voted (or ``skip``)."""
    return pd.DataFrame(
        [{"voter": v, "vote": t} for v, t in vote["votes"].items()], columns=["voter", "vote"]
    )


def survey_table(meeting: MeetingRecord, players: Sequence[PlayerId]) -> pd.DataFrame:
    """One row per survey step (before the first speech, after each speech), one column per seat: the
    seat it found most suspicious (blank when it did not answer, as the dead)."""
    rows = []
    for s in meeting.surveys:
        step = "before the speeches" if s.get("after") is None else f"after {s['after']} (#{s['speech']})"
        rows.append({"step": step, **{p: s["answers"].get(p, "") for p in players}})
    return pd.DataFrame(rows, columns=["step", *players])
