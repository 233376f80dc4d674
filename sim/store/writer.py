"""The one batched writer: buffers rows and flushes them with executemany inside one transaction.

The writer keeps one connection with an open transaction and commits when ``flush_rows`` rows are
buffered, when ``flush_seconds`` have passed, or when a run finishes. Episodes are inserted as
``running`` and only become ``complete`` in a transaction that also holds all their events, so an
interrupted or killed run never leaves an episode looking complete. Events and metrics, the hot
rows, go through the driver's ``executemany`` with their JSON pre-serialised by :func:`sim.types.dumps`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, update
from sqlalchemy.engine import CursorResult

from sim.store.models import Base
from sim.types import Event, PlayerId, dumps

_RUNS = Base.metadata.tables["runs"]
_LLM_CALLS = Base.metadata.tables["llm_calls"]
_INSERT_EVENTS = (
    "INSERT INTO events (episode_id, seq, turn, phase, kind, actor, visible_to, payload) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_METRICS = "INSERT INTO metrics (episode_id, player_id, name, value) VALUES (?, ?, ?, ?)"
_INSERT_TURN_METRICS = (
    'INSERT INTO turn_metrics (episode_id, player_id, name, turns, "values") VALUES (?, ?, ?, ?, ?)'
)
_INSERT_EPISODE = (
    'INSERT INTO episodes (run_id, "index", matchup, world_id, params, seed, status, started_at) '
    "VALUES (?, ?, ?, ?, ?, ?, 'running', ?)"
)
_INSERT_SEAT = (
    "INSERT INTO seats (episode_id, player_id, agent, label, config, invalid_actions) "
    "VALUES (?, ?, ?, ?, ?, 0)"
)
_UPDATE_SEAT = "UPDATE seats SET score = ?, invalid_actions = ? WHERE episode_id = ? AND player_id = ?"
_UPDATE_EPISODE = (
    "UPDATE episodes SET status = ?, turns = ?, outcome = ?, error = ?, finished_at = ? WHERE id = ?"
)
_ALL_JSON = dumps("all")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _now_text() -> str:
    """The current UTC time in the text form SQLAlchemy's SQLite DateTime columns use."""
    return _now().strftime("%Y-%m-%d %H:%M:%S.%f")


def _new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


