"""Scenario files: YAML (read by :mod:`sim.safe_yaml`, within size, depth and alias limits) validated by
pydantic, unknown keys rejected everywhere, every count and seed range-checked.

A bad file raises :class:`ScenarioError` naming the file, the key path and what was expected,
before anything is written anywhere. Values under secret-like keys are never echoed.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim import registry
from sim.agent import AgentBase
from sim.jobs import EpisodeJob, SeatConfig, run_fingerprint
from sim.plural import plural
from sim.redact import is_secret_key
from sim.rng import derive_seed
from sim.safe_yaml import MAX_DEPTH, YamlProblem, load_text, read_limited
from sim.settings import EngineSettings  # also imported from here (sim.scenario.EngineSettings)
from sim.types import WorldSpec, to_jsonable
from sim.world import World, WorldBase

#: The key path shown for problems with the file as a whole (no single key to blame).
TOP_LEVEL = "(top level)"
#: Most episodes one run may plan (``episodes``, or a tournament's pairings × repetitions).
MAX_EPISODES = 100_000
#: Largest seed: seeds are stored as SQLite's signed 64-bit integers.
MAX_SEED = 2**63 - 1
#: Any integer anywhere in a scenario must fit in a signed 64-bit integer.
INT64 = range(-(2**63), 2**63)
#: Problems printed at most; the rest are counted on one last line.
MAX_PROBLEMS = 20
#: How ``module:attr`` import paths must look (``.relative`` imports and other oddities are refused).
_IMPORT_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


class ScenarioError(ValueError):
    """A scenario problem, phrased as ``file: key.path: expectation`` (at most :data:`MAX_PROBLEMS`
    lines, then ``file: … and N more``)."""

    def __init__(self, source: str, problems: Sequence[tuple[str, str]]):
        self.source = source
        self.problems = list(problems)
        lines = [
            f"{source}: {path}: {message}" if path else f"{source}: {message}"
            for path, message in self.problems[:MAX_PROBLEMS]
        ]
        if len(self.problems) > MAX_PROBLEMS:
            lines.append(f"{source}: … and {len(self.problems) - MAX_PROBLEMS} more")
        super().__init__("\n".join(lines))


def _import_path_or_name(value: str) -> str:
    """A registered name, or a well-formed ``module:attr`` import path."""
    if ":" in value and not _IMPORT_PATH.match(value):
        raise ValueError(f"{_clip(value)!r} is not a registered name or a 'module.path:Class' import path")
    return value


_M = TypeVar("_M", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SeatSpec(_Strict):
    """One seat: which agent plays it and the agent's config."""

    agent: str = Field(min_length=1)
    _agent_path = field_validator("agent")(_import_path_or_name)
    label: str | None = None
    role: str | None = Field(
        None, min_length=1, description="a seat role the world declares (default: its first)"
    )
    config: dict[str, Any] = Field(default_factory=dict)

    def display(self) -> str:
        """The seat's name in summaries."""
        return self.label or self.agent


