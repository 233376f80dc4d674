"""``sim tournament``: validate a tournament file, play its matches with a live display, print the tally."""

from __future__ import annotations

import atexit
import gc
from pathlib import Path

from rich.console import Console

from sim.cli_run import _absorbing_signals, _resume_check, run_error_exit, run_errors, validated
from sim.plural import plural
from sim.progress import TournamentProgress


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
    ray_address: str | None = None,
) -> int:
    """Play the tournament at ``path``; returns the exit code: 0 (also when a budget stopped it), 1 a
    failed run, 2 a bad file or option (nothing stored), 130 interrupted. ``ray_address`` (``--backend
    ray`` only) reaches the backend in ``BackendOptions.extra``."""
    from sim.tournament.run import BACKENDS
    from sim.tournament.spec import load_tournament

    spec = validated(lambda: load_tournament(path, overrides), path, "tournament", err_console)
    if spec is None:
        return 2
    if backend not in BACKENDS:
        err_console.print(
            f"[red]error:[/red] --backend must be one of {', '.join(BACKENDS)}, got {backend!r}"
        )
        return 2
    if ray_address is not None and backend != "ray":
        err_console.print("[red]error:[/red] --ray-address needs --backend ray")
        return 2
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
                    extra={"ray_address": ray_address} if ray_address is not None else {},
                )
        except run_errors() as exc:
            return run_error_exit(exc, target, late, err_console)
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
