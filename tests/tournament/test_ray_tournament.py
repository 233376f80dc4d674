"""``--backend ray`` for tournaments, on the session's local Ray instance (num_cpus=2): the same store as
the local backend, the budget cap, the per-model caps across workers, and the CLI flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.llm.testserver import TestServer
from sim.tournament import run as tournament_run
from sim.tournament.run import BackendOptions, run_tournament
from tests.sim_cli import run_sim
from tests.tournament.helpers import avalon, repeated, write
from tests.tournament.run_helpers import llm_tournament, query, recording_backend, stored_matches

RUN_ROW = "SELECT scenario_name, scenario, fingerprint, status, seed FROM runs"
EPISODE_ROWS = (
    'SELECT "index", key, matchup, seed, status, turns, outcome, error FROM episodes ORDER BY "index"'
)


@pytest.mark.slow
@pytest.mark.parametrize("data", [repeated(params={"rounds": 8}), avalon()], ids=["repeated", "avalon"])
def test_a_tournament_on_ray_stores_what_the_local_backend_stores(
    tmp_path: Path, ray_instance: Any, data: dict[str, Any]
) -> None:
    path = write(tmp_path, data)
    local = run_tournament(path, tmp_path / "local.db", parallel=3)
    on_ray = run_tournament(path, tmp_path / "ray.db", backend="ray", parallel=3)
    assert on_ray.played == local.played == len(local.matches) > 0
    ray_db, local_db = tmp_path / "ray.db", tmp_path / "local.db"
    assert stored_matches(ray_db) == stored_matches(local_db)  # seats, scores, events, outcomes
    assert query(ray_db, EPISODE_ROWS) == query(local_db, EPISODE_ROWS)
    assert query(ray_db, RUN_ROW) == query(local_db, RUN_ROW)  # the run's JSON, pool order included
    assert query(ray_db, "SELECT status FROM runs") == [("complete",)]


@pytest.mark.slow
def test_a_budget_stops_a_ray_tournament_cleanly(tmp_path: Path, ray_instance: Any) -> None:
    """Two matches with the LLM seat start together; the first to end spends the budget: the other
    finishes, no further match is submitted, and the rest are stored ``not_run`` with the reason."""
    db = tmp_path / "t.db"
    with TestServer("tit_for_tat", latency=0.02) as server:
        path = write(tmp_path, llm_tournament(server.openai_base, budget={"tokens": 1}))
        summary = run_tournament(path, db, backend="ray")
        [(requests,)] = query(db, "SELECT count(*) FROM llm_calls WHERE NOT cache_hit")
        assert requests == server.count > 0
    assert (summary.played, summary.not_played) == (2, 10)
    assert summary.stopped is not None and summary.stopped.endswith("10 not played")
    assert query(db, "SELECT status FROM runs") == [("interrupted",)]
    statuses = query(db, "SELECT status, count(*) FROM episodes GROUP BY status ORDER BY status")
    assert statuses == [("complete", 2), ("not_run", 10)]
    assert query(db, "SELECT DISTINCT error FROM episodes WHERE status = 'not_run'") == [(summary.stopped,)]


@pytest.mark.slow
def test_per_model_caps_hold_across_ray_workers(tmp_path: Path, ray_instance: Any) -> None:
    """Two matches play at once on two workers; ``per_model: 1`` lets one request reach the server."""
    with TestServer("tit_for_tat", latency=0.1) as server:
        caps = {"matches": 2, "per_model": {"openai/stub": 1}}
        path = write(tmp_path, llm_tournament(server.openai_base, repetitions=1, concurrency=caps))
        summary = run_tournament(path, tmp_path / "t.db", backend="ray")
        assert summary.played == len(summary.matches) and server.count > 0
        assert server.max_in_flight == 1


def test_cli_ray_address_reaches_the_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--backend ray --ray-address ADDR`` selects the ``ray`` entry with the address in ``extra`` (a
    stand-in backend here: no cluster)."""
    seen: list[BackendOptions] = []
    monkeypatch.setitem(tournament_run.BACKENDS, "ray", recording_backend(seen))
    path, db = write(tmp_path, repeated(repetitions=1)), tmp_path / "t.db"
    args = ["tournament", str(path), "--db", str(db), "--quiet", "--backend", "ray"]
    result = CliRunner().invoke(app, [*args, "--ray-address", "10.0.0.5:6379", "--parallel", "2"])
    assert result.exit_code == 0, result.output
    [options] = seen
    assert dict(options.extra) == {"ray_address": "10.0.0.5:6379"} and options.parallel == 2
    assert query(db, "SELECT count(*) FROM episodes WHERE status = 'complete'") == [(6,)]


def test_cli_ray_address_without_the_ray_backend_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, repeated())
    result = run_sim("tournament", path, "--db", tmp_path / "t.db", "--ray-address", "auto")
    assert result.returncode == 2 and "--ray-address needs --backend ray" in result.stderr
    assert not (tmp_path / "t.db").exists()