class TournamentSpec(_Strict):
    """Many two-seat episodes in one run: a round robin over ``pool``, or ``focal`` against each one."""

    format: Literal["round_robin", "focal"] = "round_robin"
    pool: list[SeatSpec] = Field(min_length=1)
    focal: SeatSpec | None = None
    self_play: bool = True
    swap_seats: bool = False
    repetitions: int = Field(1, ge=1, le=MAX_EPISODES)

    @model_validator(mode="after")
    def _format_keys(self) -> TournamentSpec:
        if self.format == "focal" and self.focal is None:
            raise ValueError("format 'focal' needs a 'focal' seat")
        if self.format == "round_robin":
            if self.focal is not None:
                raise ValueError("'focal' goes with format: focal")
            if self.swap_seats:
                raise ValueError("'swap_seats' goes with format: focal")
            if len(self.pool) < 2 and not self.self_play:
                raise ValueError("a round robin without self-play needs at least 2 agents in 'pool'")
        if self.episode_count() > MAX_EPISODES:
            raise ValueError(
                f"plans {self.episode_count():,} episodes; at most {MAX_EPISODES:,} per run "
                "(fewer pool members or repetitions)"
            )
        return self

    def episode_count(self) -> int:
        """How many episodes :meth:`lineups` gives, computed without listing them."""
        n = len(self.pool)
        if self.format == "focal":
            pairs = n * (2 if self.swap_seats else 1)
        else:
            pairs = math.comb(n + 1, 2) if self.self_play else math.comb(n, 2)
        return pairs * self.repetitions

    def lineups(self) -> list[tuple[SeatSpec, ...]]:
        """Every episode's seats in order (p0 first), repetitions adjacent."""
        if self.format == "focal":
            assert self.focal is not None
            pairs = [(self.focal, other) for other in self.pool]
            if self.swap_seats:
                pairs += [(other, self.focal) for other in self.pool]
        else:
            pick = itertools.combinations_with_replacement if self.self_play else itertools.combinations
            pairs = list(pick(self.pool, 2))
        return [tuple(p) for p in pairs for _ in range(self.repetitions)]

    def all_seats(self) -> list[tuple[str, SeatSpec]]:
        """Each distinct seat spec with its key path (for validation)."""
        seats = [(f"tournament.pool[{i}]", s) for i, s in enumerate(self.pool)]
        return seats + ([("tournament.focal", self.focal)] if self.focal is not None else [])


class Scenario(_Strict):
    """A scenario file."""

    name: str = Field(min_length=1)
    description: str = ""
    world: str = Field(min_length=1)
    _world_path = field_validator("world")(_import_path_or_name)
    params: dict[str, Any] = Field(default_factory=dict)
    seats: list[SeatSpec] | None = None
    tournament: TournamentSpec | None = None
    episodes: int = Field(1, ge=1, le=MAX_EPISODES)
    seed: int = Field(0, ge=0, le=MAX_SEED)
    db: str = "runs/sim.db"
    engine: EngineSettings = Field(default_factory=lambda: EngineSettings())

    @model_validator(mode="after")
    def _one_lineup(self) -> Scenario:
        if (self.seats is None) == (self.tournament is None):
            raise ValueError("give exactly one of 'seats' or 'tournament'")
        if self.tournament is not None and "episodes" in self.model_fields_set:
            raise ValueError(
                "'episodes' goes with 'seats'; a tournament repeats with 'tournament.repetitions'"
            )
        return self


@dataclass(frozen=True)
class EpisodePlan:
    """One episode to play: its index, the seats in order, and the world params."""

    index: int
    seats: tuple[SeatSpec, ...]
    matchup: str


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario with its world class, params and the episodes it expands to."""

    scenario: Scenario
    source: str
    world_cls: type[World]
    params: BaseModel
    agent_classes: dict[str, type[Any]]

    @functools.cached_property
    def plans(self) -> list[EpisodePlan]:
        """Every episode of the run, in order (expanded once)."""
        return expand(self.scenario)

    def episode_seed(self, plan: EpisodePlan) -> int:
        """The episode's seed, derived from the scenario seed and the episode index."""
        return derive_seed(self.scenario.seed, "episode", plan.index)

    @functools.cached_property
    def planned_jobs(self) -> tuple[EpisodeJob, ...]:
        """Every episode as a job of no stored run yet (built once; :meth:`jobs` gives them a run)."""
        spec = self.world_cls.spec
        params = to_jsonable(self.params.model_dump(mode="json", exclude_unset=True))
        default = spec.default_role.name

        def seat(s: SeatSpec) -> SeatConfig:
            return SeatConfig(s.agent, s.display(), s.role or default, s.config)

        return tuple(
            EpisodeJob(
                run_id=None,
                index=plan.index,
                world=self.scenario.world,
                world_id=spec.id,
                params=params,
                seats=tuple(seat(s) for s in plan.seats),
                seed=self.episode_seed(plan),
                matchup=plan.matchup,
                engine=self.scenario.engine,
            )
            for plan in self.plans
        )

    @functools.cached_property
    def fingerprint(self) -> str:
        """The run's plan fingerprint (:func:`sim.jobs.run_fingerprint`), computed once."""
        return run_fingerprint(self.planned_jobs)

    def jobs(self, run_id: int | None = None) -> list[EpisodeJob]:
        """Every episode of the run as a self-contained job (``run_id``: the stored run, if any)."""
        if run_id is None:
            return list(self.planned_jobs)
        return [dataclasses.replace(job, run_id=run_id) for job in self.planned_jobs]


