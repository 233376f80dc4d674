"""Among Us maps: corridors and vents as two separate networkx graphs over the same rooms.

Built in: ``skeld`` (the corrected Skeld of the AmongLLMs fork, 25 corridors, 8 vents), ``skeld_amongagents``
(AmongAgents' original corridor list, for comparability) and ``grid:WxH`` (Sarkar et al.'s grid of rooms
named ``(x,y)``, no vents, no button, no named tasks). Anything else is a path to a YAML map file::

    rooms: {Name: {tasks: [{name: ..., kind: common|short|long} | "name"], special: [button, ...]}}
    corridors: [[A, B], ...]
    vents: [[A, B], ...]
    spawn: A
    meeting_room: A
    button_room: A     # optional: no emergency button without it

Two graphs, never one: a pair that is both a corridor and a vent keeps both (AmongAgents' simple
``nx.Graph`` kept only the corridor, which silently removed 6 of its 9 vents).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.safe_yaml import YamlProblem, load_text, read_limited
from worlds.among_us.records import TaskKind

GRID = re.compile(r"grid:(\d+)x(\d+)")
BUTTON = "button"


class MapError(ValueError):
    """A map that cannot be played; the message names the file (or map name) and the key."""


@dataclass(frozen=True)
class TaskSlot:
    """A task a room offers."""

    name: str
    kind: TaskKind


@dataclass(frozen=True)
class GameMap:
    """Rooms with their tasks and specials, the corridor graph, the vent graph and the special rooms."""

    name: str
    corridors: nx.Graph
    vents: nx.Graph
    tasks: Mapping[str, tuple[TaskSlot, ...]]
    special: Mapping[str, frozenset[str]]
    spawn: str
    meeting_room: str
    button_room: str | None
    hops: Mapping[str, Mapping[str, int]]  # corridor distances between every two rooms

    @property
    def rooms(self) -> tuple[str, ...]:
        """Every room, in the map's order."""
        return tuple(self.corridors.nodes)

    def corridor_neighbours(self, room: str) -> tuple[str, ...]:
        """Rooms one corridor away, sorted."""
        return self._corridor_neighbours[room]

    def vent_neighbours(self, room: str) -> tuple[str, ...]:
        """Rooms one vent away, sorted."""
        return self._vent_neighbours.get(room, ())

    @cached_property
    def _corridor_neighbours(self) -> Mapping[str, tuple[str, ...]]:
        return {room: tuple(sorted(self.corridors.neighbors(room))) for room in self.corridors}

    @cached_property
    def _vent_neighbours(self) -> Mapping[str, tuple[str, ...]]:
        return {room: tuple(sorted(self.vents.neighbors(room))) for room in self.vents}

    def next_step(self, room: str, goal: str) -> str | None:
        """The first room of a shortest corridor path to ``goal`` (ties: by name); None if there."""
        if room == goal:
            return None
        return min(self.corridor_neighbours(room), key=lambda r: (self.distance(r, goal), r))

    def distance(self, a: str, b: str) -> int:
        """Corridor hops between two rooms."""
        return self.hops[a][b]


# -------------------------------------------------------------------------------------------------
# the map file schema (custom maps; built-in maps go through it too)


class TaskEntry(BaseModel):
    """A task of a room; ``kind`` decides its length (long: 2 turns) and whether it can be common."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    kind: TaskKind = TaskKind.SHORT


class RoomEntry(BaseModel):
    """A room's tasks and specials (``button``, ``cameras``, ``admin``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    tasks: list[TaskEntry | str] = Field(default_factory=list)
    special: list[str] = Field(default_factory=list)


