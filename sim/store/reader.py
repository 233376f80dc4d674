"""Reading a store back as pandas DataFrames (JSON columns decoded) or as Event objects."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import JSON, text

from sim.store.engine import open_engine, open_read_only
from sim.store.models import Base
from sim.types import ALL, Event

PRIVATE_TABLES = ("meta", "llm_cache")
"""Tables of the store's own bookkeeping, not part of the trajectory (not read or exported)."""
TABLES = tuple(name for name in Base.metadata.tables if name not in PRIVATE_TABLES)
"""The trajectory's tables in model order: runs, episodes, seats, events, metrics, turn_metrics, llm_calls."""
JSON_COLUMNS = {
    name: columns
    for name in TABLES
    if (columns := tuple(c.name for c in Base.metadata.tables[name].columns if isinstance(c.type, JSON)))
}
"""Each table's JSON columns (declared type ``JSON``), which :meth:`StoreReader.table` decodes."""


class StoreReader:
    """Read-only access to a store file."""

    def __init__(self, path: str | Path, *, read_only: bool = False):
        self.path = Path(path)
        if not self.path.exists():
            raise LookupError(f"{self.path}: no such database")
        self.engine = open_read_only(self.path) if read_only else open_engine(self.path, create=False)

    def table(
        self, name: str, where: str = "", params: dict[str, Any] | None = None, decode_json: bool = True
    ) -> pd.DataFrame:
        """A whole table (optionally filtered by a SQL ``where`` clause) ordered by id."""
        if name not in TABLES:
            raise LookupError(f"unknown table {name!r}; tables: {', '.join(TABLES)}")
        sql = f"SELECT * FROM {name}" + (f" WHERE {where}" if where else "") + " ORDER BY id"
        with self.engine.connect() as conn:
            df = pd.read_sql(text(sql), conn, params=params or {})
        if decode_json:
            for column in JSON_COLUMNS.get(name, ()):
                df[column] = df[column].map(lambda v: json.loads(v) if isinstance(v, str) else v)
        return df

    def frame(self, name: str, decode_json: bool = True) -> pd.DataFrame:
        """A table as the analyst reads it (and ``sim export`` writes it): ``turn_metrics`` in long form
        (:meth:`turn_metrics`), every other table whole (:meth:`table`)."""
        if name == "turn_metrics":
            return self.turn_metrics()
        return self.table(name, decode_json=decode_json)

    def runs(self) -> pd.DataFrame:
        """All runs."""
        return self.table("runs")

    def episodes(self, run_id: int | None = None) -> pd.DataFrame:
        """Episodes, optionally of one run."""
        return (
            self.table("episodes", "run_id = :r", {"r": run_id})
            if run_id is not None
            else self.table("episodes")
        )

    def episode(self, episode_id: int) -> dict[str, Any]:
        """One episode as a dict."""
        df = self.table("episodes", "id = :e", {"e": episode_id})
        if df.empty:
            raise LookupError(f"{self.path}: no episode {episode_id}")
        return dict(df.iloc[0])

    def seats(self, episode_id: int | None = None) -> pd.DataFrame:
        """Seats, optionally of one episode."""
        return (
            self.table("seats", "episode_id = :e", {"e": episode_id})
            if episode_id is not None
            else self.table("seats")
        )

    def events(self, episode_id: int | None = None) -> pd.DataFrame:
        """Events in order, optionally of one episode."""
        return (
            self.table("events", "episode_id = :e", {"e": episode_id})
            if episode_id is not None
            else self.table("events")
        )

    def metrics(self, episode_id: int | None = None) -> pd.DataFrame:
        """End-of-episode metric rows (episode_id, player_id, name, value, evaluator, evaluator_model)."""
        return (
            self.table("metrics", "episode_id = :e", {"e": episode_id})
            if episode_id is not None
            else self.table("metrics")
        )

    def turn_metrics(self, episode_id: int | None = None) -> pd.DataFrame:
        """Per-turn metrics in long form: one row per (episode_id, player_id, name, turn) with its value."""
        df = (
            self.table("turn_metrics", "episode_id = :e", {"e": episode_id})
            if episode_id is not None
            else self.table("turn_metrics")
        )
        columns = ["episode_id", "player_id", "name", "turn", "value"]
        if df.empty:
            return pd.DataFrame(columns=columns)
        long = df.rename(columns={"turns": "turn", "values": "value"}).explode(
            ["turn", "value"], ignore_index=True
        )
        return long.astype({"turn": "int64", "value": "float64"})[columns]

    def llm_calls(self) -> pd.DataFrame:
        """Every LLM call."""
        return self.table("llm_calls")

    def event_objects(self, episode_id: int) -> Iterator[Event]:
        """The episode's events as :class:`Event` objects, in order."""
        sql = text(
            "SELECT turn, phase, kind, payload, actor, visible_to FROM events "
            "WHERE episode_id = :e ORDER BY seq"
        )
        with self.engine.connect() as conn:
            rows = conn.execute(sql, {"e": episode_id}).all()
        for row in rows:
            yield event_from_row(*row)


def event_from_row(
    turn: int, phase: str, kind: str, payload: str, actor: str | None, visible_to: str
) -> Event:
    """An :class:`Event` from the JSON columns of its ``events`` row."""
    visible = json.loads(visible_to)
    return Event(turn, phase, kind, json.loads(payload), actor, visible if visible == ALL else tuple(visible))
