"""Benchmark: LLM-seat throughput of the engine against the offline test server (in its own process).

Many repeated-game episodes (one LLM seat, Akata prompt, against a scripted ``cooperator``) are played
concurrently in one event loop (``engine.parallel_episodes``) through ``LLMClient.ask()`` and
``litellm.acompletion``, against ``python -m sim.llm.testserver`` started as a subprocess:

- (a) 100 ms server latency, concurrency cap K = 8 (``max_parallel``): wall time, calls/s and
  efficiency = (calls x latency / K) / wall, with the nominal 100 ms; target >= 0.85, with every
  call in ``llm_calls``.
- (b) zero latency, K = 64 (saturation): our calls/s against a bare loop of ``litellm.acompletion``
  calls (same messages, same K, same process, measured in the same run); target >= 0.8 of it.
- (c) the (a) scenario with ``cache: use`` run twice on one store: speed-up of the cached re-run.

Two references are run in the (a) setup. The bare litellm loop holds its semaphore around each
``acompletion``, as a plain user of litellm would; it reaches about 0.85 here because each call also
holds its slot during litellm's own CPU work (about 6 ms per call on the 2-core dev box: building
the request, then parsing and pricing the answer), and while the event loop is busy with other
calls' work. ``LLMClient`` holds its slot only during the HTTP exchange (see ``sim.llm.client``), so
with more than K callers waiting (32 episodes for K = 8) the next request leaves as soon as an
answer is in. The server reference is a raw asyncio HTTP/1.1 client (K kept-alive connections, no
litellm, the (a) messages) against the same server: the ceiling that the server's true latency
(about 100.9 ms) allows, about 0.99. The bare loop goes through the same process-wide
``litellm.aclient_session`` as our calls once our client has installed it: an httpx client built
like litellm's default one, which does nothing extra for calls that hold no slot.

Correctness (every call logged, valid, one per round; every call of the cached re-run a cache hit)
is checked after each run: a failure prints a FAIL line and the exit code is 1. Targets that are
not met only print NOT MET (exit 0).

Run: ``.venv/bin/python bench/llm_throughput.py`` (``--quick`` for a smoke run, ``--profile`` for a
cProfile of the (b) run of both sides).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import select
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

# Before litellm is imported anywhere (here or in sim.llm.client): no price-map fetch, no hub downloads.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ["LITELLM_OFFLINE_MODE"] = "true"

ROOT = Path(__file__).resolve().parent.parent
MODEL = "openai/stub"
GAME = "akata_prisoners_dilemma"
EFFICIENCY_TARGET = 0.85
RATIO_TARGET = 0.8


# the test server, in its own process -------------------------------------------------------------
class ServerProcess:
    """``python -m sim.llm.testserver`` as a subprocess; ``stop()`` sends SIGTERM."""

    def __init__(self, latency: float, policy: str = "first_option") -> None:
        self.latency = latency
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sim.llm.testserver",
                "--port",
                "0",
                "--policy",
                policy,
                "--latency",
                str(latency),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url = self._read_url(timeout=30.0)

    def _read_url(self, timeout: float) -> str:
        stdout = self.process.stdout
        assert stdout is not None
        ready, _, _ = select.select([stdout], [], [], timeout)
        line = stdout.readline().strip() if ready else ""
        prefix = "listening on "
        if not line.startswith(prefix):
            self.stop()
            raise RuntimeError(f"test server did not start (first line: {line!r})")
        return line[len(prefix) :]

    @property
    def openai_base(self) -> str:
        """The api_base for ``openai/`` models."""
        return self.url + "/v1"

    def stop(self) -> None:
        """SIGTERM, then wait (kill after 10 s)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


# our side: scenarios through run_scenario --------------------------------------------------------
def scenario_data(base: str, k: int, episodes: int, rounds: int, cache: str) -> dict[str, Any]:
    """One LLM seat (Akata prompt) against a cooperator, all episodes in flight at once."""
    model = {"model": MODEL, "api_base": base, "max_parallel": k, "cache": cache, "backoff": 0}
    return {
        "name": "bench-llm-throughput",
        "description": "bench/llm_throughput.py",
        "world": "matrix/repeated-v1",
        "params": {"game": GAME, "rounds": rounds},
        "seats": [
            {"agent": "llm", "config": {"model": model, "prompt": "akata"}},
            {"agent": "cooperator"},
        ],
        "episodes": episodes,
        "seed": 11,
        "engine": {"parallel_episodes": episodes},
    }


