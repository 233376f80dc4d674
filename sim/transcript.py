"""A readable turn-by-turn transcript of a stored episode."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sim import registry
from sim.store.reader import StoreReader
from sim.types import ALL, Event


def transcript_lines(db: Path, episode_id: int, seat: str | None = None) -> Iterator[str]:
    """Lines describing the episode; with ``seat``, only events that seat could see."""
    reader = StoreReader(db)
    episode = reader.episode(episode_id)
    world = _world(reader, episode)
    seats = reader.seats(episode_id)
    yield f"episode {episode_id} ({episode['world_id']}, status {episode['status']}): {episode['matchup']}"
    for row in seats.itertuples():
        score = "" if row.score is None or row.score != row.score else f"  score {row.score:g}"
        yield f"  {row.player_id}: {row.label} [{row.agent}]{score}"
    turn = None
    for event in reader.event_objects(episode_id):
        if seat is not None and not event.visible(seat):
            continue
        if event.turn != turn:
            turn = event.turn
            yield f"-- turn {turn}"
        hidden = (
            "" if event.visible_to == ALL else f"  (visible to: {', '.join(event.visible_to) or 'nobody'})"
        )
        yield f"   {_describe(world, event)}{hidden}"


def _describe(world: object, event: Event) -> str:
    try:
        return world.describe_event(event)  # type: ignore[attr-defined]
    except (KeyError, TypeError, ValueError):
        return f"{event.kind} {event.actor or ''} {dict(event.payload)}"


def _world(reader: StoreReader, episode: dict[str, Any]) -> object:
    """The episode's world class: by registered id, else as the run's scenario named it (``module:attr``)."""
    try:
        return registry.world_entry(episode["world_id"]).load()()
    except registry.RegistryError:
        runs = reader.runs()
        scenario = runs[runs.id == episode["run_id"]].scenario.iloc[0]
        return registry.world_entry(scenario["world"]).load()()
