"""Reading what evaluators need from a store: episodes with their seats and events, and seat text."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from sim import registry
from sim.evaluators.base import StoredEpisode, StoredSeat
from sim.store.reader import StoreReader
from sim.transcript import describe
from sim.types import Outcome, PlayerId


def episode_rows(reader: StoreReader, *, run_id: int | None = None) -> list[dict[str, Any]]:
    """The ``episodes`` rows (of one run, or all) as plain dicts, in id order."""
    return [_plain(row) for row in reader.episodes(run_id).to_dict("records")]


def seats_of(reader: StoreReader, episode_ids: Iterable[int]) -> dict[int, tuple[StoredSeat, ...]]:
    """Each episode's seats, in seat order (episodes without seats are absent)."""
    ids = sorted({int(i) for i in episode_ids})
    if not ids:
        return {}
    where = f"episode_id IN ({', '.join(str(i) for i in ids)})"  # ints only: nothing to inject
    out: dict[int, list[StoredSeat]] = {}
    for row in reader.table("seats", where).to_dict("records"):
        row = _plain(row)
        seat = StoredSeat(
            row["player_id"], row["agent"], row["label"], row["config"] or {}, row["role"], row["score"]
        )
        out.setdefault(row["episode_id"], []).append(seat)
    return {episode: tuple(seats) for episode, seats in out.items()}


def load_episode(
    reader: StoreReader, row: Mapping[str, Any], seats: tuple[StoredSeat, ...] | None = None
) -> StoredEpisode:
    """The episode of an ``episodes`` row, with its seats (read unless given) and all its events."""
    episode_id = int(row["id"])
    if seats is None:
        seats = seats_of(reader, [episode_id]).get(episode_id, ())
    return StoredEpisode(
        id=episode_id,
        run_id=int(row["run_id"]),
        index=int(row["index"]),
        world_id=str(row["world_id"]),
        params=row["params"] or {},
        seed=int(row["seed"]),
        status=str(row["status"]),
        outcome=Outcome.from_json(row["outcome"]),
        seats=seats,
        events=tuple(reader.event_objects(episode_id)),
    )


def seen_text(episode: StoredEpisode, player: PlayerId, before: int | None = None) -> str:
    """What ``player`` had seen of the game before ``events[before]``: one line per visible game event,
    as the world describes it in transcripts (``sim replay --seat``)."""
    world = _world(episode.world_id)
    return "\n".join(describe(world, event) for event in episode.seen_by(player, before))


@cache
def _world(world_id: str) -> object:
    """A world instance to describe events with (None if the world is not registered)."""
    try:
        return registry.world_entry(world_id).load()()
    except registry.RegistryError:
        return None


def _plain(row: Mapping[str, Any]) -> dict[str, Any]:
    """A DataFrame record with plain Python values: NaN as None, numpy numbers as int/float."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, float) and math.isnan(value):
            value = None
        elif hasattr(value, "item") and not isinstance(value, list | dict):
            value = value.item()  # numpy scalar
            if isinstance(value, float) and math.isnan(value):
                value = None
        out[str(key)] = value
    return out
