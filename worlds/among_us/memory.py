"""A seat's bounded memory for its prompts: the latest events verbatim, a facts summary of the older ones.

Built from the seat's own observation history only (nothing another seat saw), so it is stateless,
reproducible and free. The window holds the last ``window`` records (own role and the game start are
stated elsewhere; speeches of the meeting in progress are in the meeting block). The summary of the
older records keeps, per other player, the last sighting and what revealing things the seat saw them do
(kills, vents), and one line per meeting (the call, the dead, the vote, the ejection): bounded by the
number of players and of meetings, not by the length of the game.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sim.types import Observation
from worlds.among_us.observations import AmongUsPublic
from worlds.among_us.text import describe_record

SummaryMode = Literal["facts", "none"]
#: Records every prompt states in its own words (the table, the seat's role).
STATED_ELSEWHERE = frozenset({"start", "role"})
#: Records that place a player in a room, by the payload key naming the player.
SIGHTINGS = {"move": "player", "vent": "player", "appear": "player", "task": "player"}
SIGHTINGS |= {"fake_task": "player", "busy": "player", "kill": "killer"}
MEETING_KINDS = frozenset({"meeting", "speech", "vote", "eject"})


@dataclass(frozen=True)
class Memory:
    """What a prompt shows of the past: recent lines verbatim, and the summary of older ones."""

    recent: tuple[str, ...]
    sightings: tuple[str, ...] = ()
    witnessed: tuple[str, ...] = ()
    meetings: tuple[str, ...] = ()

    @property
    def summarised(self) -> bool:
        """Whether any older record is summarised."""
        return bool(self.sightings or self.witnessed or self.meetings)


def line(record: Mapping[str, Any]) -> str:
    """A history record as a prompt line, with its turn."""
    return f"[step {record['turn']}] {describe_record(record)}"


def remembered(obs: Observation) -> list[Mapping[str, Any]]:
    """The seat's history records a memory covers, oldest first."""
    pub = obs.public
    current = pub.meeting.number if isinstance(pub, AmongUsPublic) and pub.meeting is not None else None
    return [
        r
        for r in obs.history
        if r["kind"] not in STATED_ELSEWHERE and not (r["kind"] == "speech" and r.get("meeting") == current)
    ]


def memory(obs: Observation, window: int, summary: SummaryMode = "facts") -> Memory:
    """The last ``window`` records of the seat's history verbatim, and (``facts``) a summary of the rest."""
    records = remembered(obs)
    cut = max(0, len(records) - window)
    recent = tuple(line(r) for r in records[cut:])
    if summary == "none" or cut == 0:
        return Memory(recent)
    older = records[:cut]
    return Memory(recent, *summarise(older, obs.player))


def summarise(records: Sequence[Mapping[str, Any]], me: str) -> tuple[tuple[str, ...], ...]:
    """Last sighting per other player, revealing things witnessed (kills; vents counted per player),
    and one line per meeting."""
    last_seen: dict[str, Mapping[str, Any]] = {}
    kills: list[str] = []
    vents: dict[str, list[Mapping[str, Any]]] = {}
    meetings: dict[int, list[str]] = {}
    for r in records:
        kind = r["kind"]
        who = r.get(SIGHTINGS.get(kind, ""))
        if who is not None and who != me:
            last_seen[who] = r
        if kind == "sight":  # everyone found in the room the seat entered
            last_seen |= dict.fromkeys(r["occupants"], r)
        if kind == "kill":
            kills.append(line(r))
        elif kind in ("vent", "appear") and r["player"] != me:
            vents.setdefault(r["player"], []).append(r)
        elif kind in MEETING_KINDS and kind != "speech":
            number = r.get("meeting", r.get("number"))
            key = number if isinstance(number, int) else max(meetings, default=0)
            meetings.setdefault(key, []).append(describe_record(r))
    sightings = tuple(f"{p}: {line(last_seen[p])}" for p in sorted(last_seen))
    vented = tuple(
        f"{p} seen venting {len(rs)} time(s), last: {line(rs[-1])}" for p, rs in sorted(vents.items())
    )
    summary = tuple("; ".join(parts) for _, parts in sorted(meetings.items()))
    return sightings, (*kills, *vented), summary
