"""Viewer renderer of ``social/avalon-v1``: quest track (coloured by result), vote track, proposals and
votes, each seat's speeches, and the roles (omniscient view, or once the game ends)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from sim.viewer.renderers import RESULT_COLOURS, EpisodeView, text_colour
from worlds.avalon.text import role_title


def render(view: EpisodeView) -> None:
    """Draw the game so far as the chosen seat saw it."""
    start = next((e.payload for e in view.of_kind("start")), None)
    if start is None:
        return
    players = start["players"]
    quests = {e.payload["quest"]: e.payload for e in view.of_kind("quest")}
    st.subheader("Quests")
    st.altair_chart(quest_track(quest_rows(start, quests)), width="stretch")
    for i, result in sorted(quests.items()):
        st.caption(f"Quest {i}: {', '.join(result['team'])} · {result['fails']} fail card(s)")
    votes = view.of_kind("vote")
    rejections = votes[-1].payload["rejections"] if votes and not votes[-1].payload["approved"] else 0
    st.progress(rejections / 5, text=f"vote track: {rejections} of 5 rejected teams in this quest")
    if votes:
        st.subheader("Proposals and votes")
        rows = []
        for e in votes:
            p = e.payload
            row = {
                "quest": p["quest"],
                "try": p["attempt"],
                "leader": p["leader"],
                "team": ", ".join(p["team"]),
            }
            row.update({s: "✓" if v == "approve" else "✗" for s, v in p["votes"].items()})
            row["result"] = ("approved (auto)" if p["auto"] else "approved") if p["approved"] else "rejected"
            rows.append(row)
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    speeches = view.of_kind("speech", "confer")
    if speeches:
        st.subheader("What each seat said")
        for seat in players:
            lines = [e for e in speeches if e.payload["player"] == seat]
            if not lines:
                continue
            with st.expander(f"{seat} ({len(lines)} speeches)"):
                for e in lines:
                    where = (
                        "to evil"
                        if e.kind == "confer"
                        else f"quest {e.payload['quest']}.{e.payload['attempt']}"
                    )
                    st.markdown(f"*{where}:* {e.payload['text']}")
    _roles(view, players)


def quest_rows(start: Mapping[str, Any], quests: Mapping[int, Mapping[str, Any]]) -> pd.DataFrame:
    """One row per quest: its size, the fails it needs, and its result so far (success, fail, not played)."""
    rows = []
    for i, (size, fails) in enumerate(zip(start["quest_sizes"], start["fails_required"], strict=True), 1):
        played = quests.get(i)
        result = "not played" if played is None else ("success" if played["success"] else "fail")
        needs = f"{size} players" + (", 2 fails" if fails == 2 else "")
        rows.append(
            {
                "quest": f"Quest {i}",
                "result": result,
                "needs": needs,
                "text": f"Quest {i}\n{result} · {needs}",
            }
        )
    return pd.DataFrame(rows)


def quest_track(rows: pd.DataFrame) -> alt.LayerChart:
    """The five quests as tiles coloured by result (colour-blind safe: bluish green success, vermillion
    fail, grey not played yet), each with its result written on it."""
    colours = alt.Scale(domain=list(RESULT_COLOURS), range=list(RESULT_COLOURS.values()))
    base = alt.Chart(rows).encode(x=alt.X("quest:N", sort=None, axis=None))
    tiles = base.mark_rect(stroke="white", strokeWidth=3).encode(
        color=alt.Color("result:N", scale=colours, legend=None), tooltip=["quest", "result", "needs"]
    )
    ink = alt.Scale(domain=list(RESULT_COLOURS), range=[text_colour(c) for c in RESULT_COLOURS.values()])
    text = base.mark_text(fontWeight="bold", lineBreak="\n").encode(
        text="text:N", color=alt.Color("result:N", scale=ink, legend=None)
    )
    return (tiles + text).resolve_scale(color="independent").properties(height=72)


def _roles(view: EpisodeView, players: list[str]) -> None:
    end = next((e.payload for e in view.of_kind("end")), None)
    setup = next((e.payload for e in view.of_kind("setup")), None)  # only in the omniscient view
    roles = (end or {}).get("roles") or (setup or {}).get("roles")
    if roles:
        st.subheader("Roles" + ("" if end else " (hidden from the seats)"))
        winners = set((end or {}).get("winners", ()))
        table = pd.DataFrame(
            [
                {
                    "seat": p,
                    "role": role_title(roles[p]),
                    "won": ("yes" if p in winners else "no") if end else "",
                }
                for p in players
            ]
        )
        st.dataframe(table, hide_index=True, width="stretch")
        if end:
            st.success(f"{end['winner']} wins: {end['reason'].replace('_', ' ')}")
        return
    night = next((e.payload for e in view.of_kind("night") if e.actor == view.seat), None)
    if night is not None:
        known = ", ".join(f"{p}: {tag}" for p, tag in night["known"].items()) or "nothing"
        st.info(f"{view.seat} is {role_title(night['role'])} ({night['side']}) and knows {known}.")
