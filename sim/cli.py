"""The ``sim`` command line: run scenarios, list worlds, agents and evaluators, replay, evaluate and
export episodes.

Nothing here imports litellm; LLM agents import it lazily when they make their first call.
"""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from sim.cli_help import SimGroup
from sim.llm.testserver.cli import serve as serve_test_server

app = typer.Typer(
    cls=SimGroup, add_completion=False, no_args_is_help=True, help="Multi-agent social simulation sandbox."
)
console = Console()
err_console = Console(stderr=True)


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file", metavar="SCENARIO")],
    db: Annotated[
        Path | None, typer.Option(help="SQLite file to write (default: the scenario's 'db')", metavar="FILE")
    ] = None,
    episodes: Annotated[
        int | None,
        typer.Option(
            help="override the number of episodes (a tournament: plays of each pairing)", metavar="N"
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="override the scenario seed", metavar="N")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="override any key (repeatable)", metavar="KEY.PATH=VALUE"),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar")] = False,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="continue the latest run of this plan in the DB (replay what is unfinished)"
        ),
    ] = False,
    new_run: Annotated[
        bool,
        typer.Option("--new-run", help="start another run even if the DB already holds one of this plan"),
    ] = False,
    format_: Annotated[
        str, typer.Option("--format", help="summary format: table, md, csv or json", metavar="FORMAT")
    ] = "table",
) -> None:
    """Run a scenario file and store every trajectory in SQLite."""
    from sim.cli_run import run_command

    overrides = list(set_ or [])
    if episodes is not None:
        overrides.append(f"episodes={episodes}")
    if seed is not None:
        overrides.append(f"seed={seed}")
    raise typer.Exit(
        run_command(
            scenario, db, overrides, quiet, console, err_console, resume=resume, new_run=new_run, fmt=format_
        )
    )


@app.command()
def tournament(
    file: Annotated[Path, typer.Argument(help="tournament YAML file", metavar="TOURNAMENT")],
    db: Annotated[
        Path | None, typer.Option(help="SQLite file to write (default: the file's 'db')", metavar="FILE")
    ] = None,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="continue the stored run of this tournament (skip finished matches)"),
    ] = False,
    new_run: Annotated[
        bool, typer.Option("--new-run", help="start another run even if the DB already holds this tournament")
    ] = False,
    backend: Annotated[
        str,
        typer.Option(
            help="where matches play: local (one event loop), process (worker processes) or ray (Ray tasks)"
        ),
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(
            help="--backend ray: the cluster to join ('auto' or host:port; default: a local Ray)",
            metavar="ADDR",
        ),
    ] = None,
    parallel: Annotated[
        int | None, typer.Option(min=1, help="matches at once (default: concurrency.matches)", metavar="N")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="override any key (repeatable)", metavar="KEY.PATH=VALUE"),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="no live display")] = False,
) -> None:
    """Play a tournament file's matches and store them in SQLite as one run."""
    from sim.cli_tournament import tournament_command

    code = tournament_command(
        file,
        db,
        list(set_ or []),
        console,
        err_console,
        resume=resume,
        new_run=new_run,
        backend=backend,
        parallel=parallel,
        quiet=quiet,
        ray_address=ray_address,
    )
    raise typer.Exit(code)


@app.command()
def summary(
    run: Annotated[int | None, typer.Argument(help="run id (default: the latest)", metavar="RUN")] = None,
    db: Annotated[Path, typer.Option(help="SQLite file", metavar="FILE")] = Path("runs/demo.db"),
    format_: Annotated[
        str, typer.Option("--format", help="table, md, csv or json", metavar="FORMAT")
    ] = "table",
) -> None:
    """Print a stored run's summary, as sim run prints it at the end."""
    from sim.cli_summary import summary_command

    raise typer.Exit(summary_command(db, run, format_, console, err_console))


@app.command()
def leaderboard(
    tournament: Annotated[str, typer.Argument(help="tournament name or run id", metavar="TOURNAMENT")],
    db: Annotated[Path, typer.Option(help="SQLite file", metavar="FILE")] = Path("runs/tournament.db"),
    csv: Annotated[Path | None, typer.Option(help="also write every table as CSV", metavar="FILE")] = None,
    markdown: Annotated[Path | None, typer.Option(help="also write Markdown", metavar="FILE")] = None,
) -> None:
    """Print a stored tournament's leaderboard: win rates, scores, ratings, pairwise and role tables."""
    from sim.cli_leaderboard import leaderboard_command

    raise typer.Exit(leaderboard_command(db, tournament, csv, markdown, console, err_console))


@app.command()
def worlds() -> None:
    """List the registered worlds with their params (types and defaults)."""
    from sim.cli_listing import worlds_table

    console.print(worlds_table())


@app.command()
def agents() -> None:
    """List the registered agents with their config keys (types and defaults)."""
    from sim.cli_listing import agents_table

    console.print(agents_table())


@app.command()
def replay(
    episode: Annotated[int, typer.Argument(help="episode id", metavar="EPISODE")],
    db: Annotated[Path, typer.Option(help="SQLite file", metavar="FILE")],
    seat: Annotated[
        str | None, typer.Option(help="show only what this seat (p0, p1, ...) could see", metavar="SEAT")
    ] = None,
    chat: Annotated[bool, typer.Option("--chat", help="only the speeches, coloured by seat")] = False,
) -> None:
    """Print an episode's transcript turn by turn (each seat's reasoning under its action)."""
    from sim.store.engine import StoreError
    from sim.transcript import episode_transcript, text_lines

    try:
        shown = episode_transcript(db, episode, seat)
    except (LookupError, StoreError) as exc:
        _error(exc)
        raise typer.Exit(2) from None
    if chat:
        _print_chat(shown)
        return
    for line in text_lines(shown):
        console.print(line, highlight=False, markup=False, soft_wrap=True)


