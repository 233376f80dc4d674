"""Viewer renderer of ``social/avalon-v1``: quest track, vote track, proposals and votes, each seat's
speeches, and the roles (omniscient view, or once the game ends)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from sim.viewer.renderers import EpisodeView
from worlds.avalon.text import role_title


def render(view: EpisodeView) -> None:
    """Draw the game so far as the chosen seat saw it."""
    start = next((e.payload for e in view.of_kind("start")), None)
    if start is None:
        return
    players = start["players"]
    quests = {e.payload["quest"]: e.payload for e in view.of_kind("quest")}
    st.subheader("Quests")
    cols = st.columns(len(start["quest_sizes"]))
    for i, (col, size, fails) in enumerate(
        zip(cols, start["quest_sizes"], start["fails_required"], strict=True)
    ):
        result = quests.get(i + 1)
        mark = "-" if result is None else ("success" if result["success"] else "fail")
        col.metric(
            f"Quest {i + 1}", mark, f"{size} players" + (", 2 fails" if fails == 2 else ""), delta_color="off"
        )
        if result is not None:
            col.caption(f"{', '.join(result['team'])}: {result['fails']} fail card(s)")
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
