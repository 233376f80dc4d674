"""Maps (built in and from YAML, two graphs), their validation errors, and setup validation."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest
from pydantic import ValidationError

from sim.scenario import ScenarioError, load_scenario
from worlds.among_us.maps import MapError, load_map
from worlds.among_us.params import AmongUsParams
from worlds.among_us.world import AmongUsWorld

GOOD = """
rooms: {A: {tasks: [Wiring]}, B: {special: [cameras]}, C: {}}
corridors: [[A, B], [B, C]]
vents: [[A, B], [A, C]]
spawn: A
meeting_room: A
button_room: B
"""


def write(tmp_path: Path, text: str, name: str = "map.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_the_skeld_has_25_corridors_8_vents_and_every_room_within_two_hops_of_the_cafeteria() -> None:
    skeld = load_map("skeld")
    assert len(skeld.rooms) == 14 and skeld.corridors.number_of_edges() == 25
    assert skeld.vents.number_of_edges() == 8 and nx.diameter(skeld.corridors) == 4
    assert max(skeld.distance("Cafeteria", r) for r in skeld.rooms) == 2
    assert skeld.button_room == "Cafeteria" and "button" in skeld.special["Cafeteria"]


def test_amongagents_skeld_keeps_all_nine_vents_even_where_a_corridor_runs_parallel() -> None:
    original = load_map("skeld_amongagents")
    assert original.corridors.number_of_edges() == 24 and original.vents.number_of_edges() == 9
    shadowed = [e for e in original.vents.edges if original.corridors.has_edge(*e)]
    assert len(shadowed) == 6  # the pairs AmongAgents' single nx.Graph turned into plain corridors


def test_grids_follow_sarkar() -> None:
    grid = load_map("grid:3x2")
    assert grid.spawn == "(1,0)" and len(grid.rooms) == 6 and grid.corridors.number_of_edges() == 7
    assert grid.vents.number_of_edges() == 0 and grid.button_room is None
    assert load_map("grid:2x2").spawn == "(0,0)"


def test_a_custom_map_loads_with_its_tasks_specials_and_both_graphs(tmp_path: Path) -> None:
    game_map = load_map(write(tmp_path, GOOD))
    assert game_map.corridor_neighbours("A") == ("B",) and game_map.vent_neighbours("A") == ("B", "C")
    assert [t.name for t in game_map.tasks["A"]] == ["Wiring"] and game_map.special["B"] >= {
        "button",
        "cameras",
    }
    assert game_map.next_step("A", "C") == "B"


@pytest.mark.parametrize(
    ("edit", "key", "message"),
    [
        (("corridors: [[A, B], [B, C]]", "corridors: [[A, B]]"), "corridors", "not connected"),
        (("spawn: A", "spawn: Z"), "spawn", "unknown room 'Z'"),
        (("spawn: A\n", ""), "spawn", "Field required"),
        (("meeting_room: A", "meeting_room: Q"), "meeting_room", "unknown room 'Q'"),
        (("meeting_room: A\n", ""), "meeting_room", "Field required"),
        (("button_room: B", "button_room: Nowhere"), "button_room", "unknown room 'Nowhere'"),
        (("vents: [[A, B], [A, C]]", "vents: [[A, D]]"), "vents[0]", "unknown room 'D'"),
        (("corridors: [[A, B], [B, C]]", "corridors: [[A, B], [B, C], [C, C]]"), "corridors[2]", "itself"),
        (("rooms:", "roomz:"), "rooms", "Field required; roomz: Extra inputs"),
    ],
)
def test_map_errors_name_the_file_and_the_key(
    tmp_path: Path, edit: tuple[str, str], key: str, message: str
) -> None:
    path = write(tmp_path, GOOD.replace(*edit))
    with pytest.raises(MapError) as caught:
        load_map(path)
    assert str(caught.value).startswith(f"{path}: {key}") and message in str(caught.value)


def test_map_names_that_are_neither_built_in_nor_yaml_are_refused(tmp_path: Path) -> None:
    with pytest.raises(MapError, match="neither a built-in map"):
        load_map("polus")
    with pytest.raises(MapError, match="line"):
        load_map(write(tmp_path, "rooms: [", "broken.yaml"))


def test_a_scenario_with_a_bad_map_reports_the_scenario_the_map_file_and_the_key(tmp_path: Path) -> None:
    bad = write(tmp_path, GOOD.replace("meeting_room: A", "meeting_room: Attic"))
    scenario = tmp_path / "game.yaml"
    seats = [{"agent": "random_legal"}] * 3
    scenario.write_text(
        json.dumps({"name": "x", "world": "social/among_us-v1", "params": {"map": bad}, "seats": seats})
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(scenario)
    text = str(caught.value)
    assert str(scenario) in text and f"{bad}: meeting_room: unknown room 'Attic'" in text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"common_tasks": 0, "short_tasks": 0}, "at least one task"),
        ({"long_tasks": 99}, "less than or equal"),
        ({"map": "grid:2x2"}, "has only 0 common tasks"),
        ({"impostor_seats": [0, 1]}, "impostor_seats must list 1"),
        ({"impostors": 5}, "1-4 or auto"),
        ({"kill_cooldown": -1}, "greater than or equal"),
    ],
)
def test_setup_errors_are_reported_by_the_params_model(params: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        AmongUsParams.model_validate(params)


@pytest.mark.parametrize(
    ("params", "n", "message"),
    [
        ({}, 2, "3-10 players"),
        ({}, 11, "3-10 players"),
        ({"impostors": 2}, 4, "2 impostors need more crewmates"),
        ({"impostors": 1}, 3, None),
        ({"impostors": "auto"}, 10, None),
        ({"impostor_seats": [7]}, 5, "beyond p4"),
    ],
)
def test_seat_counts_are_checked_before_play(params: dict, n: int, message: str | None) -> None:
    problem = AmongUsWorld.check_players(AmongUsParams.model_validate(params), n)
    assert problem is None if message is None else message in (problem or "")
