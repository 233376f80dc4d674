"""``sim leaderboard``: a stored tournament's standings, ratings, pairwise matrix and role tables, as
rich tables that fit 80 columns, and as CSV or Markdown files with every table."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
from rich import box
from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from sim.tournament.leaderboard import NOTE, Leaderboard, load_leaderboard

WIDTH = 80


def leaderboard_command(
    db: Path,
    tournament: str,
    csv_path: Path | None,
    markdown_path: Path | None,
    console: Console,
    err_console: Console,
) -> int:
    """Print the leaderboard and write the files asked for: 0, or 2 with one ``error:`` line for a
    missing store or tournament."""
    from sim.store.engine import StoreError

    try:
        board = load_leaderboard(db, tournament)
    except (LookupError, StoreError, ValueError) as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 2
    console.print(as_tables(board), width=min(console.width, WIDTH) if console.is_terminal else WIDTH)
    for path, text in ((csv_path, as_csv), (markdown_path, as_markdown)):
        if path is not None:
            path.write_text(text(board), encoding="utf-8")
            console.print(f"wrote {escape(str(path))}", highlight=False, soft_wrap=True)
    return 0


# rich ------------------------------------------------------------------------------------------
def as_tables(board: Leaderboard) -> RenderableType:
    """The headline, the standings, the pairwise matrix and (role worlds) the role table."""
    parts: list[RenderableType] = [Text(board.headline, style="bold")]
    if board.standings.empty:
        parts.append(Text("No finished matches against other agents yet."))
        return Group(*parts)
    parts += [_standings(board), _pairwise(board)]
    if not board.roles.empty:
        parts.append(_roles(board.roles))
    parts.append(Text(NOTE))
    return Group(*parts)


def _table(title: str) -> Table:
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)


def _standings(board: Leaderboard) -> Table:
    rating = "Axelrod\nnorm. score" if board.repeated else "OpenSkill\nμ±σ (ordinal)"
    table = _table("Leaderboard")
    table.add_column("#", justify="right")
    table.add_column("agent", overflow="ellipsis")  # the one column rich narrows to fit
    table.add_column("seats", justify="right")
    table.add_column("win rate\n[95%]", justify="right", no_wrap=True)
    table.add_column("mean score\n[95%]", justify="right", no_wrap=True)
    table.add_column(rating, justify="right", no_wrap=True)
    for row in board.standings.itertuples():
        if board.repeated:
            shown = _number(row.axelrod)
        else:
            shown = "-" if _missing(row.mu) else f"{row.mu:.1f}±{row.sigma:.1f} ({row.ordinal:.1f})"
        table.add_row(
            str(row.rank),
            escape(str(row.agent)),
            str(row.seats),
            _rate(row.win_rate, row.win_low, row.win_high),
            _mean(row.score, row.score_low, row.score_high),
            shown,
        )
    return table


def _pairwise(board: Leaderboard) -> Table:
    """Rows: the agent; columns: opponents by leaderboard number (1 ahead, 1/2 level, 0 behind)."""
    names = list(board.pairwise.index)
    number = {a: str(i + 1) for i, a in enumerate(board.standings["agent"])}
    number.update({a: f"{a[:3]}" for a in names if a not in number})
    table = _table("Pairwise: row ahead of column #")
    table.add_column("agent", overflow="ellipsis")  # the one column rich narrows to fit
    for name in names:
        table.add_column(escape(number[name]), justify="right", no_wrap=True)
    for name in names:
        cells = [_number(board.pairwise.loc[name, other], ".2f") for other in names]
        table.add_row(escape(f"{number[name]} {name}"), *cells)
    return table


def _roles(roles: pd.DataFrame) -> Table:
    table = _table("Per role")
    table.add_column("role", overflow="ellipsis", no_wrap=True, max_width=14)
    table.add_column("side", overflow="ellipsis", no_wrap=True, max_width=8)
    table.add_column("agent", overflow="ellipsis", no_wrap=True, max_width=16)
    table.add_column("seats", justify="right")
    table.add_column("win rate [95%]", justify="right", no_wrap=True)
    table.add_column("mean score [95%]", justify="right", no_wrap=True)
    for row in roles.itertuples():
        table.add_row(
            escape(str(row.role)),
            escape("" if _missing(row.side) else str(row.side)),
            escape(str(row.agent)),
            str(row.seats),
            _rate(row.win_rate, row.win_low, row.win_high),
            _mean(row.score, row.score_low, row.score_high),
        )
    return table


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _number(value: Any, spec: str = ".3f") -> str:
    return "-" if _missing(value) else format(value, spec)


def _rate(value: Any, low: Any, high: Any) -> str:
    """``62% [45-77]``."""
    if _missing(value):
        return "-"
    return f"{value:.0%} [{100 * low:.0f}-{100 * high:.0f}]"


def _mean(value: Any, low: Any, high: Any) -> str:
    """``2.25 [2.1, 2.4]`` (three significant digits), the value alone without an interval."""
    if _missing(value):
        return "-"
    if _missing(low) or _missing(high):
        return f"{value:.3g}"
    return f"{value:.3g} [{low:.3g}, {high:.3g}]"


# files -----------------------------------------------------------------------------------------
def as_csv(board: Leaderboard) -> str:
    """Every table as a CSV block (first column ``table``: its name), blocks separated by a blank line."""
    blocks = [frame.assign(table=name)[["table", *frame.columns]] for name, frame in board.tables().items()]
    return "\n".join(block.to_csv(index=False, lineterminator="\n") for block in blocks)


def as_markdown(board: Leaderboard) -> str:
    """The headline, then every table as a GitHub pipe table under its name (numbers to 4 decimals)."""
    lines = [f"## {board.headline}", ""]
    for name, frame in board.tables().items():
        lines += [f"### {name}", "", "| " + " | ".join(map(str, frame.columns)) + " |"]
        lines.append("| " + " | ".join("--:" if _numeric(frame[c]) else ":--" for c in frame.columns) + " |")
        for row in frame.itertuples(index=False):
            lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
        lines.append("")
    lines.append(f"_{NOTE}_")
    return "\n".join(lines) + "\n"


def _numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column)


def _cell(value: Any) -> str:
    if _missing(value):
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if not value.is_integer() else str(int(value))
    return str(value).replace("|", "\\|")
