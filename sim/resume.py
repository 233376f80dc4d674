"""Resuming a run: the stored run of a plan, which of its episodes are done, and their results read back.

A run is identified by its fingerprint (:func:`sim.jobs.run_fingerprint`); ``sim run --resume`` finds
the latest run of the store with the scenario's fingerprint, keeps its complete episodes and replays
the others from scratch. Their results are read back from the store, so the closing summary covers
the whole run, as an uninterrupted run's would.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from sim.engine import EpisodeResult
from sim.jobs import EpisodeJob
from sim.store.liveness import effective_status
from sim.types import Outcome

_LATEST_RUN = (
    "SELECT id, status, pid, host, heartbeat_at FROM runs WHERE fingerprint = ? ORDER BY id DESC LIMIT 1"
)
_EPISODES = 'SELECT "index", id, status, key FROM episodes WHERE run_id = ?'


class RunConflict(RuntimeError):
    """The store already holds this run (and no ``--resume``/``--new-run``), or it is still playing."""


@dataclass(frozen=True)
class StoredEpisode:
    """A stored episode of a run: its id, status and plan key."""

    id: int
    status: str
    key: str | None


@dataclass(frozen=True)
class StoredRun:
    """The latest stored run of a plan: its id, its status as the viewer shows it (``dead`` for a
    ``running`` run whose driver is gone), the pid of its last driver and its episodes by index."""

    id: int
    status: str
    pid: int | None = None
    episodes: dict[int, StoredEpisode] = field(default_factory=dict)

    def done(self, job: EpisodeJob) -> bool:
        """Whether the job's episode is stored complete (with the job's plan key)."""
        stored = self.episodes.get(job.index)
        return stored is not None and stored.status == "complete" and stored.key in (None, job.plan_key)

    def check_resumable(self) -> None:
        """Raise :class:`RunConflict` if the run's driver is still playing it."""
        if self.status == "running":
            raise RunConflict(f"run {self.id} is still running (its process is alive); not resuming it")


def find_run(db: str | Path, fingerprint: str) -> StoredRun | None:
    """The latest run of ``db`` with ``fingerprint``, or None (no such file, not a store, an older
    store without fingerprints). Reads through a read-only connection: touches nothing."""
    path = Path(db)
    if not path.is_file():
        return None
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        run = conn.execute(_LATEST_RUN, (fingerprint,)).fetchone()
        if run is None:
            return None
        run_id, status, pid, host, heartbeat_at = run
        episodes = {
            int(index): StoredEpisode(int(episode_id), str(episode_status), key)
            for index, episode_id, episode_status, key in conn.execute(_EPISODES, (run_id,))
        }
    except sqlite3.Error:  # not a store, or a store of an older schema (no fingerprint column)
        return None
    finally:
        conn.close()
    status = effective_status(status, pid, host, heartbeat_at)
    return StoredRun(int(run_id), status, None if pid is None else int(pid), episodes)


def stored_results(
    engine: Engine, jobs: Sequence[EpisodeJob], episode_ids: Mapping[int, int]
) -> tuple[dict[str, EpisodeResult], dict[int, list[dict[str, Any]]]]:
    """The results of complete stored episodes (``episode_ids``: index -> episodes.id) keyed by job
    key, and each one's players' ``llm_calls`` usage rows (those made while it played, not the
    evaluators' calls made after it ended), as :meth:`sim.run_summary.RunSummary.add_usage` takes them."""
    by_id = {episode_ids[j.index]: j for j in jobs if j.index in episode_ids}
    if not by_id:
        return {}, {}
    ids = ", ".join(str(int(i)) for i in sorted(by_id))  # ints only: nothing to inject
    results: dict[str, EpisodeResult] = {}
    usage: dict[int, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        for episode_id, turns, outcome in conn.exec_driver_sql(
            f"SELECT id, turns, outcome FROM episodes WHERE id IN ({ids})"
        ):
            data = json.loads(outcome) if isinstance(outcome, str) else None
            results[by_id[episode_id].key] = EpisodeResult(
                episode_id, int(turns or 0), {}, Outcome.from_json(data)
            )
        result_of = {r.episode_id: r for r in results.values()}
        for episode_id, player, score, invalid in conn.exec_driver_sql(
            f"SELECT episode_id, player_id, score, invalid_actions FROM seats WHERE episode_id IN ({ids}) "
            "ORDER BY id"
        ):
            if score is not None:
                result_of[episode_id].returns[player] = float(score)
            if invalid:
                result_of[episode_id].invalid[player] = int(invalid)
        for episode_id, player, name, value in conn.exec_driver_sql(
            f"SELECT episode_id, player_id, name, value FROM metrics WHERE episode_id IN ({ids}) "
            "AND evaluator IS NULL ORDER BY id"
        ):
            result_of[episode_id].metrics.setdefault(player, {})[name] = value
        for episode_id, player, hit, prompt, completion, cost in conn.exec_driver_sql(
            "SELECT c.episode_id, c.player_id, c.cache_hit, c.prompt_tokens, c.completion_tokens, c.cost_usd"
            f" FROM llm_calls c JOIN episodes e ON e.id = c.episode_id WHERE c.episode_id IN ({ids})"
            " AND c.created_at <= e.finished_at ORDER BY c.id"
        ):
            row = {
                "player_id": player,
                "cache_hit": bool(hit),
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "cost_usd": cost,
            }
            usage.setdefault(episode_id, []).append(row)
    return results, usage
