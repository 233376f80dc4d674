"""Core value types shared by worlds, agents, the engine and the store.

Hot-path values (Action, Observation, Event) are typed NamedTuples: immutable once handed to an
agent and several times cheaper to build than frozen dataclasses. Everything is JSON-serialisable
through :func:`to_jsonable`; :func:`dumps` is the one serialisation used for events and the store.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import itertools
import math
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, TypeVar, overload

import orjson
from pydantic import BaseModel, ValidationError

T = TypeVar("T")
PlayerId = str
ALL: Literal["all"] = "all"
Visibility = tuple[PlayerId, ...] | Literal["all"]


class HistoryView(Sequence[T]):
    """An immutable view of the first ``n`` items of an append-only list.

    Taking one is O(1), so a world can hand every observation its full history without copying it
    each turn (which would be quadratic in the game length). The items before ``n`` never change.
    """

    __slots__ = ("_items", "_n")

    def __init__(self, items: list[T], n: int | None = None):
        self._items = items
        self._n = len(items) if n is None else n

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...

    def __getitem__(self, index: int | slice) -> T | tuple[T, ...]:
        if isinstance(index, slice):
            return tuple(self._items[slice(*index.indices(self._n))])
        if index < 0:
            index += self._n
        if not 0 <= index < self._n:
            raise IndexError("history index out of range")
        return self._items[index]

    def __iter__(self) -> Iterator[T]:
        return itertools.islice(self._items, self._n)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, HistoryView):
            return self._n == other._n and (self._items is other._items or tuple(self) == tuple(other))
        if isinstance(other, tuple | list):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"HistoryView({list(self)!r})"


class ActionKind(enum.StrEnum):
    """What shape of answer an action is.

    STRUCTURED: a JSON object validated by a pydantic ``schema`` (a narrator's verdict, an accusation
    with a target). ONE_OF: pick a branch, then its argument (``{"branch": "kill", "value": "p3"}``;
    a branch without an argument takes ``"value": null``).
    """

    CHOICE = "choice"
    TEXT = "text"
    NUMBER = "number"
    MULTI_CHOICE = "multi_choice"
    STRUCTURED = "structured"
    ONE_OF = "one_of"


_CHOICE = ActionKind.CHOICE


class Dynamics(enum.StrEnum):
    """Whether seats move one at a time, together, or some phases each way."""

    SEQUENTIAL = "sequential"
    SIMULTANEOUS = "simultaneous"
    MIXED = "mixed"  # e.g. Avalon: one leader proposes, then everyone votes at once


class Action(NamedTuple):
    """An agent's answer. ``rationale`` and ``notes`` (structured, e.g. a SCoT prediction) are logged
    privately in a ``rationale`` event, never shown to other seats."""

    kind: ActionKind
    value: Any
    rationale: str | None = None
    notes: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """What a seat may legally answer now, and the world's declared fallback for invalid answers."""

    kind: ActionKind
    options: tuple[str, ...] = ()
    min_count: int = 1
    max_count: int = 1
    max_chars: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    fallback: Any = None
    #: STRUCTURED: the pydantic model an answer must validate against.
    schema: type[BaseModel] | None = None
    #: ONE_OF: each branch's name and the spec of its argument (None: the branch takes no argument).
    branches: tuple[tuple[str, ActionSpec | None], ...] = ()

    def check(self, action: object) -> str | None:
        """Return why ``action`` is illegal under this spec, or None if it is legal."""
        if not isinstance(action, Action):
            return f"expected an Action, got {type(action).__name__}"
        kind = self.kind
        if kind is _CHOICE and action.kind is _CHOICE and action.value in self.options:
            return None  # the common case, first
        if action.kind != kind:
            return f"expected a {self.kind} action, got {action.kind}"
        value = action.value
        if self.kind is ActionKind.CHOICE:
            if value not in self.options:
                return f"{value!r} is not one of {list(self.options)}"
        elif self.kind is ActionKind.MULTI_CHOICE:
            if not isinstance(value, list | tuple) or any(v not in self.options for v in value):
                return f"{value!r} is not a list drawn from {list(self.options)}"
            if len(set(value)) != len(value):
                return f"{value!r} repeats an option"
            if not self.min_count <= len(value) <= self.max_count:
                return f"choose between {self.min_count} and {self.max_count} options, got {len(value)}"
        elif self.kind is ActionKind.TEXT:
            if not isinstance(value, str):
                return f"expected text, got {type(value).__name__}"
            if self.max_chars is not None and len(value) > self.max_chars:
                return f"text is {len(value)} characters, at most {self.max_chars} allowed"
        elif self.kind is ActionKind.NUMBER:
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                return f"expected a finite number, got {value!r}"
            if self.minimum is not None and value < self.minimum:
                return f"{value} is below the minimum {self.minimum}"
            if self.maximum is not None and value > self.maximum:
                return f"{value} is above the maximum {self.maximum}"
        elif self.kind is ActionKind.STRUCTURED:
            return _check_structured(self, value)
        elif self.kind is ActionKind.ONE_OF:
            return _check_one_of(self, value)
        return None

    def branch(self, name: str) -> ActionSpec | None:
        """ONE_OF: the argument spec of branch ``name`` (KeyError if there is no such branch)."""
        for branch, spec in self.branches:
            if branch == name:
                return spec
        raise KeyError(name)

    def fallback_action(self) -> Action:
        """The world's declared replacement for an invalid answer."""
        return Action(self.kind, self.fallback, rationale=None)

    def sample(self, rng: random.Random) -> Action:
        """A uniformly drawn legal action (seeded by ``rng``; see :mod:`sim.actions`)."""
        from sim.actions import sample

        return sample(self, rng)

    def json_schema(self) -> dict[str, Any]:
        """The JSON schema of a legal answer, as LLMs are asked for it (see :mod:`sim.actions`)."""
        from sim.actions import answer_model

        return answer_model(self).model_json_schema()


