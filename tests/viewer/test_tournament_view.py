"""The Compare page's tournament section: the leaderboard, the pairwise heatmap, rating trajectories."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from apptest import app, charts, layers
from viewer_stores import TOURNAMENT_RUN

from sim.tournament.leaderboard import load_leaderboard
from sim.viewer.tournament_view import PAIRWISE_TITLE, TRAJECTORY_TITLE


def test_tournament_leaderboard_heatmap_and_trajectories(
    stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = stores["combined"]
    board = load_leaderboard(db, TOURNAMENT_RUN)
    at = app(db, monkeypatch, page="compare", run=str(TOURNAMENT_RUN))
    headings = [s.value for s in at.subheader]
    assert headings[:3] == ["Tournament leaderboard", PAIRWISE_TITLE, TRAJECTORY_TITLE]
    assert board.headline in [c.value for c in at.caption]
    shown = at.dataframe[0].value
    pd.testing.assert_frame_equal(shown.reset_index(drop=True), board.standings, check_dtype=False)
    assert list(shown["agent"]) == list(board.standings["agent"]) and len(shown) == 4
    drawn = charts(at)
    heat = next(
        data
        for spec, data in drawn
        if any(layer.get("mark", {}).get("type") == "rect" for layer in layers(spec))
    )
    for row in heat.itertuples():
        assert row.ahead == board.pairwise.loc[row.agent, row.opponent]
        assert row.pairs == board.pairwise_n.loc[row.agent, row.opponent]
    assert len(heat) == board.pairwise.notna().sum().sum()
    lines = next(data for spec, data in drawn if "match" in str(spec.get("encoding", {}).get("x")))
    pd.testing.assert_frame_equal(
        lines[board.trajectory.columns].reset_index(drop=True), board.trajectory, check_dtype=False
    )
    assert lines["match"].max() == len(board.stored.results) - 1  # every match is rated (no self-play)


def test_other_runs_have_no_tournament_section(
    stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(stores["combined"], monkeypatch, page="compare", run="1")
    assert "Tournament leaderboard" not in [s.value for s in at.subheader]
    assert "Per agent" in [s.value for s in at.subheader]
