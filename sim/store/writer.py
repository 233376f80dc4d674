"""The one batched writer: buffers rows and writes them with executemany from a background thread.

The engine thread only buffers rows (events serialised at once to plain strings and numbers) and
hands full batches to a writer thread that owns the SQLite connection, so disk work overlaps play
and never blocks the event loop. A batch is committed when ``flush_rows`` rows are buffered, when
``flush_seconds`` have passed, when an episode ends other than ``complete``, and when the run ends.

Episode rows are reserved as ``pending`` when a run starts, become ``running`` when played, and only
become ``complete`` in a transaction that also holds all their events, so an interrupted or killed
run never leaves an episode looking complete; episodes a stopped run never reached are ``not_run``.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, update

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
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_START_EPISODE = "UPDATE episodes SET status = 'running', started_at = ? WHERE id = ?"
_INSERT_SEAT = (
    "INSERT INTO seats (episode_id, player_id, agent, label, config, invalid_actions) "
    "VALUES (?, ?, ?, ?, ?, 0)"
)
_UPDATE_SEAT = "UPDATE seats SET score = ?, invalid_actions = ? WHERE episode_id = ? AND player_id = ?"
_UPDATE_EPISODE = (
    "UPDATE episodes SET status = ?, turns = ?, outcome = ?, error = ?, finished_at = ? WHERE id = ?"
)
_SKIP_PENDING = "UPDATE episodes SET status = 'not_run' WHERE run_id = ? AND status = 'pending'"
_ALL_JSON = dumps("all")

Job = Callable[[Connection], Any]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _now_text() -> str:
    """The current UTC time in the text form SQLAlchemy's SQLite DateTime columns use."""
    return _now().strftime("%Y-%m-%d %H:%M:%S.%f")


class WriterError(RuntimeError):
    """The writer thread failed; what it had committed before stays intact."""


