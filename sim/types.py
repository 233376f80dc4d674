"""Core value types shared by worlds, agents, the engine and the store.

Hot-path values (Action, Observation, Event) are typed NamedTuples: immutable once handed to an
agent and several times cheaper to build than frozen dataclasses. Everything is JSON-serialisable
through :func:`to_jsonable`; :func:`dumps` is the one serialisation used for events and the store.
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, TypeVar, overload

import orjson
from pydantic import BaseModel

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
    """What shape of answer an action is."""

    CHOICE = "choice"
    TEXT = "text"
    NUMBER = "number"
    MULTI_CHOICE = "multi_choice"


_CHOICE = ActionKind.CHOICE


class Dynamics(enum.StrEnum):
    """Whether seats move one at a time or together."""

    SEQUENTIAL = "sequential"
    SIMULTANEOUS = "simultaneous"


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
        return None

    def fallback_action(self) -> Action:
        """The world's declared replacement for an invalid answer."""
        return Action(self.kind, self.fallback, rationale=None)


class Observation(NamedTuple):
    """Everything one seat may know right now. Built fresh for each seat; never a live object."""

    player: PlayerId
    turn: int
    phase: str
    public: Mapping[str, Any]
    private: Mapping[str, Any]
    history: Sequence[Any]
    legal: ActionSpec
    text: str = ""
    feedback: str | None = None

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


@dataclass(frozen=True, slots=True)
class WorldSpec:
    """Static description of a world: its id, seat counts, dynamics and parameter model."""

    id: str
    title: str
    min_players: int
    max_players: int
    dynamics: Dynamics
    hidden_info: bool
    max_turns: int
    params_model: type[BaseModel] = field(compare=False)


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
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
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
