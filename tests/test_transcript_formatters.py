"""Transcript formatters on hand-made events: failed stages, unknown notes, a world without a formatter,
a rationale whose action is not stored yet; none shows a raw dict."""

from __future__ import annotations

import re

from sim.transcript import Formatter, Transcript, text_lines, transcript
from sim.types import Event
from worlds.avalon.transcript import AvalonFormatter
from worlds.repeated.world import RepeatedGameWorld

RAW = re.compile(r"\{'|'\w+': |\bNone\b")


def test_failed_stages_and_unknown_notes_are_sections_not_dicts() -> None:
    rationale = Event(
        3,
        "vote",
        "rationale",
        {
            "text": None,
            "notes": {"failed_stages": {"belief": "Invalid JSON (after 3 tries)"}, "extra": {"a": 1}},
        },
        actor="p1",
        visible_to=("p1",),
    )
    vote = Event(
        4,
        "vote",
        "vote",
        {"votes": {"p0": "approve", "p1": "reject"}, "approved": False, "approvals": 1},
    )
    lines = list(text_lines(_shown(AvalonFormatter(None), [rationale, vote])))
    assert "        failed stages: belief: Invalid JSON (after 3 tries)" in lines
    assert "        extra: a: 1" in lines
    assert not any(RAW.search(line) for line in lines)


def test_a_world_without_a_formatter_gets_the_generic_one_with_readable_notes() -> None:
    rationale = Event(1, "play", "rationale", {"text": "because", "notes": {"guess": "C"}}, actor="p0")
    odd = Event(1, "play", "mystery", {"seen": {"p1": "evil"}}, actor="p0")
    lines = list(text_lines(_shown(Formatter(object()), [rationale, odd])))
    assert lines == [
        "-- turn 1",
        "   mystery p0 seen: p1: evil",
        "      p0's reasoning (private):",
        "        reasoning: because",
        "        guess: C",
    ]


def test_a_rationale_without_its_action_yet_is_still_shown() -> None:
    rationale = Event(5, "play", "rationale", {"text": None, "notes": {"prediction": "J"}}, actor="p0")
    entries = transcript(RepeatedGameWorld(), [rationale]).entries
    assert [(e.turn, e.title) for e in entries] == [(5, "p0 is deciding")]
    assert "the other plays J" in "\n".join(text_lines(transcript(RepeatedGameWorld(), [rationale])))


def _shown(formatter: Formatter, events: list[Event]) -> Transcript:
    return Transcript((), tuple(formatter.entries(events)))


def test_a_noise_flip_does_not_take_the_reasoning_of_the_round() -> None:
    rationale = Event(2, "play", "rationale", {"text": None, "notes": {"prediction": "C"}}, actor="p0")
    noise = Event(2, "play", "noise", {"intended": "C", "played": "D"}, actor="p0", visible_to=("p0",))
    rnd = Event(
        2, "play", "round", {"round": 2, "moves": {"p0": "D", "p1": "C"}, "payoffs": {"p0": 5, "p1": 0}}
    )
    entries = transcript(RepeatedGameWorld(), [rationale, noise, rnd]).entries
    assert [(e.kind, len(e.reasoning)) for e in entries] == [("noise", 0), ("round", 1)]
    assert "the other plays C (it played C: right)" in "\n".join(text_lines(Transcript((), entries)))
