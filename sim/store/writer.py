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

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Boolean, Column, DateTime, Engine, bindparam, delete, insert, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql.compiler import SQLCompiler

from sim.redact import redact, redact_text
from sim.store import writer_process
from sim.store.models import Base
from sim.store.sender import Sender
from sim.types import Event, PlayerId, dumps

# Every statement below is compiled once, here, from the models' tables (``Base.metadata``) to SQLite
# driver SQL with ``?`` placeholders, which the writer process runs with ``executemany``.
_DIALECT = sqlite.dialect(paramstyle="qmark")
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy's SQLite DateTime stores a datetime


class SchemaMismatch(RuntimeError):
    """The writer's rows and the models' columns disagree (a column added to one but not the other)."""


def _checked(compiled: SQLCompiler, params: Sequence[str]) -> str:
    """The driver SQL of ``compiled``, after checking its ``?`` placeholders take ``params`` in order."""
    if tuple(compiled.positiontup or ()) != tuple(params):
        raise SchemaMismatch(f"{compiled}: parameters {compiled.positiontup}, expected {tuple(params)}")
    return str(compiled)


def _update(table: str, columns: Sequence[str], where: Sequence[str]) -> str:
    """``UPDATE table SET columns WHERE where`` (all ``=``, ANDed); parameters: ``columns`` then ``where``."""
    t = Base.metadata.tables[table]
    statement = update(t).where(*(t.c[name] == bindparam(f"where_{name}") for name in where))
    compiled = statement.compile(dialect=_DIALECT, column_keys=list(columns))
    return _checked(compiled, [*columns, *(f"where_{name}" for name in where)])


def _delete(table: str, where: Sequence[str]) -> str:
    """``DELETE FROM table WHERE where`` (all ``=``, ANDed); parameters in ``where`` order."""
    t = Base.metadata.tables[table]
    statement = delete(t).where(*(t.c[name] == bindparam(f"where_{name}") for name in where))
    return _checked(statement.compile(dialect=_DIALECT), [f"where_{name}" for name in where])


def _driver_value(column: Column[Any]) -> Callable[[Any], Any] | None:
    """How a Python value of ``column`` becomes a driver value, as SQLAlchemy would write it (None: as is)."""
    if isinstance(column.type, JSON):
        return dumps  # None becomes the JSON text null, as with SQLAlchemy's JSON type
    if isinstance(column.type, Boolean):
        return lambda v: None if v is None else int(bool(v))
    if isinstance(column.type, DateTime):
        return lambda v: v.strftime(_TIME_FORMAT) if isinstance(v, datetime) else v
    return None


