"""The viewer's transcript: the world's formatter's entries (:mod:`sim.transcript`) drawn compactly.

Events are lines coloured by seat (by side in the omniscient view, when the world says), each seat's
private reasoning sits in a collapsed expander right under the action it explains, and the speeches
appear once more as a chronological chat. Both scroll in fixed-height boxes; raw payloads stay in
the Events tab.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import streamlit as st

from sim.transcript import SIDE_COLOURS, Section, Transcript, TranscriptEntry, chat_entries, seat_colours
from sim.types import PlayerId

MAX_ENTRIES = 600  # the end of a long episode's transcript
_SPECIAL = re.compile(r"([\\`*\[\]$])")


def escape(text: str) -> str:
    """Text shown literally in Streamlit markdown (no emphasis, links or LaTeX from a model's answer)."""
    return _SPECIAL.sub(r"\\\1", text)


def render_transcript(shown: Transcript, seats: Sequence[PlayerId]) -> None:
    """The transcript and, if anyone spoke, the chat."""
    palette = seat_colours(seats, shown.sides)
    entries = shown.entries[-MAX_ENTRIES:]
    st.subheader("Transcript")
    if len(entries) < len(shown.entries):
        st.caption(f"the last {len(entries)} of {len(shown.entries)} entries")
    if shown.sides:
        st.caption("colours: " + " · ".join(f":{c}[{side}]" for side, c in SIDE_COLOURS.items()))
    with st.container(height=480):
        lines: list[str] = []
        turn = None
        for entry in entries:
            if entry.turn != turn:
                turn = entry.turn
                lines.append(f"**-- turn {turn}**")
            lines.append(entry_markdown(entry, palette))
            if entry.sections or entry.reasoning:
                st.markdown("  \n".join(lines))
                lines = []
                _details(entry, palette)
        if lines:
            st.markdown("  \n".join(lines))
    chat = chat_entries(Transcript(shown.header, entries, shown.sides))
    if chat:
        st.subheader("Chat")
        with st.container(height=320):
            st.markdown("  \n".join(chat_markdown(e, palette) for e in chat))


def entry_markdown(entry: TranscriptEntry, palette: Mapping[PlayerId, str]) -> str:
    """One entry as a markdown line, coloured by its seat; a private one with its visibility note."""
    title = escape(entry.title)
    colour = palette.get(entry.seat or "")
    line = f":{colour}[{title}]" if colour else title
    note = entry.visibility_note
    return f"{line} :gray[{note}]" if note else line


def chat_markdown(entry: TranscriptEntry, palette: Mapping[PlayerId, str]) -> str:
    """A speech as a chat line: the seat as a coloured badge, then what it said."""
    seat = entry.seat or "?"
    audience = f" :gray[({entry.audience})]" if entry.audience else ""
    return f":{palette.get(seat, 'gray')}-badge[{seat}]{audience} {escape(entry.speech or '')}"


def _details(entry: TranscriptEntry, palette: Mapping[PlayerId, str]) -> None:
    for section in entry.sections:
        st.markdown(section_markdown(section))
    for reasoning in entry.reasoning:
        with st.expander(f"{reasoning.seat}'s reasoning (private)", icon=":material/psychology:"):
            st.markdown("\n\n".join(section_markdown(s) for s in reasoning.sections) or "nothing noted")


def section_markdown(section: Section) -> str:
    """A labelled section: bold label and its text, then its table."""
    head = f"**{escape(section.label)}**" + (f": {escape(section.text)}" if section.text else "")
    if not section.table:
        return head
    columns = list(section.table[0])
    rows = [
        "| " + " | ".join(_cell(c) for c in columns) + " |",
        "|" + "---|" * len(columns),
        *("| " + " | ".join(_cell(str(r.get(c, ""))) for c in columns) + " |" for r in section.table),
    ]
    return head + "\n\n" + "\n".join(rows)


def _cell(text: str) -> str:
    return escape(text).replace("|", "\\|").replace("\n", " ")
