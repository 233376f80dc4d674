"""A stored run's summary: the agents table and LLM usage for every world, then the world's own
sections. A world adds sections with a ``summary_sections(run: RunData) -> list[Section]`` function in
the ``metrics`` module next to its world class (``worlds.avalon.metrics``, ``worlds.repeated.metrics``).

Statistics count each distinct trajectory once: identical episodes (same seats, same event stream,
as deterministic agents or cached answers replay them) are not independent evidence.
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sim.plural import plural
from sim.stats import mean, rate
from sim.summaries.model import Cell, Section, Summary, mean_cell, number, rate_cell
from sim.summaries.store import LLMUsage, RunData, SeatRow, latest_run, load_run, seat_order

WorldSections = Callable[[RunData], list[Section]]
Report = Callable[[list[dict[str, Any]]], dict[str, float]]


def build_summary(db: Path, run_id: int | None = None) -> Summary:
    """The summary of run ``run_id`` (default: the latest) of the store ``db``."""
    rid = latest_run(db) if run_id is None else run_id
    world_sections, rated, report = _world_hooks(db, rid)
    run = load_run(db, rid, rated)
    distinct = run.distinct()
    summary = Summary(
        db=str(db),
        run_id=run.run_id,
        scenario=run.name,
        world=run.world_id,
        status=run.status,
        episodes=len(run.episodes),
        distinct=len(distinct),
        first_episode=run.episodes[0].id if run.episodes else None,
    )
    if not run.episodes:
        summary.notes.append("no complete episodes")
        return summary
    if len(distinct) < len(run.episodes):
        summary.notes.append(
            f"{plural(len(run.episodes) - len(distinct), 'episode')} repeated an earlier one exactly "
            "(same seats and events): statistics count each distinct trajectory once"
        )
    sections = world_sections(run) if world_sections else report_sections(run, report)
    summary.sections = [agents_section(run, ranked=not sections), *llm_sections(run), *sections]
    return summary


def _world_hooks(db: Path, run_id: int) -> tuple[WorldSections | None, Callable[[str], bool], Report | None]:
    """The world's ``summary_sections`` (if its package has one), which roles are rated, and its
    ``run_report``."""
    from sim import registry
    from sim.summaries.store import load_world_id

    try:
        cls = registry.world_entry(load_world_id(db, run_id)).load()
    except (registry.RegistryError, ImportError, AttributeError):
        return None, lambda role: True, None

    def rated(role: str) -> bool:
        try:
            return bool(cls.spec.rated(role))
        except (LookupError, ValueError, AttributeError):
            return True  # a world role (merlin, ...) rather than a seat role: a player

    package = cls.__module__.rpartition(".")[0]
    try:
        module = importlib.import_module(f"{package}.metrics") if package else None
    except ImportError:
        module = None
    return getattr(module, "summary_sections", None), rated, cls.run_report


def report_sections(run: RunData, report: Report | None) -> list[Section]:
    """A world without summary sections: its ``run_report`` numbers, one row each."""
    episodes = [
        {"outcome": e.outcome, "metrics": {s.player_id: s.metrics for s in e.seats}} for e in run.distinct()
    ]
    numbers = report(episodes) if report is not None else {}
    if not numbers:
        return []
    section = Section("report", "run metrics", ["metric", "value"])
    for name, value in numbers.items():
        section.add(name, number(value, 3))
    return [section]


def agents_section(run: RunData, ranked: bool = True) -> Section:
    """Per agent (tournaments) or per seat (fixed seats): n, mean score with its interval, wins, draws
    and losses, invalid actions. Ordered by seat, or by mean score when ``ranked`` (and no world
    section ranks them)."""
    groups: dict[tuple[str, str], list[SeatRow]] = defaultdict(list)
    for episode in run.distinct():
        for seat in episode.seats:
            groups[seat.label, seat.player_id if run.by_seat else ""].append(seat)
    columns = ["agent", *(["seat"] if run.by_seat else []), "n", "mean score [95% CI]", "W/D/L", "invalid"]
    section = Section("agents", "seats" if run.by_seat else "agents", columns, label_columns=1 + run.by_seat)
    stats = {key: mean(s.score for s in seats) for key, seats in groups.items()}
    if run.by_seat:
        order = sorted(groups, key=lambda k: seat_order(k[1]))
    elif ranked:
        order = sorted(groups, key=lambda k: (-(stats[k].value or 0.0), k[0]))
    else:
        order = sorted(groups)
    for key in order:
        seats = groups[key]
        results = [s.result for s in seats]
        wdl = "/".join(str(results.count(r)) for r in ("win", "draw", "loss"))
        section.add(
            key[0],
            *([key[1]] if run.by_seat else []),
            len(seats),
            mean_cell(stats[key]),
            Cell(wdl if any(results) else "-", {r: results.count(r) for r in ("win", "draw", "loss")}),
            sum(s.invalid for s in seats),
        )
    return section


def llm_sections(run: RunData) -> list[Section]:
    """LLM calls per agent (or seat) over all episodes, identical ones included (each call happened):
    calls, cache hits, retries, faults, tokens, cost, and the cost cached answers saved."""
    usage: dict[tuple[str, str], LLMUsage] = {}
    for episode in run.episodes:
        for seat in episode.seats:
            if seat.llm is not None:
                key = (seat.label, seat.player_id if run.by_seat else "")
                usage.setdefault(key, LLMUsage()).merge(seat.llm)
    if not usage:
        return []
    label = "seat agent" if run.by_seat else "agent"  # the seat first: a long label is cut, the seat never
    columns = [label, "calls", "cached", "retries", "faults", "tokens", "cost $", "saved $"]
    section = Section("llm", "LLM calls (cost $: ? = unpriced model)", columns)
    for (name, player), u in sorted(usage.items(), key=lambda kv: (seat_order(kv[0][1]), kv[0][0])):
        section.add(
            f"{player} {name}" if player else name,
            u.calls,
            u.cached,
            u.retries,
            u.faults,
            u.tokens,
            _money(u.cost, u.cost_unknown, u.calls - u.cached),
            _money(u.saved, u.saved_unknown, u.cached),
        )
    return [section]


def _money(amount: float, unknown: bool, calls: int) -> Cell:
    """``0.0123``; ``?`` when nothing is priced; ``0.0123+?`` when part is; empty with no calls."""
    if not calls:
        return Cell("", None)
    if unknown:
        return Cell(f"{amount:.4f}+?" if amount else "?", None)
    return Cell(f"{amount:.4f}", amount)


def win_rates(
    title: str, key: str, groups: dict[tuple[str, ...], list[str | None]], columns: list[str]
) -> Section:
    """A table of win rates: per group (its label cells), n, wins, draws and the win rate with its Wilson
    interval (a draw counts as no win). ``groups`` maps label cells to the results of its seats."""
    section = Section(
        key, title, [*columns, "n", "wins", "draws", "win rate [95% CI]"], label_columns=len(columns)
    )
    for labels, results in groups.items():
        rated = [r for r in results if r is not None]
        wins, draws = rated.count("win"), rated.count("draw")
        section.add(*labels, len(rated), wins, draws, rate_cell(rate(wins, len(rated), draws=draws)))
    return section


def endings(episodes: Sequence[Any]) -> Section:
    """How the games ended (team worlds): winner and reason, with the share of games (Wilson interval)."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for episode in episodes:
        counts[str(episode.outcome.get("winner") or "draw"), str(episode.outcome.get("reason") or "-")] += 1
    section = Section(
        "endings", "how games ended", ["winner", "reason", "games", "share [95% CI]"], label_columns=2
    )
    for (winner, reason), k in sorted(counts.items(), key=lambda kv: -kv[1]):
        section.add(winner, reason, k, rate_cell(rate(k, len(episodes))))
    return section
