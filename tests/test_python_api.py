"""The Python API for scripts and notebooks: ``sim.run_scenario`` inside a running event loop (Jupyter),
``await sim.arun_scenario(...)``, and a clean stop on SIGINT in both."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

import sim
from sim.runner import run_scenario
from sim.scenario import LoadedScenario, validate_scenario
from sim.store.reader import StoreReader

ROOT = Path(__file__).parent.parent
DEMO = ROOT / "worlds/repeated/scenarios/demo.yaml"


def _demo(db: Path, rounds: int = 5) -> LoadedScenario:
    data: dict[str, Any] = yaml.safe_load(DEMO.read_text())
    data["params"]["rounds"] = rounds
    data["db"] = str(db)
    return validate_scenario(data, "demo.yaml")


def _complete_episodes(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM episodes WHERE status = 'complete'").fetchone()[0])


def test_sim_exports_the_api() -> None:
    from sim.runner import arun_scenario
    from sim.scenario import load_scenario

    assert sim.run_scenario is run_scenario and sim.arun_scenario is arun_scenario
    assert sim.load_scenario is load_scenario and sim.StoreReader is StoreReader
    assert {"run_scenario", "arun_scenario"} <= set(sim.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = sim.nope  # type: ignore[attr-defined]


async def test_run_scenario_works_inside_a_running_event_loop(tmp_path: Path) -> None:
    """What a Jupyter cell does: the kernel's loop is running when the cell calls run_scenario."""
    asyncio.get_running_loop()  # this test body runs on a loop, like a notebook cell
    handler = signal.getsignal(signal.SIGINT)
    summary = run_scenario(
        _demo(tmp_path / "r.db")
    )  # was: asyncio.run() cannot be called from a running loop
    assert summary.db == tmp_path / "r.db" and len(summary.episodes) == 21
    assert _complete_episodes(tmp_path / "r.db") == 21
    assert signal.getsignal(signal.SIGINT) is handler  # restored


async def test_arun_scenario_awaits_on_the_running_loop(tmp_path: Path) -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())  # other work on the same loop goes on meanwhile
    try:
        summary = await sim.arun_scenario(_demo(tmp_path / "a.db", rounds=200))
    finally:
        ticker.cancel()
    assert len(summary.episodes) == 21 and _complete_episodes(tmp_path / "a.db") == 21
    assert ticks > 0


def test_run_scenario_takes_a_path_and_runs_without_a_loop(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    data = yaml.safe_load(DEMO.read_text())
    data["params"]["rounds"] = 3
    path.write_text(yaml.safe_dump(data))
    summary = sim.run_scenario(path, db=tmp_path / "p.db")
    seats = StoreReader(summary.db).seats()
    assert len(seats) == 42 and seats.score.notna().all()


_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys, yaml
    import sim
    from sim.shutdown import RunInterrupted
    from sim.scenario import validate_scenario

    data = yaml.safe_load(open(sys.argv[1]))
    data["params"]["rounds"] = 20000
    data["db"] = sys.argv[2]
    loaded = validate_scenario(data, "long.yaml")

    async def main():
        if sys.argv[3] == "await":
            return await sim.arun_scenario(loaded)
        return sim.run_scenario(loaded)  # inside the running loop: plays in a worker thread

    try:
        asyncio.run(main())
    except RunInterrupted as exc:
        print("interrupted:", exc.reason)
    """
)


@pytest.mark.parametrize("mode", ["await", "call"])
def test_sigint_stops_an_api_run_cleanly(tmp_path: Path, mode: str) -> None:
    db = tmp_path / "long.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", _SCRIPT, str(DEMO), str(db), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            with sqlite3.connect(db) as conn:
                try:
                    running = conn.execute(
                        "SELECT count(*) FROM episodes WHERE status = 'running'"
                    ).fetchone()
                except sqlite3.OperationalError:
                    running = (0,)
            if running[0]:
                break
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "interrupted: signal SIGINT" in out
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status FROM runs").fetchone() == ("interrupted",)
        left = conn.execute("SELECT count(*) FROM episodes WHERE status IN ('pending', 'running')").fetchone()
    assert left == (0,)
