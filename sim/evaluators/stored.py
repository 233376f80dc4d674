"""Reading what evaluators need from a store: episodes with their seats and events, and seat text."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from functools import cache
from typing import Any

from sim import registry
from sim.evaluators.base import ENGINE_KINDS, StoredEpisode, StoredSeat
from sim.store.reader import StoreReader
from sim.transcript import describe
from sim.types import Outcome, PlayerId

_EPISODE_COLUMNS = ("id", "run_id", "index", "world_id", "params", "seed", "status", "outcome")
_SEAT_COLUMNS = ("episode_id", "player_id", "agent", "label", "config", "role", "score")


def episode_rows(reader: StoreReader, *, run_id: int | None = None) -> list[dict[str, Any]]:
    """The ``episodes`` rows (of one run, or all) as plain dicts with JSON decoded, in id order."""
    where = "" if run_id is None else f" WHERE run_id = {int(run_id)}"
    return _rows(reader, "episodes", _EPISODE_COLUMNS, where, ("params", "outcome"))


def seats_of(reader: StoreReader, episode_ids: Iterable[int]) -> dict[int, tuple[StoredSeat, ...]]:
    """Each episode's seats, in seat order (episodes without seats are absent)."""
    ids = sorted({int(i) for i in episode_ids})
    if not ids:
        return {}
    where = f" WHERE episode_id IN ({', '.join(map(str, ids))})"  # ints only: nothing to inject
    out: dict[int, list[StoredSeat]] = {}
    for row in _rows(reader, "seats", _SEAT_COLUMNS, where, ("config",)):
        seat = StoredSeat(
            row["player_id"], row["agent"], row["label"], row["config"] or {}, row["role"], row["score"]
        )
        out.setdefault(row["episode_id"], []).append(seat)
    return {episode: tuple(seats) for episode, seats in out.items()}


def run_seats(reader: StoreReader, run_id: int) -> tuple[StoredSeat, ...]:
    """Each distinct seat (player id, agent, label, config, role) of the run's complete episodes, once."""
    sql = (
        "SELECT DISTINCT player_id, agent, label, config, role FROM seats WHERE episode_id IN "
        "(SELECT id FROM episodes WHERE run_id = ? AND status = 'complete') ORDER BY player_id"
    )
    with reader.engine.connect() as conn:
        found = conn.exec_driver_sql(sql, (int(run_id),)).all()
    return tuple(StoredSeat(p, a, lab, json.loads(c) if c else {}, r) for p, a, lab, c, r in found)


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


def omniscient_text(episode: StoredEpisode, leave_out: Collection[str] = ()) -> str:
    """Every game event of the episode, one line each as the world describes it (a plain line if the
    world is not registered); engine events and the kinds in ``leave_out`` are left out."""
    world = _world(episode.world_id)
    kept = (e for e in episode.events if e.kind not in ENGINE_KINDS and e.kind not in leave_out)
    return "\n".join(describe(world, event) for event in kept)


@cache
def _world(world_id: str) -> object:
    """A world instance to describe events with (None if the world is not registered)."""
    try:
        return registry.world_entry(world_id).load()()
    except registry.RegistryError:
        return None


def _rows(
    reader: StoreReader, table: str, columns: Sequence[str], where: str, json_columns: Sequence[str]
) -> list[dict[str, Any]]:
    """Rows of ``table`` as dicts (plain SQL: a run's seats can be many thousands of rows)."""
    quoted = ", ".join(f'"{c}"' for c in columns)
    with reader.engine.connect() as conn:
        result = conn.exec_driver_sql(f"SELECT {quoted} FROM {table}{where} ORDER BY id").all()
    out = []
    for values in result:
        row = dict(zip(columns, values, strict=True))
        for column in json_columns:
            row[column] = json.loads(row[column]) if isinstance(row[column], str) else row[column]
        out.append(row)
    return out
