"""The ``sim`` command line: lazy imports, ``worlds``/``agents`` listings, ``run``, ``replay``, ``export``.

Commands whose exit codes and tracebacks matter run the real ``sim`` script in a subprocess (with
``COLUMNS=200`` so rich tables are not truncated).
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from sim_cli import run_sim

from sim.store.reader import TABLES, StoreReader

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SCENARIO = TESTS / "data" / "scenarios" / "tft_vs_defector.yaml"
TIMEOUT = 120


def _sim(*args: str | Path, cwd: Path = ROOT, columns: int = 200) -> subprocess.CompletedProcess[str]:
    """Run the real ``sim`` and capture its output."""
    return run_sim(*args, cwd=cwd, columns=columns)


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"exit code {result.returncode}:\n{output}"
    assert "Traceback" not in output, output
    return result.stdout


def _fails_cleanly(result: subprocess.CompletedProcess[str], *phrases: str) -> str:
    output = result.stdout + result.stderr
    assert result.returncode == 2, f"exit code {result.returncode}:\n{output}"
    assert "Traceback" not in output, output
    for phrase in phrases:
        assert phrase in output, f"{phrase!r} not in:\n{output}"
    return output


def _table_rows(text: str) -> dict[str, list[str]]:
    """Body rows of a rich box table, keyed by their first cell (each row's first line)."""
    rows = {}
    for line in text.splitlines():
        if line.startswith("│"):
            cells = [c.strip() for c in line.strip("│").split("│")]
            if cells[0]:  # not a continuation line of a multi-line row
                rows[cells[0]] = cells
    return rows


# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [["--help"], ["run", "--help"], ["replay", "--help"], ["export", "--help"], ["worlds"], ["agents"]],
    ids=" ".join,
)
def test_cli_does_not_import_litellm(args: list[str]) -> None:
    code = (
        "import sys; from typer.testing import CliRunner; from sim.cli import app; "
        f"r = CliRunner().invoke(app, {args!r}); assert r.exit_code == 0, r.output; "
        "assert 'litellm' not in sys.modules, 'litellm imported'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_running_a_scripted_scenario_does_not_import_litellm(tmp_path: Path) -> None:
    code = (
        "import sys; from typer.testing import CliRunner; from sim.cli import app; "
        f"r = CliRunner().invoke(app, ['run', {str(SCENARIO)!r}, '--db', {str(tmp_path / 'x.db')!r}, "
        "'--quiet']); assert r.exit_code == 0, r.output; "
        "assert 'litellm' not in sys.modules, 'litellm imported'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_help_lists_the_commands() -> None:
    out = _ok(_sim("--help"))
    for command in ("run", "worlds", "agents", "replay", "export"):
        assert re.search(rf"^\W*{command}\b", out, re.MULTILINE), f"{command} missing from --help:\n{out}"


def test_run_help_shows_the_options() -> None:
    out = _ok(_sim("run", "--help"))
    for option in ("--db", "--episodes", "--seed", "--set", "SCENARIO"):
        assert option in out


def test_worlds_lists_the_registered_worlds() -> None:
    rows = _table_rows(_ok(_sim("worlds")))
    assert "matrix/repeated-v1" in rows
    description = "A finitely repeated 2x2 game between two seats."
    assert rows["matrix/repeated-v1"][1:] == ["2", "simultaneous", description]
    assert set(rows) == {ep.name for ep in entry_points(group="sim.worlds")}


def test_agents_lists_the_registered_agents_with_descriptions() -> None:
    rows = _table_rows(_ok(_sim("agents")))
    description = "Cooperates first, then copies the opponent's last move."
    assert rows["tit_for_tat"][1:] == ["matrix/repeated-v1", description]
    assert rows["random_legal"][1] == "any"
    assert set(rows) == {ep.name for ep in entry_points(group="sim.agents")}
    assert all(cells[2] for cells in rows.values()), "every agent needs a one-line description"


# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def run_output(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One ``sim run`` of TitForTat vs Defector (10 rounds of the PD): its DB and its stdout."""
    db = tmp_path_factory.mktemp("cli") / "runs.db"
    return db, _ok(_sim("run", SCENARIO, "--db", db))


def test_run_prints_a_summary_table(run_output: tuple[Path, str]) -> None:
    db, out = run_output
    rows = _table_rows(out.split("\nranking")[0])  # the seats table, before the repeated-game ones
    header = ["agent", "seat", "n", "mean score [95% CI]", "W/D/L", "invalid"]
    by_column = {name: dict(zip(header, cells, strict=True)) for name, cells in rows.items()}
    assert set(by_column) == {"TitForTat", "Defector"}
    assert by_column["TitForTat"]["mean score [95% CI]"] == "9.00"  # one game: no interval
    assert by_column["Defector"]["mean score [95% CI]"] == "14.00"
    assert (by_column["TitForTat"]["seat"], by_column["Defector"]["seat"]) == ("p0", "p1")
    assert (by_column["Defector"]["W/D/L"], by_column["TitForTat"]["W/D/L"]) == ("1/0/0", "0/0/1")
    assert str(db) in out, "the summary must say where the DB is"
    assert f"sim replay --db {db} 1" in out


def test_run_stores_the_episode(run_output: tuple[Path, str]) -> None:
    db, _ = run_output
    con = sqlite3.connect(db)
    try:
        seats = con.execute("SELECT label, score FROM seats ORDER BY player_id").fetchall()
        rounds = con.execute("SELECT COUNT(*) FROM events WHERE kind = 'round'").fetchone()
        status = con.execute("SELECT status FROM runs").fetchall()
    finally:
        con.close()
    assert seats == [("TitForTat", 9.0), ("Defector", 14.0)]
    assert rounds == (10,)
    assert status == [("complete",)]


def test_run_without_db_uses_the_scenario_db_relative_to_the_working_dir(tmp_path: Path) -> None:
    out = _ok(_sim("run", SCENARIO, "--quiet", cwd=tmp_path))
    assert (tmp_path / "runs" / "tft_vs_defector.db").is_file()
    assert "runs/tft_vs_defector.db" in out


def test_run_episodes_option_in_summary(tmp_path: Path) -> None:
    out = _ok(_sim("run", SCENARIO, "--db", tmp_path / "x.db", "--episodes", "3", "--quiet"))
    assert "3 episodes, 1 distinct trajectory" in out  # deterministic bots: three copies of one game


def test_run_on_a_db_that_is_not_a_store_fails_without_traceback(tmp_path: Path) -> None:
    db = tmp_path / "not_a_store.db"
    db.write_text("hello, not SQLite\n", encoding="utf-8")
    result = _sim("run", SCENARIO, "--db", db, "--quiet")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output, output
    assert "store error" in output and str(db) in output
    assert db.read_text(encoding="utf-8") == "hello, not SQLite\n"


# ---------------------------------------------------------------------------------------------
def test_replay_prints_the_rounds(run_output: tuple[Path, str]) -> None:
    db, _ = run_output
    out = _ok(_sim("replay", "--db", db, "1"))
    assert "TitForTat vs Defector" in out
    rounds = re.findall(r"^\s*round\s+(\d+)\s+p0:(\w)\s+p1:(\w)\s+->\s+(\S+) / (\S+)$", out, re.MULTILINE)
    assert [int(r[0]) for r in rounds] == list(range(1, 11))
    assert rounds[0][1:] == ("C", "D", "0", "5")
    assert all(r[1:] == ("D", "D", "1", "1") for r in rounds[1:])


def test_replay_for_one_seat(run_output: tuple[Path, str]) -> None:
    db, _ = run_output
    out = _ok(_sim("replay", "--db", db, "1", "--seat", "p0"))
    assert len(re.findall(r"^\s*round\s+\d+", out, re.MULTILINE)) == 10


def test_replay_of_a_missing_episode_exits_2(run_output: tuple[Path, str]) -> None:
    db, _ = run_output
    _fails_cleanly(_sim("replay", "--db", db, "99"), "no episode 99", str(db))


def test_replay_of_a_missing_db_exits_2(tmp_path: Path) -> None:
    db = tmp_path / "nope.db"
    _fails_cleanly(_sim("replay", "--db", db, "1"), "no such database", str(db))
    assert not db.exists()


def test_replay_of_a_file_that_is_not_a_store_exits_2(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    _fails_cleanly(_sim("replay", "--db", db, "1"), "not a sim store")


# ---------------------------------------------------------------------------------------------
def _count(db: Path, table: str) -> int:
    con = sqlite3.connect(db)
    try:
        return int(con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    finally:
        con.close()


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_export_writes_one_file_per_table(fmt: str, run_output: tuple[Path, str], tmp_path: Path) -> None:
    db, _ = run_output
    out_dir = tmp_path / "exports"
    out = _ok(_sim("export", "--db", db, "--format", fmt, "--out", out_dir))
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(f"{t}.{fmt}" for t in TABLES)
    for table in TABLES:
        path = out_dir / f"{table}.{fmt}"
        assert str(path) in out
        expected = len(StoreReader(db).frame(table))  # turn_metrics: one row per turn (long form)
        if fmt == "csv":
            with path.open(newline="", encoding="utf-8") as fh:
                rows = list(csv.DictReader(fh))
        elif fmt == "jsonl":
            lines = path.read_text(encoding="utf-8").splitlines()
            rows = [json.loads(line) for line in lines if line.strip()]
        else:
            import pyarrow.parquet as pq

            rows = pq.read_table(path).to_pylist()
        assert len(rows) == expected, f"{path.name}: {len(rows)} rows, the store has {expected}"
        assert f"({expected} {'row' if expected == 1 else 'rows'})" in out  # "1 row" (issue 12)
    assert _count(db, "seats") == 2 and _count(db, "events") > 10


def test_export_rejects_an_unknown_format(run_output: tuple[Path, str], tmp_path: Path) -> None:
    db, _ = run_output
    out_dir = tmp_path / "exports"
    result = _sim("export", "--db", db, "--format", "xml", "--out", out_dir)
    _fails_cleanly(result, "--format must be one of csv, jsonl, parquet, got 'xml'")
    assert not out_dir.exists()


def test_export_of_a_missing_db_exits_2(tmp_path: Path) -> None:
    db = tmp_path / "nope.db"
    _fails_cleanly(_sim("export", "--db", db, "--out", tmp_path / "exports"), "no such database")
    assert not db.exists()
