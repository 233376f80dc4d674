"""Bad scenario files and bad ``--set`` overrides: a short error, exit code 2, no traceback, no DB writes.

Every file in ``tests/data/bad_scenarios/`` starts with two comment lines read by these tests::

    # path: <the key path the error must name; empty for a problem with the file as a whole>
    # expect: <a phrase of what was expected, which must appear on that same line>

Each problem is reported on one line as ``FILE: key.path: expectation`` (``FILE: expectation`` when
there is no key to blame). The real ``sim`` script runs in a subprocess so exit codes and tracebacks
are the ones a user sees.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import sim_cli

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
BAD_DIR = TESTS / "data" / "bad_scenarios"
VALID = TESTS / "data" / "scenarios" / "tft_vs_defector.yaml"
BAD_FILES = sorted(BAD_DIR.glob("*.yaml"))
TIMEOUT = 120


def run_sim(*args: str | Path, cwd: Path = ROOT, columns: int = 200) -> subprocess.CompletedProcess[str]:
    """Run ``sim ARGS`` with the test-only agent module importable, and capture its output."""
    return sim_cli.run_sim(*args, cwd=cwd, columns=columns, extra_path=[BAD_DIR])


def header(path: Path) -> tuple[str, str]:
    """The ``# path:`` and ``# expect:`` values at the top of a bad scenario file."""
    values: dict[str, str] = {}
    for line in path.read_bytes().decode("utf-8", errors="replace").splitlines()[:2]:
        key, sep, value = line.removeprefix("#").partition(":")
        assert line.startswith("#") and sep, f"{path.name}: lines 1-2 must be '# path:' and '# expect:'"
        values[key.strip()] = value.strip()
    assert set(values) == {"path", "expect"}, f"{path.name}: header needs '# path:' and '# expect:'"
    assert values["expect"], f"{path.name}: '# expect:' must not be empty"
    return values["path"], values["expect"]


