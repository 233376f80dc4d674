"""Viewer renderer of ``social/among_us-v1``: the map at the selected turn (rooms, solid corridors, dashed
vents, each player where the view knows it, bodies, the turn's walks, vents and kills), task progress,
and the meetings as a chat with the vote table and the ejection. One colour per seat across the map,
the task bars, the chat and the vote tables. A seat's view shows only what that seat saw, and nothing
new after its death (see :mod:`worlds.among_us.view_data`); the deal, every crewmate's tasks, the total
task bar and the suspicion surveys are only in the omniscient view."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from sim.types import Event
from sim.viewer.renderers import OKABE_ITO, EpisodeView, player_colours, text_colour
from sim.viewer.transcript_view import escape
from worlds.among_us.records import SKIP, Role
from worlds.among_us.view_data import (
    Game,
    MeetingRecord,
    death_turn,
    map_frames,
    meeting_records,
    positions,
    survey_table,
    task_bars,
    task_table,
    turn_kills,
    turn_moves,
    until_death,
    vote_table,
)

ROOM_FILL, ROOM_LINE, CORRIDOR, VENT = "#F2F2F2", "#888888", "#BBBBBB", "#666666"
KILL = OKABE_ITO["vermillion"]
MARKERS = {"crewmate": "circle", "impostor": "diamond", "body": "cross", "ghost": "circle"}
MAP_HEIGHT = 440
TURN_KINDS = ("move", "vent", "appear", "kill", "meeting", "eject")  # listed under the map for its turn
PLAYER_LEGEND = alt.Legend(title="player", orient="right")  # every layer's: one legend, always all seats


def render(view: EpisodeView) -> None:
    """Draw the game up to the selected turn as the chosen seat saw it."""
    game = Game.of(view.events)
    if game is None:
        return
    events = until_death(view.events, view.seat)
    colours = player_colours(game.players)
    if view.seat is not None:
        died = death_turn(events, view.seat)
        if died is not None:
            st.info(f"{view.seat} died at turn {died}: its view stops there.")
    roles = _roles(events)
    title = "Map" if view.seat is None else f"Map as {view.seat} saw it"
    st.subheader(f"{title} (turn {view.turn})")
    if view.seat is not None:
        st.caption(f"{view.seat}, the players it saw in its room, and the bodies it saw (until a meeting)")
    frame = positions(events, view.seat, game)
    st.altair_chart(map_chart(game, frame, events, view.turn, colours, roles), width="stretch")
    st.caption(
        "solid lines: corridors · dashed: vents · ● player"
        + (" · ◆ impostor" if roles else "")
        + " · ✕ body · thick lines: this turn's walks (solid) and vents (dashed) · red ring: a kill"
    )
    happened = [view.describe(e) for e in events if e.turn == view.turn and e.kind in TURN_KINDS]
    if happened:
        st.markdown("  \n".join(escape(line) for line in happened))
    _tasks(view, game, events, colours)
    _meetings(view, game, events, colours)
    end = next((e.payload for e in events if e.kind == "end"), None)
    if end is not None:
        winner = {Role.IMPOSTOR.value: "the impostors", Role.CREWMATE.value: "the crew"}.get(end["winner"])
        st.success(f"{winner or 'nobody'} won ({end['reason'].replace('_', ' ')}) after {end['clock']} turns")


def _roles(events: Sequence[Event]) -> dict[str, str]:
    """Each seat's role when the view knows every one: the deal (omniscient) or the end."""
    for kind in ("setup", "end"):
        found = next((e.payload for e in events if e.kind == kind), None)
        if found is not None:
            return dict(found["roles"])
    return {}


