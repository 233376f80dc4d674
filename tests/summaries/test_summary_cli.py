"""``sim run`` / ``sim summary`` output: golden text at 80 columns (piped and on a terminal), formats,
honest repetitions, geometric-horizon ranking, Avalon per-role and per-side tables."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from sim_cli import ROOT, run_sim, sim_command, sim_env

GOLDEN = ROOT / "tests" / "golden"
REPEATED = ROOT / "worlds" / "repeated" / "scenarios"
AVALON = ROOT / "worlds" / "avalon" / "scenarios"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def _normalised(text: str, db: Path) -> str:
    return text.replace(str(db), "<db>")


def _golden(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.summary.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def _assert_fits(text: str, width: int = 80) -> None:
    for line in text.splitlines():
        if line.startswith(("Stored run", "note:")):
            continue  # a sentence wraps or runs on; tables never do
        assert len(line) <= width, f"wider than {width}: {line!r}"


def _numbers_whole(text: str) -> None:
    """No cell holding a number was cut: every ellipsis is in a label."""
    for line in text.splitlines():
        for cell in line.strip("│").split("│"):
            if "…" in cell:
                assert not re.search(r"\d…|…\d|\[[^\]]*…", cell), f"a number was cut: {cell!r}"


@pytest.fixture(scope="module")
def avalon(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Six bot games of AvalonBench's 5-player preset, with long labels, piped."""
    db = tmp_path_factory.mktemp("avalon") / "a.db"
    labels = [
        f"--set=seats.{i}.label=avalon-naive-bot-{'with-a-long-label' if i else 'at-seat-zero'}"
        for i in range(5)
    ]
    out = _ok(run_sim("run", AVALON / "avalonbench_5p_bots.yaml", "--db", db, "--episodes", "6", *labels))
    return db, out


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo round robin, run piped (with a wide COLUMNS, which a pipe must not follow)."""
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    return db, _ok(run_sim("run", REPEATED / "demo.yaml", "--db", db, "--quiet", columns=200))


def test_repeated_tournament_summary_is_golden_at_80_columns_piped(demo: tuple[Path, str]) -> None:
    db, out = demo
    _assert_fits(out)
    _golden("demo", _normalised(out, db))
    # the same text reprinted later from the store, and on an 80-column terminal
    assert _ok(run_sim("summary", "--db", db)) == out
    env = {**sim_env(80), "TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "0"}
    tty = subprocess.run(
        [*sim_command(), "summary", "--db", str(db)], env=env, capture_output=True, text=True, check=False
    )
    assert ANSI.sub("", tty.stdout) == out


def test_avalon_summary_fits_80_columns_with_long_labels_and_is_golden(avalon: tuple[Path, str]) -> None:
    db, out = avalon
    _assert_fits(out)
    _numbers_whole(out)
    assert "avalon-naive-bot-with-a-…" in out  # labels were abbreviated, not the numbers
    _golden("avalonbench_5p_bots", _normalised(out, db))


def test_avalon_tables_per_side_and_role_with_the_interval_in_one_cell(avalon: tuple[Path, str]) -> None:
    db, _ = avalon
    doc = json.loads(_ok(run_sim("summary", "--db", db, "--format", "json")))
    sides = {row["side"]: row for row in doc["sections"]["sides"]["rows"]}
    assert set(sides) == {"good", "evil"} and sides["good"]["n"] == sides["evil"]["n"] == 6
    assert sides["good"]["wins"] + sides["evil"]["wins"] + sides["good"]["draws"] == 6
    cell = sides["good"]["win rate [95% CI]"]
    assert 0.0 <= cell["low"] <= cell["value"] <= cell["high"] <= 1.0 and cell["n"] == 6
    roles = {row["role"] for row in doc["sections"]["roles"]["rows"]}
    assert roles == {"merlin", "servant", "assassin", "minion"}
    assert doc["sections"]["assassination"]["rows"][0]["attempts"] >= 0
    assert [row["quest"] for row in doc["sections"]["quests"]["rows"]][:3] == ["1", "2", "3"]
    table = _ok(run_sim("summary", "--db", db))
    assert re.search(r"│ good +│ +6 │ +\d │ +0 │ \d\.\d\d \[\d\.\d\d, \d\.\d\d\] │", table)
    assert "ci_low" not in table and "ci_high" not in table  # no interval bound as a row of its own


def _fixed_seats(tmp_path: Path, episodes: int) -> Path:
    path = tmp_path / "fixed.yaml"
    path.write_text(
        "name: fixed\nworld: matrix/repeated-v1\nparams: {game: prisoners_dilemma, rounds: 5}\n"
        f"seats: [{{agent: tit_for_tat}}, {{agent: defector}}]\nepisodes: {episodes}\nseed: 1\n"
    )
    return path


def test_identical_episodes_are_said_and_counted_once(tmp_path: Path) -> None:
    """Deterministic bots in fixed seats replay the same game: 3 episodes, 1 distinct trajectory."""
    db = tmp_path / "same.db"
    out = _ok(run_sim("run", _fixed_seats(tmp_path, 3), "--db", db))
    assert "3 episodes, 1 distinct trajectory" in out
    seats = json.loads(_ok(run_sim("summary", "--db", db, "--format", "json")))["sections"]["agents"]
    assert {row["n"] for row in seats["rows"]} == {1}  # each distinct game counts once


def test_one_episode_is_singular(tmp_path: Path) -> None:
    out = _ok(run_sim("run", _fixed_seats(tmp_path, 1), "--db", tmp_path / "one.db"))
    assert "1 episode" in out and "1 episodes" not in out


def test_geometric_horizon_runs_rank_per_round_not_by_total(tmp_path: Path) -> None:
    db = tmp_path / "geo.db"
    _ok(run_sim("run", REPEATED / "akata_pd_indefinite.yaml", "--db", db, "--quiet"))
    doc = json.loads(_ok(run_sim("summary", "--db", db, "--format", "json")))
    ranking = doc["sections"]["ranking"]
    assert any("not by total" in note for note in ranking["notes"])
    medians = [row["median"] for row in ranking["rows"]]
    assert medians == sorted(medians, reverse=True)  # ranked by median normalised score
    totals = {row["agent"]: row["mean score [95% CI]"]["value"] for row in doc["sections"]["agents"]["rows"]}
    by_total = sorted(totals, key=lambda a: -totals[a])
    assert [row["agent"] for row in ranking["rows"]] != by_total


def test_self_play_is_left_out_of_the_ranking(demo: tuple[Path, str]) -> None:
    db, _ = demo
    doc = json.loads(_ok(run_sim("summary", "--db", db, "--format", "json")))
    ranking = {row["agent"]: row["n"] for row in doc["sections"]["ranking"]["rows"]}
    agents = {row["agent"]: row["n"] for row in doc["sections"]["agents"]["rows"]}
    assert all(ranking[a] == agents[a] - 2 for a in ranking)  # a self-play game fills two seats
    rates = doc["sections"]["cooperation"]["rows"]
    assert all(row["rate [95% CI]"]["n"] == row["rounds"] for row in rates)  # every rate shows its n


def test_markdown_and_csv_formats(demo: tuple[Path, str]) -> None:
    db, _ = demo
    md = _ok(run_sim("summary", "1", "--db", db, "--format", "md"))
    assert md.startswith("## run 1 (demo-axelrod-sample): 21 episodes")
    assert "| rank | agent | n | median | score/round [95% CI] |" in md
    rows = list(csv.reader(io.StringIO(_ok(run_sim("summary", "--db", db, "--format", "csv")))))
    header = next(r for r in rows if r and r[0] == "section" and "rank" in r)
    assert header[-3:] == ["score/round [95% CI]", "score/round [95% CI] low", "score/round [95% CI] high"]


def test_summary_errors_are_one_line(tmp_path: Path) -> None:
    missing = run_sim("summary", "--db", tmp_path / "none.db")
    assert missing.returncode == 2 and "no such database" in missing.stderr
    bad = run_sim("summary", "--db", tmp_path / "none.db", "--format", "xml")
    assert bad.returncode == 2 and "--format must be one of" in bad.stderr
