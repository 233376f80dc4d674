"""A readable turn-by-turn transcript of a stored episode, shared by ``sim replay`` and the viewer.

A world shapes its transcript with a :class:`Formatter` subclass, exported as ``formatter`` by the
``transcript`` module next to its world module (``worlds/avalon/transcript.py``); a world without one
gets the generic formatter: one entry per event, described by the world's ``describe_event``. Either way each
private ``rationale`` event is placed with the action it explains (the seat's next event, or the next
event of the whole table such as a vote or a round), its payload spelled out as labelled sections,
never as a raw dict. Events are filtered by visibility *before* formatting, so a seat's view never
holds what that seat could not see.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sim import registry
from sim.store.reader import StoreReader
from sim.types import ALL, Event, PlayerId, Visibility

RATIONALE = "rationale"
SEAT_COLOURS = ("blue", "orange", "green", "violet", "gray")  # no red: in the omniscient view it means evil
SIDE_COLOURS = {"good": "blue", "evil": "red"}


@dataclass(frozen=True)
class Section:
    """A labelled part of an entry: text (may be several lines) and/or a small table (rows of cells)."""

    label: str
    text: str = ""
    table: tuple[Mapping[str, str], ...] = ()


@dataclass(frozen=True)
class Reasoning:
    """One seat's private reasoning for an action, as labelled sections."""

    seat: PlayerId
    sections: tuple[Section, ...]


@dataclass(frozen=True)
class TranscriptEntry:
    """One event as the transcript shows it, with the reasoning behind it (if the viewer may see it)."""

    turn: int
    seat: PlayerId | None  # who acted or spoke; None: the world (a deal, a vote result, a round)
    kind: str
    title: str  # one line
    visible_to: Visibility = ALL
    speech: str | None = None  # said aloud: shown in the chat view
    audience: str = ""  # a speech heard by some seats only ("to evil")
    sections: tuple[Section, ...] = ()
    reasoning: tuple[Reasoning, ...] = ()

    @property
    def visibility_note(self) -> str:
        """``(visible to: p0)`` for a private event, empty for a public one."""
        return "" if self.visible_to == ALL else f"(visible to: {', '.join(self.visible_to) or 'nobody'})"


@dataclass(frozen=True)
class Transcript:
    """An episode's header lines, its entries in order, and each seat's side when the viewer knows it."""

    header: tuple[str, ...]
    entries: tuple[TranscriptEntry, ...]
    sides: Mapping[PlayerId, str] = field(default_factory=dict)
    seats: tuple[PlayerId, ...] = ()


class Formatter:
    """The generic transcript of a world: override ``entry``, ``reasoning`` and ``sides`` to shape it."""

    def __init__(self, world: object = None):
        self.world = world

    def describe(self, event: Event) -> str:
        """The world's line for the event, or a plain one if the world cannot describe it (the engine's
        own ``rejected`` and ``invalid`` events are always spelled out here)."""
        if event.kind in ("rejected", "invalid"):
            return plain_line(event)
        return self.world_line(event)

    def world_line(self, event: Event) -> str:
        """The world's own line for one of its events."""
        return describe(self.world, event)

    def entry(self, event: Event) -> TranscriptEntry:
        """The event as an entry (not called for rationales)."""
        return TranscriptEntry(event.turn, event.actor, event.kind, self.describe(event), event.visible_to)

    def reasoning(self, rationale: Event, action: Event | None) -> tuple[Section, ...]:
        """A rationale's payload as sections; ``action`` is the event it explains (None: not yet played)."""
        return generic_reasoning(rationale.payload)

    def sides(self, events: Sequence[Event]) -> Mapping[PlayerId, str]:
        """Each seat's side if the events reveal it (the omniscient view), else nothing."""
        return {}

    def explains(self, event: Event) -> bool:
        """Whether a seat's own ``event`` is the action its pending rationale explains (else the
        rationale waits for the seat's next event, or the next table-wide one)."""
        return event.kind not in ("rejected", "invalid")

    def entries(self, events: Iterable[Event]) -> Iterator[TranscriptEntry]:
        """Every event as an entry, each rationale attached to the action it explains."""
        pending: dict[PlayerId, Event] = {}
        for event in events:
            if event.kind == RATIONALE and event.actor is not None:
                pending[event.actor] = event
                continue
            mine = [pending.pop(event.actor)] if event.actor in pending and self.explains(event) else []
            if event.actor is None:
                mine = [pending[s] for s in sorted(pending, key=seat_order)]  # a table-wide event: a vote
                pending = {}
            entry = self.entry(event)
            if mine:
                explained = tuple(Reasoning(str(r.actor), self.reasoning(r, event)) for r in mine)
                entry = replace(entry, reasoning=entry.reasoning + explained)
            yield entry
        for seat, rationale in pending.items():  # decided, but the action is not stored yet
            yield TranscriptEntry(
                rationale.turn,
                seat,
                RATIONALE,
                f"{seat} is deciding",
                rationale.visible_to,
                reasoning=(Reasoning(seat, self.reasoning(rationale, None)),),
            )


