"""World and agent registries with lazy ``module:attr`` entry points.

Built-in and third-party worlds, agents, prompt packs, viewers and evaluators register through
Python entry points (groups ``sim.worlds``, ``sim.agents``, ``sim.prompts`` and ``sim.viewers``
keyed by world id, and ``sim.evaluators``), so nothing is imported until used. A scenario may also
name any ``module:attr`` directly.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import Any

WORLD_GROUP = "sim.worlds"
AGENT_GROUP = "sim.agents"
PROMPT_GROUP = "sim.prompts"
VIEWER_GROUP = "sim.viewers"
EVALUATOR_GROUP = "sim.evaluators"


class RegistryError(LookupError):
    """An unknown name or a target that cannot be imported."""


@dataclass(frozen=True)
class Entry:
    """A registered name and where its object lives."""

    name: str
    target: str

    def load(self) -> Any:
        """Import and return the object."""
        return load_target(self.target)

    def description(self) -> str:
        """First line of the object's docstring."""
        doc = inspect.getdoc(self.load()) or ""
        return doc.splitlines()[0] if doc else ""


def load_target(target: str) -> Any:
    """Import ``module:attr``."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise RegistryError(f"{target!r} is not of the form 'module:attr'")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise RegistryError(f"cannot import module {module_name!r}: {exc}") from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise RegistryError(f"module {module_name!r} has no attribute {attr!r}") from exc
    return obj


@cache
def _entries(group: str) -> dict[str, Entry]:
    return {
        ep.name: Entry(ep.name, ep.value) for ep in sorted(entry_points(group=group), key=lambda e: e.name)
    }


def worlds() -> dict[str, Entry]:
    """All registered worlds by id."""
    return _entries(WORLD_GROUP)


def agents() -> dict[str, Entry]:
    """All registered agents by name."""
    return _entries(AGENT_GROUP)


def prompt_packs() -> dict[str, Entry]:
    """All registered prompt packs by world id."""
    return _entries(PROMPT_GROUP)


def viewers() -> dict[str, Entry]:
    """All registered viewer renderers by world id."""
    return _entries(VIEWER_GROUP)


def evaluators() -> dict[str, Entry]:
    """All registered evaluators by name."""
    return _entries(EVALUATOR_GROUP)


def evaluator_entry(name: str) -> Entry:
    """The entry for an evaluator name (or a ``module:attr``)."""
    return _resolve("evaluator", name, evaluators())


def _resolve(kind: str, name: str, entries: dict[str, Entry]) -> Entry:
    if name in entries:
        return entries[name]
    if ":" in name:
        return Entry(name, name)
    close = difflib.get_close_matches(name, list(entries), n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(map(repr, close))}? " if close else ""
    known = ", ".join(entries) if len(entries) <= 12 else f"{len(entries)} of them, listed by `sim {kind}s`"
    raise RegistryError(f"unknown {kind} {name!r}; {hint}registered: {known or 'none'}")


def world_entry(name: str) -> Entry:
    """The entry for a world id (or a ``module:attr``)."""
    return _resolve("world", name, worlds())


def agent_entry(name: str) -> Entry:
    """The entry for an agent name (or a ``module:attr``)."""
    return _resolve("agent", name, agents())