@dataclass
class OurRun:
    """One timed ``run_scenario``."""

    seconds: float
    db: Path
    run_id: int
    calls: int = 0
    cache_hits: int = 0
    span: float = 0.0  # first network call start to last call end, from the llm_calls rows
    problems: list[str] = field(default_factory=list)


def run_ours(data: dict[str, Any], db: Path) -> OurRun:
    """Validate and run the scenario into ``db``; time ``run_scenario`` only."""
    from sim.runner import run_scenario
    from sim.scenario import validate_scenario

    loaded = validate_scenario(data, "bench/llm_throughput.py")
    start = time.perf_counter()
    summary = run_scenario(loaded, db)
    seconds = time.perf_counter() - start
    run = OurRun(seconds, db, summary.run_id)
    if len(summary.episodes) != data["episodes"]:
        run.problems.append(f"played {len(summary.episodes)} episodes, expected {data['episodes']}")
    return run


def _time(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").timestamp()


def check_run(run: OurRun, episodes: int, rounds: int, cached: bool | None, what: str) -> OurRun:
    """Check the stored run: every episode complete, one valid llm_calls row per LLM round.

    ``cached``: True = every row must be a cache hit, False = none may be, None = not checked.
    """
    expected = episodes * rounds
    with sqlite3.connect(run.db) as conn:
        statuses = conn.execute(
            "SELECT status, turns, COUNT(*) FROM episodes WHERE run_id = ? GROUP BY status, turns",
            (run.run_id,),
        ).fetchall()
        start = conn.execute(
            "SELECT v.payload FROM events v JOIN episodes e ON v.episode_id = e.id "
            "WHERE e.run_id = ? AND v.kind = 'start' LIMIT 1",
            (run.run_id,),
        ).fetchone()
        invalid = conn.execute(
            "SELECT COALESCE(SUM(s.invalid_actions), 0) FROM seats s JOIN episodes e ON s.episode_id = e.id "
            "WHERE e.run_id = ?",
            (run.run_id,),
        ).fetchone()[0]
        rows = conn.execute(
            "SELECT c.episode_id, c.turn, c.valid, c.error_class, c.attempt, c.response, c.parsed, "
            "c.cache_hit, c.latency_ms, c.created_at FROM llm_calls c JOIN episodes e ON c.episode_id = e.id "
            "WHERE e.run_id = ?",
            (run.run_id,),
        ).fetchall()
    problems = run.problems
    if statuses != [("complete", rounds, episodes)]:
        problems.append(f"episodes (status, turns, count) = {statuses}, expected all complete")
    if invalid:
        problems.append(f"{invalid} invalid actions (fallbacks) in the seats table")
    labels = set(json.loads(start[0])["labels"]) if start else set()
    run.calls = len(rows)
    run.cache_hits = sum(1 for r in rows if r[7])
    if run.calls != expected:
        problems.append(f"{run.calls} llm_calls rows, expected {expected} ({episodes} x {rounds})")
    if len({(r[0], r[1]) for r in rows}) != len(rows):
        problems.append("more than one llm_calls row for some (episode, turn)")
    bad = [r for r in rows if not r[2] or r[3] is not None or r[4] != 1 or json.loads(r[6]) not in labels]
    if bad:
        problems.append(f"{len(bad)} llm_calls rows invalid, failed, re-asked or off-label, e.g. {bad[0]}")
    if cached is True and run.cache_hits != run.calls:
        problems.append(f"cached re-run: {run.calls - run.cache_hits} of {run.calls} calls missed the cache")
    if cached is False and run.cache_hits:
        problems.append(f"cache off: {run.cache_hits} rows marked as cache hits")
    network = [r for r in rows if not r[7]]
    if network:
        run.span = max(_time(r[9]) for r in network) - min(_time(r[9]) - r[8] / 1000 for r in network)
    run.problems = [f"FAIL {what}: {p}" for p in problems]
    return run


# the bare litellm loop ---------------------------------------------------------------------------
def import_litellm() -> Any:
    """Import litellm once, untimed (the same settings as sim.llm.client)."""
    from sim.llm.client import _litellm

    return _litellm()


async def _bare(litellm: Any, base: str, conversations: list[Any], k: int) -> tuple[float, list[str]]:
    semaphore = asyncio.Semaphore(k)

    async def one(messages: list[dict[str, Any]]) -> str:
        async with semaphore:
            response = await litellm.acompletion(
                model=MODEL,
                api_base=base,
                api_key="x",
                messages=messages,
                timeout=30,
                num_retries=0,
                temperature=0.0,  # the parameters our client sends (ModelSettings.call_params)
                max_tokens=256,
            )
        return str(response.choices[0].message.content)

    start = time.perf_counter()
    texts = await asyncio.gather(*(one(m) for m in conversations))
    return time.perf_counter() - start, texts


def run_bare(litellm: Any, base: str, conversations: list[Any], k: int) -> tuple[float, list[str]]:
    """``asyncio.gather`` of one ``litellm.acompletion`` per conversation, at most ``k`` in flight."""
    return asyncio.run(_bare(litellm, base, conversations, k))


async def _raw(url: str, conversations: list[Any], k: int) -> float:
    host, port = url.removeprefix("http://").split(":")
    requests = []
    for messages in conversations:
        body = json.dumps({"model": "stub", "messages": messages, "temperature": 0.0, "max_tokens": 256})
        head = f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        requests.append(f"{head}Content-Length: {len(body)}\r\n\r\n{body}".encode())

    async def connection(mine: list[bytes]) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        for request in mine:
            writer.write(request)
            await writer.drain()
            status, length = await reader.readline(), 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not status.startswith(b"HTTP/1.1 200") or b'"choices"' not in await reader.readexactly(length):
                raise RuntimeError(f"raw client: unexpected answer {status!r}")
        writer.close()
        await writer.wait_closed()

    start = time.perf_counter()
    await asyncio.gather(*(connection(requests[i::k]) for i in range(k)))
    return time.perf_counter() - start


def run_raw(url: str, conversations: list[Any], k: int) -> float:
    """The server alone: K kept-alive connections, each sending its share of the requests in turn."""
    return asyncio.run(_raw(url, conversations, k))


def conversations_of(run: OurRun) -> list[Any]:
    """The message lists our run sent, in call order (the bare loop sends the same ones)."""
    with sqlite3.connect(run.db) as conn:
        rows = conn.execute(
            "SELECT c.messages FROM llm_calls c JOIN episodes e ON c.episode_id = e.id "
            "WHERE e.run_id = ? ORDER BY c.id",
            (run.run_id,),
        ).fetchall()
    return [json.loads(r[0]) for r in rows]


def check_bare(texts: list[str], expected: int, what: str) -> list[str]:
    """Every bare call answered with an option label."""
    bad = [t for t in texts if t.strip() not in ("J", "F")]
    problems = [f"FAIL {what}: {len(texts)} answers, expected {expected}"] if len(texts) != expected else []
    return problems + ([f"FAIL {what}: {len(bad)} answers are not J or F, e.g. {bad[0]!r}"] if bad else [])


# report ------------------------------------------------------------------------------------------
def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:.3f}" for v in values) + "]"


def verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def profile(label: str, fn: Callable[[], Any], top: int) -> None:
    """Run ``fn`` under cProfile; print the top functions by own time and by cumulative time."""
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    fn()
    profiler.disable()
    print(f"\n== profile: {label} ({time.perf_counter() - start:.2f} s under cProfile) ==")
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(top)
        lines = out.getvalue().splitlines()
        first = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
        print(f"-- top {top} by {order} --")
        print("\n".join(line for line in lines[first:] if line.strip()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts, one repeat: a smoke run")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per side (median; default 3)")
    parser.add_argument("--profile", action="store_true", help="also profile the (b) run of both sides")
    parser.add_argument("--top", type=int, default=25, help="functions per profile listing")
    args = parser.parse_args(argv)
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 3)
    if repeats < 1:
        parser.error("--repeats must be >= 1")
    latency, k_a, k_b = 0.1, 8, 64
    episodes_a, rounds_a = (16, 4) if args.quick else (32, 10)
    episodes_b, rounds_b = (64, 3) if args.quick else (64, 10)
    calls_a, calls_b = episodes_a * rounds_a, episodes_b * rounds_b

    litellm = import_litellm()
    import sim.runner  # noqa: F401  (import time is not counted)

    problems: list[str] = []
    servers: list[ServerProcess] = []
    try:
        slow = ServerProcess(latency)
        servers.append(slow)
        fast = ServerProcess(0.0)
        servers.append(fast)
        py = sys.version.split()[0]
        print(f"test servers: {slow.url} (latency {latency:g} s), {fast.url} (latency 0), own processes")
        print(f"litellm {version('litellm')}, python {py}, {os.cpu_count()} cores, {repeats} repeat(s)")

        with tempfile.TemporaryDirectory(prefix="bench-llm-") as tmp:
            workdir = Path(tmp)
            # warm-up (untimed): litellm's lazy imports and clients, templates, the store, both servers
            warm = [{"role": "user", "content": "Q: Which Option do you choose, Option F or Option J?\nA:"}]
            for server in servers:
                run_bare(litellm, server.openai_base, [warm, warm], 2)
                run_ours(scenario_data(server.openai_base, 2, 2, 2, "off"), workdir / "warmup.db")

            a_ours: list[OurRun] = []
            a_bare: list[float] = []
            a_raw: list[float] = []
            b_ours: list[OurRun] = []
            b_bare: list[float] = []
            c_first: list[OurRun] = []
            c_cached: list[OurRun] = []
            for r in range(repeats):
                print(f"repeat {r + 1}/{repeats}:", flush=True)
                for label, server, k, episodes, rounds, calls, ours, bare in (
                    ("(a)", slow, k_a, episodes_a, rounds_a, calls_a, a_ours, a_bare),
                    ("(b)", fast, k_b, episodes_b, rounds_b, calls_b, b_ours, b_bare),
                ):
                    data = scenario_data(server.openai_base, k, episodes, rounds, "off")
                    db = workdir / f"{label[1]}{r}.db"
                    run = check_run(run_ours(data, db), episodes, rounds, False, label)
                    ours.append(run)
                    problems += run.problems
                    ideal_run = calls * latency / k if label == "(a)" else None
                    eff = f"  efficiency {ideal_run / run.seconds:.3f}" if ideal_run else ""
                    print(f"  {label} ours  {run.seconds:7.3f} s  {run.calls} calls{eff}", flush=True)
                    seconds, texts = run_bare(litellm, server.openai_base, conversations_of(run), k)
                    problems += check_bare(texts, calls, f"{label} bare")
                    bare.append(seconds)
                    print(f"  {label} bare  {seconds:7.3f} s  {len(texts)} calls", flush=True)
                    if label == "(a)":
                        a_raw.append(run_raw(server.url, conversations_of(run), k))
                        print(f"  {label} raw   {a_raw[-1]:7.3f} s  {calls} requests", flush=True)

                data_c = scenario_data(slow.openai_base, k_a, episodes_a, rounds_a, "use")
                db_c = workdir / f"c{r}.db"
                first = check_run(run_ours(data_c, db_c), episodes_a, rounds_a, None, "(c) first run")
                cached = check_run(run_ours(data_c, db_c), episodes_a, rounds_a, True, "(c) cached re-run")
                c_first.append(first)
                c_cached.append(cached)
                problems += first.problems + cached.problems
                print(
                    f"  (c) first {first.seconds:7.3f} s  ({first.calls - first.cache_hits} over HTTP), "
                    f"cached {cached.seconds:7.3f} s  ({cached.cache_hits}/{cached.calls} cache hits)",
                    flush=True,
                )

            if args.profile:
                data_b = scenario_data(fast.openai_base, k_b, episodes_b, rounds_b, "off")
                db_p = workdir / "profile.db"
                holder: list[OurRun] = []
                profile(
                    f"(b) ours, {calls_b} calls, K = {k_b}, zero latency",
                    lambda: holder.append(run_ours(data_b, db_p)),
                    args.top,
                )
                conversations = conversations_of(holder[0])
                profile(
                    f"(b) bare litellm loop, {len(conversations)} calls, K = {k_b}",
                    lambda: run_bare(litellm, fast.openai_base, conversations, k_b),
                    args.top,
                )
    finally:
        for server in servers:
            server.stop()

    ideal = calls_a * latency / k_a
    a_wall, a_bare_wall, a_raw_wall = median([r.seconds for r in a_ours]), median(a_bare), median(a_raw)
    a_eff, a_bare_eff, a_raw_eff = ideal / a_wall, ideal / a_bare_wall, ideal / a_raw_wall
    a_span = median([r.span for r in a_ours])
    b_wall, b_bare_wall = median([r.seconds for r in b_ours]), median(b_bare)
    b_rate, b_bare_rate = calls_b / b_wall, calls_b / b_bare_wall
    ratio = b_rate / b_bare_rate
    c_first_wall, c_cached_wall = median([r.seconds for r in c_first]), median([r.seconds for r in c_cached])
    logged = all(r.calls == calls_a for r in a_ours)

    print(f"\n== results (medians of {repeats}) ==")
    print(
        f"(a) latency {latency * 1000:.0f} ms, K = {k_a}: {episodes_a} episodes x {rounds_a} rounds "
        f"= {calls_a} calls, {episodes_a} in parallel, cache off"
    )
    print(f"    {'':<34}{'ours':>10}{'bare litellm':>14}{'server alone':>14}")
    print(
        f"    {'wall time (s)':<34}{a_wall:>10.3f}{a_bare_wall:>14.3f}{a_raw_wall:>14.3f}"
        f"   ideal {ideal:.3f} s"
    )
    print(
        f"    {'calls/s':<34}{calls_a / a_wall:>10.1f}{calls_a / a_bare_wall:>14.1f}"
        f"{calls_a / a_raw_wall:>14.1f}   ideal {k_a / latency:.1f}"
    )
    print(f"    {'efficiency':<34}{a_eff:>10.3f}{a_bare_eff:>14.3f}{a_raw_eff:>14.3f}")
    print(
        f"    efficiency {a_eff:.3f}, every call logged: {'yes' if logged else 'NO'} "
        f"(target >= {EFFICIENCY_TARGET}: {verdict(a_eff >= EFFICIENCY_TARGET and logged)})"
    )
    print(
        f"    in play (first call start to last call end): {a_span:.3f} s, efficiency "
        f"{ideal / a_span:.3f}; run_scenario outside play: {a_wall - a_span:.3f} s"
    )
    print(
        f"    runs: ours {spread([r.seconds for r in a_ours])}, bare {spread(a_bare)}, "
        f"server alone {spread(a_raw)}"
    )
    print(f"    efficiency per run: ours {spread([ideal / r.seconds for r in a_ours])}")
    print(
        f"(b) latency 0, K = {k_b}: {episodes_b} episodes x {rounds_b} rounds = {calls_b} calls, "
        f"{episodes_b} in parallel, cache off"
    )
    print(f"    {'':<34}{'ours':>10}{'bare litellm':>14}")
    print(f"    {'wall time (s)':<34}{b_wall:>10.3f}{b_bare_wall:>14.3f}")
    print(f"    {'calls/s':<34}{b_rate:>10.1f}{b_bare_rate:>14.1f}")
    print(
        f"    {'ms per call':<34}{1000 / b_rate:>10.2f}{1000 / b_bare_rate:>14.2f}"
        f"   ours - bare {1000 / b_rate - 1000 / b_bare_rate:.2f} ms"
    )
    print(f"    ratio ours/bare {ratio:.3f} (target >= {RATIO_TARGET}: {verdict(ratio >= RATIO_TARGET)})")
    print(f"    runs: ours {spread([r.seconds for r in b_ours])}, bare {spread(b_bare)}")
    http = median([float(r.calls - r.cache_hits) for r in c_first])
    print(f"(c) the (a) scenario with cache: use, twice on one store ({calls_a} calls per run)")
    print(
        f"    first run {c_first_wall:.3f} s ({http:.0f} of {calls_a} calls over HTTP; any others repeat a "
        f"prompt cached earlier in the run), cached re-run {c_cached_wall:.3f} s (all cache hits)"
    )
    print(f"    speed-up {c_first_wall / c_cached_wall:.1f}x")
    print(
        f"    runs: first {spread([r.seconds for r in c_first])}, "
        f"cached {spread([r.seconds for r in c_cached])}"
    )

    if problems:
        print()
        for line in problems[:40]:
            print(line)
        if len(problems) > 40:
            print(f"... {len(problems) - 40} more FAIL lines")
    else:
        print(
            "checks: every episode complete, every call logged once, valid, no re-asks; "
            "cached re-run all hits"
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