def tree_digest(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` (so a new -wal/-journal file counts as a change too)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def assert_clean_failure(
    result: subprocess.CompletedProcess[str], source: str, key_path: str, expect: str
) -> None:
    """Exit code 2, no traceback, and a ``source: key_path: ...expect...`` line in the output."""
    output = result.stderr + result.stdout
    assert result.returncode == 2, f"exit code {result.returncode}, output:\n{output}"
    assert "Traceback" not in output, output
    prefix = f"{source}: {key_path}: " if key_path else f"{source}: "
    lines = [line for line in output.splitlines() if line.startswith(prefix)]
    assert lines, f"no line starting with {prefix!r} in:\n{output}"
    assert any(expect in line for line in lines), f"{expect!r} not on a {prefix!r} line in:\n{output}"
    # Short: a title line, then one ``FILE: ...`` line per problem (no wrapped or multi-line messages).
    body = [line for line in output.splitlines() if line.strip() and line.strip() != "invalid scenario"]
    assert all(line.startswith(f"{source}: ") for line in body), f"not one line per problem:\n{output}"
    assert all(len(line) < 400 for line in body), f"an error line is too long:\n{output}"
    assert len(result.stderr.splitlines()) <= 22, "more than a title, 20 problems and a count"


# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BadRun:
    """The outcome of running one bad file twice: onto no DB, and onto a DB from an earlier valid run."""

    fresh: subprocess.CompletedProcess[str]
    fresh_dir: Path
    existing: subprocess.CompletedProcess[str]
    existing_dir: Path
    digest_before: dict[str, str]


@pytest.fixture(scope="module")
def valid_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store written by a valid run (the baseline that failed runs must leave untouched)."""
    folder = tmp_path_factory.mktemp("valid")
    result = run_sim("run", VALID, "--db", folder / "x.db", "--quiet")
    assert result.returncode == 0, result.stderr + result.stdout
    return folder / "x.db"


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory: pytest.TempPathFactory, valid_db: Path) -> dict[str, BadRun]:
    """Every bad file run both ways, concurrently (each run is a separate ``sim`` process)."""
    jobs: dict[str, tuple[Path, Path, dict[str, str]]] = {}
    for path in BAD_FILES:
        fresh_dir = tmp_path_factory.mktemp(f"fresh-{path.stem}")
        existing_dir = tmp_path_factory.mktemp(f"existing-{path.stem}")
        shutil.copy2(valid_db, existing_dir / "x.db")
        jobs[path.name] = (fresh_dir, existing_dir, tree_digest(existing_dir))

    def source(path: Path) -> str:
        return str(path.relative_to(ROOT))

    with ThreadPoolExecutor(max_workers=max(2, min(8, os.cpu_count() or 2))) as pool:
        fresh = {
            p.name: pool.submit(run_sim, "run", source(p), "--db", jobs[p.name][0] / "x.db")
            for p in BAD_FILES
        }
        existing = {
            p.name: pool.submit(run_sim, "run", source(p), "--db", jobs[p.name][1] / "x.db")
            for p in BAD_FILES
        }
        return {
            name: BadRun(
                fresh[name].result(), jobs[name][0], existing[name].result(), jobs[name][1], jobs[name][2]
            )
            for name in jobs
        }


def test_there_are_enough_distinct_bad_files() -> None:
    assert len(BAD_FILES) >= 60
    headers = [header(p) for p in BAD_FILES]
    assert len(set(headers)) == len(headers), "two bad files expect the same error"
    assert len({p.read_bytes() for p in BAD_FILES}) == len(BAD_FILES)


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: p.stem)
def test_bad_file_fails_cleanly_and_creates_no_db(path: Path, bad_runs: dict[str, BadRun]) -> None:
    key_path, expect = header(path)
    run = bad_runs[path.name]
    assert_clean_failure(run.fresh, str(path.relative_to(ROOT)), key_path, expect)
    assert not (run.fresh_dir / "x.db").exists()
    assert list(run.fresh_dir.iterdir()) == [], "a failed run left files behind"


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: p.stem)
def test_bad_file_leaves_an_existing_db_byte_identical(path: Path, bad_runs: dict[str, BadRun]) -> None:
    key_path, expect = header(path)
    run = bad_runs[path.name]
    assert_clean_failure(run.existing, str(path.relative_to(ROOT)), key_path, expect)
    assert tree_digest(run.existing_dir) == run.digest_before


def test_error_names_the_file_as_given_on_the_command_line(tmp_path: Path) -> None:
    bad = tmp_path / "my scenario.yaml"
    shutil.copy(BAD_DIR / "params_out_of_range.yaml", bad)
    result = run_sim("run", bad, "--db", tmp_path / "x.db")
    assert_clean_failure(result, str(bad), "params.noise", "less than 1")
    assert not (tmp_path / "x.db").exists()


def test_several_problems_are_reported_one_line_each(tmp_path: Path) -> None:
    bad = tmp_path / "two_problems.yaml"
    bad.write_text(
        "name: two\nworld: matrix/repeated-v1\nseats:\n  - agent: random\n    config: {p: 7}\n"
        "  - agent: no_such_agent\n",
        encoding="utf-8",
    )
    result = run_sim("run", bad, "--db", tmp_path / "x.db")
    assert_clean_failure(result, str(bad), "seats[0].config.p", "less than or equal to 1")
    assert_clean_failure(result, str(bad), "seats[1].agent", "unknown agent 'no_such_agent'")
    assert sum(line.startswith(f"{bad}: ") for line in result.stderr.splitlines()) == 2
    assert not (tmp_path / "x.db").exists()


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = run_sim("run", missing, "--db", tmp_path / "x.db")
    assert_clean_failure(result, str(missing), "", "cannot read the file")
    assert not (tmp_path / "x.db").exists()


def test_error_lines_are_not_wrapped_on_a_narrow_terminal(tmp_path: Path) -> None:
    path = BAD_DIR / "tournament_pool_bad_config.yaml"
    source = str(path.relative_to(ROOT))
    result = run_sim("run", source, "--db", tmp_path / "x.db", columns=40)
    key_path = "tournament.pool[2].config.generosity"
    assert_clean_failure(result, source, key_path, "less than or equal to 1 (got 3)")
    assert "[red]" not in result.stderr, "rich markup printed literally"


# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("override", "key_path", "expect"),
    [
        ("noequals", "--set", "'noequals' is not of the form key.path=value"),
        ("=3", "--set", "is not of the form key.path=value"),
        ("seats.9.agent=x", "seats.9.agent", "'9' is not an index of a 2-item list"),
        ("seats.first.agent=x", "seats.first.agent", "'first' is not an index of a 2-item list"),
        ("name.x=3", "name.x", "'name' is not a mapping or list"),
        ("params=[1", "params", "--set value '[1' is not valid YAML"),
        ("params.rounds=ten", "params.rounds", "valid integer"),
        ("params.noise=2", "params.noise", "less than 1"),
        ("seats.1.agent=nobody", "seats[1].agent", "unknown agent 'nobody'"),
        ("seats.0.config.p=0.5", "seats[0].config.p", "unknown key"),
        ("typo=1", "typo", "unknown key"),
    ],
)
def test_bad_set_override(override: str, key_path: str, expect: str, tmp_path: Path) -> None:
    source = str(VALID.relative_to(ROOT))
    result = run_sim("run", source, "--db", tmp_path / "x.db", "--set", override)
    assert_clean_failure(result, source, key_path, expect)
    assert not (tmp_path / "x.db").exists()


@pytest.mark.parametrize(
    ("option", "key_path", "expect"),
    [
        (("--episodes", "0"), "episodes", "greater than or equal to 1"),
        (("--seed", "-1"), "seed", "greater than or equal to 0"),
    ],
)
def test_bad_episodes_or_seed_option(
    option: tuple[str, str], key_path: str, expect: str, tmp_path: Path
) -> None:
    source = str(VALID.relative_to(ROOT))
    result = run_sim("run", source, "--db", tmp_path / "x.db", *option)
    assert_clean_failure(result, source, key_path, expect)
    assert not (tmp_path / "x.db").exists()


def _rows(db: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def overridden_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A valid run with ``--set params.rounds=3 --episodes 2 --seed 5``."""
    db = tmp_path_factory.mktemp("overridden") / "x.db"
    result = run_sim(
        "run", VALID, "--db", db, "--set", "params.rounds=3", "--episodes", "2", "--seed", "5", "--quiet"
    )
    assert result.returncode == 0, result.stderr + result.stdout
    yield db


def test_set_params_rounds_changes_the_number_of_rounds(overridden_db: Path) -> None:
    rounds = _rows(
        overridden_db,
        "SELECT e.id, COUNT(v.id) FROM episodes e LEFT JOIN events v "
        "ON v.episode_id = e.id AND v.kind = 'round' GROUP BY e.id ORDER BY e.id",
    )
    assert [n for _, n in rounds] == [3, 3]
    params = _rows(overridden_db, "SELECT json_extract(params, '$.rounds') FROM episodes ORDER BY id")
    assert params == [(3,), (3,)]


def test_episodes_and_seed_options_override_the_file(overridden_db: Path) -> None:
    runs = _rows(
        overridden_db,
        "SELECT seed, json_extract(scenario, '$.episodes'), "
        "json_extract(scenario, '$.params.rounds'), status FROM runs",
    )
    assert runs == [(5, 2, 3, "complete")]
    assert _rows(overridden_db, "SELECT COUNT(*) FROM episodes WHERE status = 'complete'") == [(2,)]


def test_set_can_override_a_seat_agent_and_label(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    result = run_sim(
        "run",
        VALID,
        "--db",
        db,
        "--quiet",
        "--set",
        "seats.0.agent=cooperator",
        "--set",
        "seats.0.label=Sucker",
        "--set",
        "engine.max_retries=0",
    )
    assert result.returncode == 0, result.stderr + result.stdout
    seats = _rows(db, "SELECT agent, label, score FROM seats ORDER BY player_id")
    assert seats == [("cooperator", "Sucker", 0.0), ("defector", "Defector", 50.0)]
    assert _rows(db, "SELECT json_extract(scenario, '$.engine.max_retries') FROM runs") == [(0,)]
