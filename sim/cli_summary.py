"""``sim summary`` (and the end of ``sim run``): a stored run's summary in one of four formats."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape

from sim.plural import plural
from sim.summaries.build import build_summary
from sim.summaries.render import FORMATS, as_csv, as_json, as_markdown, as_tables

PIPED_WIDTH = 80
"""Width of the tables when stdout is not a terminal (a file, a pipe): rich would guess anyway."""


def print_summary(db: Path, run_id: int | None, console: Console, fmt: str = "table") -> None:
    """Print the summary of run ``run_id`` (default: the latest) of ``db`` in format ``fmt``; for the
    table and Markdown formats, then where it is stored and how to replay an episode."""
    summary = build_summary(db, run_id)
    if fmt == "table":
        width = console.width if console.is_terminal else PIPED_WIDTH
        console.print(as_tables(summary, width), width=width)
    else:
        render = {"md": as_markdown, "csv": as_csv, "json": as_json}[fmt]
        console.print(render(summary), end="", markup=False, highlight=False, soft_wrap=True)
    if fmt in ("table", "md") and summary.first_episode is not None:
        db_text = escape(str(db))
        console.print(
            f"Stored run {summary.run_id} ({plural(summary.episodes, 'episode')}) in [bold]{db_text}[/bold]. "
            f"Replay one: sim replay --db {db_text} {summary.first_episode}",
            soft_wrap=True,
            highlight=False,
        )


def summary_command(db: Path, run: int | None, fmt: str, console: Console, err_console: Console) -> int:
    """``sim summary``: 0, or 2 with one ``error:`` line for a bad format, a missing DB or run."""
    from sim.store.engine import StoreError

    if fmt not in FORMATS:
        err_console.print(f"[red]error:[/red] --format must be one of {', '.join(FORMATS)}, got {fmt!r}")
        return 2
    try:
        print_summary(db, run, console, fmt)
    except (LookupError, StoreError) as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 2
    return 0
