"""Benchmark: one Among Us game with LLM seats against the offline test server, and its prompt growth.

Four ``among_us_llm`` crewmates (bounded memory: the last 12 events verbatim plus a facts summary) and
three rule-based bots (two crewmates, the impostor p6) play one 7-player game on the Skeld (time limit
100, the survey on when the world has it) through ``run_scenario``: engine, every event and every model
call to SQLite. The test server runs in its own process (``bench/llm_throughput.py``'s
``ServerProcess``) and answers a seeded random allowed value (the LLM seats wander, speak and vote;
the bots do tasks, kill, report and vote). Prints the calls per game by
purpose, the mean prompt tokens per decision by game turn (the test server counts words), and the
late/early ratio of task-round prompts (mean of the last quarter of those decisions over the first
quarter) against the target of at most 1.5.

Run: ``.venv/bin/python bench/among_us_llm.py`` (``--max-turns N``, ``--window N``, ``--bucket N``).
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
from typing import Any

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ["LITELLM_OFFLINE_MODE"] = "true"

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.runner import run_scenario  # noqa: E402
from sim.scenario import validate_scenario  # noqa: E402
from worlds.among_us.params import AmongUsParams  # noqa: E402

TARGET = 1.5


def scenario(base: str, max_turns: int, window: int) -> dict[str, Any]:
    model = {"model": "openai/stub", "api_base": base, "temperature": 0, "max_tokens": 512}
    llm = {"agent": "among_us_llm", "config": {"model": model, "memory_window": window}}
    params: dict[str, Any] = {"impostors": 1, "impostor_seats": [6], "short_tasks": 2, "long_tasks": 1}
    params["max_turns"] = max_turns
    if "survey" in AmongUsParams.model_fields:
        params["survey"] = True
    return {
        "name": "bench-among-us-llm",
        "world": "social/among_us-v1",
        "params": params,
        "seats": [llm] * 4 + [{"agent": "among_us_bot"}] * 3,
        "seed": 13,
    }


def late_over_early(tokens: list[int]) -> float:
    """Mean of the last quarter over the mean of the first quarter."""
    quarter = max(1, len(tokens) // 4)
    return statistics.fmean(tokens[-quarter:]) / statistics.fmean(tokens[:quarter])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-turns", type=int, default=100, help="the game's time limit")
    parser.add_argument("--window", type=int, default=12, help="events each LLM seat keeps verbatim")
    parser.add_argument("--bucket", type=int, default=10, help="game turns per row of the token table")
    args = parser.parse_args()
    from llm_throughput import ServerProcess  # the test server in its own process

    server = ServerProcess(latency=0.0, policy="random_option")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            loaded = validate_scenario(scenario(server.openai_base, args.max_turns, args.window), "bench")
            started = time.perf_counter()
            summary = run_scenario(loaded, Path(tmp) / "among_us_llm.db")
            elapsed = time.perf_counter() - started
            with sqlite3.connect(summary.db) as conn:
                report(conn, elapsed, args.bucket)
    finally:
        server.stop()


def report(conn: sqlite3.Connection, elapsed: float, bucket: int) -> None:
    outcome = conn.execute("SELECT json_extract(outcome, '$.reason'), turns FROM episodes").fetchone()
    calls = conn.execute(
        "SELECT purpose, count(*) FROM llm_calls GROUP BY purpose ORDER BY purpose"
    ).fetchall()
    rows = conn.execute("SELECT turn, purpose, prompt_tokens FROM llm_calls ORDER BY turn, id").fetchall()
    total = sum(n for _, n in calls)
    print(f"one 7-player Among Us game (4 LLM crewmates), test server, {elapsed:.1f} s: {total} calls")
    print(f"    ended: {outcome[0]} after {outcome[1]} turns")
    for purpose, n in calls:
        print(f"    {purpose:20s} {n:5d}")
    by_turn: dict[int, list[int]] = defaultdict(list)
    for turn, _, tokens in rows:
        by_turn[turn // bucket].append(tokens or 0)
    print("    prompt tokens per decision by game turn (mean, max, decisions):")
    for b in sorted(by_turn):
        tokens = by_turn[b]
        span = f"{b * bucket}-{(b + 1) * bucket - 1}"
        print(f"    turns {span:>9s}: {statistics.fmean(tokens):6.0f} {max(tokens):6d} {len(tokens):5d}")
    acts = [tokens or 0 for _, purpose, tokens in rows if purpose == "among_us.act"]
    if len(acts) >= 4:
        ratio = late_over_early(acts)
        verdict = "MET" if ratio <= TARGET else "NOT MET"
        print(f"    task-round prompts late/early: {ratio:.2f} (target <= {TARGET}: {verdict})")


if __name__ == "__main__":
    main()
