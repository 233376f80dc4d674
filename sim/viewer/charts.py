"""Charts shared by the viewer's comparison pages."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from sim.viewer.renderers import HEAT_COLOURS, heat_colour, text_colour


def heatmap(
    pairs: pd.DataFrame, value: str, count: str, order: Sequence[str] | None = None
) -> alt.LayerChart:
    """``value`` of each (``agent``, ``opponent``) pair on a colour-blind-safe sequential scale, with
    ``count`` in the tooltip, agents in ``order`` (default: by name); each number in black or white,
    whichever reads better on its cell."""
    low, high = float(pairs[value].min()), float(pairs[value].max())
    span = high - low
    pairs = pairs.assign(
        text_colour=[text_colour(heat_colour((v - low) / span if span else 0.5)) for v in pairs[value]]
    )
    sort = list(order) if order is not None else "ascending"
    base = alt.Chart(pairs).encode(x=alt.X("opponent:N", sort=sort), y=alt.Y("agent:N", sort=sort))
    heat = base.mark_rect().encode(
        color=alt.Color(f"{value}:Q", scale=alt.Scale(domain=[low, high], range=list(HEAT_COLOURS))),
        tooltip=["agent", "opponent", value, count],
    )
    text = base.mark_text(fontWeight="bold").encode(
        text=alt.Text(f"{value}:Q", format=".2f"), color=alt.Color("text_colour:N", scale=None)
    )
    return (heat + text).resolve_scale(color="independent")
