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
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.types import Event, PlayerId

if TYPE_CHECKING:
    from sim.store.reader import StoreReader

GROUP = "sim.viewers"

# Okabe & Ito's colour-blind-safe palette (2008); moves, outcomes and seats take disjoint parts of it, so a
# move never shares a colour with a seat on the same page.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
    "black": "#000000",
}
MOVE_COLOURS = (OKABE_ITO["bluish green"], OKABE_ITO["vermillion"])  # option 0 (C), option 1 (D)
RESULT_COLOURS = {
    "success": OKABE_ITO["bluish green"],
    "fail": OKABE_ITO["vermillion"],
    "not played": "#BBBBBB",
}
SEAT_COLOURS = (
    OKABE_ITO["blue"],
    OKABE_ITO["reddish purple"],
    OKABE_ITO["orange"],
    OKABE_ITO["sky blue"],
    OKABE_ITO["yellow"],
    OKABE_ITO["black"],
)
# one colour per player for worlds of up to 10 seats (Among Us): every Okabe-Ito colour, then two of Paul
# Tol's (wine and grey), which stay apart from all eight for colour-blind readers too
PLAYER_COLOURS = (
    OKABE_ITO["blue"],
    OKABE_ITO["orange"],
    OKABE_ITO["bluish green"],
    OKABE_ITO["reddish purple"],
    OKABE_ITO["sky blue"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["yellow"],
    OKABE_ITO["black"],
    "#882255",  # Tol's wine
    "#999999",  # grey
)
# viridis, sampled: a sequential scale readable in greyscale and by colour-blind readers (dark to light)
HEAT_COLOURS = ("#440154", "#3B528B", "#21918C", "#5EC962", "#FDE725")


def seat_colours(seats: Sequence[str]) -> list[str]:
    """One colour per seat, in seat order (cycling for more seats than colours)."""
    return [SEAT_COLOURS[i % len(SEAT_COLOURS)] for i in range(len(seats))]


def player_colours(seats: Sequence[str]) -> dict[str, str]:
    """Each seat's colour from :data:`PLAYER_COLOURS`, in seat order (distinct up to 10 seats)."""
    return {seat: PLAYER_COLOURS[i % len(PLAYER_COLOURS)] for i, seat in enumerate(seats)}


def _rgb(colour: str) -> tuple[float, float, float]:
    value = colour.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return r, g, b


def luminance(colour: str) -> float:
    """The WCAG relative luminance of a ``#RRGGBB`` colour (0 black, 1 white)."""

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def heat_colour(fraction: float) -> str:
    """The colour of :data:`HEAT_COLOURS` at ``fraction`` of the scale (linear between its stops, as
    Vega-Lite interpolates a range of colours)."""
    fraction = min(max(fraction, 0.0), 1.0) * (len(HEAT_COLOURS) - 1)
    i = min(int(fraction), len(HEAT_COLOURS) - 2)
    t = fraction - i
    a, b = _rgb(HEAT_COLOURS[i]), _rgb(HEAT_COLOURS[i + 1])
    return "#" + "".join(f"{round(255 * (x + (y - x) * t)):02X}" for x, y in zip(a, b, strict=True))


def text_colour(background: str) -> str:
    """Black or white, whichever contrasts more with ``background`` (WCAG contrast ratio)."""
    light = luminance(background)
    return "black" if (light + 0.05) / 0.05 >= 1.05 / (light + 0.05) else "white"


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
    #: The store the episode is read from (for a renderer that shows more than events, e.g. evaluator
    #: scores); None when drawn without one.
    reader: StoreReader | None = None

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
