"""The viewer on stores that are not finished: running, pending, interrupted, failed, not_run episodes
and a dead run (its process gone) render on every page with their status; a real run can be watched."""

from __future__ import annotations

import math
import os
import sqlite3
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from apptest import app
from mixed_store import MixedStore, mixed_store
from sim_cli import ROOT, sim_command, sim_env
from streamlit.testing.v1 import AppTest

from sim.llm.testserver import TestServer
from sim.viewer.data import ViewerData, ViewerError


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> MixedStore:
    return mixed_store(tmp_path_factory.mktemp("mixed") / "mixed.db")


def page_text(at: AppTest) -> str:
    """Every piece of text on the page: titles, captions, messages, markdown, code, table cells."""
    parts = [
        e.value for kind in ("title", "subheader", "caption", "markdown", "code") for e in getattr(at, kind)
    ]
    parts += [e.value for kind in ("info", "warning", "error", "success") for e in getattr(at, kind)]
    for frame in at.dataframe:  # a missing cell (shown empty) comes back from Arrow as NaN: blank it
        parts.append(frame.value.astype(object).where(frame.value.notna(), "").astype(str).to_string())
    return "\n".join(str(p) for p in parts)


def no_nan_text(df: pd.DataFrame) -> None:
    """No cell is NaN or NaT, or reads as NaN text (``nan``, ``NaN``, ``None`` strings)."""
    for column in df.columns:
        for value in df[column]:
            assert not (isinstance(value, str) and value.strip().lower() in ("nan", "none")), (column, value)
            assert value is None or not pd.isna(value), (column, value)


# the data layer ---------------------------------------------------------------------------------
def test_episodes_of_a_store_with_unfinished_episodes(mixed: MixedStore) -> None:
    data = ViewerData(mixed.db)
    episodes = data.episodes().set_index("id")
    no_nan_text(episodes.reset_index())
    ids = mixed.episodes
    assert episodes.loc[ids["live.complete"], "outcome"] == "p1 (rounds)"
    for name in ("live.running", "live.unseated", "live.pending", "closed.failed", "closed.interrupted"):
        assert episodes.loc[ids[name], "outcome"] == "", name
    assert episodes.loc[ids["live.running"], "status"] == "running"
    assert episodes.loc[ids["live.pending"], "status"] == "pending"
    assert episodes.loc[ids["closed.not_run"], "status"] == "not_run"
    assert episodes.loc[ids["dead.running"], "status"] == "running (run dead)"
    assert episodes.loc[ids["dead.pending"], "status"] == "pending (run dead)"
    assert episodes.loc[ids["dead.complete"], "status"] == "complete"
    assert episodes.loc[ids["closed.orphan"], "status"] == "running (run interrupted)"
    assert episodes.loc[ids["live.pending"], "turns"] is None


def test_runs_show_dead_runs_and_progress(mixed: MixedStore) -> None:
    runs = ViewerData(mixed.db).runs().set_index("id")
    assert runs.loc[mixed.runs["live"], "status"] == "running"
    assert runs.loc[mixed.runs["dead"], "status"] == "dead"
    assert runs.loc[mixed.runs["closed"], "status"] == "interrupted"
    assert runs.loc[mixed.runs["live"], "complete"] == 1
    assert runs.loc[mixed.runs["live"], "episodes"] == 4
    assert "2 running" in runs.loc[mixed.runs["live"], "unfinished"]
    assert "1 pending" in runs.loc[mixed.runs["live"], "unfinished"]
    closed = "1 failed · 1 interrupted · 1 not_run · 1 running (run interrupted)"
    assert runs.loc[mixed.runs["closed"], "unfinished"] == closed
    no_nan_text(runs.reset_index())


def test_one_episode_of_each_status_reads_without_nan(mixed: MixedStore) -> None:
    data = ViewerData(mixed.db)
    for name, episode_id in mixed.episodes.items():
        episode = data.episode(episode_id)
        assert all(not (isinstance(v, float) and math.isnan(v)) for v in episode.values()), name
        stored = {"unseated": "running", "orphan": "running"}.get(name.split(".")[1], name.split(".")[1])
        assert episode["shown_status"].startswith(stored), name
        assert episode["live"] == (name in ("live.running", "live.unseated", "live.pending")), name
    assert data.episode(mixed.episodes["live.pending"])["outcome"] is None
    seats = data.seats(mixed.episodes["live.running"])
    assert len(seats) == 2 and seats["score"].isna().all()
    assert data.seats(mixed.episodes["live.unseated"]).empty


def test_comparisons_use_complete_episodes_and_count_the_rest(mixed: MixedStore) -> None:
    data = ViewerData(mixed.db)
    live = mixed.runs["live"]
    assert set(data.seat_results(live)["episode_id"]) == {mixed.episodes["live.complete"]}
    assert data.excluded(live) == {"running": 2, "pending": 1}
    closed = {"failed": 1, "interrupted": 1, "not_run": 1, "running (run interrupted)": 1}
    assert data.excluded(mixed.runs["closed"]) == closed


# every page ------------------------------------------------------------------------------------
def test_runs_page_on_a_live_store(mixed: MixedStore, monkeypatch: pytest.MonkeyPatch) -> None:
    text = page_text(app(mixed.db, monkeypatch))
    for status in ("dead", "running (run dead)", "pending (run dead)", "failed", "interrupted", "not_run"):
        assert status in text, status
    assert "12 of 12 episodes" in text
    assert "nan" not in text.lower().replace("nan_", "")