class MapFile(BaseModel):
    """A map as a YAML file holds it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    rooms: dict[str, RoomEntry] = Field(min_length=1)
    corridors: list[tuple[str, str]]
    vents: list[tuple[str, str]] = Field(default_factory=list)
    spawn: str
    meeting_room: str
    button_room: str | None = None


def build_map(name: str, data: MapFile) -> GameMap:
    """Check a map file's rooms and graphs and build the map; ``MapError`` names ``name`` and the key."""
    rooms = list(data.rooms)

    def fail(key: str, message: str) -> MapError:
        return MapError(f"{name}: {key}: {message}")

    corridors: nx.Graph = nx.Graph()
    corridors.add_nodes_from(rooms)
    vents: nx.Graph = nx.Graph()
    vents.add_nodes_from(rooms)
    for key, graph, edges in (("corridors", corridors, data.corridors), ("vents", vents, data.vents)):
        for i, (a, b) in enumerate(edges):
            for room in (a, b):
                if room not in data.rooms:
                    raise fail(f"{key}[{i}]", f"unknown room {room!r}; rooms are {', '.join(rooms)}")
            if a == b:
                raise fail(f"{key}[{i}]", f"a {key[:-1]} from {a!r} to itself")
            graph.add_edge(a, b)
    if not nx.is_connected(corridors):
        parts = sorted((sorted(c) for c in nx.connected_components(corridors)), key=len)
        raise fail(
            "corridors", f"the corridor graph is not connected: {parts[0]} cannot reach {parts[-1][0]!r}"
        )
    for key in ("spawn", "meeting_room", "button_room"):
        room = getattr(data, key)
        if room is not None and room not in data.rooms:
            raise fail(key, f"unknown room {room!r}; rooms are {', '.join(rooms)}")
    tasks: dict[str, tuple[TaskSlot, ...]] = {}
    for room, entry in data.rooms.items():
        slots = tuple(
            TaskSlot(t, TaskKind.SHORT) if isinstance(t, str) else TaskSlot(t.name, t.kind)
            for t in entry.tasks
        )
        names = [s.name for s in slots]
        if len(set(names)) != len(names):
            raise fail(f"rooms.{room}.tasks", "a task name appears twice in one room")
        tasks[room] = slots
    special = {room: frozenset(entry.special) for room, entry in data.rooms.items()}
    if data.button_room is not None:
        special[data.button_room] = special[data.button_room] | {BUTTON}
    hops = dict(nx.all_pairs_shortest_path_length(corridors))
    return GameMap(
        name, corridors, vents, tasks, special, data.spawn, data.meeting_room, data.button_room, hops
    )


def load_map(spec: str) -> GameMap:
    """The map ``skeld``, ``skeld_amongagents``, ``grid:WxH`` or the YAML file at path ``spec``."""
    return _load_map(spec)


@lru_cache(maxsize=32)
def _load_map(spec: str) -> GameMap:
    if spec in BUILT_IN:
        return build_map(spec, MapFile.model_validate(BUILT_IN[spec]))
    grid = GRID.fullmatch(spec)
    if grid:
        return grid_map(int(grid[1]), int(grid[2]))
    path = Path(spec)
    if path.suffix not in (".yaml", ".yml"):
        known = ", ".join([*BUILT_IN, "grid:WxH"])
        raise MapError(f"map {spec!r}: neither a built-in map ({known}) nor a .yaml file")
    try:
        raw = load_text(read_limited(path))
    except (OSError, YamlProblem) as exc:
        raise MapError(f"{spec}: {exc}") from exc
    try:
        data = MapFile.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(k) for k in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()]
        raise MapError(f"{spec}: {'; '.join(problems)}") from exc
    return build_map(spec, data)


def map_problem(spec: str) -> str | None:
    """Why ``spec`` names no playable map, or None."""
    try:
        load_map(spec)
    except MapError as exc:
        return str(exc)
    return None


