"""``sim run``: validate, play with a progress bar, print the closing summary table."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sim.agent import AgentError
from sim.engine import EpisodeResult
from sim.runner import RunSummary, run_scenario
from sim.scenario import EpisodePlan, ScenarioError, load_scenario
from sim.store.engine import StoreError


def run_command(path: Path, db: Path | None, overrides: list[str], quiet: bool, console: Console,
                err_console: Console) -> int:
    """Run the scenario at ``path``; returns the process exit code (2 for a bad scenario)."""
    try:
        loaded = load_scenario(path, overrides)
    except ScenarioError as exc:
        err_console.print(f"[red]invalid scenario[/red]\n{exc}", highlight=False, markup=False)
        return 2
    plans = loaded.plans
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, disable=quiet, transient=True) as progress:
        task = progress.add_task(loaded.scenario.name, total=len(plans))

        def advance(plan: EpisodePlan, result: EpisodeResult) -> None:
            progress.update(task, advance=1, description=f"{loaded.scenario.name}: {plan.matchup}")

        try:
            summary = run_scenario(loaded, db, advance)
        except AgentError as exc:
            err_console.print(f"[red]agent error:[/red] {exc}", highlight=False)
            return 1
        except StoreError as exc:
            err_console.print(f"[red]store error:[/red] {exc}", highlight=False)
            return 1
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted[/yellow]: finished episodes are stored; the current one is "
                              "marked interrupted")
            return 130
    console.print(summary_table(summary))
    console.print(f"Stored run {summary.run_id} ({len(summary.episodes)} episodes) in [bold]{summary.db}[/bold]. "
                  f"Replay one: sim replay --db {summary.db} {summary.episodes[0][1].episode_id}")
    return 0


def summary_table(summary: RunSummary) -> Table:
    """Per-agent scores and outcomes over the run's episodes."""
    stats: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for plan, result in summary.episodes:
        winner = result.outcome.get("winner")
        for (player, score), seat in zip(result.returns.items(), plan.seats, strict=True):
            s = stats[seat.display()]
            s["seats"] += 1
            s["score"] += score
            s["invalid"] += result.invalid.get(player, 0)
            if "winner" in result.outcome:
                key = "draws" if winner is None else ("wins" if winner == player else "losses")
                s[key] += 1
    table = Table(title=f"run {summary.run_id}: {len(summary.episodes)} episodes", title_justify="left")
    for column in ("agent", "seats", "mean score", "total score", "wins", "draws", "losses", "invalid"):
        table.add_column(column, justify="left" if column == "agent" else "right")
    ranked = sorted(stats.items(), key=lambda kv: -kv[1]["score"] / kv[1]["seats"])
    for name, s in ranked:
        table.add_row(name, f"{s['seats']:.0f}", f"{s['score'] / s['seats']:.2f}", f"{s['score']:g}",
                      f"{s['wins']:.0f}", f"{s['draws']:.0f}", f"{s['losses']:.0f}", f"{s['invalid']:.0f}")
    return table
