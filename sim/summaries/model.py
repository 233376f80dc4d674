"""What a run summary is made of: sections (titled tables) of cells that keep their raw value next to
their text, so every format (table, Markdown, CSV, JSON) shows the same numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sim.plural import plural
from sim.stats import Mean, Rate


@dataclass(frozen=True)
class Cell:
    """One table cell: its text and the value behind it (a number, a dict for intervals, or None)."""

    text: str
    value: Any = None


@dataclass
class Section:
    """A titled table; ``label_columns`` (the first ones by default) may be abbreviated to fit, never
    the numbers."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    label_columns: int = 1
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: Cell | str | int | None) -> None:
        self.rows.append([c if isinstance(c, Cell) else text(c) for c in cells])


@dataclass
class Summary:
    """A stored run's summary: a headline, notes (identical episodes, draws), and sections."""

    db: str
    run_id: int
    scenario: str
    world: str
    status: str
    episodes: int
    distinct: int
    first_episode: int | None
    sections: list[Section] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def headline(self) -> str:
        line = f"run {self.run_id} ({self.scenario}): {plural(self.episodes, 'episode')}"
        if self.distinct != self.episodes:
            line += f", {plural(self.distinct, 'distinct trajectory', 'distinct trajectories')}"
        return line if self.status == "complete" else f"{line} [{self.status}]"


def text(value: str | int | None) -> Cell:
    """A label or a count."""
    if value is None:
        return Cell("", None)
    return Cell(str(value), value)


def number(value: float | None, digits: int = 2) -> Cell:
    """A plain number (``-`` when missing)."""
    if value is None or value != value:  # None or NaN
        return Cell("-", None)
    return Cell(f"{value:.{digits}f}", value)


def rate_cell(r: Rate, digits: int = 2) -> Cell:
    """``0.40 [0.12, 0.77]``: a rate with its Wilson interval, one cell (``-`` for n = 0)."""
    if r.value is None:
        return Cell("-", None)
    value = {"value": r.value, "low": r.low, "high": r.high, "n": r.n, "successes": r.successes}
    return Cell(f"{r.value:.{digits}f} [{r.low:.{digits}f}, {r.high:.{digits}f}]", value)


def mean_cell(m: Mean, digits: int = 2) -> Cell:
    """``2.87 [2.51, 3.10]``: a mean with its bootstrap interval (the mean alone when there is none)."""
    if m.value is None:
        return Cell("-", None)
    value = {"value": m.value, "low": m.low, "high": m.high, "n": m.n}
    if m.low is None or m.high is None:
        return Cell(f"{m.value:.{digits}f}", value)
    return Cell(f"{m.value:.{digits}f} [{m.low:.{digits}f}, {m.high:.{digits}f}]", value)
