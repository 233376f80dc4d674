"""What the viewer reads, as DataFrames and Events. Read-only: the store is opened with ``mode=ro``.

Streamlit-free, so every query is testable on its own; ``app.py`` caches these calls.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import text

from sim import registry
from sim.store.engine import StoreError
from sim.store.liveness import effective_status
from sim.store.reader import StoreReader, event_from_row
from sim.types import Event, Outcome, PlayerId

UNFINISHED = ("pending", "running")
"""Episode statuses that may still change (while their run lives)."""
STATUS_ORDER = ("running", "pending", "failed", "interrupted", "not_run")
"""How the statuses of a run's unfinished episodes are listed (others follow alphabetically)."""


class ViewerError(RuntimeError):
    """A store the viewer cannot show (missing, not a store, another schema version): a clear message."""


def outcome_text(outcome: Any) -> str:
    """A short outcome: ``good (hammer)``, ``p0``, ``draw``; the empty string for an episode without one
    (running, pending, failed, interrupted: read as None or NaN)."""
    if isinstance(outcome, str):
        outcome = json.loads(outcome)
    if not isinstance(outcome, dict) or not outcome:
        return ""
    return Outcome.from_json(outcome).label()


def stranded(status: str, run_status: str) -> bool:
    """Whether an unfinished episode will never finish: its run is dead or over (failed, interrupted)."""
    return status in UNFINISHED and run_status not in ("running", "")


def shown_status(status: str, run_status: str) -> str:
    """The episode's status as shown: ``running (run dead)``, ``pending (run failed)`` for one that will
    never finish."""
    return f"{status} (run {run_status})" if stranded(status, run_status) else status


def is_missing(value: Any) -> bool:
    """Whether a stored value is absent: None, or the NaN/NaT pandas reads a NULL as."""
    return value is None or (not isinstance(value, (dict, list, tuple, str)) and bool(pd.isna(value)))


def _blank(column: pd.Series) -> pd.Series:
    """``column`` with None for missing values (never NaN), whole numbers kept whole."""
    if pd.api.types.is_float_dtype(column) and column.dropna().map(float.is_integer).all():
        column = column.astype("Int64")
    return column.astype(object).where(column.notna(), None)


def counts_text(counts: dict[str, int]) -> str:
    """``2 running · 1 pending`` in :data:`STATUS_ORDER`."""
    order = [s for s in STATUS_ORDER if s in counts] + sorted(set(counts) - set(STATUS_ORDER))
    return " · ".join(f"{counts[s]} {s}" for s in order)


@functools.cache
def _rated(world_id: str, role: str) -> bool:
    """Whether seats of ``role`` count in wins (a referee's do not); unknown worlds and roles count."""
    try:
        spec = registry.world_entry(world_id).load().spec
        return bool(spec.rated(role))
    except (registry.RegistryError, KeyError, AttributeError):
        return True


def _model_of(config: Any) -> str:
    model = config.get("model") if isinstance(config, dict) else None
    return str(model.get("model", "")) if isinstance(model, dict) else ""


