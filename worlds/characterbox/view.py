"""Viewer renderer of ``roleplay/characterbox-v1``: the scenes as a screenplay (headings, each
character's action and speech in its colour, the narrator's influence lines and rulings, rejected
rulings with their errors, round summaries, deaths, leaves, how each scene ended), each character's
position and state over the rounds, and the judge's scores per character and for the narrator as a
chart beside its critiques. One colour per character across the page (seat order, Okabe-Ito). A
character seat's view draws only what that seat saw (its own state, never another's goal, secret or
state) and only its own judge scores; the narrator's seat sees every ruling.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from itertools import groupby

import altair as alt
import pandas as pd
import streamlit as st

from sim.store.reader import StoreReader
from sim.viewer.renderers import EpisodeView
from worlds.characterbox.view_data import (
    NARRATOR,
    Cast,
    Line,
    evaluate_hint,
    judge_critiques,
    judge_scores,
    screenplay,
    state_table,
    stored_profiles,
)

REJECTED = "#D55E00"  # Okabe-Ito vermillion: a rejected ruling
MARKS = {
    "action": "",
    "reaction": "↳ ",
    "influence": "→ ",
    "verdict": "⚖ ",
    "outcome": "",
    "state": "",
    "death": "✝ ",
    "leave": "⇥ ",
    "summary": "",
    "premise": "",
}


def render(view: EpisodeView) -> None:
    """Draw the screenplay, the state over rounds and the judge's scores as the chosen seat saw them."""
    cast = Cast.of(view.seats, view.events)
    colours = cast.colours()
    if view.seat is not None:
        who = NARRATOR if view.seat == cast.narrator else cast.character_of.get(view.seat, view.seat)
        st.info(f"As {view.seat} ({who}) saw it: only the events this seat observed.")
    st.subheader("Screenplay")
    st.markdown(legend_html(cast, colours), unsafe_allow_html=True)
    lines = screenplay(view.events)
    with st.container(height=640):
        st.markdown(screenplay_html(lines, colours), unsafe_allow_html=True)
    _states(view, cast, colours, view.reader)
    _judge(view, cast, colours, view.reader)


def legend_html(cast: Cast, colours: Mapping[str, str]) -> str:
    """Each character's colour, then the narrator's."""
    return " · ".join(_name(n, colours) for n in (*cast.characters, NARRATOR))


def _name(who: str, colours: Mapping[str, str]) -> str:
    colour = colours.get(who, "#333333")
    return f'<span style="color:{colour}">●</span> <b style="color:{colour}">{html.escape(who)}</b>'


def screenplay_html(lines: Sequence[Line], colours: Mapping[str, str]) -> str:
    """The lines as HTML: a heading per scene, a round label per round, each line marked with the colour
    of who did it (text escaped: a model's words are shown literally)."""
    out: list[str] = []
    for (scene, rnd), group in groupby(lines, key=lambda line: (line.scene, line.round)):
        if rnd:
            out.append(f"<p style='margin:10px 0 2px'><b>Round {rnd}</b></p>")
        for line in group:
            out.append(_line_html(line, colours, scene))
    return "\n".join(out)


def _line_html(line: Line, colours: Mapping[str, str], scene: int) -> str:
    text = html.escape(line.text)
    if line.kind == "heading":
        description = html.escape(str(line.detail.get("description", "")))
        return f"<h4 style='margin:12px 0 2px'>SCENE {scene}: {text}</h4><p><i>{description}</i></p>"
    if line.kind == "scene_end":
        return f"<p style='text-align:right'><b>{text.upper()}</b></p>"
    colour = REJECTED if not line.valid else colours.get(line.who, "#333333")
    body = f"{MARKS.get(line.kind, '')}{text}"
    speech = str(line.detail.get("speech") or "") if line.kind in ("action", "reaction") else ""
    if speech:
        body += f"<br>&ldquo;{html.escape(speech)}&rdquo;"
    if line.kind == "premise":
        body = f"<i>premise: {text}</i>"
    elif line.kind == "summary":
        body = f"<i>summary: {text}</i>"
    elif line.kind in ("death", "leave"):
        body = f"<b>{body}</b>"
    return (
        f'<div style="border-left:6px solid {colour};padding:2px 8px;margin:3px 0">'
        f"{_name(line.who, colours)} {body}</div>"
    )


