"""Viewer renderer of ``matrix/repeated-v1``: the payoff matrix, a move strip and cumulative scores."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from sim.viewer.renderers import EpisodeView


def render(view: EpisodeView) -> None:
    """Draw the stage game, every round's moves so far, and the running scores."""
    start = next((e.payload for e in view.of_kind("start")), None)
    if start is None:
        return
    labels, players = start["labels"], start["players"]
    st.subheader(f"{start['game']} ({start.get('family', '')})")
    matrix = pd.DataFrame(
        [[f"{start['row'][i][j]:g}, {start['col'][i][j]:g}" for j in range(2)] for i in range(2)],
        index=[f"{players[0]}: {labels[i]}" for i in range(2)],
        columns=[f"{players[1]}: {labels[j]}" for j in range(2)],
    )
    st.table(matrix)
    rounds = view.of_kind("round")
    if not rounds:
        st.caption("no round played yet")
        return
    moves = pd.DataFrame(
        [
            {"round": e.payload["round"], "player": p, "move": e.payload["moves"][p]}
            for e in rounds
            for p in players
        ]
    )
    strip = (
        alt.Chart(moves)
        .mark_rect(stroke="white")
        .encode(
            x="round:O",
            y=alt.Y("player:N", sort=players),
            color="move:N",
            tooltip=["round", "player", "move"],
        )
    )
    st.altair_chart(
        strip + strip.mark_text().encode(text="move:N", color=alt.value("black")), width="stretch"
    )
    totals = {p: 0.0 for p in players}
    series = []
    for e in rounds:
        for p in players:
            totals[p] += float(e.payload["payoffs"][p])
            series.append({"round": e.payload["round"], "player": p, "score": totals[p]})
    chart = (
        alt.Chart(pd.DataFrame(series))
        .mark_line(point=True)
        .encode(x=alt.X("round:Q", axis=alt.Axis(tickMinStep=1, format="d")), y="score:Q", color="player:N")
    )
    st.altair_chart(chart, width="stretch")
    noise = view.of_kind("noise")
    if noise:
        st.caption(f"{len(noise)} moves flipped by noise (visible to the flipped seat only)")
