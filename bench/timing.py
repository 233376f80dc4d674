"""What the world benchmarks share: one scenario run through ``sim run``'s path, timed."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sim.runner import run_scenario
from sim.scenario import validate_scenario


def timed_run(data: dict[str, Any], db: Path) -> tuple[float, int]:
    """Run the scenario ``data`` (engine, Mesa model, every event to SQLite at ``db``): seconds taken
    and events stored; every episode must complete."""
    loaded = validate_scenario(data, "bench")
    started = time.perf_counter()
    run_scenario(loaded, db)
    elapsed = time.perf_counter() - started
    with sqlite3.connect(db) as conn:
        events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        done = conn.execute("SELECT count(*) FROM episodes WHERE status = 'complete'").fetchone()[0]
    games = data["episodes"]
    assert done == games, f"only {done} of {games} games complete"
    return elapsed, events
