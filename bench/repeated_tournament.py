"""Benchmark: the same round robin in this engine (every move logged to SQLite) and in the axelrod library.

10 deterministic classic strategies, 200 turns, 10 repetitions, self-play included (55 pairings x 10 =
550 matches), R,S,T,P = 3,0,5,1. Axelrod (the optional ``bench`` extra, ``requirements-bench.lock``)
runs serially (``processes=None``; ``processes=1`` would start a worker process) and builds its
ResultSet, as in its normal workflow; its play-only time (``build_results=False``) is printed for
reference. Both sides are warmed up first and imported outside the timed region; each side is timed
``--repeats`` times, alternating, and the medians are compared. Per-strategy scores of both
libraries must agree exactly, otherwise a MISMATCH line is printed and the exit code is 1.

Run: ``make bench`` (installs the extra) or ``.venv/bin/python bench/repeated_tournament.py``.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import io
import pstats
import sqlite3
import statistics
import sys
import tempfile
import time
import types
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# (our agent entry point, axelrod class name); all deterministic, same behaviour (checked by scores).
STRATEGIES: list[tuple[str, str]] = [
    ("cooperator", "Cooperator"),
    ("defector", "Defector"),
    ("alternator", "Alternator"),
    ("tit_for_tat", "TitForTat"),
    ("tit_for_two_tats", "TitFor2Tats"),
    ("suspicious_tit_for_tat", "SuspiciousTitForTat"),
    ("reverse_tit_for_tat", "Bully"),  # axelrod: "Bully", a.k.a. Reverse Tit For Tat (starts with D)
    ("hard_tit_for_tat", "HardTitForTat"),
    ("grudger", "Grudger"),
    ("win_stay_lose_shift", "WinStayLoseShift"),
]
TOLERANCE = 1e-6


@dataclass
class OurRun:
    """One timed run of our engine."""

    seconds: float
    db: Path
    rounds: int
    episodes: int
    pair_totals: dict[tuple[int, int], float]  # (i, j) -> i's total points against j, over repetitions


def scenario_data(turns: int, repetitions: int) -> dict[str, Any]:
    """The round robin as a scenario dict (validated by ``sim.scenario.validate_scenario``)."""
    return {
        "name": "bench-round-robin",
        "description": "bench/repeated_tournament.py: Axelrod-style round robin",
        "world": "matrix/repeated-v1",
        "params": {"game": "prisoners_dilemma", "rounds": turns},
        "tournament": {
            "pool": [{"agent": ours} for ours, _ in STRATEGIES],
            "self_play": True,
            "repetitions": repetitions,
        },
        "seed": 7,
    }


def run_ours(turns: int, repetitions: int, workdir: Path, tag: str) -> OurRun:
    """Play the tournament in this engine into a fresh SQLite file; time ``run_scenario`` only."""
    from sim.runner import run_scenario
    from sim.scenario import validate_scenario

    loaded = validate_scenario(scenario_data(turns, repetitions), "bench/repeated_tournament.py")
    db = workdir / f"ours-{tag}.db"
    start = time.perf_counter()
    summary = run_scenario(loaded, db)
    seconds = time.perf_counter() - start
    index = {ours: i for i, (ours, _) in enumerate(STRATEGIES)}
    totals: dict[tuple[int, int], float] = {}
    rounds = 0
    for plan, result in summary.episodes:
        rounds += result.turns
        a, b = (index[s.agent] for s in plan.seats)
        s0, s1 = (result.returns[p] for p in ("p0", "p1"))
        if a == b:  # self-play: both seats are the same strategy; one seat's points, as axelrod reports it
            totals[a, a] = totals.get((a, a), 0.0) + (s0 + s1) / 2
        else:
            totals[a, b] = totals.get((a, b), 0.0) + s0
            totals[b, a] = totals.get((b, a), 0.0) + s1
    return OurRun(seconds, db, rounds, len(summary.episodes), totals)


# axelrod ------------------------------------------------------------------------------------------
def import_axelrod() -> Any:
    """Import axelrod (untimed), shimming ``pkg_resources`` when setuptools no longer ships it.

    axelrod 4.13.0 reads its data files with ``pkg_resources.resource_string`` at import; setuptools
    >= 82 (our lock has 84.2.1) removed ``pkg_resources``. The shim implements just that call.
    """
    shim = None
    try:
        import pkg_resources  # noqa: F401
    except ImportError:
        shim = types.ModuleType("pkg_resources")

        def resource_string(module: str, path: str) -> bytes:
            spec = importlib.util.find_spec(module)
            if spec is None or spec.origin is None:
                raise FileNotFoundError(f"{module}: cannot locate {path}")
            return Path(spec.origin).parent.joinpath(path).read_bytes()

        shim.resource_string = resource_string  # type: ignore[attr-defined]
        sys.modules["pkg_resources"] = shim
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Human strategy not available" (prompt_toolkit) and friends
        import axelrod
        import dask.dataframe  # noqa: F401  (ResultSet imports it lazily; keep import time out)
    if shim is not None:  # axelrod.load_data_ keeps its reference; nobody else should find a partial module
        del sys.modules["pkg_resources"]
    return axelrod


def run_axelrod(axl: Any, turns: int, repetitions: int, build_results: bool) -> tuple[float, Any]:
    """Axelrod's serial tournament (``processes=None``); times construction and ``play`` only."""
    start = time.perf_counter()
    players = [getattr(axl, name)() for _, name in STRATEGIES]
    tournament = axl.Tournament(
        players, game=axl.Game(r=3, s=0, t=5, p=1), turns=turns, repetitions=repetitions, seed=7
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # build_results=False without a filename warns
        results = tournament.play(build_results=build_results, processes=None, progress_bar=False)
    return time.perf_counter() - start, results


def run_axelrod_fresh_matches(axl: Any, turns: int, repetitions: int) -> float:
    """Reference: every match as a fresh ``axl.Match`` (no replay of cached repetitions).

    Axelrod's Tournament plays each deterministic pairing once and replays its DeterministicCache for
    the other repetitions; this loop makes it play every match, and builds no results.
    """
    start = time.perf_counter()
    game = axl.Game(r=3, s=0, t=5, p=1)
    players = [getattr(axl, name)() for _, name in STRATEGIES]
    for i in range(len(players)):
        for j in range(i, len(players)):
            for _ in range(repetitions):
                axl.Match((players[i].clone(), players[j].clone()), turns=turns, game=game).play()
    return time.perf_counter() - start


def axelrod_pair_totals(results: Any, turns: int) -> dict[tuple[int, int], float]:
    """(i, j) -> i's total points against j over repetitions, from the per-turn payoffs of the ResultSet."""
    n = len(STRATEGIES)
    return {(i, j): sum(results.payoffs[i][j]) * turns for i in range(n) for j in range(n)}


# checks and report -------------------------------------------------------------------------------
def compare(ours: OurRun, results: Any, turns: int) -> list[str]:
    """MISMATCH lines: per-strategy totals without self-play (axelrod's ``scores``), self-play, pairs."""
    n = len(STRATEGIES)
    problems = []
    for i, (name, axl_name) in enumerate(STRATEGIES):
        our_total = sum(ours.pair_totals[i, j] for j in range(n) if j != i)
        their_total = float(sum(results.scores[i]))
        if abs(our_total - their_total) > TOLERANCE:
            problems.append(
                f"MISMATCH total without self-play: {name} {our_total:g} vs axelrod {axl_name} "
                f"{their_total:g}"
            )
    theirs = axelrod_pair_totals(results, turns)
    for (i, j), value in sorted(theirs.items()):
        if abs(ours.pair_totals[i, j] - value) > TOLERANCE:
            kind = "self-play" if i == j else "pair"
            problems.append(
                f"MISMATCH {kind}: {STRATEGIES[i][0]} vs {STRATEGIES[j][0]}: "
                f"{ours.pair_totals[i, j]:g} vs axelrod {value:g}"
            )
    return problems


def store_counts(db: Path) -> dict[str, int]:
    """Row counts of the main tables of our store."""
    with sqlite3.connect(db) as conn:
        return {
            t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("episodes", "events", "metrics", "seats")
        }


def db_size(db: Path) -> int:
    """Bytes of the SQLite file with its WAL and shared-memory files."""
    return sum(p.stat().st_size for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists())


def profile_ours(turns: int, repetitions: int, workdir: Path, top: int = 15) -> None:
    """Run our side once under cProfile; print the top functions by cumulative and by own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    run = run_ours(turns, repetitions, workdir, "profile")
    profiler.disable()
    print(f"\n== profile of our side (one run, {run.seconds:.2f} s under cProfile) ==")
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order)
        stats.print_stats(top)
        lines = out.getvalue().splitlines()
        start = next((k for k, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
        print(f"-- top {top} by {order} --")
        print("\n".join(line for line in lines[start:] if line.strip()))


def show(label: str, seconds: float, into: list[float]) -> None:
    """Record one timing and print it."""
    into.append(seconds)
    print(f"  {label:<42} {seconds:8.3f} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each side (median reported)")
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--repetitions", type=int, default=10)
    parser.add_argument("--profile", action="store_true", help="also run our side once under cProfile")
    parser.add_argument("--target", type=float, default=2.0, help="ratio ours/axelrod to meet")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")

    import sim.runner  # noqa: F401  (import time is not counted)

    try:
        axl = import_axelrod()
    except ImportError as exc:
        print(
            f"axelrod is not installed ({exc}); run `make bench`, or install the extra with\n"
            "  .venv/bin/python -m pip install --no-deps --require-hashes -r requirements-bench.lock",
            file=sys.stderr,
        )
        return 2

    n = len(STRATEGIES)
    matches = n * (n + 1) // 2 * args.repetitions
    py = sys.version.split()[0]
    print(f"round robin: {n} strategies, self-play included, {args.turns} turns, {args.repetitions} reps")
    print(f"  = {matches} matches; axelrod {axl.__version__} serial (processes=None); python {py}")

    with tempfile.TemporaryDirectory(prefix="bench-rr-") as tmp:
        workdir = Path(tmp)
        # warm-up (untimed): lazy imports, SQLAlchemy statement caches, dask's first read_csv
        run_ours(5, 1, workdir, "warmup")
        run_axelrod(axl, 5, 1, build_results=True)

        ours_times: list[float] = []
        axl_times: list[float] = []
        axl_play_times: list[float] = []
        axl_fresh_times: list[float] = []
        last: OurRun | None = None
        results: Any = None
        for k in range(args.repeats):
            print(f"repeat {k + 1}/{args.repeats}:", flush=True)
            last = run_ours(args.turns, args.repetitions, workdir, str(k))
            show("ours (SQLite, every move logged)", last.seconds, ours_times)
            seconds, results = run_axelrod(axl, args.turns, args.repetitions, build_results=True)
            show("axelrod (build_results=True)", seconds, axl_times)
            show(
                "axelrod play only (build_results=False)",
                run_axelrod(axl, args.turns, args.repetitions, build_results=False)[0],
                axl_play_times,
            )
            show(
                f"axelrod {matches} fresh Match.play() (reference)",
                run_axelrod_fresh_matches(axl, args.turns, args.repetitions),
                axl_fresh_times,
            )
        assert last is not None

        problems = compare(last, results, args.turns)
        counts = store_counts(last.db)
        size = db_size(last.db)
        if last.episodes != matches or counts["episodes"] != matches:
            problems.append(
                f"MISMATCH episodes: ours played {last.episodes}, stored {counts['episodes']}, "
                f"expected {matches}"
            )

        ours_s, axl_s = statistics.median(ours_times), statistics.median(axl_times)
        play_s, fresh_s = statistics.median(axl_play_times), statistics.median(axl_fresh_times)
        ratio = ours_s / axl_s
        verdict = "MET" if ratio <= args.target else "NOT MET"
        events = counts["events"]
        print(f"\n== medians of {args.repeats} ==")
        print(f"ours    wall time  {ours_s:8.3f} s   ({matches} matches, every move logged to SQLite)")
        print(f"axelrod wall time  {axl_s:8.3f} s   (ResultSet built)")
        print(f"axelrod play only  {play_s:8.3f} s   (build_results=False; reference)")
        print(f"axelrod fresh      {fresh_s:8.3f} s   (every match played, no cache, no results; reference)")
        print(f"ratio ours/axelrod {ratio:8.2f}     (target <= {args.target:g}: {verdict})")
        print(
            f"ratio ours/axelrod play only {ours_s / play_s:.2f}; ours/axelrod fresh {ours_s / fresh_s:.2f}"
        )
        print(f"ours: {last.rounds} turns, {last.rounds / ours_s:,.0f} turns/s")
        print(f"ours: {events} events, {events / ours_s:,.0f} events/s; {counts['metrics']} metric rows")
        print(f"ours: SQLite store {size / 1e6:.2f} MB ({size / max(events, 1):.0f} B/event), in a temp dir")

        if problems:
            print()
            for line in problems[:40]:
                print(line)
            if len(problems) > 40:
                print(f"... {len(problems) - 40} more MISMATCH lines")
        else:
            print(f"scores: all {n} per-strategy totals and {n * n} pairwise totals equal axelrod's")

        if args.profile:
            profile_ours(args.turns, args.repetitions, workdir)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