def _check_structured(spec: ActionSpec, value: object) -> str | None:
    if spec.schema is None:
        return "this structured action declares no schema"
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if not isinstance(value, Mapping):
        return f"expected a JSON object, got {type(value).__name__}"
    try:
        spec.schema.model_validate(dict(value))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(object)"
        return f"{where}: {first['msg']}"
    return None


def _check_one_of(spec: ActionSpec, value: object) -> str | None:
    if not isinstance(value, Mapping) or set(value) != {"branch", "value"}:
        return f"expected {{'branch': ..., 'value': ...}}, got {value!r}"
    name = value["branch"]
    names = [b for b, _ in spec.branches]
    if name not in names:
        return f"{name!r} is not one of the branches {names}"
    argument = spec.branch(name)
    if argument is None:
        return None if value["value"] is None else f"branch {name!r} takes no argument"
    problem = argument.check(Action(argument.kind, value["value"]))
    return None if problem is None else f"{name}: {problem}"


class Observation(NamedTuple):
    """Everything one seat may know right now. Built fresh for each seat; never a live object.

    ``phase`` is a member of the world's declared phase enum (a ``StrEnum``, so it compares equal to
    its value); ``public`` and ``private`` are instances of the world's declared observation types
    (:class:`View` subclasses: typed fields, and read-only mappings for templates and JSON);
    ``legal`` is None when the seat is not to act now.
    """

    player: PlayerId
    turn: int
    phase: str
    public: Any
    private: Any
    history: Sequence[Any]
    legal: ActionSpec | None
    text: str = ""
    feedback: str | None = None

    def action_spec(self) -> ActionSpec:
        """The legal actions of a seat that is to act (a seat asked to act always has them)."""
        if self.legal is None:
            raise ValueError(f"{self.player} is not to act now (phase {self.phase})")
        return self.legal

    def with_text(self, text: str) -> Observation:
        """A copy carrying its rendered text."""
        return self._replace(text=text)

    def with_feedback(self, feedback: str) -> Observation:
        """A copy telling the agent why its previous answer was rejected."""
        return self._replace(feedback=feedback)


class Event(NamedTuple):
    """Something that happened. ``visible_to`` is ``"all"`` or the seats allowed to see it."""

    turn: int
    phase: str
    kind: str
    payload: Mapping[str, Any]
    actor: PlayerId | None = None
    visible_to: Visibility = ALL

    def visible(self, player: PlayerId) -> bool:
        """Whether ``player`` may see this event."""
        return self.visible_to == ALL or player in self.visible_to


