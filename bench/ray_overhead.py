"""Benchmark: the Ray backend's overhead per match against the local executor, same bots matches.

A repeated-game round robin of deterministic bots (``--strategies`` strategies, self-play included,
``--rounds`` rounds, ``--repetitions``) is played through ``sim.runner.run_scenario`` twice per
repeat, alternating: with the default local executor, and with the Ray backend
(:func:`sim.ray_executor.ray_backend`) on a local Ray instance started once beforehand
(``--num-cpus``, default 2; its start-up is printed, not counted). Both write every event to a
fresh SQLite file. Printed: median seconds of each, the overhead per match
((ray - local) / matches, in ms) and the ratio ray/local; the stored results must agree.

Run: ``.venv/bin/python bench/ray_overhead.py`` (needs the ``[ray]`` extra, which ``make`` installs).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sim.runner import ExecutorFactory, run_scenario
from sim.scenario import validate_scenario

STRATEGIES = ["tit_for_tat", "defector", "cooperator", "grudger", "win_stay_lose_shift", "alternator"]


def scenario(strategies: int, rounds: int, repetitions: int) -> dict[str, Any]:
    """The round robin both backends play."""
    return {
        "name": "ray-overhead",
        "world": "matrix/repeated-v1",
        "params": {"rounds": rounds},
        "tournament": {"pool": [{"agent": a} for a in STRATEGIES[:strategies]], "repetitions": repetitions},
        "seed": 1,
    }


def timed(data: dict[str, Any], db: Path, executor: ExecutorFactory | None) -> tuple[float, int]:
    """Seconds to play and store the scenario, and the number of matches played."""
    loaded = validate_scenario(data, "bench")
    started = time.perf_counter()
    summary = run_scenario(loaded, db, executor=executor)
    return time.perf_counter() - started, len(summary.episodes)


def scores(db: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        sql = 'SELECT e."index", s.player_id, s.score FROM seats s JOIN episodes e ON e.id = s.episode_id'
        return sorted(conn.execute(sql).fetchall())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategies", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--num-cpus", type=int, default=2)
    args = parser.parse_args()

    import ray

    from sim.ray_executor import ray_backend

    started = time.perf_counter()
    ray.init(num_cpus=args.num_cpus, include_dashboard=False, log_to_driver=False)
    print(f"ray start-up: {time.perf_counter() - started:.2f} s (not counted)")
    backend = ray_backend(None, args.num_cpus)
    data = scenario(args.strategies, args.rounds, args.repetitions)
    local: list[float] = []
    remote: list[float] = []
    mismatch = False
    try:
        with tempfile.TemporaryDirectory() as tmp:
            timed(scenario(2, 2, 1), Path(tmp) / "warm-local.db", None)  # imports, worker start-up
            timed(scenario(2, 2, 1), Path(tmp) / "warm-ray.db", backend)
            for i in range(args.repeats):
                seconds, matches = timed(data, Path(tmp) / f"local{i}.db", None)
                local.append(seconds)
                seconds, _ = timed(data, Path(tmp) / f"ray{i}.db", backend)
                remote.append(seconds)
                mismatch |= scores(Path(tmp) / f"local{i}.db") != scores(Path(tmp) / f"ray{i}.db")
    finally:
        ray.shutdown()
    local_s, ray_s = statistics.median(local), statistics.median(remote)
    print(f"{matches} matches x {args.rounds} rounds, {args.num_cpus} Ray CPUs, median of {args.repeats}")
    print(f"local executor: {local_s:.3f} s ({local_s / matches * 1000:.2f} ms/match)")
    print(f"ray backend:    {ray_s:.3f} s ({ray_s / matches * 1000:.2f} ms/match)")
    overhead = (ray_s - local_s) / matches * 1000
    print(f"overhead per match: {overhead:+.2f} ms; ratio ray/local {ray_s / local_s:.2f}")
    if mismatch:
        print("MISMATCH: the two backends stored different scores")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
