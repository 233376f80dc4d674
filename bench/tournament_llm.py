"""Benchmark: an LLM tournament against the offline test server at 100 ms latency, K matches in flight.

The tournament (``run_tournament``, every event and call stored in a fresh SQLite file): Akata's
Prisoner's Dilemma, an LLM seat (Akata prompt, ``cache: off`` so every round is one HTTP request)
fixed in seat 0 against a pool of four classic strategies, ``--matches`` matches (default 200) of
``--rounds`` rounds. Every match has exactly one LLM seat, so K matches in flight are K requests in
flight, and the ideal wall time is calls x latency / K. Played four ways:

- local backend, K = ``--k`` (default 32): all matches on one event loop sharing one LLM client (what
  ``sim tournament`` uses by default), whose model goes through the direct path (``client: auto``
  for an OpenAI-compatible server, :mod:`sim.llm.direct`); efficiency = ideal / wall, target >= 0.8;
- the same with ``client: litellm``: every call through ``litellm.acompletion``, as before the direct
  path (5-10 ms of CPU per call in this one process);
- process backend, K = ``--k``: ``sim.process_executor`` runs min(K, CPUs) worker processes, each
  with its own event loop and LLM client playing ceil(K / workers) matches at once; efficiency against
  the same ideal (``--process-workers N`` sizes the pool at N workers instead of the CPU count,
  bench-only, still K matches in flight in all);
- local backend, K = 1: the same matches one after another, as AvalonBench, TextArena and AmongAgents
  play them; the speed-up of the K run over it is printed.

The test server runs in its own process (``python -m sim.llm.testserver --latency``, as in
``bench/llm_throughput.py``), so its CPU does not compete with the driver's event loop.
Correctness (every match complete, one valid call per LLM round) is checked after each run: a
failure prints FAIL and the exit code is 1; a target not met prints NOT MET (exit 0).

Run: ``.venv/bin/python bench/tournament_llm.py`` (about 2 minutes: the K = 1 run alone is
calls x 0.1 s) or ``--quick`` (64 matches of 2 rounds).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llm_throughput import MODEL, ServerProcess  # bench/ (also sets litellm's offline mode first)

EFFICIENCY_TARGET = 0.8
STRATEGIES = {
    "always-J": "cooperator",
    "always-F": "defector",
    "tit-for-tat": "tit_for_tat",
    "grudger": "grudger",
}


def tournament(base: str, k: int, matches: int, rounds: int, client: str = "auto") -> dict[str, Any]:
    """The tournament as data: an LLM fixed in seat 0 against each strategy, ``matches`` in all.
    ``client``: the model's ``client`` setting (auto: the direct path for this OpenAI-compatible server)."""
    model = {
        "model": MODEL,
        "api_base": base,
        "max_parallel": k,
        "cache": "off",
        "backoff": 0,
        "client": client,
    }
    llm = {"seat": 0, "agent": "llm", "label": "llm", "config": {"model": model, "prompt": "akata"}}
    return {
        "name": "bench-tournament-llm",
        "world": "matrix/repeated-v1",
        "params": {"game": "akata_prisoners_dilemma", "rounds": rounds},
        "pool": {name: {"agent": agent} for name, agent in STRATEGIES.items()},
        "schedule": {"format": "seatings", "fixed": [llm]},
        "repetitions": max(1, matches // len(STRATEGIES)),
        "seed": 2023,
        "concurrency": {"matches": k},
    }


@dataclass
class Played:
    """One timed tournament run."""

    label: str
    k: int
    seconds: float
    matches: int
    calls: int
    problems: list[str]

    def ideal(self, latency: float, k: int) -> float:
        return self.calls * latency / k


def wide_process_backend(workers: int) -> Any:
    """The shipped process backend with ``workers`` worker processes sharing the K matches in flight
    (``os.cpu_count`` reads ``workers`` while the backend sizes its pool)."""
    from unittest import mock

    from sim.tournament.run import BackendOptions, process_backend

    def backend(options: BackendOptions) -> Any:
        with mock.patch("sim.tournament.run.os.cpu_count", return_value=workers):
            return process_backend(options)

    return backend


def play(data: dict[str, Any], db: Path, backend: str, k: int, label: str) -> Played:
    """Play the tournament into ``db``; time ``run_tournament`` only; check the store."""
    from sim.tournament import run_tournament
    from sim.tournament.spec import validate_tournament

    spec = validate_tournament(data, "bench/tournament_llm.py")
    started = time.perf_counter()
    summary = run_tournament(spec, db, backend=backend, parallel=k)
    seconds = time.perf_counter() - started
    rounds = data["params"]["rounds"]
    planned = len(summary.matches)
    with sqlite3.connect(db) as conn:
        complete = conn.execute("SELECT count(*) FROM episodes WHERE status = 'complete'").fetchone()[0]
        calls, valid = conn.execute("SELECT count(*), coalesce(sum(valid), 0) FROM llm_calls").fetchone()
    problems = []
    if complete != planned:
        problems.append(f"{label}: {complete} of {planned} matches complete")
    if calls != planned * rounds or valid != calls:
        problems.append(f"{label}: {calls} calls ({valid} valid), expected {planned * rounds}")
    return Played(label, k, seconds, planned, calls, problems)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="rounds (= LLM calls) per match")
    parser.add_argument("--k", type=int, default=32, help="matches in flight")
    parser.add_argument("--latency", type=float, default=0.1, help="test server latency, seconds")
    parser.add_argument("--process-workers", type=int, default=0, help="0: the process backend as shipped")
    parser.add_argument("--skip-sequential", action="store_true", help="no K = 1 run")
    parser.add_argument("--quick", action="store_true", help="64 matches of 2 rounds")
    args = parser.parse_args()
    if args.quick:
        args.matches, args.rounds = 64, 2

    import sim.tournament.run  # imported before any timing

    backend = "process"
    if args.process_workers:
        sim.tournament.run.BACKENDS["process-wide"] = wide_process_backend(args.process_workers)
        backend = "process-wide"
    workers = args.process_workers or max(1, min(args.k, os.cpu_count() or 1))
    server = ServerProcess(args.latency)
    runs: list[Played] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-tour-llm-") as tmp:
            folder = Path(tmp)
            play(tournament(server.openai_base, 4, 4, 1), folder / "warm.db", "local", 4, "warm-up")
            data = tournament(server.openai_base, args.k, args.matches, args.rounds)
            runs.append(play(data, folder / "local.db", "local", args.k, f"local, K = {args.k}"))
            through_litellm = tournament(server.openai_base, args.k, args.matches, args.rounds, "litellm")
            label = f"local, K = {args.k}, client: litellm"
            runs.append(play(through_litellm, folder / "litellm.db", "local", args.k, label))
            label = f"process, {workers} workers"
            runs.append(play(data, folder / "process.db", backend, args.k, label))
            if not args.skip_sequential:
                runs.append(play(data, folder / "seq.db", "local", 1, "local, K = 1 (one after another)"))
    finally:
        server.stop()

    first = runs[0]
    print(
        f"{first.matches} matches x {args.rounds} rounds = {first.calls} LLM calls, "
        f"{args.latency * 1000:.0f} ms latency, K = {args.k}; {os.cpu_count()} CPUs, python "
        f"{sys.version.split()[0]}"
    )
    print(f"ideal at K = {args.k}: {first.ideal(args.latency, args.k):.2f} s")
    for run in runs:
        ideal = run.ideal(args.latency, args.k if run.k > 1 else 1)
        rate = run.calls / run.seconds
        print(
            f"  {run.label:<36} {run.seconds:7.2f} s  {rate:6.1f} calls/s  "
            f"efficiency {ideal / run.seconds:.2f}"
        )
    efficiency = first.ideal(args.latency, args.k) / first.seconds
    verdict = "met" if efficiency >= EFFICIENCY_TARGET else "NOT MET"
    print(f"local K = {args.k} efficiency {efficiency:.2f} (target >= {EFFICIENCY_TARGET}: {verdict})")
    if not args.skip_sequential:
        print(f"speed-up over one after another: {runs[-1].seconds / first.seconds:.1f}x")
    problems = [p for run in runs for p in run.problems]
    for problem in problems:
        print(f"FAIL {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