class StoreWriter:
    """Appends runs, episodes, events, metrics and LLM calls; the only writer of a store."""

    def __init__(self, engine: Engine, *, flush_rows: int = 20_000, flush_seconds: float = 1.0):
        self.engine = engine
        self.flush_rows = flush_rows
        self.flush_seconds = flush_seconds
        self._events: list[tuple[Any, ...]] = []
        self._metrics: list[tuple[Any, ...]] = []
        self._turn_metrics: list[tuple[Any, ...]] = []
        self._llm_calls: list[dict[str, Any]] = []
        self._updates: list[tuple[str, Any]] = []  # (driver SQL, parameters) run after the rows
        self._seq: dict[int, int] = {}
        self._last_commit = time.monotonic()
        self._jobs: queue.Queue[tuple[Job, Future[Any]] | None] = queue.Queue(maxsize=8)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="sim-store-writer", daemon=True)
        self._thread.start()

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
        values = {
            "scenario_name": name,
            "scenario_path": path,
            "scenario": dict(scenario),
            "world_id": world_id,
            "seed": seed,
            "status": "running",
            "sim_version": version,
            "started_at": _now(),
        }

        def job(conn: Connection) -> int:
            key = conn.execute(insert(_RUNS).values(**values)).inserted_primary_key
            conn.commit()
            assert key is not None
            return int(key[0])

        return int(self._call(job))

    def reserve_episodes(self, run_id: int, episodes: Sequence[Mapping[str, Any]]) -> list[int]:
        """Insert planned episodes as ``pending`` (keys: index, matchup, world_id, params, seed)."""
        rows = [
            (run_id, e["index"], e["matchup"], e["world_id"], dumps(e["params"]), e["seed"], "pending", None)
            for e in episodes
        ]

        def job(conn: Connection) -> list[int]:
            ids = [int(conn.exec_driver_sql(_INSERT_EPISODE, row).lastrowid) for row in rows]
            conn.commit()
            return ids

        ids: list[int] = self._call(job)
        return ids

    def finish_run(self, run_id: int, status: str) -> None:
        """Write everything, close the run with ``status``, and stop the writer thread."""
        if status != "complete":
            self._updates.append((_SKIP_PENDING, (run_id,)))
        now = _now()
        self._submit(
            lambda conn: conn.execute(
                update(_RUNS).where(_RUNS.c.id == run_id).values(status=status, finished_at=now)
            ),
            commit=True,
        )
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
        episode_id: int | None = None,
    ) -> int:
        """Mark a reserved episode ``running`` (or insert one) and add its seats; returns its id."""
        if episode_id is None:
            episode_id = self.reserve_episodes(
                run_id,
                [{"index": index, "matchup": matchup, "world_id": world_id, "params": params, "seed": seed}],
            )[0]
        self._updates.append((_START_EPISODE, (_now_text(), episode_id)))
        self._updates.append(
            (
                _INSERT_SEAT,
                [(episode_id, s["player_id"], s["agent"], s["label"], dumps(s["config"])) for s in seats],
            )
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
        """Queue the episode's final status after its rows, in the same transaction."""
        if scores:
            seat_rows = [(score, (invalid or {}).get(p, 0), episode_id, p) for p, score in scores.items()]
            self._updates.append((_UPDATE_SEAT, seat_rows))
        final = (status, turns, None if outcome is None else dumps(outcome), error, _now_text(), episode_id)
        self._updates.append((_UPDATE_EPISODE, final))
        self._seq.pop(episode_id, None)
        if status != "complete":
            self.commit()
        else:
            self._maybe_commit()

    # rows -----------------------------------------------------------------------------------
    def add_events(self, episode_id: int, events: Sequence[Event]) -> None:
        """Buffer events as rows of plain strings and numbers; ``seq`` continues the episode's sequence."""
        seq = self._seq[episode_id]
        append = self._events.append
        for e in events:
            visible = _ALL_JSON if e.visible_to == "all" else dumps(e.visible_to)
            append((episode_id, seq, e.turn, e.phase, e.kind, e.actor, visible, dumps(e.payload)))
            seq += 1
        self._seq[episode_id] = seq
        if len(self._events) >= self.flush_rows or time.monotonic() - self._last_commit >= self.flush_seconds:
            self.commit()

    def add_metrics(self, episode_id: int, rows: Iterable[tuple[PlayerId | None, str, float | None]]) -> None:
        """Buffer end-of-episode metric rows ``(player, name, value)``."""
        self._metrics.extend((episode_id, p, n, v) for p, n, v in rows)

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
        """Rows buffered in this thread, not yet handed to the writer thread."""
        return len(self._events) + len(self._metrics) + len(self._turn_metrics) + len(self._llm_calls)

    # batches --------------------------------------------------------------------------------
    def commit(self) -> None:
        """Hand everything buffered to the writer thread, to be written and committed (returns at once)."""
        self._submit(None, commit=True)

    def sync(self) -> None:
        """Wait until everything handed over so far is committed."""
        self.commit()
        self._call(lambda conn: None)

    def close(self) -> None:
        """Write and commit what is buffered, stop the writer thread, and raise if it failed."""
        if self._thread.is_alive():
            self.commit()
            self._jobs.put(None)
            self._thread.join()
        if self._error is not None:
            raise WriterError(
                f"writing to {self.engine.url.database} failed: {self._error!r}"
            ) from self._error

    def _maybe_commit(self) -> None:
        if self.pending() >= self.flush_rows or time.monotonic() - self._last_commit >= self.flush_seconds:
            self.commit()

    def _submit(self, extra: Job | None, *, commit: bool) -> Future[Any]:
        """Queue the current buffers (and ``extra`` after them) as one job."""
        batch = (self._events, self._metrics, self._turn_metrics, self._llm_calls, self._updates)
        self._events, self._metrics, self._turn_metrics, self._llm_calls, self._updates = [], [], [], [], []
        if commit:
            self._last_commit = time.monotonic()

        def job(conn: Connection) -> Any:
            _write(conn, *batch)
            result = extra(conn) if extra is not None else None
            if commit:
                conn.commit()
            return result

        return self._put(job)

    def _call(self, job: Job) -> Any:
        """Run ``job`` on the writer thread after everything queued before it, and wait for its result."""
        return self._put(job).result()

    def _put(self, job: Job) -> Future[Any]:
        if self._error is not None or not self._thread.is_alive():
            raise WriterError(f"the writer of {self.engine.url.database} has stopped") from self._error
        future: Future[Any] = Future()
        self._jobs.put((job, future))
        return future

    def _work(self) -> None:
        with self.engine.connect() as conn:
            while (item := self._jobs.get()) is not None:
                job, future = item
                if self._error is not None:
                    future.set_exception(WriterError("an earlier write failed"))
                    continue
                try:
                    future.set_result(job(conn))
                except BaseException as exc:
                    self._error = exc
                    conn.rollback()
                    future.set_exception(exc)


def _write(
    conn: Connection,
    events: list[tuple[Any, ...]],
    metrics: list[tuple[Any, ...]],
    turn_metrics: list[tuple[Any, ...]],
    llm_calls: list[dict[str, Any]],
    updates: list[tuple[str, Any]],
) -> None:
    """Insert the rows of one batch, then apply its status updates, in the connection's transaction."""
    if events:
        conn.exec_driver_sql(_INSERT_EVENTS, events)
    if metrics:
        conn.exec_driver_sql(_INSERT_METRICS, metrics)
    if turn_metrics:
        conn.exec_driver_sql(_INSERT_TURN_METRICS, turn_metrics)
    if llm_calls:
        conn.execute(insert(_LLM_CALLS), llm_calls)
    for sql, params in updates:
        if params:
            conn.exec_driver_sql(sql, params)
