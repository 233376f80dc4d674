"""The one batched writer: buffers rows and flushes them with Core executemany in one transaction.

Episodes are inserted as ``running`` before play starts and only become ``complete`` in the same
transaction that flushes their last events, so an interrupted episode never looks complete.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, update

from sim.store.models import Episode, EventRow, LLMCall, Metric, Run, Seat
from sim.types import Event, PlayerId, to_jsonable

_EVENTS = EventRow.__table__
_METRICS = Metric.__table__
_LLM_CALLS = LLMCall.__table__


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class StoreWriter:
    """Appends runs, episodes, events, metrics and LLM calls; the only writer of a store."""

    def __init__(self, engine: Engine, *, flush_rows: int = 20_000, flush_seconds: float = 1.0):
        self.engine = engine
        self.flush_rows = flush_rows
        self.flush_seconds = flush_seconds
        self._events: list[dict[str, Any]] = []
        self._metrics: list[dict[str, Any]] = []
        self._llm_calls: list[dict[str, Any]] = []
        self._seq: dict[int, int] = {}
        self._last_flush = time.monotonic()

    # runs -----------------------------------------------------------------------------------
    def begin_run(self, *, name: str, path: str | None, scenario: Mapping[str, Any], world_id: str, seed: int,
                  version: str) -> int:
        """Insert a run row (status ``running``) and return its id."""
        with self.engine.begin() as conn:
            result = conn.execute(insert(Run.__table__).values(
                scenario_name=name, scenario_path=path, scenario=dict(scenario), world_id=world_id, seed=seed,
                status="running", sim_version=version, started_at=_now()))
        return int(result.inserted_primary_key[0])

    def finish_run(self, run_id: int, status: str) -> None:
        """Flush everything and close the run with ``status``."""
        with self.engine.begin() as conn:
            self._flush(conn)
            conn.execute(update(Run.__table__).where(Run.__table__.c.id == run_id)
                         .values(status=status, finished_at=_now()))

    # episodes -------------------------------------------------------------------------------
    def begin_episode(self, *, run_id: int, index: int, matchup: str, world_id: str, params: Mapping[str, Any],
                      seed: int, seats: Iterable[Mapping[str, Any]]) -> int:
        """Insert an episode (status ``running``) with its seats; committed at once so viewers see it."""
        with self.engine.begin() as conn:
            self._flush(conn)
            result = conn.execute(insert(Episode.__table__).values(
                run_id=run_id, index=index, matchup=matchup, world_id=world_id, params=dict(params), seed=seed,
                status="running", started_at=_now()))
            episode_id = int(result.inserted_primary_key[0])
            conn.execute(insert(Seat.__table__), [{"episode_id": episode_id, "invalid_actions": 0, **s} for s in seats])
        self._seq[episode_id] = 0
        return episode_id

    def finish_episode(self, episode_id: int, *, status: str, turns: int, outcome: Mapping[str, Any] | None,
                       scores: Mapping[PlayerId, float] | None = None,
                       invalid: Mapping[PlayerId, int] | None = None, error: str | None = None) -> None:
        """Flush the episode's rows and set its final status in the same transaction."""
        seats = Seat.__table__
        with self.engine.begin() as conn:
            self._flush(conn)
            for player, score in (scores or {}).items():
                conn.execute(update(seats).where(seats.c.episode_id == episode_id, seats.c.player_id == player)
                             .values(score=score, invalid_actions=(invalid or {}).get(player, 0)))
            conn.execute(update(Episode.__table__).where(Episode.__table__.c.id == episode_id).values(
                status=status, turns=turns, outcome=to_jsonable(outcome) if outcome is not None else None,
                error=error, finished_at=_now()))
        self._seq.pop(episode_id, None)

    # rows -----------------------------------------------------------------------------------
    def add_events(self, episode_id: int, events: Iterable[Event]) -> None:
        """Buffer events; their ``seq`` numbers continue the episode's sequence."""
        seq = self._seq[episode_id]
        append = self._events.append
        for e in events:
            append({"episode_id": episode_id, "seq": seq, "turn": e.turn, "phase": e.phase, "kind": e.kind,
                    "actor": e.actor, "visible_to": e.visible_to, "payload": e.payload})
            seq += 1
        self._seq[episode_id] = seq
        self._maybe_flush()

    def add_metrics(self, episode_id: int, rows: Iterable[tuple[int | None, PlayerId | None, str, float | None]]) -> None:
        """Buffer metric rows ``(turn, player, name, value)``."""
        self._metrics.extend({"episode_id": episode_id, "turn": t, "player_id": p, "name": n, "value": v}
                             for t, p, n, v in rows)
        self._maybe_flush()

    def add_llm_call(self, row: Mapping[str, Any]) -> None:
        """Buffer one ``llm_calls`` row."""
        self._llm_calls.append({"created_at": _now(), **row})
        self._maybe_flush()

    def flush(self) -> None:
        """Write everything buffered now."""
        with self.engine.begin() as conn:
            self._flush(conn)

    def _maybe_flush(self) -> None:
        pending = len(self._events) + len(self._metrics) + len(self._llm_calls)
        if pending >= self.flush_rows or (pending and time.monotonic() - self._last_flush >= self.flush_seconds):
            self.flush()

    def _flush(self, conn: Any) -> None:
        for table, rows in ((_EVENTS, self._events), (_METRICS, self._metrics), (_LLM_CALLS, self._llm_calls)):
            if rows:
                conn.execute(insert(table), rows)
                rows.clear()
        self._last_flush = time.monotonic()
