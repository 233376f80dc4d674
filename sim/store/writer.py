"""The one batched writer: buffers rows and hands batches to a writer process that owns the inserts.

The engine process only buffers rows (events serialised at once to plain strings and numbers) and
pipes full batches to :mod:`sim.store.writer_process`, which applies them with ``executemany`` on
another core, so disk work neither slows play nor blocks the event loop. A batch is committed when
``flush_rows`` rows are buffered, when ``flush_seconds`` have passed, when an episode ends other
than ``complete``, and when the run ends.

Episode rows are reserved as ``pending`` when a run starts, become ``running`` when played, and only
become ``complete`` in a transaction that also holds all their events, so an interrupted or killed
run never leaves an episode looking complete; episodes a stopped run never reached are ``not_run``.
If the engine process dies, the writer process rolls back what was not committed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Engine, insert, update

from sim.store import writer_process
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
    'INSERT INTO episodes (run_id, "index", matchup, world_id, params, seed, status) '
    "VALUES (?, ?, ?, ?, ?, ?, 'pending')"
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
_LLM_COLUMNS = [c for c in _LLM_CALLS.columns if not c.primary_key]
_INSERT_LLM_CALL = (
    f"INSERT INTO llm_calls ({', '.join(c.name for c in _LLM_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _LLM_COLUMNS)})"
)
_INSERT_CACHE = (
    "INSERT OR IGNORE INTO llm_cache (key, model, response, prompt_tokens, completion_tokens, cost_usd, "
    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_ALL_JSON = dumps("all")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _now_text() -> str:
    """The current UTC time in the text form SQLAlchemy's SQLite DateTime columns use."""
    return _now().strftime("%Y-%m-%d %H:%M:%S.%f")