def map_chart(
    game: Game,
    frame: pd.DataFrame,
    events: Sequence[Event],
    turn: int,
    colours: Mapping[str, str],
    roles: Mapping[str, str],
) -> alt.LayerChart:
    """The map with the view's positions and the turn's walks, vents and kills."""
    frames = map_frames(game.map, game.layout)
    xs = [x for x, _ in game.layout.values()]
    ys = [y for _, y in game.layout.values()]
    x = alt.X("x:Q", axis=None, scale=alt.Scale(domain=[min(xs) - 1, max(xs) + 1], nice=False))
    y = alt.Y("y:Q", axis=None, scale=alt.Scale(domain=[min(ys) - 1, max(ys) + 1], nice=False))
    seat = alt.Scale(domain=list(game.players), range=[colours[p] for p in game.players])
    layers: list[alt.Chart] = [
        alt.Chart(frames["corridors"])
        .mark_rule(color=CORRIDOR, strokeWidth=3)
        .encode(x, y, x2="x2", y2="y2"),
        alt.Chart(frames["vents"])
        .mark_rule(color=VENT, strokeWidth=1.5, strokeDash=[5, 4])
        .encode(x, y, x2="x2", y2="y2"),
        alt.Chart(frames["rooms"])
        .mark_circle(size=1500, color=ROOM_FILL, stroke=ROOM_LINE, strokeWidth=1, opacity=1)
        .encode(x, y, tooltip=["room", "tasks", "special"]),
        alt.Chart(frames["rooms"]).mark_text(dy=-28, fontSize=11, color="#333333").encode(x, y, text="room"),
    ]
    moves = turn_moves(events, turn, game.layout)
    if len(moves):
        layers.append(
            alt.Chart(moves)
            .mark_rule(strokeWidth=4, opacity=0.8)
            .encode(
                x,
                y,
                x2="x2",
                y2="y2",
                color=alt.Color("player:N", scale=seat, legend=PLAYER_LEGEND),
                strokeDash=alt.StrokeDash(
                    "kind:N", scale=alt.Scale(domain=["move", "vent"], range=[[1, 0], [6, 4]]), legend=None
                ),
                tooltip=["player", "kind", "from", "to"],
            )
        )
    kills = pd.DataFrame(
        [
            {"room": k["room"], "x": game.layout[k["room"]][0], "y": game.layout[k["room"]][1]}
            | {"kill": f"{k['killer']} kills {k['victim']}"}
            for k in turn_kills(events, turn)
        ],
        columns=["room", "x", "y", "kill"],
    )
    if len(kills):
        layers.append(
            alt.Chart(kills)
            .mark_point(shape="circle", size=3200, filled=False, color=KILL, strokeWidth=3)
            .encode(x, y, tooltip=["kill"])
        )
    if len(frame):
        shown = frame.assign(
            marker=[
                status if status != "alive" else roles.get(p, "crewmate")
                for p, status in zip(frame["player"], frame["status"], strict=True)
            ]
        )
        markers = alt.Scale(domain=list(MARKERS), range=list(MARKERS.values()))
        layers += [
            alt.Chart(shown)
            .mark_point(filled=True, size=240, stroke="white", strokeWidth=1)
            .encode(
                x,
                y,
                color=alt.Color("player:N", scale=seat, legend=PLAYER_LEGEND),
                shape=alt.Shape("marker:N", scale=markers, legend=None),
                opacity=alt.condition(alt.datum.status == "ghost", alt.value(0.35), alt.value(1.0)),
                angle=alt.condition(alt.datum.status == "body", alt.value(45), alt.value(0)),  # + as ✕
                tooltip=["player", "room", "status"],
            ),
            alt.Chart(shown).mark_text(dy=15, fontSize=9, color="#333333").encode(x, y, text="player"),
        ]
    return alt.LayerChart(layer=layers, height=MAP_HEIGHT)


def task_chart(bars: pd.DataFrame, game: Game, colours: Mapping[str, str]) -> alt.LayerChart:
    """One bar per crewmate: the share of its task turns done, in its colour."""
    seat = alt.Scale(domain=list(game.players), range=[colours[p] for p in game.players])
    rows = bars.assign(label=[f"{d}/{t}" for d, t in zip(bars["done"], bars["turns"], strict=True)])
    base = alt.Chart(rows).encode(y=alt.Y("player:N", sort=list(rows["player"]), title=None))
    done = base.mark_bar().encode(
        x=alt.X("progress:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%", title="tasks done")),
        color=alt.Color("player:N", scale=seat, legend=None),
        tooltip=["player", "done", "turns"],
    )
    text = base.mark_text(align="left", dx=4).encode(x="progress:Q", text="label:N")
    return alt.LayerChart(layer=[done, text], height=alt.Step(28))


