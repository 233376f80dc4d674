"""A run's complete episodes read back from the store: seats, results, metrics, LLM usage and a hash
of each episode's trajectory (seats and event stream), so a summary is the same whenever it is made."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text

from sim.llm.usage import LLMUsage
from sim.store.reader import StoreReader


@dataclass
class SeatRow:
    """One seat of a complete episode."""

    player_id: str
    label: str
    agent: str
    role: str
    score: float
    invalid: int
    result: str | None  # win, draw or loss; None for an unrated seat (a referee)
    metrics: dict[str, float] = field(default_factory=dict)
    llm: LLMUsage | None = None


@dataclass
class EpisodeRow:
    """A complete episode of the run."""

    id: int
    index: int
    matchup: str
    params: dict[str, Any]
    outcome: dict[str, Any]
    seats: list[SeatRow]
    trajectory: str  # hash of the seats and the event stream: equal hashes, identical episodes


@dataclass
class RunData:
    """What a summary is computed from."""

    db: Path
    run_id: int
    name: str
    world_id: str
    status: str
    scenario: dict[str, Any]
    episodes: list[EpisodeRow]

    @property
    def by_seat(self) -> bool:
        """Fixed seats (a ``seats:`` scenario) rather than a tournament's pairings."""
        return bool(self.scenario.get("seats"))

    def distinct(self) -> list[EpisodeRow]:
        """The first episode of each distinct trajectory, in order."""
        seen: set[str] = set()
        out = []
        for episode in self.episodes:
            if episode.trajectory not in seen:
                seen.add(episode.trajectory)
                out.append(episode)
        return out


def latest_run(db: Path) -> int:
    """The id of the store's latest run (LookupError if it has none)."""
    reader = StoreReader(db, read_only=True)
    with reader.engine.connect() as conn:
        run_id = conn.execute(text("SELECT max(id) FROM runs")).scalar()
    reader.engine.dispose()
    if run_id is None:
        raise LookupError(f"{db}: no runs")
    return int(run_id)


def load_run(db: Path, run_id: int, rated: Any = None) -> RunData:
    """The run's complete episodes in index order. ``rated(role) -> bool`` says which seats have a
    result (default: all)."""
    reader = StoreReader(db, read_only=True)
    try:
        with reader.engine.connect() as conn:
            return _load(conn, db, run_id, rated or (lambda role: True))
    finally:
        reader.engine.dispose()


def _rows(conn: Any, sql: str, run_id: int) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(text(sql), {"r": run_id})]


def _load(conn: Any, db: Path, run_id: int, rated: Any) -> RunData:
    runs = _rows(conn, "SELECT * FROM runs WHERE id = :r", run_id)
    if not runs:
        raise LookupError(f"{db}: no run {run_id}")
    run = runs[0]
    episodes = _rows(
        conn, "SELECT * FROM episodes WHERE run_id = :r AND status = 'complete' ORDER BY \"index\"", run_id
    )
    where = "episode_id IN (SELECT id FROM episodes WHERE run_id = :r AND status = 'complete')"
    seats: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in _rows(conn, f"SELECT * FROM seats WHERE {where} ORDER BY id", run_id):
        seats[row["episode_id"]].append(row)
    metrics: dict[tuple[int, str], dict[str, float]] = defaultdict(dict)
    for row in _rows(
        conn, f"SELECT * FROM metrics WHERE {where} AND evaluator IS NULL AND player_id IS NOT NULL", run_id
    ):
        if row["value"] is not None:
            metrics[row["episode_id"], row["player_id"]][row["name"]] = row["value"]
    usage: dict[tuple[int, str], LLMUsage] = {}
    for row in _rows(conn, f"SELECT * FROM llm_calls WHERE {where} ORDER BY id", run_id):
        usage.setdefault((row["episode_id"], row["player_id"]), LLMUsage()).add(row)
    hashes = _trajectories(conn, where, run_id, seats)
    out = []
    for e in episodes:
        outcome = _json(e["outcome"]) or {}
        winners, draw = set(outcome.get("winners") or ()), bool(outcome.get("draw"))
        rows = []
        for s in sorted(seats[e["id"]], key=lambda s: seat_order(s["player_id"])):
            p, role = s["player_id"], s.get("role") or "player"
            result = ("win" if p in winners else "draw" if draw else "loss") if rated(role) else None
            rows.append(
                SeatRow(
                    p,
                    s["label"],
                    s["agent"],
                    role,
                    float(s["score"] or 0.0),
                    int(s["invalid_actions"] or 0),
                    result,
                    metrics.get((e["id"], p), {}),
                    usage.get((e["id"], p)),
                )
            )
        params = _json(e["params"]) or {}
        out.append(EpisodeRow(e["id"], e["index"], e["matchup"], params, outcome, rows, hashes[e["id"]]))
    return RunData(
        db, run_id, run["scenario_name"], run["world_id"], run["status"], _json(run["scenario"]) or {}, out
    )


def _trajectories(
    conn: Any, where: str, run_id: int, seats: dict[int, list[dict[str, Any]]]
) -> dict[int, str]:
    """Per episode, a hash of who sat where (agent, label, config) and of every event in order."""
    digests: dict[int, Any] = {}
    for episode_id, rows in seats.items():
        h = digests[episode_id] = hashlib.sha256()
        for s in sorted(rows, key=lambda s: s["player_id"]):
            h.update(repr((s["player_id"], s["agent"], s["label"], _json(s["config"]))).encode())
    sql = f"SELECT episode_id, turn, phase, kind, actor, visible_to, payload FROM events WHERE {where} "
    for row in conn.execute(text(sql + "ORDER BY episode_id, seq"), {"r": run_id}):
        h = digests.setdefault(row[0], hashlib.sha256())
        h.update(repr(tuple(row[1:])).encode())
    return defaultdict(str, {e: h.hexdigest() for e, h in digests.items()})


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def seat_order(player_id: str) -> tuple[int, str]:
    """Sort key of a player id: p2 before p10; other ids last."""
    digits = player_id.lstrip("p")
    return (int(digits), player_id) if digits.isdigit() else (1 << 30, player_id)


def load_world_id(db: Path, run_id: int) -> str:
    """The world of run ``run_id`` (LookupError if there is no such run)."""
    reader = StoreReader(db, read_only=True)
    try:
        with reader.engine.connect() as conn:
            world = conn.execute(  # as the scenario named it (a registered id or ``module:Class``)
                text("SELECT coalesce(json_extract(scenario, '$.world'), world_id) FROM runs WHERE id = :r"),
                {"r": run_id},
            ).scalar()
    finally:
        reader.engine.dispose()
    if world is None:
        raise LookupError(f"{db}: no run {run_id}")
    return str(world)
