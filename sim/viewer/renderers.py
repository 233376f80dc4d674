"""Per-world episode renderers for the viewer, found through the ``sim.viewers`` entry-point group.

A renderer is a function ``render(view: EpisodeView) -> None`` that draws with Streamlit. Worlds
register theirs in ``pyproject.toml``::

    [project.entry-points."sim.viewers"]
    "matrix/repeated-v1" = "worlds.repeated.view:render"

so a new world adds its picture without touching the pages. Worlds without one get the generic event
table (the transcript is always shown).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import Any

import pandas as pd

from sim.types import Event, PlayerId

GROUP = "sim.viewers"


@dataclass(frozen=True)
class EpisodeView:
    """What a renderer may draw: the episode up to ``turn`` as ``seat`` saw it (``None``: omniscient)."""

    episode: dict[str, Any]
    seats: pd.DataFrame
    events: Sequence[Event]  # visible to ``seat`` and up to ``turn``, in order
    turn: int
    last_turn: int
    seat: PlayerId | None
    describe: Callable[[Event], str]

    @property
    def finished(self) -> bool:
        """Whether the slider is at the end of a finished episode."""
        return self.turn >= self.last_turn and self.episode.get("status") == "complete"

    def of_kind(self, *kinds: str) -> list[Event]:
        """The events of the given kinds."""
        return [e for e in self.events if e.kind in kinds]


Renderer = Callable[[EpisodeView], None]


@cache
def renderers() -> dict[str, Renderer]:
    """Every registered renderer by world id."""
    return {ep.name: ep.load() for ep in entry_points(group=GROUP)}


def renderer_for(world_id: str) -> Renderer | None:
    """The world's renderer, or None (the page then shows the generic event table)."""
    return renderers().get(world_id)


def event_table(events: Sequence[Event]) -> pd.DataFrame:
    """The generic view: one row per event."""
    return pd.DataFrame(
        [
            {
                "turn": e.turn,
                "phase": e.phase,
                "kind": e.kind,
                "actor": e.actor or "",
                "visible_to": "all" if e.visible_to == "all" else ", ".join(e.visible_to) or "nobody",
                "payload": str(dict(e.payload)),
            }
            for e in events
        ],
        columns=["turn", "phase", "kind", "actor", "visible_to", "payload"],
    )
