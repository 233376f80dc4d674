"""A summary as text: rich tables fitted to a width (labels abbreviated, numbers never), Markdown,
CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from sim.summaries.model import Section, Summary

FORMATS = ("table", "md", "csv", "json")
MIN_LABEL = 6  # an abbreviated label keeps at least this many characters


def fit_labels(section: Section, width: int) -> list[list[str]]:
    """The section's texts (header row first) with label cells cut (``…``) so that the rich table,
    3 characters per column plus 1, fits ``width``; the widest label column gives way first."""
    grid = [list(section.columns), *[[c.text for c in row] for row in section.rows]]
    widths = [max(len(r[i]) for r in grid) for i in range(len(section.columns))]
    excess = sum(widths) + 3 * len(widths) + 1 - width
    labels = list(range(min(section.label_columns, len(widths))))
    while excess > 0:
        widest = max(labels, key=lambda i: widths[i], default=None)
        if widest is None or widths[widest] <= MIN_LABEL:
            break  # nothing left to abbreviate: numbers are never cut
        widths[widest] -= 1
        excess -= 1
    for row in grid:
        for i in labels:
            if len(row[i]) > widths[i]:
                row[i] = row[i][: widths[i] - 1] + "…"
    return grid


def as_tables(summary: Summary, width: int = 80) -> RenderableType:
    """Headline, notes and one rich table per section, each fitting ``width`` columns."""
    parts: list[RenderableType] = [Text(summary.headline, style="bold")]
    parts += [Text(f"note: {note}") for note in summary.notes]
    for section in summary.sections:
        grid = fit_labels(section, width)
        table = Table(title=section.title, title_justify="left")
        for i, name in enumerate(grid[0]):
            label = i < section.label_columns
            table.add_column(name, justify="left" if label else "right", no_wrap=True)
        for row in grid[1:]:
            table.add_row(*(escape(c) for c in row))
        parts.append(table)
        parts += [Text(f"note: {note}") for note in section.notes]
    return Group(*parts)


def as_markdown(summary: Summary) -> str:
    """GitHub-flavoured Markdown: the headline as a heading, a pipe table per section."""
    lines = [f"## {summary.headline}"]
    lines += ["", *(f"- {note}" for note in summary.notes)] if summary.notes else []
    for section in summary.sections:
        lines += ["", f"### {section.title}", ""]
        lines.append("| " + " | ".join(section.columns) + " |")
        aligns = [":--" if i < section.label_columns else "--:" for i in range(len(section.columns))]
        lines.append("| " + " | ".join(aligns) + " |")
        for row in section.rows:
            lines.append("| " + " | ".join(c.text.replace("|", "\\|") for c in row) + " |")
        lines += [f"\n_{note}_" for note in section.notes]
    return "\n".join(lines) + "\n"


def as_csv(summary: Summary) -> str:
    """One block per section (``section`` first column, then its columns; an interval cell becomes
    ``col``, ``col low``, ``col high``), blocks separated by a blank line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for k, section in enumerate(summary.sections):
        if k:
            out.write("\n")
        spread = [any(isinstance(r[i].value, dict) and "low" in r[i].value for r in section.rows)
                  for i in range(len(section.columns))]  # fmt: skip
        header = ["section"]
        for name, wide in zip(section.columns, spread, strict=True):
            header += [name, f"{name} low", f"{name} high"] if wide else [name]
        writer.writerow(header)
        for row in section.rows:
            cells: list[Any] = [section.key]
            for cell, wide in zip(row, spread, strict=True):
                if wide:
                    v = cell.value or {}
                    cells += [v.get("value"), v.get("low"), v.get("high")]
                else:
                    cells.append(cell.value if isinstance(cell.value, int | float) else cell.text)
            writer.writerow(cells)
    return out.getvalue()


def as_json(summary: Summary) -> str:
    """The summary as one JSON document; each row maps its columns to raw values (intervals as
    ``{value, low, high, n}``)."""
    doc = {
        "db": summary.db,
        "run": summary.run_id,
        "scenario": summary.scenario,
        "world": summary.world,
        "status": summary.status,
        "episodes": summary.episodes,
        "distinct_trajectories": summary.distinct,
        "notes": summary.notes,
        "sections": {
            s.key: {
                "title": s.title,
                "rows": [
                    {
                        c: (cell.value if cell.value is not None else cell.text or None)
                        for c, cell in zip(s.columns, row, strict=True)
                    }
                    for row in s.rows
                ],
                "notes": s.notes,
            }
            for s in summary.sections
        },
    }
    return json.dumps(doc, indent=2)
