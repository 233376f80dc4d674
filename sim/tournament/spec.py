"""Tournament files: YAML read like scenario files (:mod:`sim.safe_yaml`, the same limits) and validated
by pydantic with the scenario module's error style: a bad file raises :class:`sim.scenario.ScenarioError`
naming the file, every key at fault and what was expected, all problems at once.

A file names a world and its params, a ``pool`` of named agent configs (each shaped like a scenario
seat), a ``schedule`` (a two-seat ``round_robin``, or ``seatings`` for n-player and team worlds, with
``fixed`` seats such as CharacterBox's narrator), ``repetitions``, a base ``seed``, and optional
``budget`` and ``concurrency`` caps that the executor honours.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from sim.scenario import (
    MAX_EPISODES,
    MAX_SEED,
    TOP_LEVEL,
    ScenarioError,
    SeatSpec,
    _import_path_or_name,
    _salvage,
    _Strict,
    apply_overrides,
    check_agent,
    read_yaml,
    validate_world_file,
)
from sim.settings import EngineSettings
from sim.tournament.balance import role_deal
from sim.world import World

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


class PoolAgent(_Strict):
    """A pool entry: an agent and its config, as in a scenario seat (its name is the pool key)."""

    agent: str = Field(min_length=1)
    _agent_path = field_validator("agent")(_import_path_or_name)
    config: dict[str, Any] = Field(default_factory=dict)


class FixedSeat(_Strict):
    """A seat every match gives the same agent (a narrator, a referee), not one of the pool's."""

    seat: int = Field(ge=0, le=999, description="the seat index (0 = p0)")
    agent: str = Field(min_length=1)
    _agent_path = field_validator("agent")(_import_path_or_name)
    label: str | None = None
    role: str | None = Field(None, min_length=1)
    config: dict[str, Any] = Field(default_factory=dict)

    def seat_spec(self) -> SeatSpec:
        return SeatSpec(agent=self.agent, label=self.label, role=self.role, config=self.config)


class Schedule(_Strict):
    """Who meets whom. ``round_robin``: every pair of pool agents in a two-seat world (``self_play``
    adds each agent against itself, ``both_orders`` plays every pair in both seat orders).
    ``seatings``: tables of ``players`` seats for n-player and team worlds, every group of pool agents
    (``enumerate``) or ``samples`` groups drawn with a seeded generator (``sample``); ``balance``
    rotates each group through the open seats (``seats``), and with ``roles`` also deals the world's
    roles by seat so every agent plays every role equally often."""

    format: Literal["round_robin", "seatings"] = "round_robin"
    self_play: bool = True
    both_orders: bool = False
    seatings: Literal["enumerate", "sample"] = "enumerate"
    players: int | None = Field(None, ge=1, le=1000, description="seats per match (default: the world's)")
    samples: int | None = Field(None, ge=1, le=MAX_EPISODES)
    balance: Literal["none", "seats", "roles"] = "seats"
    fixed: list[FixedSeat] = Field(default_factory=list)

    @model_validator(mode="after")
    def _format_keys(self) -> Schedule:
        set_keys = self.model_fields_set
        if self.format == "round_robin":
            wrong = sorted(set_keys & {"seatings", "players", "samples", "balance", "fixed"})
            if wrong:
                raise ValueError(f"{', '.join(wrong)} go(es) with format: seatings, not round_robin")
        else:
            wrong = sorted(set_keys & {"self_play", "both_orders"})
            if wrong:
                raise ValueError(f"{', '.join(wrong)} go(es) with format: round_robin, not seatings")
            if (self.seatings == "sample") != (self.samples is not None):
                raise ValueError(
                    "'samples' (how many groups to draw) goes with seatings: sample, and only there"
                )
        seats = [f.seat for f in self.fixed]
        if len(set(seats)) != len(seats):
            raise ValueError("two fixed seats share a seat index")
        return self


class Budget(_Strict):
    """Stop scheduling new matches once the estimated spend reaches one of these."""

    usd: float | None = Field(None, gt=0)
    tokens: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _one_cap(self) -> Budget:
        if self.usd is None and self.tokens is None:
            raise ValueError("give 'usd', 'tokens' or both")
        return self


