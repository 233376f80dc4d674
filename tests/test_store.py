"""The SQLite store: pragmas, schema version, crash safety, readers and export round trips."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from sim.store.engine import StoreError, open_engine
from sim.store.export import export_store
from sim.store.models import SCHEMA_VERSION
from sim.store.reader import TABLES, StoreReader

ROOT = Path(__file__).parent.parent
SIM = Path(sys.executable).parent / "sim"


def writer_with_episode(db: Path, **options: Any) -> tuple[Any, int]:
    """A store writer (``options``: its flush settings) with one run and one running episode; its id."""
    from sim.store.writer import StoreWriter

    writer = StoreWriter(open_engine(db), **options)
    run_id = writer.begin_run(name="w", path=None, scenario={}, world_id="x", seed=0, version="t")
    (episode_id,) = writer.reserve_episodes(
        run_id, [{"index": 0, "matchup": "m", "world_id": "x", "params": {}, "seed": 1}]
    )
    writer.begin_episode(
        run_id=run_id, index=0, matchup="m", world_id="x", params={}, seed=1, seats=[], episode_id=episode_id
    )
    return writer, episode_id


def _run(tmp_path: Path, *extra: str) -> Path:
    db = tmp_path / "r.db"
    subprocess.run(
        [
            str(SIM),
            "run",
            str(ROOT / "worlds/repeated/scenarios/demo.yaml"),
            "--db",
            str(db),
            "--quiet",
            *extra,
        ],
        check=True,
        capture_output=True,
    )
    return db


def _start_long_run(tmp_path: Path, db: Path, engine: dict | None = None) -> subprocess.Popen[bytes]:
    """Start ``sim run`` on the demo round robin, 20,000 rounds per match (long enough to stop mid-way)."""
    scenario = yaml.safe_load((ROOT / "worlds/repeated/scenarios/demo.yaml").read_text())
    scenario["params"]["rounds"] = 20000
    if engine:
        scenario["engine"] = engine
    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump(scenario))
    return subprocess.Popen(
        [str(SIM), "run", str(path), "--db", str(db), "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_pragmas_and_schema_version(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "s.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        version = conn.exec_driver_sql("SELECT value FROM meta WHERE key = 'schema_version'").scalar()
        assert version == str(SCHEMA_VERSION) == "4"


def test_a_store_of_another_schema_version_is_refused(tmp_path: Path) -> None:
    open_engine(tmp_path / "s.db")
    with sqlite3.connect(tmp_path / "s.db") as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="schema version 99"):
        open_engine(tmp_path / "s.db")
    (tmp_path / "other.db").write_bytes(b"")
    with sqlite3.connect(tmp_path / "other.db") as conn:
        conn.execute("CREATE TABLE x (a)")
    with pytest.raises(StoreError, match="not a sim store"):
        open_engine(tmp_path / "other.db", create=False)


def test_sigkill_mid_run_leaves_a_sound_store_with_no_false_complete(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    proc = _start_long_run(tmp_path, db, {"flush_rows": 500, "flush_seconds": 0.05})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.2)
        if db.exists():
            with sqlite3.connect(db) as conn:
                try:
                    if (
                        conn.execute("SELECT count(*) FROM episodes WHERE status = 'complete'").fetchone()[0]
                        >= 1
                    ):
                        break
                except sqlite3.OperationalError:
                    pass
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        statuses = dict(conn.execute("SELECT status, count(*) FROM episodes GROUP BY status").fetchall())
        assert statuses.get("complete", 0) >= 1
        # the one killed mid-way is 'running' (or still 'pending' if its start was not committed yet)
        assert statuses.get("running", 0) <= 1
        assert sum(statuses.values()) == 21 and set(statuses) <= {"complete", "running", "pending"}
        rounds = conn.execute(
            "SELECT e.id, count(v.id) FROM episodes e JOIN events v ON v.episode_id = e.id "
            "AND v.kind = 'round' WHERE e.status = 'complete' GROUP BY e.id"
        ).fetchall()
        assert all(n == 20000 for _, n in rounds)
        assert conn.execute("SELECT status FROM runs").fetchone() == ("running",)


def test_sigterm_marks_the_run_interrupted(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    proc = _start_long_run(tmp_path, db)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not db.exists():
        time.sleep(0.1)
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 130
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status FROM runs").fetchone() == ("interrupted",)
        # the stop lands mid-episode (that one is 'interrupted') or, rarely, between two episodes
        interrupted = conn.execute("SELECT count(*) FROM episodes WHERE status = 'interrupted'").fetchone()[0]
        assert interrupted in (0, 1)
        assert conn.execute("SELECT count(*) FROM episodes WHERE status = 'running'").fetchone() == (0,)
        left = conn.execute("SELECT count(*) FROM episodes WHERE status IN ('pending', 'running')").fetchone()
        assert left == (0,)
        not_run = conn.execute("SELECT count(*) FROM episodes WHERE status = 'not_run'").fetchone()[0]
        done = conn.execute("SELECT count(*) FROM episodes WHERE status = 'complete'").fetchone()[0]
        assert done + not_run + interrupted == 21 and not_run >= 1


def test_reader_returns_dataframes_with_decoded_json(tmp_path: Path) -> None:
    reader = StoreReader(_run(tmp_path))
    episodes = reader.episodes()
    assert isinstance(episodes, pd.DataFrame) and len(episodes) == 21 and set(episodes.status) == {"complete"}
    events = reader.events(int(episodes.id.iloc[0]))
    rounds = events[events.kind == "round"]
    assert len(rounds) == 10 and isinstance(rounds.payload.iloc[0], dict)
    metrics = reader.metrics()
    summary = metrics[metrics.name == "cooperation_rate"]
    assert len(summary) == 42 and summary.value.between(0, 1).all()
    per_turn = reader.turn_metrics()
    assert len(per_turn) == 21 * 10 * 2 and per_turn.turn.between(1, 10).all()


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_run_then_export_round_trips_the_trajectory(tmp_path: Path, fmt: str) -> None:
    db = _run(tmp_path)
    out = tmp_path / "out"
    result = subprocess.run(
        [str(SIM), "export", "--db", str(db), "--format", fmt, "--out", str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    assert "events" in result.stdout
    reader = StoreReader(db)
    for table in TABLES:
        original = reader.frame(table, decode_json=False)  # turn_metrics in long form
        path = out / f"{table}.{fmt}"
        if fmt == "csv":
            exported = pd.read_csv(path) if original.shape[0] else pd.DataFrame(columns=original.columns)
        elif fmt == "jsonl":
            exported = (
                pd.read_json(path, lines=True)
                if original.shape[0]
                else pd.DataFrame(columns=original.columns)
            )
        else:
            exported = pd.read_parquet(path)
        assert list(exported.columns) == list(original.columns)
        assert len(exported) == len(original)
    events = reader.table("events", decode_json=False)
    exported_events = {
        "csv": pd.read_csv,
        "jsonl": lambda p: pd.read_json(p, lines=True, dtype=False),
        "parquet": pd.read_parquet,
    }[fmt](out / f"events.{fmt}")
    assert [json.loads(p) for p in exported_events.payload] == [json.loads(p) for p in events.payload]
    assert list(exported_events.kind) == list(events.kind) and list(exported_events.seq) == list(events.seq)


def test_export_of_a_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LookupError, match="no such database"):
        export_store(tmp_path / "nope.db", tmp_path / "o", "csv")


def test_a_failed_write_is_reported_and_nothing_of_its_batch_is_kept(tmp_path: Path) -> None:
    from sim.store.writer import WriterError
    from sim.types import Event

    writer, episode_id = writer_with_episode(tmp_path / "w.db")
    writer.add_events(episode_id, [Event(1, "p", "ok", {"a": 1})])
    writer.sync()
    writer._seq[999] = 0  # an episode that does not exist: the foreign key rejects its events
    writer.add_events(999, [Event(1, "p", "bad", {})])
    writer.add_events(episode_id, [Event(2, "p", "lost", {})])
    with pytest.raises(WriterError, match="FOREIGN KEY constraint failed"):
        writer.sync()
    with pytest.raises(WriterError):
        writer.close()
    with sqlite3.connect(tmp_path / "w.db") as conn:
        assert conn.execute("SELECT kind FROM events ORDER BY id").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_the_writer_process_rolls_back_what_a_dead_engine_did_not_commit(tmp_path: Path) -> None:
    from sim.types import Event

    writer, episode_id = writer_with_episode(tmp_path / "d.db", flush_rows=10**9, flush_seconds=10**9)
    writer.add_events(episode_id, [Event(1, "p", "committed", {})])
    writer.sync()
    writer.add_events(episode_id, [Event(2, "p", "uncommitted", {})])
    writer._send_batch(commit=False)  # handed over, never committed
    process = writer._process
    assert process is not None and process.stdin is not None
    process.stdin.close()  # what the writer process sees when the engine process dies
    assert process.wait(timeout=10) == 0
    with sqlite3.connect(tmp_path / "d.db") as conn:
        assert conn.execute("SELECT kind FROM events").fetchall() == [("committed",)]


def test_a_commit_returns_while_the_writer_process_is_busy_and_every_row_lands(tmp_path: Path) -> None:
    """Batches reach the writer process from a thread: play never waits on its pipe."""
    from sim.types import Event

    writer, episode_id = writer_with_episode(tmp_path / "s.db", flush_rows=10**9, flush_seconds=10**9)
    writer.sync()
    assert writer._process is not None
    pid = writer._process.pid
    os.kill(pid, signal.SIGSTOP)  # a writer process that reads nothing for now (busy, or descheduled)
    try:
        events = [Event(t, "play", "round", {"round": t, "text": "x" * 100}) for t in range(20_000)]
        writer.add_events(episode_id, events)  # megabytes: far more than a pipe holds
        done = threading.Event()

        def commit() -> None:
            writer.commit()
            done.set()

        threading.Thread(target=commit, daemon=True).start()
        assert done.wait(10), "commit blocked on the writer process's pipe"
    finally:
        os.kill(pid, signal.SIGCONT)
    started = time.monotonic()
    writer.close()
    assert time.monotonic() - started < 60
    with sqlite3.connect(tmp_path / "s.db") as conn:
        assert conn.execute("SELECT count(*), max(turn) FROM events").fetchone() == (20_000, 19_999)
