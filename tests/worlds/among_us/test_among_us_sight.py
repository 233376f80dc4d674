"""The ``sight`` event: a seat that enters a room (or works blind under ``busy_blind``) is told, alone,
who and which bodies are there, exactly as its observation shows, so a stored log says what it saw."""

from __future__ import annotations

from sim.types import Event
from tests.worlds.among_us.helpers import act, new_world


def sights(events: list[Event]) -> dict[str, Event]:
    return {e.actor: e for e in events if e.kind == "sight" if e.actor is not None}


def test_a_seat_entering_a_room_alone_sees_who_and_which_bodies_are_there() -> None:
    world = new_world(5)
    act(world, p0=("move", "Lab"), p1=("move", "Lab"))
    act(world, p0=("kill", "p1"))  # p1's body lies in Lab
    events = act(world, p2=("move", "Lab"), p3=("move", "Lab"))
    seen = sights(events)
    assert set(seen) == {"p2", "p3"}
    for seat, event in seen.items():
        obs = world.observe(seat).private
        assert event.visible_to == (seat,)
        assert event.payload["room"] == obs.room == "Lab"
        assert event.payload["occupants"] == list(obs.occupants)
        assert event.payload["bodies"] == list(obs.bodies) == ["p1"]
    assert seen["p2"].payload["occupants"] == ["p0", "p3"]


def test_staying_put_or_working_gives_no_sight_unless_busy_blind() -> None:
    world = new_world(4)
    assert not sights(act(world, p1=("task", "Wiring")))
    blind = new_world(4, busy_blind=True)
    events = act(blind, p1=("task", "Wiring"), p0=("kill", "p2"))
    assert not any(e.kind == "kill" and e.visible("p1") for e in events)
    sight = sights(events)["p1"].payload
    assert sight["bodies"] == ["p2"] and sight["occupants"] == ["p0", "p3"]
