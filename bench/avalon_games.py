"""Benchmark: Avalon throughput with bots, and the context growth of an all-ReCon game.

1. 1,000 bots-only 6-player games (Merlin, Percival, two Servants, Morgana, Assassin; AvalonBench's
   naive bots, discussion on) through ``sim run``'s path: engine, Mesa model, every event to SQLite.
   Prints games/s and events/s, next to the same games stepped directly on the world (no engine, no
   store) measured in the same run, as the ratio of engine+store time to bare rules time. No Avalon
   peer engine is installable from a package registry, so the bare world is the reference.
2. One all-ReCon 6-player game (every stage on) against the offline test server in its own process:
   calls per game by stage, and mean prompt tokens per decision by quest, so the growth of the
   context over the game is visible.

Run: ``.venv/bin/python bench/avalon_games.py`` (``--games N`` to change the count).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ["LITELLM_OFFLINE_MODE"] = "true"

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agents.scripted.avalon import AvalonNaiveAgent  # noqa: E402
from bench.timing import timed_run  # noqa: E402
from sim.rng import derive_seed, stream  # noqa: E402
from sim.runner import run_scenario  # noqa: E402
from sim.scenario import validate_scenario  # noqa: E402
from worlds.avalon.params import AvalonParams  # noqa: E402
from worlds.avalon.world import AvalonWorld  # noqa: E402

ROLES = ["merlin", "percival", "servant", "servant", "morgana", "assassin"]


def bots_scenario(games: int, seed: int = 7) -> dict:
    return {
        "name": "bench-avalon-bots",
        "world": "social/avalon-v1",
        "params": {"roles": ROLES},
        "seats": [{"agent": "avalon_naive"}] * 6,
        "episodes": games,
        "seed": seed,
    }


def engine_run(games: int, db: Path) -> tuple[float, int]:
    return timed_run(bots_scenario(games), db)


def bare_run(games: int) -> tuple[float, int]:
    """The same kind of games stepped directly on the world with the same bots."""
    params = AvalonParams(roles=ROLES)  # type: ignore[arg-type]
    players = [f"p{i}" for i in range(6)]
    events = 0
    started = time.perf_counter()
    for g in range(games):
        world = AvalonWorld()
        events += len(world.reset(players, params, stream(derive_seed(7, g), "world")))
        bots = {p: AvalonNaiveAgent() for p in players}
        for p, bot in bots.items():
            bot.reset(p, AvalonWorld.spec, derive_seed(g, p))
        while not world.is_terminal():
            events += len(world.step({p: bots[p].decide(world.observe(p)) for p in world.to_act()}))
    return time.perf_counter() - started, events


def recon_game(db: Path) -> None:
    from llm_throughput import ServerProcess  # the test server in its own process (bench/llm_throughput.py)

    server = ServerProcess(latency=0.0, policy="first_option")
    try:
        model = {"model": "openai/stub", "api_base": server.openai_base, "temperature": 0, "max_tokens": 1024}
        scenario = {
            "name": "bench-avalon-recon",
            "world": "social/avalon-v1",
            "params": {"roles": ROLES, "seating": "fixed"},
            "seats": [{"agent": "recon", "config": {"model": model}}] * 6,
            "seed": 11,
        }
        started = time.perf_counter()
        summary = run_scenario(validate_scenario(scenario, "bench"), db)
        elapsed = time.perf_counter() - started
    finally:
        server.stop()
    with sqlite3.connect(summary.db) as conn:
        calls = conn.execute(
            "SELECT purpose, count(*) FROM llm_calls GROUP BY purpose ORDER BY purpose"
        ).fetchall()
        rows = conn.execute("SELECT turn, prompt_tokens FROM llm_calls ORDER BY id").fetchall()
        quest_of_turn = dict(
            conn.execute(
                "SELECT turn, max(json_extract(payload, '$.quest')) FROM events "
                "WHERE kind IN ('proposal', 'vote', 'quest', 'speech') GROUP BY turn"
            ).fetchall()
        )
    total = sum(n for _, n in calls)
    print(f"\n(2) one all-ReCon 6-player game, test server, {elapsed:.1f} s: {total} calls")
    for purpose, n in calls:
        print(f"    {purpose:28s} {n:5d}")
    by_quest: dict[int, list[int]] = defaultdict(list)
    last = 1
    for turn, tokens in rows:  # a decision at turn t makes the events of turn t + 1
        last = quest_of_turn.get(turn + 1, last) or last
        by_quest[int(last)].append(tokens or 0)
    print("    prompt tokens per call by quest (mean, max):")
    for q in sorted(by_quest):
        tokens = by_quest[q]
        print(f"    quest {q}: {statistics.fmean(tokens):7.0f} {max(tokens):7d}  ({len(tokens)} calls)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=1000)
    parser.add_argument("--skip-recon", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bare_run(20)  # warm up imports and caches
        engine_run(20, Path(tmp) / "warm.db")
        ours, events = engine_run(args.games, Path(tmp) / "bots.db")
        bare, bare_events = bare_run(args.games)
        print(f"(1) {args.games} bots-only 6-player Avalon games")
        for name, seconds, count in (("engine + store", ours, events), ("bare world", bare, bare_events)):
            rates = f"{args.games / seconds:7.1f} games/s  {count / seconds:9.0f} events/s"
            print(f"    {name + ':':16s}{seconds:6.2f} s  {rates}")
        print(f"    ratio engine+store / bare world: {ours / bare:.2f}")
        if not args.skip_recon:
            recon_game(Path(tmp) / "recon.db")


if __name__ == "__main__":
    main()
