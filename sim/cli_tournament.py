"""``sim tournament``: validate a tournament file, play its matches with a live display, print the tally."""

from __future__ import annotations

import atexit
import gc
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from sim.cli_run import _absorbing_signals, _closing, _resume_check
from sim.plural import plural
from sim.progress import TournamentProgress
from sim.redact import redact_text
from sim.scenario import ScenarioError


def tournament_command(
    path: Path,
    db: Path | None,
    overrides: list[str],
    console: Console,
    err_console: Console,
    *,
    resume: bool = False,
    new_run: bool = False,
    backend: str = "local",
    parallel: int | None = None,
    quiet: bool = False,
) -> int:
    """Play the tournament at ``path``; returns the exit code: 0 (also when a budget stopped it), 1 a
    failed run, 2 a bad file or option (nothing stored), 130 interrupted."""
    from sim.tournament.run import BACKENDS
    from sim.tournament.spec import load_tournament

    try:
        spec = load_tournament(path, overrides)
    except ScenarioError as exc:
        err_console.print("[red]invalid tournament[/red]", highlight=False)
        err_console.print(str(exc), highlight=False, markup=False, soft_wrap=True)
        return 2
    except (RecursionError, MemoryError) as exc:
        err_console.print("[red]invalid tournament[/red]", highlight=False)
        err_console.print(f"{path}: too large or too deeply nested ({type(exc).__name__})", markup=False)
        return 2
    if backend not in BACKENDS:
        err_console.print(
            f"[red]error:[/red] --backend must be one of {', '.join(BACKENDS)}, got {backend!r}"
        )
        return 2
    from sqlalchemy.exc import SQLAlchemyError

    from sim.agent import AgentError
    from sim.resume import RunConflict
    from sim.shutdown import RunFailed, RunInterrupted
    from sim.store.engine import StoreError
    from sim.tournament.run import run_tournament, tournament_plan

    target = db or Path(spec.file.db)
    plan, planned = tournament_plan(spec)
    already = _resume_check(plan, target, resume, new_run, err_console)
    if already is None:
        return 2
    atexit.register(gc.freeze)  # as sim run: no last collector sweep at exit
    with _absorbing_signals() as late, TournamentProgress(console, disable=quiet) as progress:
        progress.add_run(spec.file.name, total=len(planned), completed=already)
        try:
            with progress.cleared_on_error():
                summary = run_tournament(
                    spec,
                    target,
                    backend=backend,
                    resume=resume,
                    parallel=parallel,
                    watchers=[progress.watcher],
                )
        except RunFailed as exc:
            _closing(err_console, exc.run_id, exc.db, exc.status, exc.cause)
            return 1
        except RunInterrupted as exc:
            late.request("the tournament was interrupted")
            _closing(err_console, exc.run_id, exc.db, "interrupted", exc.reason)
            return 130
        except RunConflict as exc:
            err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
            return 2
        except AgentError as exc:
            text = escape(redact_text(str(exc)))
            err_console.print(f"[red]agent error:[/red] {text}", highlight=False, soft_wrap=True)
            return 1
        except (StoreError, SQLAlchemyError, OSError) as exc:
            text = escape(redact_text(f"{target}: {getattr(exc, 'orig', None) or exc}"))
            err_console.print(f"[red]store error:[/red] {text}", highlight=False, soft_wrap=True)
            return 1
    counts = (
        f"{summary.played} of {plural(len(planned), 'match', 'matches')} complete, "
        f"{plural(summary.not_played, 'match', 'matches')} not played"
    )
    why = f" ({summary.stopped})" if summary.stopped else ""
    name = spec.file.name
    console.print(
        f"tournament {name}: run {summary.run.run_id} in {target}: {counts}{why}. "
        f"Standings: sim leaderboard --db {target} {name}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    return 0
