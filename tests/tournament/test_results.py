"""Stored tournaments read back as match results: schedule order and ids, outcomes, unfinished matches."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from sim.tournament.results import (
    TournamentNotFound,
    load_stored_tournament,
    tournament_results,
    tournament_runs,
)
from sim.tournament.schedule import matches
from tests.tournament.helpers import NARRATOR, avalon, characterbox, repeated
from tests.tournament.stores import play_tournament


@pytest.fixture(scope="module")
def repeated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("rr") / "t.db"
    play_tournament(repeated(), db)
    return db


def test_results_follow_the_schedule(repeated_db: Path) -> None:
    spec, results = tournament_results(repeated_db, "rr")
    planned = matches(spec)
    # the pool is tft, alld, allc: not the sorted order the store keeps JSON keys in
    assert list(spec.file.pool) == ["tft", "alld", "allc"]
    assert [r.match_id for r in results] == [m.id for m in planned]
    assert [r.repetition for r in results] == [m.repetition for m in planned]
    assert [tuple(s.agent for s in r.seats) for r in results] == [m.lineup for m in planned]
    assert all(r.turns == 5 for r in results)
    by_lineup = {tuple(s.agent for s in r.seats): r for r in results if r.repetition == 0}
    tft, alld = by_lineup["tft", "alld"].seats
    assert (tft.result, alld.result) == ("loss", "win") and (tft.score, alld.score) == (4.0, 9.0)
    assert [s.result for s in by_lineup["tft", "tft"].seats] == ["draw", "draw"]


def test_run_by_id_or_name_and_unknown(repeated_db: Path) -> None:
    assert tournament_runs(repeated_db) == [(1, "rr")]
    assert tournament_results(repeated_db, 1)[1] == tournament_results(repeated_db, "rr")[1]
    with pytest.raises(TournamentNotFound, match=r"no tournament 'nope' \(tournaments: rr \(run 1\)\)"):
        tournament_results(repeated_db, "nope")


def test_unfinished_matches_are_counted_not_rated(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    play_tournament(repeated(), db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE episodes SET status = 'failed' WHERE \"index\" IN (1, 4)")
        conn.execute("UPDATE episodes SET status = 'pending' WHERE \"index\" = 7")
        conn.execute('DELETE FROM seats WHERE episode_id IN (SELECT id FROM episodes WHERE "index" = 11)')
        conn.execute('DELETE FROM episodes WHERE "index" = 11')
    stored = load_stored_tournament(db, "rr")
    assert len(stored.results) == 8 and stored.planned == 12
    assert stored.unfinished == {"failed": 2, "pending": 1, "not_stored": 1}
    planned = matches(stored.spec)
    assert [r.match_id for r in stored.results] == [planned[i].id for i in (0, 2, 3, 5, 6, 8, 9, 10)]


def test_the_run_stores_the_pool_order_the_sorted_json_loses(tmp_path: Path) -> None:
    """The store sorts JSON keys; the schedule depends on the pool's order: the run stores it as a list."""
    db = tmp_path / "t.db"
    play_tournament(repeated(), db)
    with sqlite3.connect(db) as conn:
        [(scenario,)] = conn.execute("SELECT scenario FROM runs").fetchall()
    stored = json.loads(scenario)
    assert list(stored["tournament"]["pool"]) == ["allc", "alld", "tft"]  # sorted
    assert stored["pool_order"] == ["tft", "alld", "allc"]


def test_the_reader_takes_the_stored_pool_order(tmp_path: Path) -> None:
    """Another ``pool_order`` gives another schedule, which the stored matches do not follow."""
    db = tmp_path / "t.db"
    play_tournament(repeated(), db)
    wrong = ((["allc", "alld", "tft"], "do not follow the stored"), (["tft"], "not name the pool"))
    for order, error in wrong:
        with sqlite3.connect(db) as conn:
            sql = "UPDATE runs SET scenario = json_set(scenario, '$.pool_order', json(?))"
            conn.execute(sql, (json.dumps(order),))
        with pytest.raises(ValueError, match=error):
            tournament_results(db, "rr")


def test_a_changed_schedule_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    play_tournament(repeated(), db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE episodes SET matchup = 'allc vs tft' WHERE \"index\" = 3")
    with pytest.raises(ValueError, match="do not follow the stored tournament's schedule"):
        tournament_results(db, "rr")


def test_sampled_seatings_read_back_in_their_pool_order(tmp_path: Path) -> None:
    """Sampled groups depend on the pool's order, which the store's sorted JSON loses."""
    data = avalon(seatings="sample", samples=3)
    names = ["zed", "amy", "max", "bob", "cy", "dan"]
    data["pool"] = {n: {"agent": "random_legal" if n in ("amy", "cy") else "avalon_naive"} for n in names}
    db = tmp_path / "t.db"
    spec = play_tournament(data, db)
    again, results = tournament_results(db, "avalon")
    assert list(again.file.pool) == names
    assert [r.match_id for r in results] == [m.id for m in matches(spec)] and len(results) == 30


def test_role_world_seats_carry_roles_and_sides(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    spec = play_tournament(avalon(), db)
    results = tournament_results(db, "avalon")[1]
    planned = matches(spec)
    assert len(results) == len(planned) == 6
    for result, match in zip(results, planned, strict=True):
        assert tuple(s.game_role for s in result.seats) == match.game_roles
        assert {s.side for s in result.seats} == {"good", "evil"}
        winners = {s.side for s in result.seats if s.result == "win"}
        assert len(winners) == 1


def test_a_fixed_narrator_is_not_rated(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    play_tournament(characterbox(("a", "b", "c"), fixed=[{**NARRATOR, "label": "narrator"}]), db)
    results = tournament_results(db, "cb")[1]
    assert results and all(len(r.seats) == 4 for r in results)
    assert all([s.rated for s in r.seats] == [True, True, True, False] for r in results)
    assert all(r.seats[3].agent == "narrator" for r in results)