def expand(scenario: Scenario) -> list[EpisodePlan]:
    """The scenario's episodes: ``episodes`` copies of the seats, or every round-robin pairing."""
    if scenario.seats is not None:
        lineups = [tuple(scenario.seats)] * scenario.episodes
    else:
        assert scenario.tournament is not None
        lineups = scenario.tournament.lineups()
    return [
        EpisodePlan(i, lineup, " vs ".join(s.display() for s in lineup)) for i, lineup in enumerate(lineups)
    ]


# ---------------------------------------------------------------------------------------------
def _clip(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters (error lines stay short whatever the file holds)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _loc(loc: Sequence[int | str], prefix: str = "") -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{_clip(part)}" if out else _clip(part)
    return out


def _hides_value(loc: Sequence[int | str]) -> bool:
    """Whether an error at ``loc`` must not echo its input: a secret-like key, or ``api_key_env``
    (which may hold the key itself by mistake)."""
    return any(isinstance(p, str) and (is_secret_key(p) or p == "api_key_env") for p in loc)


def _problems(exc: ValidationError, prefix: str = "") -> list[tuple[str, str]]:
    problems = []
    for err in exc.errors(include_input=True, include_url=False):
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-after"))]
        message = err["msg"]
        if err["type"] == "value_error" and "error" in err.get("ctx", {}):
            message = str(err["ctx"]["error"])  # drop pydantic's "Value error, " prefix
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif err["type"] == "missing":
            message = "required key is missing"
        elif _hides_value([*prefix.split("."), *loc]):
            message += " (value not shown)"
        elif "input" in err and not isinstance(err["input"], dict | list):
            message += f" (got {_clip(repr(err['input']))})"
        problems.append((_loc(loc, prefix) or TOP_LEVEL, message))
    return problems


def _out_of_range_ints(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every integer in ``value`` (walked like a JSON document) outside the signed 64-bit range."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _out_of_range_ints(item, f"{path}.{_clip(str(key))}" if path else _clip(str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _out_of_range_ints(item, f"{path}[{i}]")
    elif isinstance(value, int) and not isinstance(value, bool) and value not in INT64:
        bits = abs(value).bit_length()
        yield path or TOP_LEVEL, f"integers must fit in 64 bits (-2**63 to 2**63-1), got a {bits}-bit number"


def parse_value(raw: str) -> Any:
    """A ``--set`` value: YAML, read like a scenario file (same limits, YAML 1.2 booleans)."""
    return load_text(raw) if raw else ""


def apply_overrides(data: dict[str, Any], overrides: Sequence[str], source: str) -> dict[str, Any]:
    """Apply ``key.path=value`` overrides (values parsed as YAML; numeric parts index existing lists;
    missing mappings on the way are created)."""
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ScenarioError(source, [("--set", f"{_clip(item)!r} is not of the form key.path=value")])
        try:
            value = parse_value(raw)
        except YamlProblem as exc:
            message = f"--set value {_clip(raw)!r} is not valid YAML: {exc.message}"
            raise ScenarioError(source, [(key, message)]) from None
        parts = key.split(".")
        if len(parts) > MAX_DEPTH:
            raise ScenarioError(source, [("--set", f"a key path of more than {MAX_DEPTH} parts")])
        node: Any = data
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    message = f"--set: {_clip(part)!r} is not an index of a {len(node)}-item list"
                    raise ScenarioError(source, [(key, message)])
                if last:
                    node[int(part)] = value
                else:
                    node = node[int(part)]
            elif isinstance(node, dict):
                if last:
                    node[part] = value
                elif part not in node and parts[i + 1].isdigit():
                    where = _clip(".".join(parts[: i + 1]))
                    keys = ", ".join(map(str, node)) or "none"
                    message = (
                        f"--set: there is no {where!r} list to index (keys at that level: {_clip(keys)})"
                    )
                    raise ScenarioError(source, [(key, message)])
                else:
                    node = node.setdefault(part, {})
            else:
                message = f"--set: {_clip('.'.join(parts[:i]))!r} is not a mapping or list"
                raise ScenarioError(source, [(key, message)])
    return data


def read_yaml(path: Path) -> dict[str, Any]:
    """Parse the file with :func:`sim.safe_yaml.load_text`; the top level must be a mapping."""
    source = str(path)
    try:
        data = load_text(read_limited(path))
    except OSError as exc:
        raise ScenarioError(source, [("", f"cannot read the file: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError as exc:
        message = f"expected UTF-8 text, got byte {exc.object[exc.start]:#04x} at offset {exc.start}"
        raise ScenarioError(source, [("", message)]) from None
    except YamlProblem as exc:
        raise ScenarioError(source, [(exc.where, exc.message)]) from None
    if not isinstance(data, dict):
        raise ScenarioError(source, [(TOP_LEVEL, f"expected a mapping of keys, got {type(data).__name__}")])
    return data


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> LoadedScenario:
    """Read, override and fully validate a scenario file (world, params, seats and agent configs)."""
    path = Path(path)
    return validate_scenario(read_yaml(path), str(path), overrides)


def validate_world_file(
    model: type[_M], data: dict[str, Any], source: str
) -> tuple[_M | None, dict[str, Any], type[World], BaseModel | None, list[tuple[str, str]]]:
    """The first half of validating a file that names a world (a scenario, a tournament): top-level
    ``x-`` keys dropped, integers range-checked, the file ``model``, the world and its params. Returns
    the file (None if it does not validate), the data, the world class, the params (None if they do not
    validate) and the problems so far; raises :class:`ScenarioError` when there is no world to go on."""
    # Top-level ``x-`` keys are free, for YAML anchors shared by several seats (``x-model: &model``).
    data = {k: v for k, v in data.items() if not (isinstance(k, str) and k.startswith("x-"))}
    too_big = list(_out_of_range_ints(data))
    if too_big:
        raise ScenarioError(source, too_big)
    problems: list[tuple[str, str]] = []
    file: _M | None = None
    try:
        file = model.model_validate(data)
    except ValidationError as exc:
        problems.extend(_problems(exc))

    def clean(key: str) -> bool:  # no problem reported at or under the top-level ``key`` yet
        return not any(path == key or path.startswith((f"{key}.", f"{key}[")) for path, _ in problems)

    world_cls = _world_class(data.get("world"), problems) if clean("world") else None
    if world_cls is None:  # nothing more to check without the world
        raise ScenarioError(source, problems)
    params = None
    raw_params = data.get("params", {})
    if isinstance(raw_params, dict) and clean("params"):
        params_model: Any = world_cls.spec.params_model
        try:
            params = params_model.model_validate(raw_params)
        except ValidationError as exc:
            problems.extend(_problems(exc, "params"))
    return file, data, world_cls, params, problems


def validate_scenario(data: dict[str, Any], source: str, overrides: Sequence[str] = ()) -> LoadedScenario:
    """Validate scenario data as if it came from ``source``; every problem found is reported at once
    (the top-level keys, the world, its params, the lineup and each seat's agent and config)."""
    data = apply_overrides(data, [_tournament_episodes(data, item) for item in overrides], source)
    scenario, data, world_cls, params, problems = validate_world_file(Scenario, data, source)
    spec = world_cls.spec
    seats, tournament, seat_list = _lineup(data, scenario)
    problems.extend(_lineup_problems(world_cls, params, seats, tournament))
    agent_classes: dict[str, type[Any]] = {}
    engine = scenario.engine if scenario is not None else EngineSettings()
    for where, seat in seat_list:
        cls = check_agent(source, where, seat, spec, engine, problems)
        if cls is not None:
            agent_classes[seat.agent] = cls
    if problems or scenario is None or params is None:
        raise ScenarioError(source, problems)
    return LoadedScenario(scenario, source, world_cls, params, agent_classes)


def check_agent(
    source: str,
    where: str,
    seat: SeatSpec,
    spec: WorldSpec,
    engine: EngineSettings,
    problems: list[tuple[str, str]],
) -> type[Any] | None:
    """The agent class of ``seat`` (at key path ``where``) if it loads, plays ``spec``'s world and its
    config validates; else None, with the problems added to ``problems``."""
    try:
        cls = _load(registry.agent_entry, seat.agent)
    except registry.RegistryError as exc:
        problems.append((f"{where}.agent", str(exc)))
        return None
    if not (isinstance(cls, type) and issubclass(cls, AgentBase)):
        message = f"{seat.agent!r} is not an agent class (a sim.agent.AgentBase subclass)"
        problems.append((f"{where}.agent", message))
        return None
    if not cls.plays(spec.id):
        plays = ", ".join(cls.worlds or ())
        problems.append((f"{where}.agent", f"{seat.agent!r} plays {plays}, not {spec.id}"))
        return None
    try:
        config = cls.Config.model_validate(seat.config)
    except ValidationError as exc:
        problems.extend(_problems(exc, f"{where}.config"))
        return None
    problems.extend((f"{where}.config.{key}", message) for key, message in cls.check_config(config, spec))
    _warn_slow_models(source, engine, where, config)
    return cls


def _tournament_episodes(data: dict[str, Any], override: str) -> str:
    """``episodes=N`` (``--episodes N``) on a tournament means ``tournament.repetitions=N``: every
    pairing played N times (a file's own ``episodes`` key beside ``tournament`` stays an error)."""
    key, sep, value = override.partition("=")
    if sep and key.strip() == "episodes" and "tournament" in data and "seats" not in data:
        return f"tournament.repetitions={value}"
    return override


def _world_class(name: Any, problems: list[tuple[str, str]]) -> type[World] | None:
    """The world class ``name`` refers to, or None with the problem added to ``problems``."""
    if not isinstance(name, str):
        return None
    try:
        world_cls = _load(registry.world_entry, name)
    except registry.RegistryError as exc:
        problems.append(("world", str(exc)))
        return None
    if not (isinstance(world_cls, type) and issubclass(world_cls, WorldBase)):
        problems.append(("world", f"{name!r} is not a world class (a sim.world.WorldBase subclass)"))
        return None
    return world_cls  # type: ignore[no-any-return]


def _lineup(
    data: dict[str, Any], scenario: Scenario | None
) -> tuple[list[SeatSpec] | None, TournamentSpec | None, list[tuple[str, SeatSpec]]]:
    """The seats or the tournament (None where they do not parse) and every seat that parses with its key
    path, from the validated scenario or else salvaged from the raw data, so that the seats that do
    parse get their agents checked (the problems of the others were reported already)."""
    if scenario is not None:
        seats, tournament = scenario.seats, scenario.tournament
    else:
        raw_seats, raw_tournament = data.get("seats"), data.get("tournament")
        if isinstance(raw_seats, list):
            parsed = _parsed_seats([(f"seats[{i}]", raw) for i, raw in enumerate(raw_seats)])
            complete = len(parsed) == len(raw_seats)
            return ([seat for _, seat in parsed] if complete else None), None, parsed
        if not isinstance(raw_tournament, dict):
            return None, None, []
        tournament = _salvage(TournamentSpec, raw_tournament)
        if tournament is None:  # check the pool seats that parse
            pool = raw_tournament.get("pool")
            raws = [
                (f"tournament.pool[{i}]", r) for i, r in enumerate(pool if isinstance(pool, list) else [])
            ]
            raws += [("tournament.focal", raw_tournament["focal"])] if "focal" in raw_tournament else []
            return None, None, _parsed_seats(raws)
        seats = None
    if seats is not None:
        return seats, None, [(f"seats[{i}]", s) for i, s in enumerate(seats)]
    return None, tournament, tournament.all_seats() if tournament is not None else []


def _parsed_seats(raws: list[tuple[str, Any]]) -> list[tuple[str, SeatSpec]]:
    """The seats among ``raws`` (key path, raw value) that parse, with their key paths."""
    parsed = [(where, _salvage(SeatSpec, raw)) for where, raw in raws]
    return [(where, seat) for where, seat in parsed if seat is not None]


def _salvage(model: type[_M], raw: Any) -> _M | None:
    """``raw`` validated as ``model``, or None (its problems are those the whole file reported)."""
    try:
        return model.model_validate(raw)
    except ValidationError:
        return None


def _lineup_problems(
    world_cls: type[World],
    params: BaseModel | None,
    seats: list[SeatSpec] | None,
    tournament: TournamentSpec | None,
) -> list[tuple[str, str]]:
    """Whether the seats (their number and roles) or the tournament fit the world."""
    spec = world_cls.spec
    problems: list[tuple[str, str]] = []
    if seats is not None:
        if not spec.min_players <= len(seats) <= spec.max_players:
            needs = f"{spec.min_players}-{spec.max_players}"
            problems.append(("seats", f"{spec.id} needs {needs} seats, got {len(seats)}"))
        else:
            problem = world_cls.check_players(params, len(seats)) if params is not None else None
            if problem:
                problems.append(("params", f"{problem} (with {plural(len(seats), 'seat')})"))
            assigned = [s.role or spec.default_role.name for s in seats]
            problems.extend(("seats", p) for p in spec.role_problems(assigned))
    elif tournament is not None:
        if spec.min_players > 2 or spec.max_players < 2:
            message = (
                f"tournaments pair two agents; {spec.id} needs {spec.min_players}-{spec.max_players} seats"
            )
            problems.append(("tournament", message))
        elif spec.role_problems([spec.default_role.name] * 2):
            problems.append(("tournament", f"tournaments pair two players; {spec.id} has other seat roles"))
        for where, seat in tournament.all_seats():
            if seat.role is not None:
                problems.append((f"{where}.role", "tournament seats take the world's default role"))
    return problems


class ScenarioWarning(UserWarning):
    """A scenario that loads but will likely not run as meant (printed once per message)."""


def _warn_slow_models(source: str, engine: EngineSettings, where: str, config: Any) -> None:
    """Warn when a seat's model may take longer per request than an explicit ``engine.action_timeout``:
    the engine would cancel its answers (the derived default, unset, covers every model)."""
    from sim.llm.budget import models_in

    limit = engine.action_timeout
    slowest = max((m.timeout for m in models_in(config)), default=None)
    if limit is not None and slowest is not None and slowest > limit:
        warnings.warn(
            f"{source}: {where}.config: a model timeout of {slowest:g} s is longer than "
            f"engine.action_timeout ({limit:g} s), which cancels slower answers; raise "
            "engine.action_timeout or leave it unset (it then covers the model's timeout x tries x asks)",
            ScenarioWarning,
            stacklevel=3,
        )


def _load(entry: Any, name: str) -> Any:
    """Import a world or agent class by name; any import failure becomes a :class:`RegistryError`."""
    try:
        return entry(name).load()
    except registry.RegistryError:
        raise
    except Exception as exc:  # a user module that fails to import (SyntaxError, an error at import time)
        raise registry.RegistryError(
            f"importing {_clip(name)!r} failed: {type(exc).__name__}: {_clip(str(exc), 120)}"
        ) from None