def _llm_call_row(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """An ``llm_calls`` row as driver values: JSON columns serialised, booleans 0/1, times as text."""
    values = []
    for column in _LLM_COLUMNS:
        value = row.get(column.name)
        if isinstance(column.type, JSON):
            value = dumps(value)
        elif isinstance(column.type, Boolean) and value is not None:
            value = int(bool(value))
        elif isinstance(column.type, DateTime) and isinstance(value, datetime):
            value = value.strftime("%Y-%m-%d %H:%M:%S.%f")
        values.append(value)
    return tuple(values)


class WriterError(RuntimeError):
    """The writer process failed; what it had committed before stays intact."""


class StoreWriter:
    """Appends runs, episodes, events, metrics and LLM calls; the only writer of a store."""

    def __init__(self, engine: Engine, *, flush_rows: int = 20_000, flush_seconds: float = 1.0):
        self.engine = engine
        self.flush_rows = flush_rows
        self.flush_seconds = flush_seconds
        self._events: list[tuple[Any, ...]] = []
        self._metrics: list[tuple[Any, ...]] = []
        self._turn_metrics: list[tuple[Any, ...]] = []
        self._llm_calls: list[tuple[Any, ...]] = []
        self._cache: list[tuple[Any, ...]] = []
        self._updates: list[tuple[str, Any, bool]] = []  # (driver SQL, parameters, executemany?)
        self._seq: dict[int, int] = {}
        self._last_commit = time.monotonic()
        self._process: subprocess.Popen[bytes] | None = None

    # runs and reservations (written by this process, before the writer process starts) ---------
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
        self.sync()
        with self.engine.begin() as conn:
            key = conn.execute(insert(_RUNS).values(**values)).inserted_primary_key
        assert key is not None
        return int(key[0])

    def reserve_episodes(self, run_id: int, episodes: Sequence[Mapping[str, Any]]) -> list[int]:
        """Insert planned episodes as ``pending`` (keys: index, matchup, world_id, params, seed)."""
        self.sync()
        with self.engine.begin() as conn:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            ids = []
            for e in episodes:
                cursor.execute(
                    _INSERT_EPISODE,
                    (run_id, e["index"], e["matchup"], e["world_id"], dumps(e["params"]), e["seed"]),
                )
                ids.append(int(cursor.lastrowid))
        return ids

    def finish_run(self, run_id: int, status: str) -> None:
        """Write and commit everything, close the writer process, then close the run with ``status``."""
        if status != "complete":
            self._updates.append((_SKIP_PENDING, (run_id,), False))
        self.close()
        with self.engine.begin() as conn:
            conn.execute(update(_RUNS).where(_RUNS.c.id == run_id).values(status=status, finished_at=_now()))

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
        """Mark a reserved episode ``running`` (or reserve one now) and add its seats; returns its id."""
        if episode_id is None:
            episode = {
                "index": index,
                "matchup": matchup,
                "world_id": world_id,
                "params": params,
                "seed": seed,
            }
            episode_id = self.reserve_episodes(run_id, [episode])[0]
        seat_rows = [(episode_id, s["player_id"], s["agent"], s["label"], dumps(s["config"])) for s in seats]
        self._updates.append((_START_EPISODE, (_now_text(), episode_id), False))
        self._updates.append((_INSERT_SEAT, seat_rows, True))
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
            self._updates.append((_UPDATE_SEAT, seat_rows, True))
        final = (status, turns, None if outcome is None else dumps(outcome), error, _now_text(), episode_id)
        self._updates.append((_UPDATE_EPISODE, final, False))
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
            append((episode_id, seq, e.turn, str(e.phase), e.kind, e.actor, visible, dumps(e.payload)))
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
        """Buffer one ``llm_calls`` row (a mapping of its columns)."""
        self._llm_calls.append(_llm_call_row({"created_at": _now(), **row}))
        self._maybe_commit()

    def add_cache_entry(self, row: Mapping[str, Any]) -> None:
        """Buffer one ``llm_cache`` entry: key, model, response, prompt/completion tokens, cost_usd."""
        self._cache.append(
            (
                row["key"],
                row["model"],
                row["response"],
                row.get("prompt_tokens"),
                row.get("completion_tokens"),
                row.get("cost_usd"),
                _now_text(),
            )
        )
        self._maybe_commit()

    def pending(self) -> int:
        """Rows buffered here, not yet handed to the writer process."""
        return (
            len(self._events)
            + len(self._metrics)
            + len(self._turn_metrics)
            + len(self._llm_calls)
            + len(self._cache)
        )

    # batches --------------------------------------------------------------------------------
    def commit(self) -> None:
        """Hand everything buffered to the writer process, to be written and committed (returns at once)."""
        self._send_batch(commit=True)

    def sync(self) -> None:
        """Wait until everything handed over so far is written and committed; raise if the writer failed."""
        self.commit()
        if self._process is not None:
            self._request(("sync",))

    def close(self) -> None:
        """Write and commit what is buffered and stop the writer process; raise if it failed."""
        self.commit()
        if self._process is not None:
            process, self._process = self._process, None
            try:
                self._request(("close",), process)
            finally:
                assert process.stdin is not None
                process.stdin.close()
                process.wait()

    def _maybe_commit(self) -> None:
        if self.pending() >= self.flush_rows or time.monotonic() - self._last_commit >= self.flush_seconds:
            self.commit()

    def _send_batch(self, *, commit: bool) -> None:
        statements = [
            (sql, rows, True)
            for sql, rows in (
                (_INSERT_EVENTS, self._events),
                (_INSERT_METRICS, self._metrics),
                (_INSERT_TURN_METRICS, self._turn_metrics),
                (_INSERT_LLM_CALL, self._llm_calls),
                (_INSERT_CACHE, self._cache),
            )
            if rows
        ] + self._updates
        if commit:
            self._last_commit = time.monotonic()
        if not statements:
            return
        self._events, self._metrics, self._turn_metrics, self._llm_calls, self._cache = [], [], [], [], []
        self._updates = []
        self._send(("batch", statements, commit))

    def _writer(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            database = self.engine.url.database
            assert database is not None
            self._process = subprocess.Popen(
                [sys.executable, "-m", writer_process.__name__, str(Path(database).resolve())],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        return self._process

    def _send(self, message: tuple[Any, ...], process: subprocess.Popen[bytes] | None = None) -> None:
        process = process or self._writer()
        assert process.stdin is not None
        try:
            writer_process.send(process.stdin, message)  # type: ignore[arg-type]
        except BrokenPipeError:
            raise WriterError(f"the writer process of {self.engine.url.database} has stopped") from None

    def _request(self, message: tuple[Any, ...], process: subprocess.Popen[bytes] | None = None) -> None:
        process = process or self._writer()
        self._send(message, process)
        assert process.stdout is not None
        answer = writer_process.receive(process.stdout)  # type: ignore[arg-type]
        if answer is None or answer[0] != "ok":
            why = answer[1] if answer else f"it exited with code {process.poll()}"
            raise WriterError(f"writing to {self.engine.url.database} failed: {why}")
