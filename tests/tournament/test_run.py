"""Playing tournaments: the stored run (one run, one episode per match), resume, the CLI, backends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sim.jobs import run_fingerprint
from sim.llm.testserver import TestServer
from sim.tournament import run as tournament_run
from sim.tournament.run import BackendOptions, run_tournament
from sim.tournament.schedule import matches
from sim.tournament.spec import load_tournament
from tests.sim_cli import run_sim
from tests.tournament.helpers import avalon, repeated, write
from tests.tournament.run_helpers import llm_tournament, query, recording_backend, stored_matches


def test_one_run_row_and_one_episode_per_match_as_the_schedule_orders_them(tmp_path: Path) -> None:
    path = write(tmp_path, repeated())
    db = tmp_path / "t.db"
    summary = run_tournament(path, db)
    spec = load_tournament(path)
    planned = matches(spec)
    assert summary.played == len(planned) == 12 and summary.not_played == 0 and summary.stopped is None

    [(run_id, name, scenario, fingerprint, status)] = query(
        db, "SELECT id, scenario_name, scenario, fingerprint, status FROM runs"
    )
    assert (name, status) == ("rr", "complete")
    assert json.loads(scenario) == {
        "kind": "tournament",
        "tournament": spec.file.model_dump(mode="json"),
        "pool_order": list(spec.file.pool),
    }
    assert fingerprint == run_fingerprint(m.to_job(spec) for m in planned)
    stored = stored_matches(db)
    assert sorted(stored) == [m.index for m in planned]
    for match in planned:
        episode = stored[match.index]
        assert episode["key"] == match.to_job(spec, run_id).plan_key
        assert episode["seed"] == match.seed and episode["status"] == "complete"
        assert tuple(seat[2] for seat in episode["seats"]) == match.lineup  # labels: pool names


def test_role_worlds_store_each_seats_game_role_and_side(tmp_path: Path) -> None:
    path = write(tmp_path, avalon(samples=1, seatings="sample") | {"repetitions": 1})
    db = tmp_path / "a.db"
    run_tournament(path, db)
    planned = matches(load_tournament(path))
    for match in planned:
        seats = stored_matches(db)[match.index]["seats"]
        assert tuple(seat[5] for seat in seats) == match.game_roles
        assert all(seat[6] in ("good", "evil") for seat in seats)


def test_resume_keeps_the_stored_run_and_plays_nothing_more(tmp_path: Path) -> None:
    path = write(tmp_path, repeated())
    db = tmp_path / "t.db"
    first = run_tournament(path, db)
    played: list[Any] = []
    again = run_tournament(path, db, resume=True, on_episode=lambda job, result: played.append(job))
    assert again.run.run_id == first.run.run_id and again.played == 12 and played == []
    assert query(db, "SELECT count(*) FROM runs") == [(1,)]


def test_the_process_backend_stores_exactly_what_the_local_one_does(tmp_path: Path) -> None:
    path = write(tmp_path, repeated(params={"rounds": 20}))
    run_tournament(path, tmp_path / "local.db", parallel=3)
    run_tournament(path, tmp_path / "process.db", backend="process", parallel=2)
    local, process = stored_matches(tmp_path / "local.db"), stored_matches(tmp_path / "process.db")
    assert len(local) == 12 and all(m["events"] for m in local.values())
    assert process == local


def test_a_backend_is_one_registry_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[BackendOptions] = []
    monkeypatch.setitem(tournament_run.BACKENDS, "counting", recording_backend(seen))
    path = write(tmp_path, repeated(concurrency={"matches": 3, "per_model": {"openai/x": 2}}))
    summary = run_tournament(path, tmp_path / "t.db", backend="counting", extra={"address": "here"})
    assert summary.played == 12
    [options] = seen
    assert (options.parallel, dict(options.model_caps), dict(options.extra)) == (
        3,
        {"openai/x": 2},
        {"address": "here"},
    )
    assert options.db == tmp_path / "t.db"


def test_cli_plays_then_refuses_a_second_run_without_resume(tmp_path: Path) -> None:
    path = write(tmp_path, repeated())
    db = tmp_path / "t.db"
    done = run_sim("tournament", path, "--db", db, "--quiet", "--set", "repetitions=1")
    assert done.returncode == 0, done.stderr
    assert "6 of 6 matches complete, 0 matches not played" in done.stdout
    again = run_sim("tournament", path, "--db", db, "--set", "repetitions=1")
    assert again.returncode == 2 and "--resume" in again.stderr
    resumed = run_sim("tournament", path, "--db", db, "--set", "repetitions=1", "--resume", "--quiet")
    assert resumed.returncode == 0 and query(db, "SELECT count(*) FROM runs") == [(1,)]


def test_cli_rejects_a_bad_file_with_every_problem_and_touches_no_db(tmp_path: Path) -> None:
    path = write(tmp_path, repeated(repetitions=0, pool={"tft": {"agent": "no_such_agent"}}))
    db = tmp_path / "t.db"
    result = run_sim("tournament", path, "--db", db)
    assert result.returncode == 2
    assert "invalid tournament" in result.stderr
    assert "repetitions" in result.stderr and "pool.tft" in result.stderr
    assert not db.exists()


def test_cli_rejects_an_unknown_backend(tmp_path: Path) -> None:
    path = write(tmp_path, repeated())
    result = run_sim("tournament", path, "--db", tmp_path / "t.db", "--backend", "carrier-pigeon")
    assert result.returncode == 2 and "local, process" in result.stderr
    assert not (tmp_path / "t.db").exists()


@pytest.mark.slow
def test_process_workers_send_new_cache_entries_to_the_driver_and_read_the_cache(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    with TestServer("tit_for_tat") as server:
        path = write(tmp_path, llm_tournament(server.openai_base, repetitions=1))
        first = run_tournament(path, db, backend="process", parallel=2)
        asked = server.count
        [(entries,)] = query(db, "SELECT count(*) FROM llm_cache")
        again = run_tournament(load_tournament(path), db, backend="process", parallel=2)  # a new run
        assert server.count == asked  # every answer came from the cache the driver wrote
    assert first.played == again.played == 3 and asked > 0 and entries > 0
    assert again.run.run_id != first.run.run_id
    hits = query(
        db,
        "SELECT cache_hit, count(*) FROM llm_calls c JOIN episodes e ON e.id = c.episode_id "
        "WHERE e.run_id = ? GROUP BY cache_hit",
        again.run.run_id,
    )
    assert [hit for hit, _ in hits] == [1]  # the new run's calls were all cache hits
