"""``sim export`` writes the frames ``StoreReader`` gives: ``turn_metrics`` in long form (one row per
episode, seat, metric and turn), not the stored JSON lists; every table agrees with the reader."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.runner import run_scenario
from sim.scenario import validate_scenario
from sim.store.reader import TABLES, StoreReader

ROOT = Path(__file__).parent.parent
SIM = Path(sys.executable).parent / "sim"
READ = {
    "csv": pd.read_csv,
    "jsonl": lambda path: pd.read_json(path, lines=True, dtype=False),
    "parquet": pd.read_parquet,
}


@pytest.fixture(scope="module")
def avalon_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small Avalon bot run: every table but llm_calls gets rows, seats have roles and sides."""
    data = yaml.safe_load((ROOT / "worlds/avalon/scenarios/avalonbench_5p_bots.yaml").read_text())
    data.update(episodes=3, db=str(tmp_path_factory.mktemp("export") / "a.db"))
    return run_scenario(validate_scenario(data, "avalon.yaml")).db


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_export_agrees_with_the_reader(avalon_db: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / fmt
    subprocess.run(
        [str(SIM), "export", "--db", str(avalon_db), "--format", fmt, "--out", str(out)],
        check=True,
        capture_output=True,
    )
    reader = StoreReader(avalon_db)
    long = READ[fmt](out / f"turn_metrics.{fmt}")
    expected = reader.turn_metrics()
    assert list(long.columns) == ["episode_id", "player_id", "name", "turn", "value"]
    assert len(long) == len(expected) > 0
    pd.testing.assert_frame_equal(long, expected, check_dtype=False)
    for table in TABLES:
        frame = reader.frame(table, decode_json=False)
        path = out / f"{table}.{fmt}"
        exported = READ[fmt](path) if len(frame) or fmt == "parquet" else pd.DataFrame(columns=frame.columns)
        assert list(exported.columns) == list(frame.columns), table
        assert len(exported) == len(frame), table
    seats = READ[fmt](out / f"seats.{fmt}")
    assert list(seats.game_role) == list(reader.seats().game_role)
    assert set(seats.side) == {"good", "evil"}


def test_the_reader_frame_of_turn_metrics_is_its_long_form(avalon_db: Path) -> None:
    reader = StoreReader(avalon_db)
    stored = reader.table("turn_metrics")
    long = reader.frame("turn_metrics")
    assert len(long) == sum(len(turns) for turns in stored.turns)
    pd.testing.assert_frame_equal(long, reader.turn_metrics())
    first = stored.iloc[0]
    rows = long[(long.episode_id == first.episode_id) & (long.player_id == first.player_id)]
    rows = rows[rows.name == first["name"]]
    assert list(rows.turn) == first.turns and list(rows.value) == first["values"]
