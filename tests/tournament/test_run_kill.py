"""``sim tournament --resume`` after a real ``kill -9`` of the runner mid-tournament."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from sim.tournament.run import run_tournament
from sim.tournament.schedule import matches
from sim.tournament.spec import load_tournament
from tests.sim_cli import ROOT, run_sim, sim_command, sim_env
from tests.tournament.helpers import repeated, write
from tests.tournament.run_helpers import query, stored_matches

POOL = {name: {"agent": name} for name in ("tit_for_tat", "defector", "cooperator", "grudger")}


def _complete(db: Path) -> int:
    """Episodes stored complete so far (read-only; 0 before the store exists)."""
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
        try:
            return int(conn.execute("SELECT count(*) FROM episodes WHERE status = 'complete'").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_kill_9_mid_tournament_then_resume_stores_every_match_once_as_an_uninterrupted_run(
    tmp_path: Path,
) -> None:
    # replay: false: every match is played (replayed copies would be stored all at once after the first 8)
    path = write(tmp_path, repeated(pool=POOL, params={"rounds": 800}, repetitions=4, replay=False))
    total = len(matches(load_tournament(path)))
    db = tmp_path / "killed.db"
    runner = subprocess.Popen(
        [*sim_command(), "tournament", str(path), "--db", str(db), "--quiet", "--parallel", "4"],
        cwd=ROOT,
        env=sim_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while _complete(db) < 8 and runner.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert runner.poll() is None, "the tournament ended before it could be killed: make it bigger"
        runner.send_signal(signal.SIGKILL)
        runner.wait(timeout=30)
    finally:
        if runner.poll() is None:
            runner.kill()
    stored_at_kill = _complete(db)
    assert 8 <= stored_at_kill < total
    assert query(db, "SELECT status FROM runs") == [("running",)]  # its driver died without closing it

    resumed = run_sim("tournament", path, "--db", db, "--resume", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert f"{total} of {total} matches complete" in resumed.stdout

    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    assert query(db, "SELECT count(*), status FROM runs") == [(1, "complete")]
    indexes = [i for (i,) in query(db, 'SELECT "index" FROM episodes ORDER BY "index"')]
    assert indexes == list(range(total))  # every match exactly once
    reference = tmp_path / "straight.db"
    run_tournament(path, reference)
    assert stored_matches(db) == stored_matches(reference)
