"""The Compare page's tournament section: the leaderboard, the pairwise matrix as a heatmap and every
agent's OpenSkill rating over the matches (the tables of :mod:`sim.tournament.leaderboard`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from sim.tournament.leaderboard import NOTE, Leaderboard, load_leaderboard
from sim.tournament.results import tournament_runs
from sim.viewer.charts import heatmap

PAIRWISE_TITLE = "Pairwise: how often the row agent finished ahead of the column agent"
TRAJECTORY_TITLE = "OpenSkill rating over matches"


def is_tournament(db: Path, run_id: int) -> bool:
    """Whether run ``run_id`` is a stored tournament (``sim tournament``)."""
    return any(i == run_id for i, _ in tournament_runs(db))


def tournament_section(db: Path, run_id: int) -> None:
    """The tournament's leaderboard, pairwise heatmap and rating trajectories."""
    try:
        board = load_leaderboard(db, run_id)
    except (LookupError, ValueError) as exc:
        st.warning(f"Cannot read this tournament: {exc}")
        return
    st.subheader("Tournament leaderboard")
    st.caption(board.headline)
    if board.standings.empty:
        st.info("No finished matches between different agents yet.")
        return
    st.dataframe(board.standings, hide_index=True, width="stretch", column_config=_formats(board))
    rank = "Axelrod's median normalised score" if board.repeated else "OpenSkill ordinal (μ − 3σ)"
    st.caption(f"Ranked by {rank}. {NOTE}")
    st.subheader(PAIRWISE_TITLE)
    st.altair_chart(
        heatmap(pairwise_pairs(board), "ahead", "pairs", list(board.pairwise.index)), width="stretch"
    )
    if not board.trajectory.empty:
        st.subheader(TRAJECTORY_TITLE)
        st.altair_chart(trajectory_chart(board.trajectory), width="stretch")
        st.caption("Each agent's ordinal (μ − 3σ) after every rated match it played, in playing order.")


def _formats(board: Leaderboard) -> dict[str, Any]:
    percent = {
        c: st.column_config.NumberColumn(c, format="percent") for c in ("win_rate", "win_low", "win_high")
    }
    decimals = {
        c: st.column_config.NumberColumn(c, format="%.3f")
        for c in ("score", "score_low", "score_high", "mu", "sigma", "ordinal", "axelrod")
        if c in board.standings
    }
    return {**percent, **decimals}


def pairwise_pairs(board: Leaderboard) -> pd.DataFrame:
    """The pairwise matrix in long form (``agent``, ``opponent``, ``ahead``, ``seat pairs``), pairs that
    met only."""
    value = board.pairwise.rename_axis(index="agent", columns="opponent").stack().rename("ahead")
    count = board.pairwise_n.rename_axis(index="agent", columns="opponent").stack().rename("pairs")
    pairs = pd.concat([value, count], axis=1).reset_index()
    return pairs[pairs["pairs"] > 0].dropna(subset=["ahead"])


def trajectory_chart(trajectory: pd.DataFrame) -> alt.Chart:
    """One line per agent: its OpenSkill ordinal against the match number."""
    return (
        alt.Chart(trajectory)
        .mark_line(point=True)
        .encode(
            x=alt.X("match:Q", title="match (rated matches, in playing order)"),
            y=alt.Y("ordinal:Q", title="OpenSkill ordinal (μ − 3σ)"),
            color=alt.Color("agent:N"),
            tooltip=["agent", "match", "mu", "sigma", "ordinal"],
        )
    )
