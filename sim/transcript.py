"""A readable turn-by-turn transcript of a stored episode (``sim replay`` and the viewer)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sim import registry
from sim.store.reader import StoreReader
from sim.types import ALL, Event


def transcript_lines(db: Path, episode_id: int, seat: str | None = None) -> Iterator[str]:
    """Lines describing the episode; with ``seat``, only events that seat could see."""
    reader = StoreReader(db)
    episode = reader.episode(episode_id)
    world = world_of(reader, episode)
    seats = reader.seats(episode_id)
    yield f"episode {episode_id} ({episode['world_id']}, status {episode['status']}): {episode['matchup']}"
    for row in seats.itertuples():
        score = "" if row.score is None or row.score != row.score else f"  score {row.score:g}"
        yield f"  {row.player_id}: {row.label} [{row.agent}]{score}"
    yield from event_lines(
        world, (e for e in reader.event_objects(episode_id) if seat is None or e.visible(seat))
    )


def event_lines(world: object, events: Iterable[Event]) -> Iterator[str]:
    """A ``-- turn N`` line whenever the turn changes, then one described line per event."""
    turn = None
    for event in events:
        if event.turn != turn:
            turn = event.turn
            yield f"-- turn {turn}"
        hidden = (
            "" if event.visible_to == ALL else f"  (visible to: {', '.join(event.visible_to) or 'nobody'})"
        )
        yield f"   {describe(world, event)}{hidden}"


def describe(world: object, event: Event) -> str:
    """The world's line for the event, or a plain one if the world cannot describe it."""
    try:
        return str(world.describe_event(event))  # type: ignore[attr-defined]
    except (AttributeError, KeyError, TypeError, ValueError):
        return f"{event.kind} {event.actor or ''} {dict(event.payload)}"


def world_of(reader: StoreReader, episode: dict[str, Any]) -> object:
    """The episode's world: by registered id, else as the run's scenario named it (``module:attr``);
    None if neither loads (events are then described plainly)."""
    try:
        return registry.world_entry(episode["world_id"]).load()()
    except registry.RegistryError:
        runs = reader.runs()
        scenario = runs[runs.id == episode["run_id"]].scenario.iloc[0]
        try:
            return registry.world_entry(scenario["world"]).load()()
        except (registry.RegistryError, KeyError, TypeError):
            return None
