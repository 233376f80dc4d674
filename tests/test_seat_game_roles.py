"""``seats.game_role`` and ``seats.side`` (schema 4): each seat's role and side in play, told by the world
at the episode's end, so an analyst groups the seats table by role and side; the declared seat role
(``player``, ``referee``) stays in ``seats.role``."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.runner import run_scenario
from sim.scenario import validate_scenario
from sim.store.engine import StoreError, open_engine
from sim.store.reader import StoreReader

ROOT = Path(__file__).parent.parent
WORLDS = ROOT / "tests/data/worlds"
GOOD = {"merlin", "percival", "servant"}


def _preset(name: str, db: Path, **changes: Any) -> Path:
    data = yaml.safe_load((ROOT / name).read_text())
    data.update(changes, db=str(db))
    return run_scenario(validate_scenario(data, name)).db


def test_avalon_seats_carry_the_dealt_role_and_side(tmp_path: Path) -> None:
    db = _preset("worlds/avalon/scenarios/avalonbench_5p_bots.yaml", tmp_path / "a.db", episodes=6)
    store = StoreReader(db)
    seats = store.seats().merge(
        store.episodes()[["id", "outcome"]], left_on="episode_id", right_on="id", suffixes=("", "_ep")
    )
    assert len(seats) == 30 and set(seats.role) == {"player"}  # the declared seat role is unchanged
    for seat in seats.itertuples():
        assert seat.game_role == seat.outcome["roles"][seat.player_id]  # the reveal at the end
        assert seat.side == ("good" if seat.game_role in GOOD else "evil")
        assert seat.score == float(seat.side == seat.outcome["winner"])
    per_role = seats.groupby(["side", "game_role"]).score.agg(["count", "mean"])
    assert per_role["count"].to_dict() == {
        ("evil", "assassin"): 6,
        ("evil", "minion"): 6,
        ("good", "merlin"): 6,
        ("good", "servant"): 12,
    }
    assert seats.groupby("game_role").player_id.nunique()["merlin"] > 1  # roles are shuffled over seats


def test_worlds_without_roles_in_play_leave_them_null(tmp_path: Path) -> None:
    db = _preset("worlds/repeated/scenarios/demo.yaml", tmp_path / "r.db", params={"rounds": 2})
    seats = StoreReader(db).seats()
    assert len(seats) == 42 and seats.game_role.isna().all() and seats.side.isna().all()


def test_declared_seat_roles_stay_queryable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(WORLDS))
    data = {
        "name": "roles",
        "world": "referee_guess:RefereeGuessWorld",
        "params": {"rounds": 2},
        "seats": [{"agent": "random_legal"}, {"agent": "referee_guess:FairReferee", "role": "referee"}],
        "seed": 5,
        "db": str(tmp_path / "ref.db"),
        "episodes": 2,
    }
    seats = StoreReader(run_scenario(validate_scenario(data, "roles.yaml")).db).seats()
    assert list(seats.role) == ["player", "referee"] * 2 and seats.game_role.isna().all()


def test_a_version_3_store_gains_the_columns_on_upgrade(tmp_path: Path) -> None:
    db = _preset("worlds/repeated/scenarios/demo.yaml", tmp_path / "v3.db", params={"rounds": 2})
    with sqlite3.connect(db) as conn:  # back to how version 3 stored seats
        conn.execute("ALTER TABLE seats DROP COLUMN game_role")
        conn.execute("ALTER TABLE seats DROP COLUMN side")
        conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="schema version 3, this sim needs 4"):
        StoreReader(db, read_only=True)
    open_engine(db).dispose()  # a writer upgrades it in place
    seats = StoreReader(db, read_only=True).seats()
    assert len(seats) == 42 and seats.score.notna().all() and seats.game_role.isna().all()
    assert seats.side.isna().all()