class Concurrency(_Strict):
    """Caps on matches in flight: ``matches`` at once overall, ``per_model`` LLM requests at once."""

    matches: int = Field(8, ge=1, le=10_000)
    per_model: dict[str, int] = Field(default_factory=dict)

    @field_validator("per_model")
    @classmethod
    def _positive(cls, caps: dict[str, int]) -> dict[str, int]:
        bad = [model for model, cap in caps.items() if cap < 1]
        if bad:
            raise ValueError(f"per-model caps must be at least 1 ({', '.join(bad)})")
        return caps


class TournamentFile(_Strict):
    """A tournament file as written."""

    name: str = Field(min_length=1)
    description: str = ""
    world: str = Field(min_length=1)
    _world_path = field_validator("world")(_import_path_or_name)
    params: dict[str, Any] = Field(default_factory=dict)
    pool: dict[str, PoolAgent] = Field(min_length=1)
    schedule: Schedule = Field(default_factory=Schedule)
    repetitions: int = Field(1, ge=1, le=MAX_EPISODES)
    seed: int = Field(0, ge=0, le=MAX_SEED)
    budget: Budget | None = None
    concurrency: Concurrency = Field(default_factory=Concurrency)
    db: str = "runs/tournament.db"
    engine: EngineSettings = Field(default_factory=lambda: EngineSettings())
    replay: bool = Field(
        True,
        strict=True,
        description="play a deterministic match once, copy it for its other seeds (sim.tournament.replay)",
    )

    @field_validator("pool")
    @classmethod
    def _pool_names(cls, pool: dict[str, PoolAgent]) -> dict[str, PoolAgent]:
        bad = [name for name in pool if not _NAME.match(name)]
        if bad:
            raise ValueError(f"pool names are letters, digits, '_', '.' and '-' (not {', '.join(bad)})")
        return pool


@dataclass(frozen=True)
class TournamentSpec:
    """A validated tournament: the file, where it came from, the world class, its params and the
    number of seats per match."""

    file: TournamentFile
    source: str
    world_cls: type[World]
    params: BaseModel
    players: int

    @property
    def world_id(self) -> str:
        return self.world_cls.spec.id

    def pool_seat(self, name: str) -> SeatSpec:
        """Pool agent ``name`` as a scenario seat (labelled with its pool name)."""
        entry = self.file.pool[name]
        return SeatSpec(agent=entry.agent, label=name, config=entry.config)


def load_tournament(path: str | Path, overrides: Sequence[str] = ()) -> TournamentSpec:
    """Read, override (``key.path=value``) and fully validate a tournament file."""
    path = Path(path)
    return validate_tournament(read_yaml(path), str(path), overrides)


def validate_tournament(data: dict[str, Any], source: str, overrides: Sequence[str] = ()) -> TournamentSpec:
    """Validate tournament data as if read from ``source``; every problem is reported at once."""
    data = apply_overrides(data, overrides, source)
    file, data, world_cls, params, problems = validate_world_file(TournamentFile, data, source)
    spec = world_cls.spec
    engine = file.engine if file is not None else EngineSettings()
    for where, seat in _seats(data, file):
        check_agent(source, where, seat, spec, engine, problems)
    players = 0
    if file is not None:
        players = _players(file.schedule, world_cls, problems)
        if players and params is not None:
            problems.extend(_schedule_problems(file, world_cls, params, players))
    if problems or file is None or params is None:
        raise ScenarioError(source, problems)
    return TournamentSpec(file, source, world_cls, params, players)


def _seats(data: dict[str, Any], file: TournamentFile | None) -> list[tuple[str, SeatSpec]]:
    """Every pool agent and fixed seat that parses, with its key path (their agents get checked even
    when other parts of the file are wrong)."""
    if file is not None:
        pool = [(f"pool.{n}", SeatSpec(agent=a.agent, config=a.config)) for n, a in file.pool.items()]
        fixed = [(f"schedule.fixed[{i}]", f.seat_spec()) for i, f in enumerate(file.schedule.fixed)]
        return pool + fixed
    raw_pool, raw_schedule = data.get("pool"), data.get("schedule")
    raw_fixed = raw_schedule.get("fixed") if isinstance(raw_schedule, dict) else None
    pool_raws = [(f"pool.{n}", r) for n, r in (raw_pool.items() if isinstance(raw_pool, dict) else [])]
    fixed_raws = [(f"schedule.fixed[{i}]", r) for i, r in enumerate(raw_fixed or [])]
    seats = [
        (w, SeatSpec(agent=e.agent, config=e.config)) for w, r in pool_raws if (e := _salvage(PoolAgent, r))
    ]
    seats += [(w, f.seat_spec()) for w, r in fixed_raws if (f := _salvage(FixedSeat, r))]
    return seats


