"""Viewer renderer of ``matrix/repeated-v1``: the payoff matrix, a move strip, each seat's cumulative score
and its cooperation rate over the rounds. Colours are colour-blind safe (Okabe-Ito), and moves and seats
never share one."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd
import streamlit as st

from sim.types import Event
from sim.viewer.renderers import MOVE_COLOURS, EpisodeView, seat_colours, text_colour


def render(view: EpisodeView) -> None:
    """Draw the stage game, every round's moves so far, the running scores and cooperation."""
    start = next((e.payload for e in view.of_kind("start")), None)
    if start is None:
        return
    labels, players = list(start["labels"]), list(start["players"])
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
    progress = rounds_frame(rounds, players, labels)
    st.subheader("Moves")
    st.altair_chart(move_strip(progress, players, labels), width="stretch")
    seats = alt.Scale(domain=players, range=seat_colours(players))
    st.subheader("Cumulative score")
    st.altair_chart(_lines(progress, "score", "cumulative score", seats), width="stretch")
    st.subheader("Cooperation over rounds")
    st.caption(f"Share of the rounds so far in which each seat played {labels[0]} (option 0, cooperation).")
    st.altair_chart(
        _lines(progress, "cooperation", "cooperation rate", seats, alt.Scale(domain=[0, 1])), width="stretch"
    )
    noise = view.of_kind("noise")
    if noise:
        st.caption(f"{len(noise)} moves flipped by noise (visible to the flipped seat only)")


def rounds_frame(rounds: Sequence[Event], players: list[str], labels: list[str]) -> pd.DataFrame:
    """One row per round and seat: the move, the cumulative score and the cooperation rate so far."""
    totals = {p: 0.0 for p in players}
    cooperated = {p: 0 for p in players}
    rows = []
    for n, e in enumerate(rounds, start=1):
        for p in players:
            move = e.payload["moves"][p]
            totals[p] += float(e.payload["payoffs"][p])
            cooperated[p] += move == labels[0]
            rows.append(
                {
                    "round": e.payload["round"],
                    "player": p,
                    "move": move,
                    "score": totals[p],
                    "cooperation": cooperated[p] / n,
                }
            )
    return pd.DataFrame(rows)


def move_strip(moves: pd.DataFrame, players: list[str], labels: list[str]) -> alt.LayerChart:
    """A cell per round and seat coloured by the move (option 0 and option 1 in distinct colours)."""
    strip = (
        alt.Chart(moves)
        .mark_rect(stroke="white")
        .encode(
            x="round:O",
            y=alt.Y("player:N", sort=players),
            color=alt.Color("move:N", scale=alt.Scale(domain=labels, range=list(MOVE_COLOURS))),
            tooltip=["round", "player", "move"],
        )
    )
    ink = alt.Scale(domain=labels, range=[text_colour(c) for c in MOVE_COLOURS])  # readable on each colour
    text = strip.mark_text(fontWeight="bold").encode(
        text="move:N", color=alt.Color("move:N", scale=ink, legend=None)
    )
    return (strip + text).resolve_scale(color="independent")


def _lines(
    frame: pd.DataFrame, column: str, title: str, seats: alt.Scale, scale: alt.Scale | None = None
) -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("round:Q", axis=alt.Axis(tickMinStep=1, format="d")),
            y=alt.Y(f"{column}:Q", title=title, scale=scale or alt.Undefined),
            color=alt.Color("player:N", title="seat", scale=seats),
            strokeDash=alt.StrokeDash("player:N", title="seat"),  # equal lines stay apart
            shape=alt.Shape("player:N", title="seat"),
            tooltip=["round", "player", column],
        )
    )
