"""Running evaluators over stored episodes and writing their rows (``sim evaluate``, and after a run).

Each episode's evaluators are planned from its seats before anything is asked (so a bad request
fails before any LLM call), then run one episode at a time (an evaluator may ask many calls of one
episode at once; the client's per-model queue bounds them). An evaluator's rows of an episode
replace its earlier rows of that episode: the writer deletes them first, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from sim import registry
from sim.evaluators.base import EvaluationError, Evaluator, EvaluatorConfig, MetricRow, StoredSeat

if TYPE_CHECKING:
    from sim.llm.client import LLMClient
    from sim.store.reader import StoreReader
    from sim.store.writer import StoreWriter


@dataclass(frozen=True)
class Choice:
    """An evaluator asked for by name, with its config (None: as the run's scenario configured it for
    each episode, else the evaluator's defaults)."""

    cls: type[Evaluator]
    config: EvaluatorConfig | None = None


@dataclass(frozen=True)
class WrittenRow:
    """A metric row as written: its episode and the evaluator's tags."""

    episode_id: int
    evaluator: str
    model: str | None
    row: MetricRow


def evaluator_class(name: str) -> type[Evaluator]:
    """The evaluator class registered as ``name`` (or a ``module:attr``)."""
    try:
        obj = registry.evaluator_entry(name).load()
    except registry.RegistryError as exc:
        raise EvaluationError(str(exc)) from None
    if not (isinstance(obj, type) and issubclass(obj, Evaluator)):
        raise EvaluationError(f"{name!r} is not an evaluator class (a sim.evaluators.Evaluator subclass)")
    return obj


def registered() -> list[type[Evaluator]]:
    """Every registered evaluator class."""
    return [evaluator_class(name) for name in registry.evaluators()]


def make_config(cls: type[Evaluator], data: Mapping[str, Any]) -> EvaluatorConfig:
    """``data`` validated as the config of ``cls`` (unknown keys rejected)."""
    try:
        return cls.Config.model_validate(dict(data))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'config'}: "
            + ("unknown key" if e["type"] == "extra_forbidden" else e["msg"])
            for e in exc.errors()
        )
        raise EvaluationError(f"{cls.name} config: {problems}") from None


def plan(world_id: str, seats: Sequence[StoredSeat], choices: Sequence[Choice] | None) -> list[Evaluator]:
    """The evaluators to run on an episode of ``world_id`` with ``seats``: the named ``choices``, or
    (None) every registered evaluator the run's scenario configures for it."""
    if choices is None:
        return [
            cls(config)
            for cls in registered()
            if cls.applies_to(world_id)
            for config in cls.configured(seats)
        ]
    out: list[Evaluator] = []
    for choice in choices:
        cls = choice.cls
        if not cls.applies_to(world_id):
            raise EvaluationError(f"{cls.name} scores {', '.join(cls.worlds or ())}, not {world_id}")
        configs = [choice.config] if choice.config is not None else cls.configured(seats)
        out += [cls(config) for config in configs] if configs else [cls(make_config(cls, {}))]
    return out


@dataclass(frozen=True)
class Planned:
    """An episode (its ``episodes`` row and seats) and the evaluators to run on it."""

    row: Mapping[str, Any]
    seats: tuple[StoredSeat, ...]
    evaluators: list[Evaluator]


def plan_episodes(
    reader: StoreReader, episodes: Sequence[Mapping[str, Any]], choices: Sequence[Choice] | None
) -> list[Planned]:
    """The evaluators of each of ``episodes`` (``episodes`` rows), from their seats: nothing is asked
    yet, so a bad request fails here."""
    from sim.evaluators.stored import seats_of

    seats = seats_of(reader, (int(row["id"]) for row in episodes))
    out = []
    for row in episodes:
        mine = seats.get(int(row["id"]), ())
        out.append(Planned(row, mine, plan(str(row["world_id"]), mine, choices)))
    return out


async def run_plans(
    reader: StoreReader, plans: Sequence[Planned], *, writer: StoreWriter, llm: LLMClient
) -> list[WrittenRow]:
    """Run the planned evaluators, one episode at a time, queueing their rows on ``writer`` (the
    caller commits); returns the rows written."""
    from sim.evaluators.stored import load_episode

    written: list[WrittenRow] = []
    for planned in plans:
        if not planned.evaluators:
            continue
        episode = load_episode(reader, planned.row, planned.seats)
        results = [(evaluator, await evaluator.evaluate(episode, llm)) for evaluator in planned.evaluators]
        written += write_rows(writer, episode.id, results)
    return written


def write_rows(
    writer: StoreWriter, episode_id: int, results: Sequence[tuple[Evaluator, Sequence[MetricRow]]]
) -> list[WrittenRow]:
    """Replace each evaluator's rows of the episode by ``results`` (one delete per evaluator name, then
    the rows of each evaluator instance with its model)."""
    for name in dict.fromkeys(evaluator.name for evaluator, _ in results):
        writer.delete_evaluator_metrics(episode_id, name)
    written: list[WrittenRow] = []
    for evaluator, rows in results:
        writer.add_metrics(
            episode_id,
            [(r.player, r.name, r.value) for r in rows],
            evaluator=evaluator.name,
            evaluator_model=evaluator.model,
        )
        written += [WrittenRow(episode_id, evaluator.name, evaluator.model, r) for r in rows]
    return written


async def evaluate_run(writer: StoreWriter, llm: LLMClient, run_id: int) -> list[WrittenRow]:
    """After a run: the evaluators its scenario configures (a ReCon seat's ``judge``), over its complete
    episodes, through the run's writer and LLM client. Reads nothing when no evaluator could apply."""
    from sim.evaluators.stored import episode_rows, run_seats
    from sim.store.reader import StoreReader

    with writer.engine.connect() as conn:
        world_id = conn.exec_driver_sql("SELECT world_id FROM runs WHERE id = ?", (run_id,)).scalar_one()
    candidates = [cls for cls in registered() if cls.applies_to(world_id)]
    if not candidates:
        return []
    writer.sync()  # the episodes' rows are committed before they are read back
    database = writer.engine.url.database
    assert database is not None
    reader = StoreReader(Path(database))
    seats = run_seats(reader, run_id)  # a bots-only run of thousands of episodes has a handful
    if not any(cls.configured(seats) for cls in candidates):
        return []
    complete = [row for row in episode_rows(reader, run_id=run_id) if row["status"] == "complete"]
    return await run_plans(reader, plan_episodes(reader, complete, None), writer=writer, llm=llm)