def formatter_for(world: object) -> Formatter:
    """The world's formatter (``formatter(world)`` from the ``transcript`` module beside its world
    module), else the generic one."""
    if world is not None:
        package = type(world).__module__.rpartition(".")[0]
        name = f"{package}.transcript" if package else "transcript"
        if package and importlib.util.find_spec(name) is not None:
            hook = getattr(importlib.import_module(name), "formatter", None)
            made = hook(world) if callable(hook) else None
            if isinstance(made, Formatter):
                return made
    return Formatter(world)


def transcript(world: object, events: Sequence[Event], header: Sequence[str] = ()) -> Transcript:
    """The transcript of ``events`` (already filtered to what the viewer may see)."""
    formatter = formatter_for(world)
    return Transcript(tuple(header), tuple(formatter.entries(events)), formatter.sides(events))


def episode_transcript(db: Path, episode_id: int, seat: str | None = None) -> Transcript:
    """The stored episode's transcript; with ``seat``, only what that seat could see (an unknown seat
    is a :class:`LookupError` naming the episode's seats)."""
    reader = StoreReader(db)
    episode = reader.episode(episode_id)
    seats = reader.seats(episode_id)
    ids = [str(p) for p in seats["player_id"]]
    if seat is not None and seat not in ids:
        raise LookupError(
            f"episode {episode_id} has no seat {seat!r}; its seats are {', '.join(ids) or 'none'}"
        )
    events = [e for e in reader.event_objects(episode_id) if seat is None or e.visible(seat)]
    shown = transcript(world_of(reader, episode), events, header_lines(episode, seats, seat))
    return replace(shown, seats=tuple(ids))


def header_lines(episode: Mapping[str, Any], seats: Any, seat: str | None) -> list[str]:
    """The episode and its seats; a seat's view names only that seat's own label (labels can name roles)."""
    world, status = episode["world_id"], episode["status"]
    if seat is None:
        lines = [f"episode {episode['id']} ({world}, status {status}): {episode['matchup']}"]
    else:
        lines = [f"episode {episode['id']} ({world}, status {status}) as seen by {seat}"]
    for row in seats.itertuples():
        score = "" if row.score is None or row.score != row.score else f"  score {row.score:g}"
        who = f"{row.label} [{row.agent}]" if seat in (None, row.player_id) else "another seat"
        lines.append(f"  {row.player_id}: {who}{score}")
    return lines


def transcript_lines(db: Path, episode_id: int, seat: str | None = None) -> Iterator[str]:
    """Lines describing the episode; with ``seat``, only events that seat could see."""
    yield from text_lines(episode_transcript(db, episode_id, seat))


def text_lines(shown: Transcript) -> Iterator[str]:
    """The transcript as plain text: a ``-- turn N`` line whenever the turn changes, one line per entry
    and its reasoning indented below it."""
    yield from shown.header
    yield from entry_lines(shown.entries)


def entry_lines(entries: Iterable[TranscriptEntry]) -> Iterator[str]:
    """Entries as text lines (see :func:`text_lines`)."""
    turn = None
    for entry in entries:
        if entry.turn != turn:
            turn = entry.turn
            yield f"-- turn {turn}"
        note = entry.visibility_note
        yield f"   {entry.title}{'  ' + note if note else ''}"
        for section in entry.sections:
            yield from section_lines(section, "      ")
        for reasoning in entry.reasoning:
            yield f"      {reasoning.seat}'s reasoning (private):"
            for section in reasoning.sections:
                yield from section_lines(section, "        ")


