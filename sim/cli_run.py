"""``sim run``: validate, play with a progress bar, print the closing summary table."""

from __future__ import annotations

import atexit
import contextlib
import gc
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from rich.console import Console
from rich.markup import escape

from sim.progress import RunProgress
from sim.redact import redact_text
from sim.scenario import LoadedScenario, ScenarioError, load_scenario
from sim.signals import StopOnSignal, StopRequest

T = TypeVar("T")

if TYPE_CHECKING:
    from sim.engine import EpisodeResult
    from sim.jobs import EpisodeJob
    from sim.run_summary import RunSummary
    from sim.runner import RunPlan


def run_command(
    path: Path,
    db: Path | None,
    overrides: list[str],
    quiet: bool,
    console: Console,
    err_console: Console,
    *,
    resume: bool = False,
    new_run: bool = False,
    fmt: str = "table",
) -> int:
    """Run the scenario at ``path``; returns the process exit code (2 for a bad scenario, or a run of
    the same plan in the DB without ``resume``/``new_run``, or one still playing)."""
    loaded = validated(lambda: load_scenario(path, overrides), path, "scenario", err_console)
    if loaded is None:
        return 2
    if fmt not in ("table", "md", "csv", "json"):
        err_console.print(f"[red]error:[/red] --format must be table, md, csv or json, got {escape(fmt)!r}")
        return 2
    # Imported only once the scenario is valid, so that a bad file fails fast (the engine pulls in mesa).
    from sim.runner import run_scenario
    from sim.shutdown import RunFailed

    already = _resume_check(loaded, db or Path(loaded.scenario.db), resume, new_run, err_console)
    if already is None:
        return 2
    # At exit, skip the collector's last sweep over every object (litellm's included: 1.5 s or more),
    # so a stopped run's process ends as soon as the run is closed.
    atexit.register(gc.freeze)
    total = len(loaded.plans)
    with (
        _absorbing_signals() as late,
        RunProgress(console, disable=quiet) as progress,
    ):
        task = progress.add_run(loaded.scenario.name, total=total, completed=already)

        def advance(job: EpisodeJob, result: EpisodeResult) -> None:
            progress.episode_done(task, job)

        try:
            with progress.cleared_on_error():  # before any error is printed
                summary = run_scenario(loaded, db, advance, resume=resume)
        except RunFailed as exc:
            if exc.summary is not None and exc.summary.episodes:  # the episodes that did complete
                progress.stop()
                _print_results(exc.summary, console, fmt)
            _closing(err_console, exc.run_id, exc.db, exc.status, exc.cause)
            return 1
        except run_errors() as exc:
            return run_error_exit(exc, db or Path(loaded.scenario.db), late, err_console)
        except KeyboardInterrupt:
            err_console.print(
                "[yellow]interrupted[/yellow]: finished episodes are stored; "
                "the current one is marked interrupted"
            )
            return 130
        _print_results(summary, console, fmt)
    return 0


def validated(load: Callable[[], T], path: Path, kind: str, err_console: Console) -> T | None:
    """What ``load`` returns, or None once every problem of the file is on stderr (exit 2)."""
    try:
        return load()
    except ScenarioError as exc:
        # One unwrapped line per problem (``file: key.path: expectation``), whatever the terminal width.
        err_console.print(f"[red]invalid {kind}[/red]", highlight=False)
        err_console.print(str(exc), highlight=False, markup=False, soft_wrap=True)
    except (RecursionError, MemoryError) as exc:  # beyond sim.safe_yaml's limits: still no traceback
        err_console.print(f"[red]invalid {kind}[/red]", highlight=False)
        err_console.print(f"{path}: too large or too deeply nested ({type(exc).__name__})", markup=False)
    return None


def run_errors() -> tuple[type[BaseException], ...]:
    """What a run may raise that :func:`run_error_exit` reports (imported only when a run starts)."""
    from sqlalchemy.exc import SQLAlchemyError

    from sim.agent import AgentError
    from sim.resume import RunConflict
    from sim.shutdown import RunFailed, RunInterrupted
    from sim.store.engine import StoreError

    return (RunFailed, RunInterrupted, RunConflict, AgentError, StoreError, SQLAlchemyError, OSError)