class TableInsert:
    """The driver SQL inserting every column of a table but its generated ``id``, and how to build rows.

    ``names`` are the table's columns in model order, without the integer primary key SQLite assigns
    (``llm_cache`` has none: its primary key ``key`` is written); rows are plain tuples in that order.
    A writer that builds its tuples by position (events, on the hot path) passes the ``row`` names it
    builds, checked against the model here, at import: a model column the writer does not write, or a
    different order, raises :class:`SchemaMismatch` instead of writing misplaced values.
    """

    def __init__(self, table: str, *, row: Sequence[str] | None = None, or_ignore: bool = False):
        self.table = Base.metadata.tables[table]
        self.columns = tuple(c for c in self.table.columns if c is not self.table.autoincrement_column)
        self.names = tuple(c.name for c in self.columns)
        if row is not None and tuple(row) != self.names:
            missing = [n for n in self.names if n not in row]
            unknown = [n for n in row if n not in self.names]
            raise SchemaMismatch(
                f"the writer builds {table} rows as {tuple(row)} but the model's columns are {self.names}"
                f" (not written: {missing or 'none'}; not in the model: {unknown or 'none'})"
            )
        statement = insert(self.table).prefix_with("OR IGNORE") if or_ignore else insert(self.table)
        self.sql = _checked(statement.compile(dialect=_DIALECT, column_keys=list(self.names)), self.names)
        self._build = tuple((c.name, _driver_value(c), self._default(c)) for c in self.columns)

    @staticmethod
    def _default(column: Column[Any]) -> Any:
        """The driver value of the column's scalar default (``default=`` in the model), else None."""
        default = column.default
        if default is None or not default.is_scalar:
            return None
        value = default.arg  # type: ignore[attr-defined]
        convert = _driver_value(column)
        return value if convert is None or value is None else convert(value)

    def default(self, name: str) -> Any:
        """The driver value a missing ``name`` gets: the column's scalar default, else NULL."""
        return next(default for n, _, default in self._build if n == name)

    def row(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """A row from a mapping of column values: JSON serialised (None as JSON ``null``), booleans 0/1,
        datetimes as text; a missing column gets its default, else NULL; other keys are ignored."""
        out = []
        for name, convert, default in self._build:
            if name in values:
                value = values[name]
                out.append(value if convert is None else convert(value))
            else:
                out.append(default)
        return tuple(out)


_RUNS = TableInsert(
    "runs",
    row=(
        "scenario_name",
        "scenario_path",
        "scenario",
        "world_id",
        "seed",
        "status",
        "sim_version",
        "started_at",
        "finished_at",
        "fingerprint",
        "pid",
        "host",
        "heartbeat_at",
    ),
)
_EPISODES = TableInsert(
    "episodes",
    row=(
        "run_id",
        "index",
        "matchup",
        "world_id",
        "params",
        "seed",
        "status",
        "turns",
        "outcome",
        "error",
        "started_at",
        "finished_at",
        "key",
    ),
)
_SEATS = TableInsert(
    "seats",
    row=(
        "episode_id",
        "player_id",
        "role",
        "agent",
        "label",
        "config",
        "score",
        "invalid_actions",
        "game_role",
        "side",
    ),
)
_EVENTS = TableInsert(
    "events", row=("episode_id", "seq", "turn", "phase", "kind", "actor", "visible_to", "payload")
)
_METRICS = TableInsert(
    "metrics", row=("episode_id", "player_id", "name", "value", "evaluator", "evaluator_model")
)
_TURN_METRICS = TableInsert("turn_metrics", row=("episode_id", "player_id", "name", "turns", "values"))
_LLM_CALLS = TableInsert("llm_calls")  # rows built from the LLM client's mappings by column name
_LLM_CACHE = TableInsert("llm_cache", or_ignore=True)
_ALL_INSERTS = (_RUNS, _EPISODES, _SEATS, _EVENTS, _METRICS, _TURN_METRICS, _LLM_CALLS, _LLM_CACHE)
INSERTS: dict[str, TableInsert] = {i.table.name: i for i in _ALL_INSERTS}
"""Every table the writer inserts into, and its insert."""

_START_EPISODE = _update("episodes", ("status", "started_at"), ("id",))
_UPDATE_SEAT = _update(
    "seats", ("score", "invalid_actions", "game_role", "side"), ("episode_id", "player_id")
)
_UPDATE_EPISODE = _update("episodes", ("status", "turns", "outcome", "error", "finished_at"), ("id",))
_SKIP_PENDING = _update("episodes", ("status",), ("run_id", "status"))
_FINISH_RUN = _update("runs", ("status", "finished_at"), ("id",))


def _reopen_run() -> str:
    """``UPDATE runs SET`` status, finished_at, pid, host, heartbeat_at ``WHERE id = ? AND pid IS ?``."""
    t = Base.metadata.tables["runs"]
    columns = ("status", "finished_at", "pid", "host", "heartbeat_at")
    where = (t.c.id == bindparam("where_id"), t.c.pid.is_not_distinct_from(bindparam("where_pid")))
    compiled = update(t).where(*where).compile(dialect=_DIALECT, column_keys=list(columns))
    return _checked(compiled, [*columns, "where_id", "where_pid"])


_REOPEN_RUN = _reopen_run()
_HEARTBEAT = _update("runs", ("heartbeat_at",), ("id",))
_RESET_EPISODE = _update(
    "episodes", ("status", "turns", "outcome", "error", "started_at", "finished_at"), ("id",)
)
#: The tables holding an episode's played rows, children first (what a replay removes).
_EPISODE_ROWS = ("llm_calls", "events", "metrics", "turn_metrics", "seats")
_DELETE_EPISODE_ROWS = tuple(_delete(table, ("episode_id",)) for table in _EPISODE_ROWS)
_CLOSE_RUNNING = _update("episodes", ("status", "error", "finished_at"), ("run_id", "status"))
_DELETE_EVALUATOR_METRICS = _delete("metrics", ("episode_id", "evaluator"))
_DEFAULT_ROLE = _SEATS.default("role")
_DEFAULT_INVALID = _SEATS.default("invalid_actions")
_ALL_JSON = dumps("all")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _now_text() -> str:
    """The current UTC time in the text form SQLAlchemy's SQLite DateTime columns use."""
    return _now().strftime(_TIME_FORMAT)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class WriterError(RuntimeError):
    """The writer process failed; what it had committed before stays intact."""


class StoreWriter:
    """The only writer of a store: runs, episodes, events, metrics (also evaluators'), LLM calls."""

    def __init__(self, engine: Engine, *, flush_rows: int = 20_000, flush_seconds: float = 1.0):
        self.engine = engine
        self.flush_rows = flush_rows
        self.flush_seconds = flush_seconds
        self._events: list[tuple[Any, ...]] = []
        self._turn_metrics: list[tuple[Any, ...]] = []
        self._llm_calls: list[tuple[Any, ...]] = []
        self._cache: list[tuple[Any, ...]] = []
        # statements run after the buffered inserts, in call order: (driver SQL, parameters, executemany?)
        self._updates: list[tuple[str, Any, bool]] = []
        self._queued_rows = 0  # rows of inserts in ``_updates`` (seats, metrics)
        self._seq: dict[int, int] = {}
        self._last_commit = time.monotonic()
        self._process: subprocess.Popen[bytes] | None = None
        self._sender: Sender | None = None  # writes the process's input from a thread
        self.failure: WriterError | None = None  # set once the writer process failed or died

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
        fingerprint: str | None = None,
    ) -> int:
        """Insert a run row (status ``running``, this process's pid and host, a first heartbeat), commit,
        and return its id. ``fingerprint`` identifies the plan (what ``--resume`` looks for)."""
        now = _now_text()
        scenario = redact(dict(scenario))  # secrets masked (sim.redact)
        row = (
            *(name, path, dumps(scenario), world_id, seed, "running", version, now, None),
            *(fingerprint, os.getpid(), socket.gethostname(), now),
        )
        return self._insert_now(_RUNS, [row])[0]

    def reserve_episodes(self, run_id: int, episodes: Sequence[Mapping[str, Any]]) -> list[int]:
        """Insert planned episodes as ``pending`` (keys: index, matchup, world_id, params, seed, and
        optionally key: the plan key of the episode)."""
        rows = [
            (run_id, e["index"], e["matchup"], e["world_id"], dumps(e["params"]), e["seed"], "pending")
            + (None,) * 5  # turns, outcome, error, started_at, finished_at: set when it is played
            + (e.get("key"),)
            for e in episodes
        ]
        return self._insert_now(_EPISODES, rows)

    def _insert_now(self, table: TableInsert, rows: Iterable[tuple[Any, ...]]) -> list[int]:
        """Insert ``rows`` from this process after everything queued before, commit, and return their ids."""
        self.sync()
        with self.engine.begin() as conn:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            ids = []
            for row in rows:
                cursor.execute(table.sql, row)
                ids.append(int(cursor.lastrowid))
        return ids

    def reopen_run(self, run_id: int, previous_pid: int | None) -> bool:
        """Mark a stopped run ``running`` again, stamped with this process's pid, host and a heartbeat
        (``sim run --resume``), if its pid is still ``previous_pid`` (no other process claimed it
        meanwhile); commit. Whether it was reopened."""
        self.sync()
        with self.engine.begin() as conn:
            row = ("running", None, os.getpid(), socket.gethostname(), _now_text(), run_id, previous_pid)
            return conn.exec_driver_sql(_REOPEN_RUN, row).rowcount == 1

    def reset_episodes(self, episode_ids: Sequence[int]) -> None:
        """Make episodes ``pending`` again, to be replayed from scratch: their seats, events, metrics,
        per-turn metrics and LLM calls are deleted and their status, turns, outcome, error and times
        cleared, all in one transaction (committed)."""
        if not episode_ids:
            return
        self.sync()
        ids = [(int(i),) for i in episode_ids]
        with self.engine.begin() as conn:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            for sql in _DELETE_EPISODE_ROWS:
                cursor.executemany(sql, ids)
            cursor.executemany(_RESET_EPISODE, [("pending", None, None, None, None, None, i) for (i,) in ids])

    def heartbeat(self, run_id: int) -> None:
        """Refresh the run's ``heartbeat_at`` through the writer process (committed with what is buffered)."""
        self._updates.append((_HEARTBEAT, (_now_text(), run_id), False))
        self.commit()

    def finish_run(self, run_id: int, status: str, error: str | None = None) -> str:
        """Write and commit everything, close the writer process, then close the run with ``status``;
        returns the status written.

        A run that did not complete also closes its episodes: ``pending`` ones become ``not_run``, any
        still ``running`` becomes ``interrupted`` (an interrupted run) or ``failed``, with ``error``.
        If the writer process is gone, what it never committed is lost and these statuses are written
        through a direct connection, in one transaction; a ``complete`` run then ends ``failed``, since
        not all its rows were stored. :attr:`failure` keeps the writer's error.
        """
        closing = self._closing(run_id, status, error)
        if status != "complete":
            self._updates.extend((sql, params, False) for sql, params in closing)
        try:
            self.close()
        except WriterError as exc:
            self.failure = self.failure or exc
            self._discard()
            status = "failed" if status == "complete" else status
            closing = self._closing(run_id, status, error or str(exc))
        else:
            closing = closing[-1:]  # the episodes were closed in the writer's last batch
        with self.engine.begin() as conn:
            for sql, params in closing:
                conn.exec_driver_sql(sql, params)
        return status

    @staticmethod
    def _closing(run_id: int, status: str, error: str | None) -> list[tuple[str, tuple[Any, ...]]]:
        """The statements closing a run with ``status``: its unfinished episodes (unless it is complete),
        then the run itself."""
        now = _now_text()
        closing: list[tuple[str, tuple[Any, ...]]] = []
        if status != "complete":
            left = "interrupted" if status == "interrupted" else "failed"
            closing.append((_SKIP_PENDING, ("not_run", run_id, "pending")))
            closing.append(
                (_CLOSE_RUNNING, (left, error or f"the run ended {status}", now, run_id, "running"))
            )
        closing.append((_FINISH_RUN, (status, now, run_id)))
        return closing

    def _discard(self) -> None:
        """Drop everything buffered (the writer process that would have written it is gone)."""
        self._events, self._turn_metrics, self._llm_calls, self._cache = [], [], [], []
        self._updates, self._queued_rows = [], 0

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
        """Mark a reserved episode ``running`` (or reserve one now) and add its seats; returns its id.

        Each seat is a mapping with ``player_id``, ``agent``, ``label``, ``config`` and optionally
        ``role``: the seat's role as the world declares it (default ``player``; a narrator or referee
        seat has another).
        """
        if episode_id is None:
            episode = {
                "index": index,
                "matchup": matchup,
                "world_id": world_id,
                "params": params,
                "seed": seed,
            }
            episode_id = self.reserve_episodes(run_id, [episode])[0]
        seat_rows = [
            (
                episode_id,
                s["player_id"],
                s.get("role", _DEFAULT_ROLE),
                s["agent"],
                s["label"],
                dumps(redact(s["config"])),
                None,  # score, set when the episode completes
                _DEFAULT_INVALID,
                None,  # game_role and side, told when the episode completes
                None,
            )
            for s in seats
        ]
        self._updates.append((_START_EPISODE, ("running", _now_text(), episode_id), False))
        self._queue_insert(_SEATS, seat_rows)
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
        roles: Mapping[PlayerId, tuple[str, str | None]] | None = None,
    ) -> None:
        """Queue the episode's final status after its rows, in the same transaction. ``roles`` gives
        seats their role and side in play, ``(game_role, side)`` (stored with their scores)."""
        if scores:
            roles = roles or {}
            seat_rows = [
                (score, (invalid or {}).get(p, 0), *roles.get(p, (None, None)), episode_id, p)
                for p, score in scores.items()
            ]
            self._updates.append((_UPDATE_SEAT, seat_rows, True))
        error = None if error is None else redact_text(error)
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
        for turn, phase, kind, payload, actor, visible_to in events:  # Event's fields, unpacked at once
            visible = _ALL_JSON if visible_to == "all" else dumps(visible_to)
            append((episode_id, seq, turn, str(phase), kind, actor, visible, dumps(payload)))
            seq += 1
        self._seq[episode_id] = seq
        if len(self._events) >= self.flush_rows or time.monotonic() - self._last_commit >= self.flush_seconds:
            self.commit()

    def add_metrics(
        self,
        episode_id: int,
        rows: Iterable[tuple[PlayerId | None, str, float | None]],
        *,
        evaluator: str | None = None,
        evaluator_model: str | None = None,
    ) -> None:
        """Queue end-of-episode metric rows ``(player, name, value)``.

        ``evaluator`` is None for numbers from the engine, the world and the agents; an evaluator that
        scores stored episodes after a run passes its name, and ``evaluator_model`` the model it used.
        """
        if evaluator is None and evaluator_model is not None:
            raise ValueError("evaluator_model without an evaluator")
        self._queue_insert(_METRICS, [(episode_id, p, n, v, evaluator, evaluator_model) for p, n, v in rows])

    def delete_evaluator_metrics(self, episode_id: int, evaluator: str) -> None:
        """Queue deleting the episode's metric rows from ``evaluator`` (before re-adding them: a re-run
        replaces an evaluator's rows instead of duplicating them). Rows queued before this call are
        deleted too, rows added after it are kept; commit as usual (``sync``, ``close``)."""
        if not evaluator:
            raise ValueError("delete_evaluator_metrics needs an evaluator name")
        self._updates.append((_DELETE_EVALUATOR_METRICS, (episode_id, evaluator), False))

    def add_turn_metrics(
        self, episode_id: int, series: Iterable[tuple[PlayerId | None, str, list[int], list[float]]]
    ) -> None:
        """Buffer per-turn metric series ``(player, name, turns, values)``."""
        self._turn_metrics.extend((episode_id, p, n, dumps(t), dumps(v)) for p, n, t, v in series)

    def add_llm_call(self, row: Mapping[str, Any]) -> None:
        """Buffer one ``llm_calls`` row (a mapping of its columns; ``created_at`` defaults to now).
        Secrets in ``params`` and ``error`` are masked (:mod:`sim.redact`); prompts and answers are kept."""
        row = {"created_at": _now(), **row}
        if row.get("params") is not None:
            row["params"] = redact(row["params"])
        if isinstance(row.get("error"), str):
            row["error"] = redact_text(row["error"])
        self._llm_calls.append(_LLM_CALLS.row(row))
        self._maybe_commit()

    def add_cache_entry(self, row: Mapping[str, Any]) -> None:
        """Buffer one ``llm_cache`` entry: key, model, response, prompt/completion tokens, cost_usd."""
        self._cache.append(_LLM_CACHE.row({**row, "created_at": _now()}))
        self._maybe_commit()

    def _queue_insert(self, table: TableInsert, rows: list[tuple[Any, ...]]) -> None:
        """Queue an insert among the updates, keeping its order with them (seats, metrics)."""
        if rows:
            self._updates.append((table.sql, rows, True))
            self._queued_rows += len(rows)

    def pending(self) -> int:
        """Rows buffered here, not yet handed to the writer process."""
        return (
            len(self._events)
            + self._queued_rows
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
        if self._process is not None and self._sender is not None:
            process, self._process = self._process, None
            sender, self._sender = self._sender, None
            try:
                self._request(("close",), process, sender)
            finally:
                sender.stop()
                assert process.stdin is not None
                with contextlib.suppress(BrokenPipeError):  # a dead writer: its unflushed bytes are moot
                    process.stdin.close()
                process.wait()

    def _maybe_commit(self) -> None:
        if self.pending() >= self.flush_rows or time.monotonic() - self._last_commit >= self.flush_seconds:
            self.commit()

    def _send_batch(self, *, commit: bool) -> None:
        statements = [
            (sql, rows, True)
            for sql, rows in (
                (_EVENTS.sql, self._events),
                (_TURN_METRICS.sql, self._turn_metrics),
                (_LLM_CALLS.sql, self._llm_calls),
                (_LLM_CACHE.sql, self._cache),
            )
            if rows
        ] + self._updates
        if commit:
            self._last_commit = time.monotonic()
        if not statements:
            return
        self._events, self._turn_metrics, self._llm_calls, self._cache = [], [], [], []
        self._updates, self._queued_rows = [], 0
        self._send(("batch", statements, commit))

    def _writer(self) -> tuple[subprocess.Popen[bytes], Sender]:
        if self._process is None or self._sender is None:
            database = self.engine.url.database
            assert database is not None
            self._process = subprocess.Popen(
                [sys.executable, "-m", writer_process.__name__, str(Path(database).resolve())],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
            self._sender = Sender(self._process.stdin)  # type: ignore[arg-type]
        return self._process, self._sender

    def _send(
        self,
        message: tuple[Any, ...],
        process: subprocess.Popen[bytes] | None = None,
        sender: Sender | None = None,
        *,
        drain: bool = False,
    ) -> None:
        """Queue ``message`` for the writer process (``drain``: and wait until it is written)."""
        if process is None or sender is None:
            process, sender = self._writer()
        try:
            sender.put(message)
            if drain:
                sender.drain()
        except BrokenPipeError:
            raise self._failed(
                f"the writer process of {self.engine.url.database} has stopped", process
            ) from None

    def _request(
        self,
        message: tuple[Any, ...],
        process: subprocess.Popen[bytes] | None = None,
        sender: Sender | None = None,
    ) -> None:
        if process is None or sender is None:
            process, sender = self._writer()
        self._send(message, process, sender, drain=True)
        assert process.stdout is not None
        answer = writer_process.receive(process.stdout)  # type: ignore[arg-type]
        if answer is None or answer[0] != "ok":
            why = answer[1] if answer else "it exited"
            raise self._failed(f"writing to {self.engine.url.database} failed: {why}", process)

    def _failed(self, text: str, process: subprocess.Popen[bytes]) -> WriterError:
        """The writer's error (kept as :attr:`failure`), with how its process ended if it did."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=1.0)
        code = process.returncode
        if code is not None and code < 0:
            text += f" (killed by {_signal_name(-code)})"
        elif code:
            text += f" (exit code {code})"
        error = WriterError(text)
        self.failure = self.failure or error
        return error