@pytest.mark.parametrize(
    ("name", "shows"),
    [
        ("live.running", "RateLimitError: 429 Too Many Requests"),
        ("live.unseated", "live: new events appear"),
        ("live.pending", "has no events yet"),
        ("live.complete", "Outcome: p1 (rounds)"),
        ("closed.failed", "ProviderError: 503"),
        ("closed.interrupted", "interrupted"),
        ("closed.not_run", "not_run"),
        ("dead.running", "will not finish"),
        ("dead.pending", "will not finish"),
        ("closed.orphan", "running (run interrupted): the run has ended, so this episode will not finish"),
    ],
)
def test_episode_page_of_each_status(
    mixed: MixedStore, monkeypatch: pytest.MonkeyPatch, name: str, shows: str
) -> None:
    episode = mixed.episodes[name]
    at = app(mixed.db, monkeypatch, episode=str(episode))
    text = page_text(at)
    assert f"Episode {episode}" in text and shows in text, text[-2000:]
    if name.startswith("dead.") or name == "closed.orphan":
        assert "live: new events appear" not in text  # nothing will come: no timer
    assert "nan" not in text.replace("nan_", "").lower()
    if name.startswith("live.") and name != "live.complete":
        assert "live: new events appear" in text
    if name in ("live.running", "dead.running", "closed.interrupted", "closed.orphan"):
        assert "-- turn 1" in text  # the events so far


@pytest.mark.parametrize("run", ["closed", "live", "dead"])
def test_compare_page_of_each_run(mixed: MixedStore, monkeypatch: pytest.MonkeyPatch, run: str) -> None:
    at = app(mixed.db, monkeypatch, page="compare", run=str(mixed.runs[run]))
    text = page_text(at)
    assert "complete episodes only" in text and "excluded" in text, text
    table = at.dataframe[0].value
    assert table["seats"].sum() == 2  # the one complete episode's two seats


# a real run, watched ----------------------------------------------------------------------------
def _read_everything(data: ViewerData) -> pd.DataFrame:
    """What the pages read, once; the episodes as read."""
    runs = data.runs()
    episodes = data.episodes()
    for run in runs["id"]:
        data.seat_results(int(run))
        data.excluded(int(run))
        data.usage(int(run))
    for episode_id in data.episode_ids():
        data.episode(episode_id)
        data.seats(episode_id)
        data.events(episode_id)
        data.llm_calls(episode_id)
    return episodes


@pytest.mark.slow
def test_watching_a_real_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real ``sim run`` against a slow test server, read over and over while it plays: no read fails."""
    db = tmp_path / "watched.db"
    preset = ROOT / "worlds/repeated/scenarios/llm_akata_pd.yaml"
    seen: set[str] = set()
    reads = pages = 0
    with TestServer("tit_for_tat", latency=0.1) as server:
        command = [
            *sim_command(),
            "run",
            str(preset),
            "--db",
            str(db),
            "--quiet",
            "--set",
            f"tournament.focal.config.model.api_base={server.openai_base}",
            "--set",
            "engine.parallel_episodes=1",
        ]
        process = subprocess.Popen(command, cwd=ROOT, env=sim_env(), stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 120
            while process.poll() is None and time.monotonic() < deadline:
                if not db.exists():
                    time.sleep(0.05)
                    continue
                try:
                    data = ViewerData(db)
                except ViewerError as exc:  # the first instants: the file is there, its tables not yet
                    assert "Cannot open this store" in str(exc), exc
                    continue
                episodes = _read_everything(data)
                data.reader.engine.dispose()
                seen |= set(episodes["status"])
                reads += 1
                if reads % 5 == 1 and len(episodes):
                    running = episodes[episodes["status"] == "running"]["id"]
                    watched = int(running.iloc[0] if len(running) else episodes["id"].max())
                    for query in ({}, {"page": "compare", "run": "1"}, {"episode": str(watched)}):
                        app(db, monkeypatch, **query)
                        pages += 1
            _, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert process.returncode == 0, stderr
    assert reads >= 10 and pages >= 3, (reads, pages)
    assert "running" in seen and "pending" in seen, seen  # it was watched from the first episode
    _read_everything(ViewerData(db))


def test_a_run_of_another_host_is_dead_when_its_heartbeat_is_stale(tmp_path: Path) -> None:
    store = mixed_store(tmp_path / "remote.db")
    run = store.runs["live"]
    with sqlite3.connect(store.db) as conn:
        conn.execute("UPDATE runs SET host = 'elsewhere', heartbeat_at = ? WHERE id = ?", (_ago(3600), run))
    data = ViewerData(store.db)
    assert data.run_statuses()[run] == "dead"
    assert data.episode(store.episodes["live.running"])["shown_status"] == "running (run dead)"
    with sqlite3.connect(store.db) as conn:
        conn.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ?", (_ago(1), run))
    assert data.run_statuses()[run] == "running"
    assert data.episode(store.episodes["live.running"])["live"]


def _ago(seconds: float) -> str:
    """A timestamp ``seconds`` ago, as the store writes them (naive UTC)."""
    return str(datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=seconds))


def test_a_store_changing_on_disk_does_not_pile_up_open_connections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each change of the file's mtime (a live run's WAL checkpoint) opens the store anew; the viewer
    keeps only a few of them open."""
    store = mixed_store(tmp_path / "growing.db")
    opened: list[ViewerData] = []
    original = ViewerData.__init__

    def counting(self: ViewerData, path: str | Path) -> None:
        original(self, path)
        opened.append(self)

    monkeypatch.setattr(ViewerData, "__init__", counting)
    at = app(store.db, monkeypatch)
    stamp = store.db.stat().st_mtime
    for step in range(1, 10):
        os.utime(store.db, (stamp + step, stamp + step))
        at.run()
        assert not at.exception
    assert len(opened) == 10
    assert sum(d.reader.engine.pool.checkedin() for d in opened) <= 4
