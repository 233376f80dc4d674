"""A stored tournament read back as :class:`~sim.tournament.ratings.MatchResult` rows.

``sim tournament`` stores one run per tournament: its ``scenario`` JSON is ``{"kind": "tournament",
"tournament": <the tournament file>, "pool_order": [<pool names>]}``, and each match is the episode
whose ``index`` is the match's place in :func:`sim.tournament.schedule.matches` order; seats carry the
pool names as labels. The spec is validated again from that JSON with its pool in ``pool_order`` (the
store sorts JSON keys), so every match's id and repetition come from the schedule. Only complete
episodes become results; the others are counted by status.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import text

from sim.store.reader import StoreReader
from sim.summaries.store import seat_order
from sim.tournament.ratings import MatchResult, SeatResult
from sim.tournament.schedule import Match, matches
from sim.tournament.spec import Schedule, TournamentSpec, validate_tournament
from sim.types import Outcome

KIND = "tournament"


class TournamentNotFound(LookupError):
    """No tournament run of that id or name in the store."""


@dataclass(frozen=True)
class StoredTournament:
    """A tournament run: its id, name, status, spec, finished matches in schedule order, and how many
    matches are in each other status (``pending``, ``running``, ``failed``, ...; never played ones too)."""

    run_id: int
    name: str
    status: str
    spec: TournamentSpec
    results: list[MatchResult]
    unfinished: dict[str, int]

    @property
    def planned(self) -> int:
        return len(self.results) + sum(self.unfinished.values())


def tournament_results(db: str | Path, run: int | str) -> tuple[TournamentSpec, list[MatchResult]]:
    """The tournament's spec and its finished matches' results, in schedule order (``run``: the run's
    id, or the tournament's name, whose latest run is read)."""
    stored = load_stored_tournament(db, run)
    return stored.spec, stored.results


def load_stored_tournament(db: str | Path, run: int | str) -> StoredTournament:
    """The tournament run ``run`` (id or name) of store ``db``; :class:`TournamentNotFound` if none."""
    reader = StoreReader(db, read_only=True)
    try:
        with reader.engine.connect() as conn:
            return _load(conn, str(db), run)
    finally:
        reader.engine.dispose()


def tournament_runs(db: str | Path) -> list[tuple[int, str]]:
    """Every tournament run of the store as (id, name), newest first."""
    reader = StoreReader(db, read_only=True)
    try:
        with reader.engine.connect() as conn:
            return [(int(r[0]), str(r[1])) for r in _tournament_rows(conn)]
    finally:
        reader.engine.dispose()


def _tournament_rows(conn: Any) -> list[Any]:
    sql = (
        "SELECT id, scenario_name, status, scenario FROM runs "
        "WHERE json_extract(scenario, '$.kind') = :kind ORDER BY id DESC"
    )
    return list(conn.execute(text(sql), {"kind": KIND}))


def _load(conn: Any, db: str, run: int | str) -> StoredTournament:
    rows = _tournament_rows(conn)
    by_name = [r for r in rows if r[1] == str(run)]
    by_id = [r for r in rows if str(r[0]) == str(run)]
    if not (by_name or by_id):
        known = ", ".join(sorted({f"{r[1]} (run {r[0]})" for r in rows})) or "none"
        raise TournamentNotFound(f"{db}: no tournament {run!r} (tournaments: {known})")
    run_id, name, status, scenario = (by_name or by_id)[0]
    episodes = [
        dict(r._mapping)
        for r in conn.execute(
            text(
                'SELECT id, "index", status, turns, outcome, matchup FROM episodes '
                'WHERE run_id = :r ORDER BY "index"'
            ),
            {"r": run_id},
        )
    ]
    spec, schedule = _schedule(_json(scenario), episodes, f"{db}: run {run_id}")
    seats: dict[int, list[dict[str, Any]]] = defaultdict(list)
    sql = (
        "SELECT episode_id, player_id, role, label, score, game_role, side FROM seats WHERE episode_id IN "
        "(SELECT id FROM episodes WHERE run_id = :r AND status = 'complete')"
    )
    for row in conn.execute(text(sql), {"r": run_id}):
        seats[row.episode_id].append(dict(row._mapping))
    rated = spec.world_cls.spec.rated
    results: list[MatchResult] = []
    unfinished: Counter[str] = Counter()
    for episode in episodes:
        if episode["status"] != "complete":
            unfinished[episode["status"]] += 1
            continue
        match = schedule[episode["index"]]
        outcome = Outcome.from_json(_json(episode["outcome"]))
        ordered = sorted(seats[episode["id"]], key=lambda s: seat_order(s["player_id"]))
        seat_results = tuple(
            SeatResult(
                agent=s["label"],
                score=float(s["score"] or 0.0),
                result=outcome.result(s["player_id"]),
                side=s["side"],
                game_role=s["game_role"],
                rated=bool(rated(s["role"] or "player")),
            )
            for s in ordered
        )
        results.append(MatchResult(match.id, match.repetition, seat_results, episode["turns"]))
    missing = len(schedule) - len(episodes)
    if missing > 0:
        unfinished["not_stored"] += missing
    return StoredTournament(int(run_id), str(name), str(status), spec, results, dict(unfinished))


def stored_spec(data: dict[str, Any], source: str) -> TournamentSpec:
    """Validate a stored tournament file again. Accepts a full ``model_dump`` too: schedule keys left at
    their defaults are dropped first (the schedule refuses keys of the other format when set)."""
    data = dict(data)
    raw = data.get("schedule")
    if isinstance(raw, dict):
        defaults = Schedule().model_dump(mode="json")
        data["schedule"] = {k: v for k, v in raw.items() if k == "format" or v != defaults.get(k, object())}
    return validate_tournament(data, source)


def _schedule(
    scenario: dict[str, Any], episodes: list[dict[str, Any]], source: str
) -> tuple[TournamentSpec, list[Match]]:
    """The stored tournament's spec, its pool in the stored ``pool_order`` (the store keeps JSON keys
    sorted; the schedule depends on the pool's order), and its matches, checked against every stored
    matchup."""
    spec = stored_spec(scenario[KIND], source)
    pool = spec.file.pool
    order = scenario.get("pool_order") or list(pool)
    if sorted(order) != sorted(pool):
        raise ValueError(f"{source}: its stored pool_order {order} does not name the pool {sorted(pool)}")
    spec = replace(spec, file=spec.file.model_copy(update={"pool": {name: pool[name] for name in order}}))
    schedule = matches(spec)
    planned = {index: match.matchup for index, match in enumerate(schedule)}
    if any(planned.get(e["index"]) != e["matchup"] for e in episodes):
        raise ValueError(
            f"{source}: its stored matches do not follow the stored tournament's schedule "
            "(was the file changed since?)"
        )
    return spec, schedule


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value