def _tasks(view: EpisodeView, game: Game, events: Sequence[Event], colours: Mapping[str, str]) -> None:
    tasks = task_table(events, view.seat, game)
    if view.seat is not None and not len(tasks):
        role = next((e.payload for e in events if e.kind == "role" and e.actor == view.seat), None)
        if role is not None and role["role"] == Role.IMPOSTOR:
            st.subheader("Tasks")
            st.caption(f"{view.seat} is an impostor; fake tasks for alibis: {', '.join(role['fake_tasks'])}")
        return
    if not len(tasks):
        return
    st.subheader("Tasks" if view.seat is None else f"{view.seat}'s tasks")
    bars = task_bars(tasks, game.players)
    if view.seat is None:
        done, need = int(bars["done"].sum()), int(bars["turns"].sum())
        st.progress(done / need if need else 1.0, text=f"all crew tasks: {done} of {need} task turns done")
        st.caption("No seat sees the total: it is shown only in the omniscient view.")
    st.altair_chart(task_chart(bars, game, colours), width="stretch")
    if view.seat is not None:
        st.dataframe(tasks.drop(columns="player"), hide_index=True, width="stretch")


def _meetings(view: EpisodeView, game: Game, events: Sequence[Event], colours: Mapping[str, str]) -> None:
    meetings = meeting_records(events)
    if not meetings:
        return
    st.subheader("Meetings")
    confirm = bool(game.rules.get("confirm_ejects"))
    for m in meetings:
        why = (
            f"reported {m.body}'s body in {m.room}" if m.call == "report" else "pressed the emergency button"
        )
        with st.expander(f"Meeting {m.number} (turn {m.turn}): {m.caller} {why}", expanded=m is meetings[-1]):
            st.markdown(chat_html(m, colours), unsafe_allow_html=True)
            if m.vote is not None:
                st.dataframe(styled_votes(vote_table(m.vote), colours), hide_index=True)
                st.caption("tally: " + ", ".join(f"{t}: {c}" for t, c in m.vote["tally"].items()))
                _ejection(m, confirm)
            if view.seat is None and m.surveys:
                st.caption("Who each seat found most suspicious (the survey; no seat sees it)")
                st.dataframe(survey_table(m, game.players), hide_index=True)


def _ejection(m: MeetingRecord, confirm: bool) -> None:
    if m.eject is None:
        st.caption("nobody was ejected (a tie, or skip at or tied for the top)")
        return
    role = m.eject.get("role")
    said = f": {'an impostor' if role == Role.IMPOSTOR else 'a crewmate'}" if confirm and role else ""
    st.warning(f"{m.eject['player']} was ejected{said}")


def _dot(player: str, colours: Mapping[str, str]) -> str:
    return f'<span style="color:{colours.get(player, "#333333")}">●</span> <b>{html.escape(player)}</b>'


def chat_html(m: MeetingRecord, colours: Mapping[str, str]) -> str:
    """The meeting as a chat: who called it and why, the dead, then each speech marked in the speaker's
    colour (text escaped: a model's message is shown literally)."""
    dead = ", ".join(m.dead) or "nobody new"
    lines = [
        f"{_dot(m.caller, colours)} called the meeting ({html.escape(m.call)}); dead: {html.escape(dead)}"
    ]
    for s in m.speeches:
        colour = colours.get(s["player"], "#333333")
        said = escape(html.escape(str(s["text"]))) or "<i>(said nothing)</i>"
        lines.append(
            f'<div style="border-left:6px solid {colour};padding:2px 8px;margin:4px 0">'
            f"{_dot(s['player'], colours)} <small>round {s['round']}</small><br>{said}</div>"
        )
    return "\n".join(lines)


def styled_votes(votes: pd.DataFrame, colours: Mapping[str, str]) -> Any:
    """The ballots with voter and target cells in their seat's colour (``skip`` uncoloured)."""

    def paint(value: str) -> str:
        if value == SKIP or value not in colours:
            return ""
        return f"background-color: {colours[value]}; color: {text_colour(colours[value])}"

    return votes.style.map(paint)
