"""The Among Us transcript: meeting speeches for the chat view, each vote as a table, and sides (from the
deal, which no seat sees) for colouring the omniscient view: impostors as the sandbox's ``evil`` (red),
crewmates as ``good``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sim.transcript import Formatter, Section, TranscriptEntry
from sim.types import Event, PlayerId
from worlds.among_us.records import Role
from worlds.among_us.text import describe_event

#: The transcript's colour sides (sim.transcript.SIDE_COLOURS) for each role.
COLOUR_SIDE = {Role.IMPOSTOR.value: "evil", Role.CREWMATE.value: "good"}


class AmongUsFormatter(Formatter):
    """Speeches in the chat, votes and survey answers as tables, kills with their witnesses."""

    def world_line(self, event: Event) -> str:
        """The world's own line for the event."""
        return describe_event(event)

    def entry(self, event: Event) -> TranscriptEntry:
        """Speeches also go to the chat view; a vote carries its ballot table."""
        entry = super().entry(event)
        p = event.payload
        if event.kind == "speech":
            return TranscriptEntry(
                event.turn, p["player"], event.kind, entry.title, event.visible_to, str(p["text"])
            )
        if event.kind == "survey":  # visible to nobody: only the omniscient transcript shows it
            rows = tuple({"seat": v, "most suspicious": t} for v, t in p["answers"].items())
            return TranscriptEntry(
                event.turn,
                None,
                event.kind,
                entry.title,
                event.visible_to,
                sections=(Section("answers", table=rows),),
            )
        if event.kind == "vote":
            rows = tuple({"voter": v, "vote": t} for v, t in p["votes"].items())
            tally = ", ".join(f"{t}: {c}" for t, c in p["tally"].items())
            sections = (Section("ballots", table=rows), Section("tally", tally))
            return TranscriptEntry(
                event.turn, None, event.kind, entry.title, event.visible_to, sections=sections
            )
        return entry

    def sides(self, events: Sequence[Event]) -> Mapping[PlayerId, str]:
        """Each seat's colour side from the deal (visible to nobody, so only in the omniscient view)."""
        deal = next((e for e in events if e.kind == "setup"), None)
        if deal is None:
            return {}
        return {seat: COLOUR_SIDE[role] for seat, role in deal.payload["roles"].items()}


formatter = AmongUsFormatter  # the hook sim.transcript looks for