def grid_map(width: int, height: int) -> GameMap:
    """Sarkar et al.'s grid: rooms ``(x,y)``, 4-neighbour corridors, spawn ``((W-1)//2, 0)``, no vents."""
    if not (1 <= width <= 10 and 1 <= height <= 10 and width * height >= 2):
        raise MapError(f"grid:{width}x{height}: key map: a grid needs 1-10 rooms a side and at least 2 rooms")
    grid = nx.grid_2d_graph(width, height)
    name = {node: f"({node[0]},{node[1]})" for node in sorted(grid.nodes)}
    spawn = name[((width - 1) // 2, 0)]
    data = MapFile(
        rooms={name[node]: RoomEntry() for node in sorted(grid.nodes)},
        corridors=[(name[a], name[b]) for a, b in grid.edges],
        spawn=spawn,
        meeting_room=spawn,
    )
    return build_map(f"grid:{width}x{height}", data)


def _skeld(corridors: list[tuple[str, str]], vents: list[tuple[str, str]]) -> dict[str, object]:
    C, S, L = TaskKind.COMMON.value, TaskKind.SHORT.value, TaskKind.LONG.value
    tasks: dict[str, list[tuple[str, str]]] = {
        "Cafeteria": [("Download Data", S), ("Empty Garbage", L), ("Fix Wiring", C)],
        "Weapons": [("Accept Diverted Power", S), ("Clear Asteroids", L), ("Download Data", S)],
        "Navigation": [
            ("Accept Diverted Power", S),
            ("Chart Course", S),
            ("Download Data", S),
            ("Fix Wiring", C),
            ("Stabilize Steering", S),
        ],
        "O2": [("Clean O2 Filter", S), ("Empty Chute", L), ("Accept Diverted Power", S)],
        "Shields": [("Accept Diverted Power", S), ("Prime Shields", S)],
        "Communications": [("Accept Diverted Power", S), ("Download Data", S)],
        "Storage": [("Empty Garbage", L), ("Empty Chute", L)],
        "Admin": [("Fix Wiring", C), ("Swipe Card", C), ("Upload Data", S)],
        "Electrical": [
            ("Calibrate Distributor", S),
            ("Divert Power", S),
            ("Download Data", S),
            ("Fix Wiring", C),
        ],
        "Lower Engine": [("Accept Diverted Power", S), ("Align Engine Output", L), ("Fuel Engines", L)],
        "Security": [("Accept Diverted Power", S), ("Fix Wiring", C)],
        "Reactor": [("Start Reactor", L), ("Unlock Manifolds", S)],
        "Upper Engine": [("Accept Diverted Power", S), ("Align Engine Output", L), ("Fuel Engines", L)],
        "Medbay": [("Inspect Sample", L), ("Submit Scan", S)],
    }
    special = {"Cafeteria": ["button"], "Security": ["cameras"], "Admin": ["admin"]}
    return {
        "rooms": {
            room: {"tasks": [{"name": n, "kind": k} for n, k in room_tasks], "special": special.get(room, [])}
            for room, room_tasks in tasks.items()
        },
        "corridors": corridors,
        "vents": vents,
        "spawn": "Cafeteria",
        "meeting_room": "Cafeteria",
        "button_room": "Cafeteria",
    }


SKELD_CORRIDORS = [
    ("Cafeteria", "Weapons"),
    ("Cafeteria", "Admin"),
    ("Cafeteria", "Upper Engine"),
    ("Cafeteria", "Medbay"),
    ("Cafeteria", "Storage"),
    ("Weapons", "Navigation"),
    ("Weapons", "O2"),
    ("Navigation", "Shields"),
    ("O2", "Shields"),
    ("O2", "Navigation"),
    ("Shields", "Weapons"),
    ("Shields", "Communications"),
    ("Shields", "Storage"),
    ("Communications", "Storage"),
    ("Storage", "Admin"),
    ("Storage", "Electrical"),
    ("Storage", "Lower Engine"),
    ("Electrical", "Lower Engine"),
    ("Lower Engine", "Security"),
    ("Lower Engine", "Reactor"),
    ("Lower Engine", "Upper Engine"),
    ("Security", "Reactor"),
    ("Security", "Upper Engine"),
    ("Reactor", "Upper Engine"),
    ("Upper Engine", "Medbay"),
]
SKELD_VENTS = [
    ("Upper Engine", "Reactor"),
    ("Reactor", "Lower Engine"),
    ("Electrical", "Security"),
    ("Electrical", "Medbay"),
    ("Medbay", "Security"),
    ("Navigation", "Shields"),
    ("Navigation", "Weapons"),
    ("Admin", "Cafeteria"),
]
#: AmongAgents' original corridors (cyzus/among-agents map_config.py; its duplicate Cafeteria-Medbay once).
AMONGAGENTS_CORRIDORS = [
    ("Cafeteria", "Weapons"),
    ("Cafeteria", "Admin"),
    ("Cafeteria", "Upper Engine"),
    ("Cafeteria", "Medbay"),
    ("Weapons", "Navigation"),
    ("Weapons", "O2"),
    ("Navigation", "Shields"),
    ("O2", "Shields"),
    ("O2", "Admin"),
    ("Shields", "Communications"),
    ("Shields", "Storage"),
    ("Communications", "Storage"),
    ("Storage", "Admin"),
    ("Storage", "Electrical"),
    ("Storage", "Lower Engine"),
    ("Admin", "Electrical"),
    ("Electrical", "Lower Engine"),
    ("Lower Engine", "Security"),
    ("Lower Engine", "Reactor"),
    ("Lower Engine", "Upper Engine"),
    ("Security", "Reactor"),
    ("Security", "Upper Engine"),
    ("Reactor", "Upper Engine"),
    ("Upper Engine", "Medbay"),
]
#: AmongAgents' listed vents (all 9; in its single graph only 3 survived).
AMONGAGENTS_VENTS = [
    ("Reactor", "Lower Engine"),
    ("Upper Engine", "Reactor"),
    ("Electrical", "Security"),
    ("Upper Engine", "Lower Engine"),
    ("Electrical", "Medbay"),
    ("Navigation", "Shields"),
    ("Medbay", "Security"),
    ("Navigation", "Weapons"),
    ("Admin", "Cafeteria"),
]
BUILT_IN: Mapping[str, dict[str, object]] = {
    "skeld": _skeld(SKELD_CORRIDORS, SKELD_VENTS),
    "skeld_amongagents": _skeld(AMONGAGENTS_CORRIDORS, AMONGAGENTS_VENTS),
}
