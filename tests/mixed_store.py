"""A store holding every episode status and a dead run, written with the real StoreWriter.

Three runs of the repeated game:

- ``closed`` (run 1, ``interrupted``): one episode each complete, failed, interrupted and not_run, and
  an ``orphan`` left ``running`` when the run closed (as older versions left it);
- ``live`` (run 2, ``running``, pid = this test process): complete, running with events and seats but
  no score (and two LLM calls: an answer and a failed attempt without one), running with events and no
  seats yet, pending with nothing;
- ``dead`` (run 3, still ``running`` but its pid is a process of this host that has exited): complete,
  running with events, pending.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from live_store import round_event

from sim.rng import stream
from sim.store.engine import open_engine
from sim.store.writer import StoreWriter
from worlds.repeated.params import RepeatedParams
from worlds.repeated.world import RepeatedGameWorld

WORLD = "matrix/repeated-v1"
PLAYERS = ("p0", "p1")
SEATS = [{"player_id": p, "agent": "cooperator", "label": f"bot-{p}", "config": {}} for p in PLAYERS]
OUTCOME = {"winners": ["p1"], "reason": "rounds", "draw": False}
_CALL = {"player_id": "p0", "turn": 1, "purpose": "repeated.act", "model": "openai/stub", "params": {}}
LLM_CALLS = [
    {
        **_CALL,
        "messages": [{"role": "user", "content": "Q: which Option? A: Option"}],
        "response": "J",
        "parsed": "J",
        "valid": True,
        "attempt": 1,
        "prompt_tokens": 12,
        "completion_tokens": 1,
        "latency_ms": 8.0,
        "created_at": datetime(2026, 1, 1),
    },
    {  # a failed HTTP attempt: no answer, no tokens, no latency
        **_CALL,
        "messages": [],
        "response": None,
        "parsed": None,
        "valid": False,
        "error_class": "RateLimitError",
        "error": "429 Too Many Requests",
        "attempt": 2,
        "created_at": datetime(2026, 1, 1),
    },
]


@dataclass(frozen=True)
class MixedStore:
    """The store file, its run ids and its episode ids by name (``live.running``, ``dead.pending``, ...)."""

    db: Path
    runs: dict[str, int]
    episodes: dict[str, int]


def exited_pid() -> int:
    """The pid of a process of this host that has already exited."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _plan(names: list[str]) -> list[dict[str, object]]:
    return [
        {"index": i, "matchup": "bot-p0 vs bot-p1", "world_id": WORLD, "params": {"rounds": 5}, "seed": i}
        for i, _ in enumerate(names)
    ]


def _play(writer: StoreWriter, run: int, episode: int, rounds: int, seats: bool = True) -> None:
    """Begin ``episode`` (its seats unless ``seats`` is False) and write its start and ``rounds`` rounds."""
    writer.begin_episode(
        run_id=run,
        index=0,
        matchup="bot-p0 vs bot-p1",
        world_id=WORLD,
        params={"rounds": 5},
        seed=episode,
        seats=SEATS if seats else [],
        episode_id=episode,
    )
    start = RepeatedGameWorld().reset(list(PLAYERS), RepeatedParams(rounds=5), stream(episode, "w"))
    writer.add_events(episode, [*start, *(round_event(r) for r in range(1, rounds + 1))])


def _complete(writer: StoreWriter, run: int, episode: int) -> None:
    _play(writer, run, episode, 5)
    writer.finish_episode(
        episode, status="complete", turns=5, outcome=OUTCOME, scores={"p0": 0.0, "p1": 25.0}
    )


def mixed_store(db: Path) -> MixedStore:
    """Write the three runs described in the module docstring to ``db``."""
    writer = StoreWriter(open_engine(db))
    episodes: dict[str, int] = {}

    def begin(name: str, statuses: list[str]) -> int:
        run = writer.begin_run(name=name, path=None, scenario={}, world_id=WORLD, seed=0, version="t")
        ids = writer.reserve_episodes(run, _plan(statuses))
        episodes.update({f"{name}.{status}": i for status, i in zip(statuses, ids, strict=True)})
        return run

    closed = begin("closed", ["complete", "failed", "interrupted", "not_run", "orphan"])
    _complete(writer, closed, episodes["closed.complete"])
    _play(writer, closed, episodes["closed.failed"], 0)
    writer.finish_episode(
        episodes["closed.failed"], status="failed", turns=0, outcome=None, error="ProviderError: 503"
    )
    _play(writer, closed, episodes["closed.interrupted"], 2)
    writer.finish_episode(episodes["closed.interrupted"], status="interrupted", turns=2, outcome=None)
    _play(writer, closed, episodes["closed.orphan"], 1)
    writer.finish_run(closed, "interrupted")  # the pending one becomes not_run, the orphan interrupted

    live = begin("live", ["complete", "running", "unseated", "pending"])
    _complete(writer, live, episodes["live.complete"])
    _play(writer, live, episodes["live.running"], 3)
    for call in LLM_CALLS:
        writer.add_llm_call({"episode_id": episodes["live.running"], **call})
    _play(writer, live, episodes["live.unseated"], 1, seats=False)

    dead = begin("dead", ["complete", "running", "pending"])
    _complete(writer, dead, episodes["dead.complete"])
    _play(writer, dead, episodes["dead.running"], 2)
    writer.close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET pid = ? WHERE id = ?", (exited_pid(), dead))
        # An episode left running by a closed run, as versions before the orderly shutdown left them.
        conn.execute("UPDATE episodes SET status = 'running' WHERE id = ?", (episodes["closed.orphan"],))
    return MixedStore(db, {"closed": closed, "live": live, "dead": dead}, episodes)