class View(Mapping[str, Any]):
    """Base of a world's typed observation parts: a frozen dataclass whose fields also read as a
    read-only mapping (``view.quest`` and ``view["quest"]``), so templates and JSON see plain keys.

    A field that is None is absent from the mapping (and from the JSON): an optional fact the seat
    is not told is not there at all. Subclasses are declared ``@dataclass(frozen=True, slots=True)``.
    """

    __slots__ = ()

    def __getitem__(self, key: str) -> Any:
        if key not in _view_fields(type(self)):
            raise KeyError(key)
        value = getattr(self, key)
        if value is None:
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[str]:
        return (name for name in _view_fields(type(self)) if getattr(self, name) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


@functools.cache
def _view_fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


@dataclass(frozen=True, slots=True)
class EmptyView(View):
    """An observation part with nothing in it (a world without private state, say)."""


class DefaultPhase(enum.StrEnum):
    """The phase of a world with only one."""

    PLAY = "play"


@dataclass(frozen=True, slots=True)
class SeatRole:
    """A kind of seat a world declares: ``count`` seats of it (a range), whether its results count in
    scores and ratings (``rated``), and whether it sees everything (``omniscient``: a narrator or
    referee, an LLM or a bot like any seat)."""

    name: str
    min_count: int = 1
    max_count: int = 1_000
    rated: bool = True
    omniscient: bool = False
    description: str = ""


PLAYER_ROLE = SeatRole("player", 1, 1_000, description="a player")


class Outcome(Mapping[str, Any]):
    """How an episode ended, read one way by the run summary, the viewer and ratings.

    ``winners`` are the seats that won (several for a team); ``draw`` is True when nobody won by the
    rules (a tie); ``reason`` says how it ended; ``details`` holds the world's own facts (scores,
    roles, ...). It reads as one flat read-only mapping (the details' keys plus ``winners``,
    ``reason`` and ``draw``), which is also its stored JSON form (``episodes.outcome``).
    """

    __slots__ = ("details", "draw", "reason", "winners")
    _OWN = ("winners", "reason", "draw")

    def __init__(
        self,
        winners: Sequence[PlayerId] = (),
        reason: str = "",
        draw: bool = False,
        details: Mapping[str, Any] | None = None,
    ):
        self.winners: tuple[PlayerId, ...] = tuple(winners)
        self.reason = reason
        self.draw = draw
        self.details: Mapping[str, Any] = {k: v for k, v in (details or {}).items() if k not in self._OWN}

    def result(self, player: PlayerId) -> Literal["win", "draw", "loss"]:
        """This seat's result."""
        if player in self.winners:
            return "win"
        return "draw" if self.draw else "loss"

    def points(self, player: PlayerId) -> float:
        """1 for a win, 0.5 for a draw, 0 for a loss: the one win-rate convention (viewer, ratings)."""
        return {"win": 1.0, "draw": 0.5, "loss": 0.0}[self.result(player)]

    def label(self) -> str:
        """A short text: ``good (hammer)``, ``p0 (horizon)``, ``draw``; empty for an empty outcome."""
        if self.draw:
            return "draw"
        winner = self.details.get("winner")
        name = str(winner) if winner is not None else ", ".join(self.winners)
        if not name:
            return ""
        return f"{name} ({self.reason})" if self.reason else name

    def with_details(self, **extra: Any) -> Outcome:
        """A copy with more details (the engine's ``truncated``, say)."""
        return Outcome(self.winners, self.reason, self.draw, {**self.details, **extra})

    def to_json(self) -> dict[str, Any]:
        """The stored form (an ``episodes.outcome`` value)."""
        return {str(k): to_jsonable(v) for k, v in self.items()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Outcome:
        """Read a stored outcome, including those written before ``winners`` and ``draw`` existed."""
        if not data:
            return cls(reason="none")
        if "winners" in data:
            winners = tuple(data["winners"] or ())
        elif data.get("winner") is not None:
            winners = (data["winner"],)
        else:
            winners = ()
        legacy_draw = "winner" in data and data.get("winner") is None and not winners
        return cls(winners, str(data.get("reason") or ""), bool(data.get("draw", legacy_draw)), data)

    def __getitem__(self, key: str) -> Any:
        if key == "winners":
            return list(self.winners)
        if key == "reason":
            return self.reason
        if key == "draw":
            return self.draw
        return self.details[key]

    def __iter__(self) -> Iterator[str]:
        yield from self.details
        yield from self._OWN

    def __len__(self) -> int:
        return len(self.details) + len(self._OWN)

    def __repr__(self) -> str:
        return (
            f"Outcome(winners={self.winners!r}, reason={self.reason!r}, draw={self.draw}, "
            f"details={dict(self.details)!r})"
        )


@dataclass(frozen=True, slots=True)
class WorldSpec:
    """Static description of a world: its id, seat counts and roles, dynamics, phases, observation
    types and parameter model."""

    id: str
    title: str
    min_players: int
    max_players: int
    dynamics: Dynamics
    hidden_info: bool
    max_turns: int
    params_model: type[BaseModel] = field(compare=False)
    #: The world's phase enum: every ``Observation.phase`` and event phase is one of its members.
    phases: type[enum.StrEnum] = field(default=DefaultPhase, compare=False)
    #: The types of ``Observation.public`` and ``Observation.private``.
    public_type: type = field(default=View, compare=False)
    private_type: type = field(default=View, compare=False)
    #: Seat roles; the first is the default for seats that name none.
    roles: tuple[SeatRole, ...] = (PLAYER_ROLE,)

    def role(self, name: str) -> SeatRole:
        """The declared role ``name`` (KeyError if there is none)."""
        for role in self.roles:
            if role.name == name:
                return role
        raise KeyError(name)

    def rated(self, name: str) -> bool:
        """Whether seats of role ``name`` count in wins, losses and ratings (a referee's do not)."""
        return self.role(name).rated

    @property
    def default_role(self) -> SeatRole:
        """The role of a seat that names none."""
        return self.roles[0]

    def role_problems(self, assigned: Sequence[str]) -> list[str]:
        """Why seats with these roles (in seat order) cannot play this world, if they cannot."""
        known = {r.name for r in self.roles}
        problems = [
            f"unknown role {r!r}; {self.id} has {', '.join(sorted(known))}"
            for r in dict.fromkeys(assigned)
            if r not in known
        ]
        if problems:
            return problems
        for role in self.roles:
            n = sum(r == role.name for r in assigned)
            if not role.min_count <= n <= role.max_count:
                span = (
                    f"{role.min_count}"
                    if role.min_count == role.max_count
                    else f"{role.min_count}-{role.max_count}"
                )
                problems.append(f"{self.id} needs {span} seat(s) of role {role.name!r}, got {n}")
        return problems


class IllegalActionError(ValueError):
    """Raised by a world when an action is not legal; the world's state is left unchanged."""

    def __init__(self, player: PlayerId, reason: str):
        super().__init__(f"{player}: {reason}")
        self.player = player
        self.reason = reason


def to_jsonable(obj: Any) -> Any:
    """Turn named tuples, dataclasses, enums, tuples and mappings into plain JSON values."""
    if isinstance(obj, tuple) and hasattr(obj, "_asdict"):
        return {k: to_jsonable(v) for k, v in obj._asdict().items()}
    if isinstance(obj, Mapping):  # before dataclasses: a View reads as the mapping of its set fields
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, list | tuple | HistoryView):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, type):
        return f"{obj.__module__}:{obj.__qualname__}"
    return obj


_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def dumps(obj: Any) -> str:
    """Compact, key-sorted JSON: the one serialisation used for events and the store.

    Plain dicts, lists, strings and numbers take orjson's fast path; anything else (named tuples,
    mapping proxies, dataclasses, enums) is converted by :func:`to_jsonable` first.
    """
    try:
        return orjson.dumps(obj, option=_OPTIONS).decode()
    except TypeError:
        return orjson.dumps(to_jsonable(obj), option=_OPTIONS).decode()