def _players(schedule: Schedule, world_cls: type[World], problems: list[tuple[str, str]]) -> int:
    """Seats per match: 2 for a round robin, else ``players`` or the world's only count (0 if unknown)."""
    spec = world_cls.spec
    if schedule.format == "round_robin":
        if not spec.min_players <= 2 <= spec.max_players:
            needs = f"{spec.min_players}-{spec.max_players}"
            problems.append(
                ("schedule.format", f"round_robin pairs two agents; {spec.id} needs {needs} seats")
            )
            return 0
        return 2
    if schedule.players is not None:
        if not spec.min_players <= schedule.players <= spec.max_players:
            needs = f"{spec.min_players}-{spec.max_players}"
            problems.append(("schedule.players", f"{spec.id} needs {needs} seats, got {schedule.players}"))
            return 0
        return schedule.players
    if spec.min_players != spec.max_players:
        needs = f"{spec.min_players}-{spec.max_players}"
        problems.append(("schedule.players", f"{spec.id} seats {needs} players: say how many"))
        return 0
    return spec.min_players


def _schedule_problems(
    file: TournamentFile, world_cls: type[World], params: BaseModel, players: int
) -> list[tuple[str, str]]:
    """Whether the schedule's seats fit the world: seat roles, fixed seats, balance."""
    spec = world_cls.spec
    schedule = file.schedule
    problems: list[tuple[str, str]] = []
    problem = world_cls.check_players(params, players)
    if problem:
        problems.append(("params", f"{problem} (with {players} seats)"))
    for i, fixed in enumerate(schedule.fixed):
        if fixed.seat >= players:
            problems.append((f"schedule.fixed[{i}].seat", f"seat {fixed.seat} of a {players}-seat table"))
    if problems:
        return problems
    roles = [spec.default_role.name] * players
    for fixed in schedule.fixed:
        roles[fixed.seat] = fixed.role or spec.default_role.name
    problems.extend(("schedule", p) for p in spec.role_problems(roles))
    if (
        schedule.format == "seatings"
        and schedule.balance == "roles"
        and role_deal(world_cls, params, players, file.seed) is None
    ):
        message = (
            f"{spec.id} deals no roles the tournament can fix by seat; use balance: seats "
            "(every agent in every seat equally often)"
        )
        problems.append(("schedule.balance", message))
    open_seats = players - len(schedule.fixed)
    if schedule.format == "round_robin" and len(file.pool) < 2 and not schedule.self_play:
        problems.append(("schedule", "a round robin without self-play needs at least 2 agents in 'pool'"))
    if open_seats < 1:
        problems.append(("schedule.fixed", "every seat is fixed: no seat left for the pool"))
    elif (planned := match_count(file, open_seats)) > MAX_EPISODES:
        message = (
            f"plans {planned:,} matches; at most {MAX_EPISODES:,} "
            "(fewer pool agents, repetitions, or seatings: sample)"
        )
        problems.append((TOP_LEVEL, message))
    return problems


def match_count(file: TournamentFile, open_seats: int) -> int:
    """How many matches the schedule plans, computed without listing them."""
    schedule, n = file.schedule, len(file.pool)
    if schedule.format == "round_robin":
        pairs = math.comb(n + 1, 2) if schedule.self_play else math.comb(n, 2)
        if schedule.both_orders:
            pairs += math.comb(n, 2)
        return pairs * file.repetitions
    size = min(open_seats, n)
    groups = math.comb(n, size) if schedule.seatings == "enumerate" else schedule.samples or 0
    return groups * (1 if schedule.balance == "none" else size) * file.repetitions
