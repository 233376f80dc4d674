"""``sim evaluate``: run evaluators over a stored run or episode and print the rows they wrote.

The target is ``run:N`` (the run's complete episodes) or ``episode:N`` (a complete episode).
Without ``--evaluator``, the evaluators the run's scenario configures run (a ReCon seat's ``judge``);
``--evaluator NAME`` (repeatable) names them instead, each configured as the scenario configured it
for that episode, else with its defaults. ``--config FILE.yaml`` and ``--set key.path=value`` give the
config of the one evaluator named. Problems with the request exit with code 2 before any model is
asked; a model that stays unavailable exits with code 1. Rows already written for finished episodes
are kept.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sim.evaluators.base import EvaluationError
from sim.evaluators.driver import Choice, Planned, WrittenRow, evaluator_class, make_config, plan_episodes

if TYPE_CHECKING:
    from sim.store.reader import StoreReader

_TARGET = re.compile(r"^(run|episode):(\d+)$")


@dataclass(frozen=True)
class Target:
    """What to evaluate: a run (its complete episodes) or one episode."""

    kind: str  # "run" or "episode"
    id: int


def parse_target(text: str) -> Target:
    """``run:N`` or ``episode:N``."""
    match = _TARGET.match(text.strip())
    if match is None:
        raise EvaluationError(f"RUN|EPISODE must be run:N or episode:N (for example run:1), got {text!r}")
    return Target(match.group(1), int(match.group(2)))


def choices(names: Sequence[str], sets: Sequence[str], config_file: Path | None) -> list[Choice] | None:
    """The evaluators asked for (None: those the scenario configures), with the config given."""
    from sim.scenario import ScenarioError, apply_overrides, read_yaml

    if not names:
        if sets or config_file is not None:
            raise EvaluationError("--set and --config configure one evaluator: name it with --evaluator")
        return None
    classes = [evaluator_class(name) for name in dict.fromkeys(names)]  # each once
    if not (sets or config_file is not None):
        return [Choice(cls) for cls in classes]
    if len(classes) != 1:
        raise EvaluationError("--set and --config configure one evaluator: give exactly one --evaluator")
    try:
        data: dict[str, Any] = read_yaml(config_file) if config_file is not None else {}
        data = apply_overrides(data, sets, str(config_file or "--set"))
    except ScenarioError as exc:
        raise EvaluationError(str(exc)) from None
    return [Choice(classes[0], make_config(classes[0], data))]


def episodes_of(reader: StoreReader, target: Target) -> list[dict[str, Any]]:
    """The complete episodes of the target (``episodes`` rows); an error if there are none."""
    from sim.evaluators.stored import episode_rows

    if target.kind == "episode":
        try:
            row = dict(reader.episode(target.id))
        except LookupError:
            raise EvaluationError(f"{reader.path}: no episode {target.id}") from None
        rows = [r for r in episode_rows(reader, run_id=int(row["run_id"])) if r["id"] == target.id]
        if rows[0]["status"] != "complete":
            raise EvaluationError(
                f"episode {target.id} is {rows[0]['status']}: only complete episodes are evaluated"
            )
        return rows
    rows = episode_rows(reader, run_id=target.id)
    if not rows:
        runs = [int(r) for r in reader.runs()["id"]]
        known = f"runs: {', '.join(map(str, runs))}" if runs else "no runs"
        raise EvaluationError(f"{reader.path}: no run {target.id} ({known})")
    complete = [r for r in rows if r["status"] == "complete"]
    if not complete:
        raise EvaluationError(f"run {target.id} has no complete episode")
    return complete


def evaluate_command(
    db: Path,
    target_text: str,
    names: Sequence[str],
    sets: Sequence[str],
    config_file: Path | None,
    console: Console,
    err_console: Console,
    error: Callable[[object], None],
) -> int:
    """Evaluate and print; returns the exit code (2: a bad request, 1: a model or store failure)."""
    from sim.agent import AgentError
    from sim.store.engine import StoreError
    from sim.store.reader import StoreReader

    try:
        target = parse_target(target_text)
        asked = choices(names, sets, config_file)
        reader = StoreReader(db)
        plans = plan_episodes(reader, episodes_of(reader, target), asked)
        if not any(p.evaluators for p in plans):
            raise EvaluationError(
                f"the scenario of {target.kind} {target.id} configures no evaluator; "
                f"name one with --evaluator ({_registered()})"
            )
    except (EvaluationError, LookupError, StoreError) as exc:
        error(exc)
        return 2
    try:
        written = asyncio.run(_evaluate(db, reader, plans))
    except AgentError as exc:
        err_console.print(f"[red]model error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 1
    except EvaluationError as exc:
        error(exc)
        return 2
    console.print(written_table(written, len(plans)))
    return 0


async def _evaluate(db: Path, reader: StoreReader, plans: list[Planned]) -> list[WrittenRow]:
    """Run the plans with a writer and an LLM client on the store (cache included), then commit."""
    from sim.evaluators.driver import run_plans
    from sim.llm.cache import ResponseCache
    from sim.llm.client import LLMClient
    from sim.store.engine import open_engine
    from sim.store.writer import StoreWriter

    writer = StoreWriter(open_engine(db, create=False))
    llm = LLMClient(ResponseCache(db, write=writer.add_cache_entry), record=writer.add_llm_call)
    try:
        return await run_plans(reader, plans, writer=writer, llm=llm)
    finally:
        writer.close()  # what was written for finished episodes stays, even after a failure


def written_table(written: Sequence[WrittenRow], episodes: int) -> Table:
    """The rows written, one line each."""
    evaluated = len({w.episode_id for w in written})
    title = f"wrote {len(written)} metric rows for {evaluated} of {episodes} episodes"
    table = Table(title=title, title_justify="left")
    for column in ("episode", "evaluator", "model", "seat", "metric"):
        table.add_column(column)
    table.add_column("value", justify="right")
    for w in written:
        value = "NULL" if w.row.value is None else f"{w.row.value:.4g}"
        table.add_row(str(w.episode_id), w.evaluator, w.model or "", w.row.player or "", w.row.name, value)
    return table


def _registered() -> str:
    from sim import registry

    names = list(registry.evaluators())
    return f"registered: {', '.join(names)}" if names else "none is registered"
