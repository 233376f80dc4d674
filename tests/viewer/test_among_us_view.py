"""The Among Us viewer's data: room layouts, who is where per view and turn, tasks, meetings, votes and
surveys. A seat's view is checked against the world's own observation of that seat at every step of
bot games, and against the omniscient view of a stored game."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from viewer_stores import among_us_episode

from agents.scripted.among_us import AmongUsBot
from sim.engine import seat_ids
from sim.rng import derive_seed, stream
from sim.store.reader import StoreReader
from sim.types import Action, Event, PlayerId
from sim.viewer.renderers import PLAYER_COLOURS, player_colours
from tests.worlds.among_us.helpers import BASE, SMALL, act, vote
from worlds.among_us.maps import load_map
from worlds.among_us.params import AmongUsParams
from worlds.among_us.view import chat_html
from worlds.among_us.view_data import (
    SKELD_LAYOUT,
    Game,
    meeting_records,
    positions,
    room_layout,
    survey_table,
    task_bars,
    task_table,
    turn_kills,
    turn_moves,
    vote_table,
)
from worlds.among_us.world import AmongUsWorld

Row = tuple[str, str, str]


def rows(events: Sequence[Event], seat: PlayerId | None) -> set[Row]:
    """(player, room, status) of every player the view draws."""
    game = Game.of(events)
    assert game is not None
    frame = positions([e for e in events if seat is None or e.visible(seat)], seat, game)
    return set(zip(frame["player"], frame["room"], frame["status"], strict=True))


def fresh(n: int, **params: Any) -> tuple[AmongUsWorld, list[Event]]:
    """A world on the small test map (p0 the impostor, see ``helpers.BASE``) and its first events."""
    world = AmongUsWorld()
    events = world.reset(seat_ids(n), AmongUsParams.model_validate({**BASE, **params}), stream(0, "world"))
    return world, list(events)


# layouts and colours --------------------------------------------------------------------------------
def test_layouts_are_the_maps_own_or_a_seeded_spring_layout() -> None:
    for name in ("skeld", "skeld_amongagents"):
        assert room_layout(load_map(name)) == {r: SKELD_LAYOUT[r] for r in load_map(name).rooms}
    grid = room_layout(load_map("grid:3x2"))
    assert grid["(0,0)"] == (0.0, 0.0) and grid["(2,1)"] == (4.0, 2.0)
    small = room_layout(load_map(SMALL))
    assert small == room_layout(load_map(SMALL))  # deterministic: seeded
    assert len(set(small.values())) == len(small) == 4


def test_ten_players_get_ten_distinct_colours() -> None:
    colours = player_colours(seat_ids(10))
    assert len(set(colours.values())) == 10 == len(PLAYER_COLOURS)
    assert colours["p0"] == PLAYER_COLOURS[0] and colours["p9"] == PLAYER_COLOURS[9]


# who is where ---------------------------------------------------------------------------------------
SETUPS = [  # long enough for the bots to kill, meet and vote
    {"short_tasks": 3, "long_tasks": 1, "initial_kill_cooldown": 0},
    {"impostors": 2, "short_tasks": 2, "long_tasks": 2, "confirm_ejects": True},
    {"impostors": 2, "short_tasks": 2, "long_tasks": 2, "dead_tasks": "ghosts", "initial_kill_cooldown": 0},
    {
        "map": "grid:2x2",
        "common_tasks": 0,
        "short_tasks": 0,
        "random_tasks": 4,
        "random_task_turns": 3,
        "busy_blind": True,
    },
]


def bot_game(
    setup: dict[str, Any], seed: int, n: int, each_step: Callable[[AmongUsWorld, list[Event]], None]
) -> int:
    """Play a bot game in the world directly, calling ``each_step`` after every step; the kills."""
    world = AmongUsWorld()
    bots = {p: AmongUsBot() for p in seat_ids(n)}
    for p, bot in bots.items():
        bot.reset(p, AmongUsWorld.spec, derive_seed(seed, p))
    events = world.reset(seat_ids(n), AmongUsParams.model_validate(setup), stream(seed, "world"))
    while world.to_act():
        actions: dict[PlayerId, Action] = {p: bots[p].decide(world.observe(p)) for p in world.to_act()}
        events += world.step(actions)
        each_step(world, events)
    return len(world.state.kills)


def sighted(events: list[Event], seat: PlayerId) -> set[PlayerId]:
    """The bodies ``seat`` found in a room it entered."""
    return {v for e in events if e.kind == "sight" and e.actor == seat for v in e.payload["bodies"]}


@pytest.mark.parametrize("setup", SETUPS, ids=["kills", "confirm", "ghosts", "busy_blind"])
def test_a_seat_view_draws_only_what_its_observation_showed(setup: dict[str, Any]) -> None:
    """At every step, a living seat's view draws itself and exactly the players and bodies its
    observation listed in its room, never anyone else; bodies only where there is one and which it saw
    (the kill, or a sight); nothing new after its death. The omniscient view is the true state."""
    frozen: dict[PlayerId, set[Row]] = {}
    seen = {"others": 0, "kills": 0}

    def check(world: AmongUsWorld, events: list[Event]) -> None:
        s = world.state
        truth = {(p, r, "alive") for p, r in s.room.items() if s.alive[p]}
        truth |= {(p, r, "body") for p, r in s.bodies.items()}
        if setup.get("dead_tasks") == "ghosts":
            truth |= {(p, s.room[p], "ghost") for p in s.room if not s.alive[p] and p not in s.bodies}
        assert rows(events, None) == truth
        for seat in world.players:
            drawn = rows(events, seat)
            if seat in frozen and not s.alive[seat]:
                assert drawn == frozen[seat], f"{seat}'s view changed after its death"
                continue
            obs = world.observe(seat)
            if s.alive[seat]:
                allowed = {(q, obs.private.room, "alive") for q in (seat, *obs.private.occupants)}
                living = {r for r in drawn if r[2] == "alive"}
                assert living == allowed, f"{seat} is shown {living ^ allowed} wrongly"
                here = {q for q, r, status in drawn if status == "body" and r == obs.private.room}
                assert here == set(obs.private.bodies), f"{seat} misses or invents a body in its room"
                seen["others"] += len(living) - 1
            else:
                frozen[seat] = drawn
                assert not any(r[2] == "alive" for r in drawn if r[0] == seat)
            witnessed = {e.payload["victim"] for e in events if e.kind == "kill" and e.visible(seat)}
            for player, room, status in drawn:
                assert status != "ghost"
                if status == "body":
                    assert player in witnessed | sighted(events, seat) and s.bodies.get(player, room) == room

    for seed in range(3):
        frozen.clear()
        seen["kills"] += bot_game(setup, seed, 7, check)
    assert seen["kills"] and seen["others"]  # the games had kills, and seats saw others


def test_a_seat_view_of_a_stored_game_draws_nobody_it_did_not_see(stores: dict[str, Path]) -> None:
    """Every turn of the stored Among Us game, as every seat: each player drawn is where the omniscient
    view has it, every other living player is in the seat's own room, every body's kill was seen."""
    db = stores["combined"]
    events = list(StoreReader(db).event_objects(among_us_episode(db)))
    players = next(e.payload["players"] for e in events if e.kind == "start")
    shown_others = 0
    for turn in range(max(e.turn for e in events) + 1):
        upto = [e for e in events if e.turn <= turn]
        truth = rows(upto, None)
        for seat in players:
            drawn = rows(upto, seat)
            mine = [r for r in drawn if r[0] == seat and r[2] == "alive"]
            dead_by_now = any(
                (e.kind == "kill" and e.payload["victim"] == seat)
                or (e.kind == "eject" and e.payload["player"] == seat)
                for e in upto
            )
            if dead_by_now:
                assert not mine
                continue
            assert drawn <= truth, f"turn {turn}, {seat} is shown {drawn - truth}"
            here = mine[0][1]
            others = [r for r in drawn if r[0] != seat and r[2] == "alive"]
            assert all(room == here for _, room, _ in others)
            shown_others += len(others)
            seen_kills = {e.payload["victim"] for e in upto if e.kind == "kill" and e.visible(seat)}
            assert {p for p, _, status in drawn if status == "body"} <= seen_kills
    assert shown_others


def test_a_seat_busy_with_a_task_under_busy_blind_does_not_keep_the_victim_alive() -> None:
    """busy_blind: p2 does its task while p0 kills p1 beside it; p2 never saw the kill, so its view must
    not keep drawing p1 alive (a stale sighting): it draws what p2 finds on looking up (its sight, as
    its observation shows it): the body and who is still there."""
    world, events = fresh(4, busy_blind=True)
    events += act(world, p2=("task", "Wiring"), p0=("kill", "p1"))
    assert not any(e.kind == "kill" and e.visible("p2") for e in events)
    drawn = rows(events, "p2")
    assert ("p1", "Hall", "alive") not in drawn and ("p1", "Hall", "body") in drawn
    obs = world.observe("p2").private
    assert {q for q, _, status in drawn if status == "alive"} == {"p2", *obs.occupants}


def test_moves_out_of_and_into_the_seats_room() -> None:
    """p1 walks with p3 to Lab: p3's view has p1 with it; p2, left in Hall, sees them both go and then
    draws only itself and who stayed; a vent is seen from the room left."""
    world, events = fresh(4)
    events += act(world, p1=("move", "Lab"), p3=("move", "Lab"))
    assert {(p, r) for p, r, _ in rows(events, "p3")} == {("p1", "Lab"), ("p3", "Lab")}
    assert {(p, r) for p, r, _ in rows(events, "p2")} == {("p0", "Hall"), ("p2", "Hall")}
    events += act(world, p0=("vent", "Lab"))
    assert {p for p, _, _ in rows(events, "p2")} == {"p2"}
    assert ("p0", "Lab", "alive") in rows(events, "p3")  # it appeared there
    game = Game.of(events)
    assert game is not None
    moves = turn_moves(events, 2, game.layout)
    assert list(moves[["player", "kind", "from", "to"]].itertuples(index=False, name=None)) == [
        ("p0", "vent", "Hall", "Lab")
    ]
    assert turn_moves(events, 1, game.layout)["player"].tolist() == ["p1", "p3"]


# meetings, votes, tasks, surveys --------------------------------------------------------------------
def test_meeting_chat_and_vote_table() -> None:
    world, events = fresh(5, confirm_ejects=True, discussion_rounds=1)
    events += act(world, p0=("kill", "p1"))
    assert [k["victim"] for k in turn_kills(events, 1)] == ["p1"]
    events += act(world, p2="report")
    while world.phase.value == "discuss":
        speaker = world.to_act()[0]
        events += world.step({speaker: Action(world.legal_actions(speaker).kind, f"{speaker} says *hi*")})  # type: ignore[union-attr]
    events += vote(world, p2="p0", p3="p0", p4="skip")
    [meeting] = meeting_records(events)
    assert (meeting.caller, meeting.call, meeting.body, meeting.dead) == ("p2", "report", "p1", ["p1"])
    assert [s["player"] for s in meeting.speeches] == ["p2", "p3", "p4", "p0"]
    assert meeting.vote is not None and meeting.vote["tally"] == {"p0": 2, "skip": 2}
    table = vote_table(meeting.vote)
    assert list(table.itertuples(index=False, name=None)) == [
        ("p0", "skip"),
        ("p2", "p0"),
        ("p3", "p0"),
        ("p4", "skip"),
    ]
    assert meeting.eject is None  # a tie with skip ejects nobody
    chat = chat_html(meeting, player_colours(seat_ids(5)))
    assert PLAYER_COLOURS[2] in chat and "\\*hi\\*" in chat  # the speaker's colour; markdown shown literally


def test_tasks_as_each_view_knows_them() -> None:
    world, events = fresh(4, long_tasks=1)
    game = Game.of(events)
    assert game is not None
    everyone = task_table(events, None, game)
    assert set(everyone["player"]) == {"p1", "p2", "p3"}  # p0 is the impostor
    scan = everyone[(everyone["task"] == "Scan")]
    assert set(scan["turns"]) == {2}
    events += act(world, p1=("task", "Wiring"))
    mine = task_table([e for e in events if e.visible("p1")], "p1", game)
    assert mine.set_index("task")["done"].to_dict() == {"Wiring": 1, "Scan": 0}
    assert mine.set_index("task")["turns"].to_dict() == {"Wiring": 1, "Scan": 2}  # from the map, unseen deal
    bars = task_bars(mine, game.players)
    assert bars.to_dict("records") == [{"player": "p1", "done": 1, "turns": 3, "progress": 1 / 3}]
    assert task_table([e for e in events if e.visible("p0")], "p0", game).empty  # the impostor's are fake


def test_survey_table_per_step_and_absent_surveys() -> None:
    players = seat_ids(3)
    start = Event(
        0, "tasks", "start", {"players": players, "map": "skeld", "spawn": "Cafeteria", "rules": {}}
    )
    meeting = Event(
        3,
        "discuss",
        "meeting",
        {
            "number": 1,
            "caller": "p1",
            "call": "button",
            "room": "Cafeteria",
            "body": None,
            "dead": [],
            "alive": players,
        },
    )
    surveys = [
        Event(
            3,
            "survey",
            "survey",
            {"meeting": 1, "after": None, "speech": None, "answers": {"p0": "p1", "p1": "p2", "p2": "skip"}},
            visible_to=(),
        ),
        Event(
            4,
            "survey",
            "survey",
            {"meeting": 1, "after": "p1", "speech": 0, "answers": {"p0": "p2", "p1": "p2", "p2": "p1"}},
            visible_to=(),
        ),
    ]
    [plain] = meeting_records([start, meeting])
    assert survey_table(plain, players).empty
    [surveyed] = meeting_records([start, meeting, *surveys])
    table = survey_table(surveyed, players)
    assert table["step"].tolist() == ["before the speeches", "after p1 (#0)"]
    assert table["p0"].tolist() == ["p1", "p2"]


def _render_with_surveys(seat: str | None) -> None:  # an AppTest script: it imports what it uses
    import random

    from sim.engine import seat_ids
    from sim.types import Action, ActionKind, Event
    from sim.viewer.renderers import EpisodeView
    from worlds.among_us.params import AmongUsParams
    from worlds.among_us.view import render
    from worlds.among_us.world import AmongUsWorld

    world = AmongUsWorld()
    params = {"impostor_seats": [0], "discussion_rounds": 1, "initial_kill_cooldown": 0, "buttons": 1}
    events = world.reset(seat_ids(4), AmongUsParams.model_validate(params), random.Random(0))
    wait = Action(ActionKind.ONE_OF, {"branch": "wait", "value": None})
    events += world.step(
        {p: wait for p in world.to_act()}
        | {"p1": Action(ActionKind.ONE_OF, {"branch": "button", "value": None})}
    )
    answers = {"p0": "p1", "p1": "skip", "p2": "p0", "p3": "p0"}
    events.append(
        Event(
            1,
            "survey",
            "survey",
            {"meeting": 1, "after": None, "speech": None, "answers": answers},
            visible_to=(),
        )
    )
    shown = [e for e in events if seat is None or e.visible(seat)]
    render(EpisodeView({"status": "running"}, None, shown, 1, 1, seat, lambda e: e.kind))  # type: ignore[arg-type]


@pytest.mark.parametrize("seat", [None, "p2"])
def test_surveys_only_in_the_omniscient_view(seat: str | None) -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_render_with_surveys, args=(seat,), default_timeout=30)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    tables = [d.value for d in at.dataframe]
    surveys = [t for t in tables if "step" in t.columns]
    if seat is None:
        assert len(surveys) == 1 and surveys[0]["p2"].tolist() == ["p0"]
    else:
        assert not surveys and not any("suspicious" in c.value for c in at.caption)
    assert any(h.value.startswith("Meetings") for h in at.subheader)