def run_error_exit(exc: BaseException, db: Path, late: StopRequest, err_console: Console) -> int:
    """Report one of :func:`run_errors` on stderr in one line; returns the exit code (1, 2 or 130)."""
    from sqlalchemy.exc import SQLAlchemyError

    from sim.agent import AgentError
    from sim.resume import RunConflict
    from sim.shutdown import RunFailed, RunInterrupted

    if isinstance(exc, RunFailed):
        _closing(err_console, exc.run_id, exc.db, exc.status, exc.cause)
        return 1
    if isinstance(exc, RunInterrupted):
        late.request("the run was interrupted")  # the process exits now: ignore further signals
        _closing(err_console, exc.run_id, exc.db, "interrupted", exc.reason)
        return 130
    if isinstance(exc, RunConflict):  # another process claimed the run between the check and the reopen
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 2
    if isinstance(exc, AgentError):
        text = escape(redact_text(str(exc)))
        err_console.print(f"[red]agent error:[/red] {text}", highlight=False, soft_wrap=True)
        return 1
    # SQLAlchemy's own text spans several lines; its DBAPI error is the one-line cause.
    text = f"{db}: {getattr(exc, 'orig', None) or exc}" if isinstance(exc, SQLAlchemyError) else str(exc)
    err_console.print(f"[red]store error:[/red] {escape(redact_text(text))}", highlight=False, soft_wrap=True)
    return 1


@contextlib.contextmanager
def _absorbing_signals() -> Iterator[StopRequest]:
    """SIGINT/SIGTERM landing after the run closed (a second Ctrl-C) are absorbed, so they cannot cut
    the closing output short. Once the returned request is set (the run was interrupted and the process
    is exiting with 130), they stay ignored until it exits."""
    with StopOnSignal() as late:
        yield late
    if late.is_set():
        for sig in StopOnSignal.SIGNALS:
            signal.signal(sig, signal.SIG_IGN)


def _print_results(summary: RunSummary, console: Console, fmt: str) -> None:
    """The run's summary, computed from the store as ``sim summary`` prints it."""
    from sim.cli_summary import print_summary

    print_summary(summary.db, summary.run_id, console, fmt)


def _closing(err_console: Console, run_id: int, db: Path, status: str, cause: str | None) -> None:
    """One line on stderr: the run's final status, its episodes per status (as stored), the first cause."""
    from sim.shutdown import closing_line, episode_counts

    line = closing_line(run_id, status, episode_counts(db, run_id), cause)
    color = "yellow" if status == "interrupted" else "red"
    err_console.print(f"[{color}]{escape(line)}[/{color}]", highlight=False, soft_wrap=True)


def _resume_check(
    loaded: LoadedScenario | RunPlan, db: Path, resume: bool, new_run: bool, err_console: Console
) -> int | None:
    """Episodes already complete in the run to resume (0 for a new run), or None (exit 2, one line on
    stderr) when the DB holds a run of this plan and neither flag says what to do, or it still plays."""
    from sim.resume import RunConflict, find_run

    def refuse(text: str) -> None:
        err_console.print(f"[red]error:[/red] {escape(text)}", highlight=False, soft_wrap=True)

    if resume and new_run:
        refuse("--resume and --new-run exclude each other")
        return None
    previous = None if new_run else find_run(db, loaded.fingerprint)
    if previous is None:
        if resume:
            err_console.print(f"no run of this scenario in {escape(str(db))} to resume: starting a new one")
        return 0
    if not resume:
        refuse(
            f"{db} already holds run {previous.id} of this scenario ({previous.status}): "
            "pass --resume to continue it or --new-run to start another"
        )
        return None
    try:
        previous.check_resumable()
    except RunConflict as exc:
        refuse(str(exc))
        return None
    jobs = loaded.jobs(previous.id)
    return sum(previous.done(job) for job in jobs)