def section_lines(section: Section, indent: str) -> Iterator[str]:
    """A section as text: ``label: text`` (more lines indented below), then its table in columns."""
    lines = section.text.splitlines() or [""]
    yield f"{indent}{section.label}: {lines[0]}".rstrip()
    for line in lines[1:]:
        yield f"{indent}  {line}"
    if section.table:
        columns = list(section.table[0])
        widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in section.table)) for c in columns}
        yield indent + "  " + "  ".join(c.ljust(widths[c]) for c in columns).rstrip()
        for row in section.table:
            yield indent + "  " + "  ".join(str(row.get(c, "")).ljust(widths[c]) for c in columns).rstrip()


def chat_entries(shown: Transcript) -> list[TranscriptEntry]:
    """The speeches in order (the chat view)."""
    return [e for e in shown.entries if e.speech is not None]


def seat_order(seat: PlayerId) -> tuple[int, str]:
    """Seats in natural order (``p2`` before ``p10``)."""
    return (len(seat), seat)


def seat_colours(seats: Sequence[PlayerId], sides: Mapping[PlayerId, str]) -> dict[PlayerId, str]:
    """A colour name per seat: its side's when the sides are known (omniscient view), else one per seat."""
    if sides:
        return {s: SIDE_COLOURS.get(sides.get(s, ""), "gray") for s in seats}
    return {s: SEAT_COLOURS[i % len(SEAT_COLOURS)] for i, s in enumerate(seats)}


# generic pieces worlds reuse ----------------------------------------------------------------------
def value_text(value: Any) -> str:
    """A payload value in words: lists joined, mappings as ``key: value``, never a Python repr."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {value_text(v)}" for k, v in value.items()) or "-"
    if isinstance(value, list | tuple):
        return ", ".join(value_text(v) for v in value) or "-"
    return str(value)


def generic_reasoning(payload: Mapping[str, Any]) -> tuple[Section, ...]:
    """A rationale payload (``text`` and structured ``notes``) as sections: a mapping of mappings is a
    table, any other note a line."""
    sections = [Section("reasoning", str(payload["text"]))] if payload.get("text") else []
    for key, value in (payload.get("notes") or {}).items():
        sections.append(notes_section(key.replace("_", " "), value))
    return tuple(sections)


def notes_section(label: str, value: Any) -> Section:
    """One note as a section: a table when it maps names to records, else text."""
    if isinstance(value, Mapping) and value and all(isinstance(v, Mapping) for v in value.values()):
        rows = tuple({"": str(k), **{c: value_text(x) for c, x in v.items()}} for k, v in value.items())
        return Section(label, table=rows)
    return Section(label, value_text(value))


def describe(world: object, event: Event) -> str:
    """The world's line for the event, or a plain one (its payload in words) if the world has none."""
    try:
        return str(world.describe_event(event))  # type: ignore[attr-defined]
    except (AttributeError, KeyError, TypeError, ValueError):
        return plain_line(event)


def plain_line(event: Event) -> str:
    """An event without a world's description: the engine's kinds spelled out, others key by key."""
    p = event.payload
    if event.kind == "rejected":
        return f"rejected answer from {event.actor} (try {p.get('attempt')}): {p.get('error')}"
    if event.kind == "invalid":
        errors = p.get("errors") or ["?"]
        return f"invalid answer from {event.actor}: {errors[-1]} -> fallback {value_text(p.get('fallback'))}"
    return " ".join(x for x in (event.kind, event.actor or "", value_text(dict(p))) if x)


def world_of(reader: StoreReader, episode: dict[str, Any]) -> object:
    """The episode's world: by registered id, else as the run's scenario named it (``module:attr``);
    None if neither loads (events are then described plainly)."""
    try:
        return registry.world_entry(episode["world_id"]).load()()
    except registry.RegistryError:
        runs = reader.runs()
        scenario = runs[runs.id == episode["run_id"]].scenario.iloc[0]
        try:
            return registry.world_entry(scenario["world"]).load()()
        except (registry.RegistryError, KeyError, TypeError):
            return None


def event_lines(world: object, events: Iterable[Event]) -> Iterator[str]:
    """The events' transcript as text lines (no header)."""
    yield from entry_lines(formatter_for(world).entries(events))