def _states(view: EpisodeView, cast: Cast, colours: Mapping[str, str], reader: StoreReader | None) -> None:
    profiles = None
    if view.seat is not None and reader is not None:  # a seat's observation showed its own profile
        profiles = stored_profiles(reader, int(view.episode["id"]))
    table = state_table(view.events, cast, view.seat, profiles)
    if table.empty:
        return
    st.subheader("Characters over rounds")
    if view.seat is not None and view.seat != cast.narrator:
        st.caption("Only this character's own position and state; of the others only whether they live.")
    st.altair_chart(alive_chart(table, cast, colours), width="stretch")
    st.dataframe(table, hide_index=True, width="stretch")


def alive_chart(table: pd.DataFrame, cast: Cast, colours: Mapping[str, str]) -> alt.Chart:
    """A grid of (scene, round) by character: a filled mark while alive, a cross once dead."""
    rows = table.assign(step=[f"{s}.{r}" for s, r in zip(table["scene"], table["round"], strict=True)])
    rows = rows.assign(status=["alive" if a else "dead" for a in rows["alive"]]).fillna("")
    names = list(cast.characters)
    scale = alt.Scale(domain=names, range=[colours[n] for n in names])
    tooltip = [c for c in rows.columns if c not in ("step", "status")]
    return (
        alt.Chart(rows)
        .mark_point(filled=True, size=220)
        .encode(
            x=alt.X("step:N", sort=list(dict.fromkeys(rows["step"])), title="scene.round"),
            y=alt.Y("character:N", sort=names, title=None),
            color=alt.Color("character:N", scale=scale, legend=None),
            shape=alt.Shape(
                "status:N", scale=alt.Scale(domain=["alive", "dead"], range=["circle", "cross"]), title=None
            ),
            tooltip=tooltip,
        )
        .properties(height=alt.Step(34))
    )


def _judge(view: EpisodeView, cast: Cast, colours: Mapping[str, str], reader: StoreReader | None) -> None:
    st.subheader("Evaluation")
    episode_id = int(view.episode["id"])
    scores = pd.DataFrame()
    critiques: dict[str, str | None] = {}
    if reader is not None:
        scores = judge_scores(reader, episode_id, cast)
        critiques = judge_critiques(reader, episode_id) if len(scores) else {}
    if view.seat is not None and view.seat != cast.narrator:
        scores = scores[scores["seat"] == view.seat] if len(scores) else scores
        critiques = {s: c for s, c in critiques.items() if s == view.seat}
    if scores.empty:
        st.info("No judge scores for this episode. Score it with the CharacterBox judge:")
        st.code(evaluate_hint(episode_id, reader.path if reader else None), language="bash")
        return
    left, right = st.columns([3, 2])
    with left:
        st.altair_chart(score_chart(scores, cast, colours), width="stretch")
        st.caption("1-5 per dimension; a missing bar is a score the judge never gave validly (NULL)")
    with right:
        for seat, group in scores.groupby("seat", sort=False):
            who = str(group["who"].iloc[0])
            st.markdown(
                _name(who, colours) + f" <small>({html.escape(str(seat))})</small>", unsafe_allow_html=True
            )
            st.markdown(html.escape(critiques.get(str(seat)) or "(no critique)"))


def score_chart(scores: pd.DataFrame, cast: Cast, colours: Mapping[str, str]) -> alt.Chart:
    """One bar group per judged character (and the narrator) over the rubric's dimensions."""
    order = [w for w in (*cast.characters, NARRATOR) if w in set(scores["who"])]
    scale = alt.Scale(domain=order, range=[colours.get(w, "#333333") for w in order])
    return (
        alt.Chart(scores.dropna(subset=["score"]))
        .mark_bar()
        .encode(
            x=alt.X(
                "dimension:N",
                sort=list(dict.fromkeys(scores["dimension"])),
                title=None,
                axis=alt.Axis(labelAngle=-35, labelLimit=180),
            ),
            xOffset=alt.XOffset("who:N", sort=order),
            y=alt.Y("score:Q", scale=alt.Scale(domain=[0, 5]), title="score"),
            color=alt.Color("who:N", scale=scale, sort=order, title="judged"),
            tooltip=["who", "dimension", "score"],
        )
        .properties(height=320)
    )