class StoreWriter:
    """Appends runs, episodes, events, metrics and LLM calls; the only writer of a store."""

    def __init__(self, engine: Engine, *, flush_rows: int = 20_000, flush_seconds: float = 1.0):
        self.engine = engine
        self.flush_rows = flush_rows
        self.flush_seconds = flush_seconds
        self._conn: Connection | None = None
        self._events: list[tuple[Any, ...]] = []
        self._metrics: list[tuple[Any, ...]] = []
        self._turn_metrics: list[tuple[Any, ...]] = []
        self._llm_calls: list[dict[str, Any]] = []
        self._seq: dict[int, int] = {}
        self._last_commit = time.monotonic()

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self.engine.connect()
        if not self._conn.in_transaction():
            self._conn.begin()
        return self._conn

    # runs -----------------------------------------------------------------------------------
    def begin_run(
        self,
        *,
        name: str,
        path: str | None,
        scenario: Mapping[str, Any],
        world_id: str,
        seed: int,
        version: str,
    ) -> int:
        """Insert a run row (status ``running``), commit, and return its id."""
        result = self._connection().execute(
            insert(_RUNS).values(
                scenario_name=name,
                scenario_path=path,
                scenario=dict(scenario),
                world_id=world_id,
                seed=seed,
                status="running",
                sim_version=version,
                started_at=_now(),
            )
        )
        self.commit()
        return _new_id(result)

    def finish_run(self, run_id: int, status: str) -> None:
        """Flush everything, close the run with ``status`` and release the connection."""
        conn = self._connection()
        self._write_buffers(conn)
        conn.execute(update(_RUNS).where(_RUNS.c.id == run_id).values(status=status, finished_at=_now()))
        self.commit()
        self.close()

    # episodes -------------------------------------------------------------------------------
    def begin_episode(
        self,
        *,
        run_id: int,
        index: int,
        matchup: str,
        world_id: str,
        params: Mapping[str, Any],
        seed: int,
        seats: Iterable[Mapping[str, Any]],
    ) -> int:
        """Insert an episode (status ``running``) with its seats; visible to readers at the next commit."""
        conn = self._connection()
        cursor = conn.exec_driver_sql(
            _INSERT_EPISODE, (run_id, index, matchup, world_id, dumps(params), seed, _now_text())
        )
        episode_id = int(cursor.lastrowid)
        conn.exec_driver_sql(
            _INSERT_SEAT,
            [(episode_id, s["player_id"], s["agent"], s["label"], dumps(s["config"])) for s in seats],
        )
        self._seq[episode_id] = 0
        self._maybe_commit()
        return episode_id

    def finish_episode(
        self,
        episode_id: int,
        *,
        status: str,
        turns: int,
        outcome: Mapping[str, Any] | None,
        scores: Mapping[PlayerId, float] | None = None,
        invalid: Mapping[PlayerId, int] | None = None,
        error: str | None = None,
    ) -> None:
        """Write the episode's buffered rows and its final status in the same transaction."""
        conn = self._connection()
        self._write_buffers(conn)
        if scores:
            conn.exec_driver_sql(
                _UPDATE_SEAT,
                [
                    (score, (invalid or {}).get(player, 0), episode_id, player)
                    for player, score in scores.items()
                ],
            )
        conn.exec_driver_sql(
            _UPDATE_EPISODE,
            (status, turns, None if outcome is None else dumps(outcome), error, _now_text(), episode_id),
        )
        self._seq.pop(episode_id, None)
        if status != "complete":
            self.commit()
        else:
            self._maybe_commit()

    # rows -----------------------------------------------------------------------------------
    def add_events(self, episode_id: int, events: Iterable[Event]) -> None:
        """Buffer events; their ``seq`` numbers continue the episode's sequence."""
        seq = self._seq[episode_id]
        append = self._events.append
        for e in events:
            visible = _ALL_JSON if e.visible_to == "all" else dumps(e.visible_to)
            append((episode_id, seq, e.turn, e.phase, e.kind, e.actor, visible, dumps(e.payload)))
            seq += 1
        self._seq[episode_id] = seq
        self._maybe_commit()

    def add_metrics(self, episode_id: int, rows: Iterable[tuple[PlayerId | None, str, float | None]]) -> None:
        """Buffer end-of-episode metric rows ``(player, name, value)``."""
        self._metrics.extend((episode_id, p, n, v) for p, n, v in rows)
        self._maybe_commit()

    def add_turn_metrics(
        self, episode_id: int, series: Iterable[tuple[PlayerId | None, str, list[int], list[float]]]
    ) -> None:
        """Buffer per-turn metric series ``(player, name, turns, values)``."""
        self._turn_metrics.extend((episode_id, p, n, dumps(t), dumps(v)) for p, n, t, v in series)

    def add_llm_call(self, row: Mapping[str, Any]) -> None:
        """Buffer one ``llm_calls`` row."""
        self._llm_calls.append({"created_at": _now(), **row})
        self._maybe_commit()

    def pending(self) -> int:
        """Rows buffered but not yet written."""
        return len(self._events) + len(self._metrics) + len(self._llm_calls)

    def commit(self) -> None:
        """Write everything buffered and commit now."""
        conn = self._connection()
        self._write_buffers(conn)
        conn.commit()
        self._last_commit = time.monotonic()

    def close(self) -> None:
        """Commit what is pending and release the connection."""
        if self._conn is not None:
            if self._conn.in_transaction():
                self._write_buffers(self._conn)
                self._conn.commit()
            self._conn.close()
            self._conn = None

    def _maybe_commit(self) -> None:
        if self.pending() >= self.flush_rows or time.monotonic() - self._last_commit >= self.flush_seconds:
            self.commit()

    def _write_buffers(self, conn: Connection) -> None:
        if self._events:
            conn.exec_driver_sql(_INSERT_EVENTS, self._events)
            self._events.clear()
        if self._metrics:
            conn.exec_driver_sql(_INSERT_METRICS, self._metrics)
            self._metrics.clear()
        if self._turn_metrics:
            conn.exec_driver_sql(_INSERT_TURN_METRICS, self._turn_metrics)
            self._turn_metrics.clear()
        if self._llm_calls:
            conn.execute(insert(_LLM_CALLS), self._llm_calls)
            self._llm_calls.clear()
