"""The tables of ``sim worlds``, ``sim agents`` and ``sim evaluators``: plain text (no RST markup), each
agent's config keys and each world's params with their types and defaults."""

from __future__ import annotations

import re
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined, to_jsonable_python
from rich.table import Table
from rich.text import Text

from sim import registry

#: RST roles and literals as docstrings write them: ``x``, :class:`x`, :func:`~a.b`.
_RST = re.compile(r"``(?P<literal>[^`]+)``|:[a-z]+:`~?(?:[\w.]*\.)?(?P<role>[^`]+)`")


def plain(text: str) -> str:
    """``text`` without RST markup (``x`` and :class:`a.b.X` read x and X)."""
    return _RST.sub(lambda m: m.group("literal") or m.group("role"), text)


def type_name(annotation: Any) -> str:
    """A short readable type: ``float``, ``C|D``, ``str | None``, ``list[Any]``, ``ModelSettings``."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return "|".join(str(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join("None" if a is type(None) else type_name(a) for a in args)
    if origin is not None:
        inner = ", ".join(type_name(a) for a in args)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]" if args else type_name(origin)
    if annotation is Any:
        return "Any"
    return getattr(annotation, "__name__", str(annotation).replace("typing.", ""))


def field_lines(model: type[BaseModel]) -> list[str]:
    """One ``key: type = default`` line per field of ``model`` (``(required)`` when it has none)."""
    lines = []
    for name, field in model.model_fields.items():
        if field.default is PydanticUndefined and field.default_factory is None:
            default = " (required)"
        else:
            default = f" = {_value(field.get_default(call_default_factory=True))}"
        lines.append(f"{name}: {type_name(field.annotation)}{default}")
    return lines


def _value(value: Any) -> str:
    """A default as a scenario file would write it (``0.333333``, ``[merlin, assassin]``, ``{}``)."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", exclude_defaults=True)
    value = to_jsonable_python(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "[" + ", ".join(map(_value, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_value(v)}" for k, v in value.items()) + "}"
    return "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def _cell(summary: str, keys: list[str], heading: str) -> Text:
    """The description, then the keys one per line (dim)."""
    text = Text(summary)
    if keys:
        text.append(f"\n{heading}:", style="bold")
        for line in keys:
            text.append(f"\n  {line}", style="dim")
    return text


def worlds_table() -> Table:
    """Registered worlds: players, dynamics, description and params."""
    table = Table("world", "players", "moves", "description and params")
    for name, entry in registry.worlds().items():
        spec = entry.load().spec
        players = str(spec.min_players)
        players += f"-{spec.max_players}" if spec.max_players != spec.min_players else ""
        keys = field_lines(spec.params_model)
        table.add_row(name, players, str(spec.dynamics), _cell(plain(entry.description()), keys, "params"))
    return table


def agents_table() -> Table:
    """Registered agents: the worlds they play, description and config keys."""
    table = Table("agent", "worlds", "description and config")
    for name, entry in registry.agents().items():
        cls = entry.load()
        keys = field_lines(cls.Config)
        table.add_row(
            name, ", ".join(cls.worlds or ["any"]), _cell(plain(entry.description()), keys, "config")
        )
    return table


def evaluators_table() -> Table:
    """Registered evaluators: the worlds they score and description."""
    table = Table("evaluator", "worlds", "description")
    for name, entry in registry.evaluators().items():
        cls = entry.load()
        table.add_row(name, ", ".join(cls.worlds or ["any"]), plain(entry.description()))
    return table
