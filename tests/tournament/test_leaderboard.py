"""``sim leaderboard``: numbers equal ratings.py's, 80 columns, CSV and Markdown round-trips, errors."""

from __future__ import annotations

import io
import math
from pathlib import Path

import pandas as pd
import pytest
from sim_cli import run_sim

from sim.tournament.leaderboard import load_leaderboard
from sim.tournament.ratings import axelrod_ranking, openskill_ratings, pairwise, role_table, standings
from sim.tournament.results import tournament_results
from tests.tournament.stores import avalon_models, play_tournament, strategies


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One store holding a repeated-games round robin and a role-balanced Avalon tournament."""
    db = tmp_path_factory.mktemp("lb") / "t.db"
    play_tournament(strategies(), db)
    play_tournament(avalon_models(), db)
    return db


def _ok(*args: str | Path) -> str:
    result = run_sim("leaderboard", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.parametrize("name", ["axelrod-classics", "avalon-recon-vs-cot"])
def test_fits_80_columns_with_every_cell_whole(store: Path, name: str) -> None:
    out = _ok("--db", store, name)
    widest = max(len(line) for line in out.splitlines())
    assert widest <= 80, out
    board = load_leaderboard(store, name)
    for row in board.standings.itertuples():
        line = next(x for x in out.splitlines() if x.split()[:1] == [str(row.rank)])
        shown = line.split()[1]  # a name too long for 80 columns ends in an ellipsis
        assert shown == row.agent or (shown.endswith("…") and row.agent.startswith(shown[:-1]))
        assert f"{row.win_rate:.0%} [{100 * row.win_low:.0f}-{100 * row.win_high:.0f}]" in line
        if board.repeated:
            assert f"{row.axelrod:.3f}" in line
        else:
            assert f"{row.mu:.1f}±{row.sigma:.1f} ({row.ordinal:.1f})" in line
    assert ("Per role" in out) == (name == "avalon-recon-vs-cot")


def test_numbers_equal_the_ratings_module(store: Path) -> None:
    for name in ("axelrod-classics", "avalon-recon-vs-cot"):
        results = tournament_results(store, name)[1]
        board = load_leaderboard(store, name)
        table = board.standings.set_index("agent")
        for s in standings(results):
            row = table.loc[s.agent]
            assert (row.seats, row.win_rate, row.win_low, row.win_high) == (
                s.seats,
                s.win.value,
                s.win.low,
                s.win.high,
            )
            assert row.score == s.score.value and _same(row.score_low, s.score.low)
        ratings = openskill_ratings(results)
        for r in ratings.table:
            assert (table.loc[r.agent, "mu"], table.loc[r.agent, "ordinal"]) == (r.mu, r.ordinal)
        assert len(board.trajectory) == len(ratings.trajectory)
        assert list(board.trajectory["mu"]) == [p.mu for p in ratings.trajectory]
        expected = pairwise(results)
        pd.testing.assert_frame_equal(
            board.pairwise, expected.value.loc[board.pairwise.index, board.pairwise.index]
        )
        if board.repeated:
            ranking = axelrod_ranking(results)
            assert list(board.standings["agent"]) == [r.agent for r in ranking]
            assert list(board.standings["axelrod"]) == [r.median for r in ranking]
        else:
            assert list(board.standings["agent"]) == [r.agent for r in ratings.table]
            roles = role_table(results)
            assert list(
                zip(board.roles["role"], board.roles["agent"], board.roles["win_rate"], strict=True)
            ) == [(r.role, r.agent, r.win.value) for r in roles]


def _same(a: float | None, b: float | None) -> bool:
    return (a is None or (isinstance(a, float) and math.isnan(a))) == (b is None) and (b is None or a == b)


def test_csv_and_markdown_round_trip(store: Path, tmp_path: Path) -> None:
    name = "avalon-recon-vs-cot"
    csv_path, md_path = tmp_path / "lb.csv", tmp_path / "lb.md"
    out = _ok("--db", store, name, "--csv", csv_path, "--markdown", md_path)
    assert f"wrote {csv_path}" in out and f"wrote {md_path}" in out
    tables = load_leaderboard(store, name).tables()
    assert set(tables) == {"standings", "pairwise", "pairwise_n", "roles"}
    blocks = [pd.read_csv(io.StringIO(b)) for b in csv_path.read_text().strip().split("\n\n")]
    read = {b["table"].iloc[0]: b.drop(columns="table") for b in blocks}
    assert set(read) == set(tables)
    for key, frame in tables.items():
        pd.testing.assert_frame_equal(read[key], frame.reset_index(drop=True), check_dtype=False)
    md = _markdown_tables(md_path.read_text())
    assert set(md) == set(tables)
    for key, frame in tables.items():
        pd.testing.assert_frame_equal(md[key], frame.reset_index(drop=True), check_dtype=False, atol=1e-4)


def _markdown_tables(text: str) -> dict[str, pd.DataFrame]:
    """Each ``### name`` pipe table back as a DataFrame (numbers parsed by pandas)."""
    out = {}
    for section in text.split("### ")[1:]:
        name, _, body = section.partition("\n")
        rows = [line for line in body.splitlines() if line.startswith("|")]
        lines = [rows[0], *rows[2:]]  # without the alignment row
        csv = "\n".join(",".join(c.strip() for c in line.strip("|").split("|")) for line in lines)
        out[name.strip()] = pd.read_csv(io.StringIO(csv))
    return out


def test_unknown_tournament_and_missing_store_exit_2(store: Path, tmp_path: Path) -> None:
    result = run_sim("leaderboard", "--db", store, "no-such-cup")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "no tournament 'no-such-cup'" in result.stderr and "axelrod-classics (run 1)" in result.stderr
    result = run_sim("leaderboard", "--db", tmp_path / "none.db", "cup")
    assert result.returncode == 2 and "no such database" in result.stderr
