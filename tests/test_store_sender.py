"""The store writer hands batches to its writer process from a thread: play never waits on the pipe."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

from sim.store.engine import open_engine
from sim.store.writer import StoreWriter
from sim.types import Event


def test_a_commit_returns_while_the_writer_process_is_busy_and_every_row_lands(tmp_path: Path) -> None:
    writer = StoreWriter(open_engine(tmp_path / "s.db"), flush_rows=10**9, flush_seconds=10**9)
    run_id = writer.begin_run(name="s", path=None, scenario={}, world_id="x", seed=0, version="t")
    (episode_id,) = writer.reserve_episodes(
        run_id, [{"index": 0, "matchup": "m", "world_id": "x", "params": {}, "seed": 1}]
    )
    writer.begin_episode(
        run_id=run_id, index=0, matchup="m", world_id="x", params={}, seed=1, seats=[], episode_id=episode_id
    )
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