def _print_chat(shown: object) -> None:
    """The speeches of a transcript, each seat in its colour (its side's in the omniscient view)."""
    from rich.text import Text

    from sim.transcript import Transcript, chat_entries, seat_colours

    assert isinstance(shown, Transcript)
    rich_names = {"orange": "dark_orange", "gray": "grey50", "violet": "medium_purple"}
    colours = seat_colours(shown.seats, shown.sides)
    for entry in chat_entries(shown):
        colour = colours.get(entry.seat or "", "gray")
        who = Text(entry.seat or "?", style=f"bold {rich_names.get(colour, colour)}")
        audience = f" ({entry.audience})" if entry.audience else ""
        line = Text.assemble(f"turn {entry.turn}  ", who, audience, ": ", entry.speech or "")
        console.print(line, highlight=False, soft_wrap=True)


@app.command()
def evaluate(
    target: Annotated[
        str, typer.Argument(help="run:N (its complete episodes) or episode:N", metavar="RUN|EPISODE")
    ],
    db: Annotated[Path, typer.Option(help="SQLite file", metavar="FILE")],
    evaluator: Annotated[
        list[str] | None,
        typer.Option(
            "--evaluator",
            help="evaluator to run (repeatable; default: those the run's scenario configures)",
            metavar="NAME",
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="config key of the one --evaluator (repeatable)", metavar="KEY.PATH=VALUE"
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="config of the one --evaluator (YAML file)", metavar="FILE.yaml")
    ] = None,
) -> None:
    """Score stored episodes with evaluators; their metric rows replace the evaluator's earlier ones."""
    from sim.cli_evaluate import evaluate_command

    code = evaluate_command(db, target, evaluator or [], set_ or [], config, console, err_console, _error)
    raise typer.Exit(code)


@app.command()
def evaluators() -> None:
    """List the registered evaluators."""
    from sim.cli_listing import evaluators_table

    console.print(evaluators_table())


@app.command()
def export(
    db: Annotated[Path, typer.Option(help="SQLite file", metavar="FILE")],
    format: Annotated[str, typer.Option(help="csv, jsonl or parquet", metavar="FORMAT")] = "jsonl",
    out: Annotated[Path, typer.Option(help="output folder", metavar="DIR")] = Path("exports"),
) -> None:
    """Export every table of a store to files (one per table)."""
    from sim.plural import plural
    from sim.store.engine import StoreError
    from sim.store.export import FORMATS, export_store

    if format not in FORMATS:
        _error(f"--format must be one of {', '.join(FORMATS)}, got {format!r}")
        raise typer.Exit(2)
    try:
        written = export_store(db, out, format)
    except (LookupError, StoreError) as exc:
        _error(exc)
        raise typer.Exit(2) from None
    for path, rows in written:
        console.print(f"{path}  ({plural(rows, 'row')})", highlight=False, markup=False, soft_wrap=True)


@app.command()
def view(
    db: Annotated[Path, typer.Option(help="SQLite file to browse", metavar="FILE")] = Path("runs/demo.db"),
    port: Annotated[
        int, typer.Option(help="port to serve on (0: Streamlit's default, 8501)", metavar="PORT")
    ] = 0,
    headless: Annotated[bool, typer.Option("--headless", help="do not open a browser")] = False,
    address: Annotated[str, typer.Option(help="interface to listen on", metavar="HOST")] = "127.0.0.1",
) -> None:
    """Open the viewer (Streamlit, usage statistics off) on a store; it only reads the file."""
    import subprocess
    import sys

    app_file = Path(__file__).resolve().parent.parent / "app.py"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_file),
        "--browser.gatherUsageStats=false",
        f"--server.headless={'true' if headless else 'false'}",
        "--server.fileWatcherType=none",
        f"--server.address={address}",
        "--client.toolbarMode=viewer",
        *([f"--server.port={port}"] if port else []),
        "--",
        "--db",
        str(db.resolve()),
    ]
    raise typer.Exit(subprocess.call(command))


@app.command()
def migrate(db: Annotated[Path, typer.Option(help="SQLite file to upgrade", metavar="FILE")]) -> None:
    """Upgrade a store of an older schema version in place (only adds columns)."""
    from sim.store.engine import StoreError, open_engine

    if not db.exists():
        _error(f"{db}: no such database")
        raise typer.Exit(2)
    try:
        open_engine(db).dispose()
    except StoreError as exc:
        _error(exc)
        raise typer.Exit(2) from None
    console.print(f"{db}: schema up to date", highlight=False, markup=False, soft_wrap=True)


def _error(message: object) -> None:
    """One unwrapped ``error: ...`` line on stderr (the message is printed literally, not as markup)."""
    from rich.markup import escape

    err_console.print(f"[red]error:[/red] {escape(str(message))}", highlight=False, soft_wrap=True)


app.command("test-server")(serve_test_server)


from sim.cli_cache import cache_app  # noqa: E402

app.add_typer(cache_app, name="cache")


def main() -> None:
    """Entry point of the ``sim`` script."""
    app()
