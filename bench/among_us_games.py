"""Benchmark: Among Us throughput with bots, and the balance of the rule bots on the presets.

1. 1,000 bots-only ``classic7`` games (seven ``among_us_bot`` seats on the Skeld, 2 impostors) through
   ``sim run``'s path: engine, Mesa model, every event to SQLite. Prints games/s and events/s, next to
   the same games stepped directly on the world (no engine, no store) measured in the same run, and the
   ratio of engine+store time to bare rules time. No Among Us engine of a peer is installable from a
   package registry, so the bare world is the reference.
2. Balance: win rates by side and by reason (95% Wilson intervals from ``sim.stats``) over seeded
   bots-only games of each preset, stepped on the bare world.

Run: ``.venv/bin/python bench/among_us_games.py`` (``--games N`` for part 1, ``--balance N`` games per
preset for part 2, 0 to skip; ``--profile`` prints a cProfile of both sides of part 1).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agents.scripted.among_us_selfplay import bots_game  # noqa: E402
from bench.timing import timed_run  # noqa: E402
from sim.rng import derive_seed  # noqa: E402
from sim.scenario import read_yaml  # noqa: E402
from sim.stats import rate  # noqa: E402
from worlds.among_us.params import AmongUsParams  # noqa: E402

PRESETS = ROOT / "worlds" / "among_us" / "scenarios"
REASONS = ("crew_vote_out", "crew_tasks", "imp_parity", "imp_timeout", "timeout")


def preset(name: str) -> dict[str, Any]:
    """A preset scenario as a dict (its params and seats)."""
    return read_yaml(PRESETS / f"{name}.yaml")


def engine_run(games: int, db: Path, name: str = "classic7") -> tuple[float, int]:
    """``games`` episodes of a preset through ``run_scenario``: seconds and events stored."""
    data = {**preset(name), "episodes": games}
    data.pop("db", None)  # the store is ``db``
    return timed_run(data, db)


def bare_run(games: int, name: str = "classic7", seed: int = 7) -> tuple[float, int, list[tuple[str, int]]]:
    """The same kind of games on the bare world: seconds, events, and each game's end reason and length
    (the finished worlds are dropped: keeping a thousand of them alive slows the collector)."""
    data = preset(name)
    params = AmongUsParams.model_validate(data["params"])
    n_players = len(data["seats"])
    events = 0
    ends = []
    started = time.perf_counter()
    for g in range(games):
        world, n = bots_game(params, n_players, derive_seed(seed, g))
        events += n
        ends.append((world.reason, world.state.clock))
    return time.perf_counter() - started, events, ends


def profile(label: str, run: Any, top: int = 15) -> None:
    """Run ``run()`` under cProfile and print the top functions by own time."""
    profiler = cProfile.Profile()
    profiler.runcall(run)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    print(f"\n--- cProfile: {label} (top {top} by own time) ---")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:6000])


def balance(games: int, names: tuple[str, ...]) -> None:
    """Win rates by side and by reason on each preset, with 95% Wilson intervals."""
    print(f"\n(2) balance: {games} seeded bots-only games per preset (bare world), 95% Wilson intervals")
    header = "    preset       impostors win        " + "  ".join(f"{r:>13s}" for r in REASONS)
    print(header + "   turns")
    for name in names:
        _, _, ends = bare_run(games, name, seed=2024)
        reasons = Counter(reason for reason, _ in ends)
        imp = reasons["imp_parity"] + reasons["imp_timeout"]
        won = rate(imp, games)
        cells = "  ".join(f"{reasons[r] / games:13.0%}" for r in REASONS)
        turns = sum(clock for _, clock in ends) / games
        interval = f"{won.value:4.0%} [{won.low:.0%}, {won.high:.0%}]"
        print(f"    {name:12s} {interval:22s}{cells}   {turns:5.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=1000, help="classic7 games timed in part 1")
    parser.add_argument("--balance", type=int, default=300, help="games per preset in part 2 (0: skip)")
    parser.add_argument("--profile", action="store_true", help="cProfile both sides of part 1")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.games:
            bare_run(20)  # warm up imports and caches
            engine_run(20, Path(tmp) / "warm.db")
            ours, events = engine_run(args.games, Path(tmp) / "bots.db")
            bare, bare_events, _ = bare_run(args.games)
            print(f"(1) {args.games} bots-only classic7 Among Us games")
            for label, seconds, count in (
                ("engine + store", ours, events),
                ("bare world", bare, bare_events),
            ):
                rates = f"{args.games / seconds:7.1f} games/s  {count / seconds:9.0f} events/s"
                print(f"    {label + ':':16s}{seconds:6.2f} s  {rates}")
            print(f"    ratio engine+store / bare world: {ours / bare:.2f}")
            if args.profile:
                n = max(1, args.games // 5)
                profile(f"engine + store, {n} games", lambda: engine_run(n, Path(tmp) / "profile.db"))
                profile(f"bare world, {n} games", lambda: bare_run(n))
        if args.balance:
            balance(args.balance, ("classic5", "classic7", "sarkar_grid"))


if __name__ == "__main__":
    main()