class ViewerData:
    """Read-only queries over one store file."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.exists():
            raise ViewerError(
                f"No database at {self.path}. Create one with `sim run SCENARIO.yaml --db {self.path}`."
            )
        try:
            self.reader = StoreReader(self.path, read_only=True)
        except StoreError as exc:
            raise ViewerError(f"Cannot open this store: {exc}") from None

    def close(self) -> None:
        """Close the store's pooled connections (a query after this opens a new one)."""
        self.reader.engine.dispose()

    def _sql(self, sql: str, **params: Any) -> pd.DataFrame:
        with self.reader.engine.connect() as conn:
            return pd.read_sql(text(sql), conn, params=params)

    # runs and episodes --------------------------------------------------------------------------
    def run_statuses(self) -> dict[int, str]:
        """Each run's status, ``dead`` for a run still marked running whose process is gone."""
        df = self._sql("SELECT id, status, pid, host, heartbeat_at FROM runs")
        return {int(r.id): effective_status(r.status, r.pid, r.host, r.heartbeat_at) for r in df.itertuples()}

    def status_counts(self, run_id: int | None = None) -> dict[int, dict[str, int]]:
        """Per run, how many episodes are in each status (as shown: ``running (run dead)``, ...)."""
        runs = self.run_statuses()
        where = "WHERE run_id = :run" if run_id is not None else ""
        df = self._sql(
            f"SELECT run_id, status, count(*) AS n FROM episodes {where} GROUP BY run_id, status",
            **({"run": run_id} if run_id is not None else {}),
        )
        counts: dict[int, dict[str, int]] = {}
        for row in df.itertuples():
            shown = shown_status(row.status, runs.get(int(row.run_id), ""))
            counts.setdefault(int(row.run_id), {})[shown] = int(row.n)
        return counts

    def runs(self) -> pd.DataFrame:
        """Runs, newest first: status (``dead`` when its process is gone), episodes planned, complete,
        and the others by status (``2 running · 1 pending``)."""
        df = self._sql(
            "SELECT r.id, r.scenario_name AS name, r.world_id AS world, r.status, r.seed, r.started_at,"
            " r.finished_at, r.heartbeat_at, count(e.id) AS episodes,"
            " coalesce(sum(e.status = 'complete'), 0) AS complete"
            " FROM runs r LEFT JOIN episodes e ON e.run_id = r.id GROUP BY r.id ORDER BY r.id DESC"
        )
        statuses, counts = self.run_statuses(), self.status_counts()
        df["status"] = [statuses[int(i)] for i in df["id"]]
        df["unfinished"] = [
            counts_text({s: n for s, n in counts.get(int(i), {}).items() if s != "complete"})
            for i in df["id"]
        ]
        for column in ("started_at", "finished_at", "heartbeat_at"):
            df[column] = _blank(df[column])
        columns = ["id", "name", "world", "status", "episodes", "complete", "unfinished", "seed"]
        return df[[*columns, "started_at", "finished_at", "heartbeat_at"]]

    def episodes(self, run_id: int | None = None) -> pd.DataFrame:
        """Episodes with agents, models, outcome text and seat scores (``p0 12 · p1 9``), one row each; the
        outcome and scores are blank and the
        status says why for an episode that has none (``running``, ``pending (run dead)``, ``failed``)."""
        where = "WHERE e.run_id = :run" if run_id is not None else ""
        df = self._sql(
            'SELECT e.id, e.run_id AS run, e."index", e.world_id AS world, e.matchup, e.status, e.turns,'
            f" e.outcome, e.started_at FROM episodes e {where} ORDER BY e.id",
            **({"run": run_id} if run_id is not None else {}),
        )
        runs = self.run_statuses()
        df["status"] = [
            shown_status(s, runs.get(int(r), "")) for s, r in zip(df["status"], df["run"], strict=True)
        ]
        df["turns"], df["started_at"] = _blank(df["turns"]), _blank(df["started_at"])
        seats = self._sql("SELECT episode_id, player_id, agent, label, config, score FROM seats ORDER BY id")
        agents: dict[int, set[str]] = {}
        models: dict[int, set[str]] = {}
        scores: dict[int, list[str]] = {}
        for row in seats.itertuples():
            if not is_missing(row.score):
                scores.setdefault(row.episode_id, []).append(f"{row.player_id} {float(row.score):g}")
            agents.setdefault(row.episode_id, set()).add(row.agent)
            model = _model_of(json.loads(row.config) if isinstance(row.config, str) else row.config)
            if model:
                models.setdefault(row.episode_id, set()).add(model)
        df["agents"] = [", ".join(sorted(agents.get(i, ()))) for i in df["id"]]
        df["models"] = [", ".join(sorted(models.get(i, ()))) for i in df["id"]]
        df["outcome"] = [outcome_text(o) for o in df["outcome"]]
        df["scores"] = [" · ".join(scores.get(i, ())) for i in df["id"]]
        return df

    def episode_ids(self) -> list[int]:
        """Every episode id, in order (cheap, for pickers)."""
        return [int(i) for i in self._sql("SELECT id FROM episodes ORDER BY id")["id"]]

    def episode(self, episode_id: int) -> dict[str, Any]:
        """One episode's row (``LookupError`` if there is none), None for missing values, with
        ``run_status`` (``dead`` when the run's process is gone), ``shown_status``, ``stranded`` (it will
        never finish) and ``live``: whether it may still change."""
        episode: dict[str, Any] = {
            k: None if is_missing(v) else v for k, v in self.reader.episode(episode_id).items()
        }
        run_status = self.run_statuses().get(int(episode["run_id"]), "")
        episode["run_status"] = run_status
        episode["shown_status"] = shown_status(str(episode["status"]), run_status)
        episode["stranded"] = stranded(str(episode["status"]), run_status)
        episode["live"] = episode["status"] in UNFINISHED and not episode["stranded"]
        return episode

    def seats(self, episode_id: int) -> pd.DataFrame:
        """The episode's seats in seat order."""
        return self.reader.seats(episode_id)

    def events(self, episode_id: int, after_id: int = 0) -> list[tuple[int, Event]]:
        """The episode's events with their row ids, in order; only those with ``id > after_id`` (tailing)."""
        with self.reader.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, turn, phase, kind, payload, actor, visible_to FROM events"
                    " WHERE episode_id = :e AND id > :after ORDER BY seq"
                ),
                {"e": episode_id, "after": after_id},
            ).all()
        return [(row_id, event_from_row(*row)) for row_id, *row in rows]

    def metrics(self, episode_id: int) -> pd.DataFrame:
        """End-of-episode metrics of one episode."""
        return self.reader.metrics(episode_id)

    def llm_calls(self, episode_id: int) -> pd.DataFrame:
        """Every LLM call of the episode (messages and parsed values decoded)."""
        return self.reader.table("llm_calls", "episode_id = :e", {"e": episode_id})

    # comparisons ---------------------------------------------------------------------------------
    def seat_results(self, run_id: int) -> pd.DataFrame:
        """One row per seat of the run's finished episodes: episode, player, label, agent, score, win."""
        df = self._sql(
            "SELECT s.episode_id, s.player_id, s.label, s.agent, s.score, s.role,"
            " json_extract(r.scenario, '$.world') AS world_id, e.outcome, e.matchup FROM seats s"
            " JOIN runs r ON r.id = :run"
            " JOIN episodes e ON e.id = s.episode_id WHERE e.run_id = :run AND e.status = 'complete'"
            " ORDER BY s.id",
            run=run_id,
        )
        wins = []
        for row in df.itertuples():
            stored = json.loads(row.outcome) if isinstance(row.outcome, str) else row.outcome
            rated = _rated(str(row.world_id), str(row.role))
            wins.append(Outcome.from_json(stored).points(row.player_id) if stored and rated else math.nan)
        df["win"] = wins
        return df.drop(columns=["outcome", "world_id"])

    def game_roles(self, run_id: int) -> pd.DataFrame:
        """The role and side each seat was dealt in the run's complete episodes (episode_id, player_id,
        game_role, side: ``seats.game_role`` and ``seats.side``); empty for worlds without roles."""
        return self._sql(
            "SELECT s.episode_id, s.player_id, s.game_role, s.side FROM seats s"
            " JOIN episodes e ON e.id = s.episode_id WHERE e.run_id = :run AND e.status = 'complete'"
            " AND s.game_role IS NOT NULL ORDER BY s.episode_id, s.player_id",
            run=run_id,
        )

    def excluded(self, run_id: int) -> dict[str, int]:
        """The run's episodes left out of comparisons (every status but ``complete``), by shown status."""
        counts = self.status_counts(run_id).get(run_id, {})
        return {s: n for s, n in counts.items() if s != "complete"}

    def usage(self, run_id: int) -> pd.DataFrame:
        """LLM calls, tokens and estimated cost per agent label of a run."""
        return self._sql(
            "SELECT s.label, count(c.id) AS calls, sum(c.cache_hit) AS cache_hits,"
            " coalesce(sum(c.prompt_tokens), 0) + coalesce(sum(c.completion_tokens), 0) AS tokens,"
            " sum(c.cost_usd) AS cost_usd FROM llm_calls c JOIN episodes e ON e.id = c.episode_id"
            " JOIN seats s ON s.episode_id = c.episode_id AND s.player_id = c.player_id"
            " WHERE e.run_id = :run GROUP BY s.label ORDER BY s.label",
            run=run_id,
        )


def visible_events(events: Iterable[tuple[int, Event]], seat: PlayerId | None) -> list[tuple[int, Event]]:
    """The events ``seat`` could see (all of them for the omniscient view, ``seat=None``)."""
    return [(i, e) for i, e in events if seat is None or e.visible(seat)]
