"""Benchmark: a bots-only repeated-games round robin through ``run_tournament`` against axelrod's own.

The setup of ``bench/repeated_tournament.py`` (its 10 deterministic strategies, 200 turns, 10
repetitions, self-play included: 550 matches, R,S,T,P = 3,0,5,1), but played as a tournament file
(``schedule: round_robin, self_play: true``) by :func:`sim.tournament.run_tournament`, every move
logged to a fresh SQLite file, with the local backend (one event loop) and the process backend
(worker processes, one per CPU). Axelrod runs serially (``processes=None``) and builds its
ResultSet. Each side is warmed up first and timed ``--repeats`` times, alternating; medians are
compared, goal ratio ours/axelrod <= 1.0 (printed MET or NOT MET, exit 0). Per-strategy and pairwise
totals must equal axelrod's, otherwise MISMATCH lines are printed and the exit code is 1.

Run: ``make bench`` (installs the axelrod extra) or ``.venv/bin/python bench/tournament_bots.py``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from repeated_tournament import STRATEGIES, OurRun, compare, import_axelrod, run_axelrod  # bench/

TARGET = 1.0


def tournament(turns: int, repetitions: int) -> dict[str, Any]:
    """The round robin as a tournament file (pool names = our agent names)."""
    return {
        "name": "bench-tournament-bots",
        "world": "matrix/repeated-v1",
        "params": {"game": "prisoners_dilemma", "rounds": turns},
        "pool": {ours: {"agent": ours} for ours, _ in STRATEGIES},
        "schedule": {"format": "round_robin", "self_play": True},
        "repetitions": repetitions,
        "seed": 7,
        "concurrency": {"matches": 8},
    }


def run_ours(turns: int, repetitions: int, db: Path, backend: str) -> OurRun:
    """Play the tournament into ``db``; time ``run_tournament`` only; per-pair totals as axelrod's."""
    from sim.tournament import run_tournament
    from sim.tournament.spec import validate_tournament

    spec = validate_tournament(tournament(turns, repetitions), "bench/tournament_bots.py")
    started = time.perf_counter()
    summary = run_tournament(spec, db, backend=backend)
    seconds = time.perf_counter() - started
    index = {ours: i for i, (ours, _) in enumerate(STRATEGIES)}
    totals: dict[tuple[int, int], float] = {}
    rounds = 0
    for plan, result in summary.run.episodes:
        rounds += result.turns
        a, b = (index[s.agent] for s in plan.seats)
        s0, s1 = (result.returns[p] for p in ("p0", "p1"))
        if a == b:  # self-play: one seat's points, as axelrod reports it
            totals[a, a] = totals.get((a, a), 0.0) + (s0 + s1) / 2
        else:
            totals[a, b] = totals.get((a, b), 0.0) + s0
            totals[b, a] = totals.get((b, a), 0.0) + s1
    return OurRun(seconds, db, rounds, len(summary.run.episodes), totals)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each side (median reported)")
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--repetitions", type=int, default=10)
    parser.add_argument("--backends", default="local,process", help="comma-separated tournament backends")
    args = parser.parse_args()
    backends = args.backends.split(",")

    import sim.tournament.run  # noqa: F401  (import time is not counted)

    try:
        axl = import_axelrod()
    except ImportError as exc:
        print(f"axelrod is not installed ({exc}); run `make bench`", file=sys.stderr)
        return 2
    n = len(STRATEGIES)
    matches = n * (n + 1) // 2 * args.repetitions
    print(f"round robin: {n} strategies, self-play, {args.turns} turns, {args.repetitions} repetitions")
    print(f"  = {matches} matches; axelrod {axl.__version__} serial (processes=None)")
    times: dict[str, list[float]] = {name: [] for name in [*backends, "axelrod"]}
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-tour-bots-") as tmp:
        folder = Path(tmp)
        for backend in backends:  # warm-up: imports, worker start-up paths, statement caches
            run_ours(5, 1, folder / f"warm-{backend}.db", backend)
        run_axelrod(axl, 5, 1, build_results=True)
        for k in range(args.repeats):
            for backend in backends:
                ours = run_ours(args.turns, args.repetitions, folder / f"{backend}{k}.db", backend)
                times[backend].append(ours.seconds)
                print(f"  repeat {k + 1}: {backend:<8} {ours.seconds:8.3f} s", flush=True)
                if k == 0:
                    seconds, results = run_axelrod(axl, args.turns, args.repetitions, build_results=True)
                    problems += [f"{backend}: {p}" for p in compare(ours, results, args.turns)]
                    if ours.episodes != matches:
                        problems.append(f"{backend}: MISMATCH played {ours.episodes} of {matches} matches")
            seconds, _ = run_axelrod(axl, args.turns, args.repetitions, build_results=True)
            times["axelrod"].append(seconds)
            print(f"  repeat {k + 1}: axelrod  {seconds:8.3f} s", flush=True)
    axl_s = statistics.median(times["axelrod"])
    print(f"\n== medians of {args.repeats} ==\naxelrod          {axl_s:8.3f} s (ResultSet built)")
    for backend in backends:
        ours_s = statistics.median(times[backend])
        ratio = ours_s / axl_s
        verdict = "MET" if ratio <= TARGET else "NOT MET"
        print(
            f"ours ({backend:<7}) {ours_s:8.3f} s  ratio ours/axelrod {ratio:.2f} "
            f"(goal <= {TARGET}: {verdict})"
        )
    for line in problems[:40]:
        print(line)
    if not problems:
        print(f"scores: all {n} per-strategy totals and {n * n} pairwise totals equal axelrod's")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
