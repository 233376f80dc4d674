"""How a prompt states the answer format: a filled-in example answer and the allowed values in words.

Small models echo a raw JSON Schema back with values filled in, so prompts never show one. Instead,
from the pydantic answer model (:func:`sim.actions.answer_model` of an ``ActionSpec``, or a stage's own
model such as a ReCon belief), this module writes:

- :func:`example_answer`: a JSON object that validates against the model (choices: the first allowed
  value; multi-choices: the first distinct values, as many as required; numbers: the middle of their
  range; text: a short placeholder; ONE_OF: the first branch; nested objects filled the same way);
- :func:`allowed_values`: one line per field naming exactly what it may hold ("one of "approve",
  "reject"", "a list of exactly 2 different values from ...", "a number from 0 to 1", "free text of at
  most 300 characters"; fields of the same type share a line);
- :func:`answer_format`: both, as the paragraph the templates include.

The schema itself still goes to the provider as structured output where available, and the answer is
validated against the model whatever the provider did.
"""

from __future__ import annotations

import enum
import itertools
import json
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.actions import answer_model, field_bounds
from sim.types import ActionSpec

Placeholders = Mapping[str, str]

#: Example text of text fields by name (others: "your <name>"); a caller's placeholders come first.
DEFAULT_PLACEHOLDERS: dict[str, str] = {
    "think": "your private reasoning",
    "speak": "what you say to the other players",
    "text": "your message",
}


def answer_format(model: type[BaseModel], placeholders: Placeholders | None = None) -> str:
    """The answer-format paragraph of a prompt: the example answer, then the allowed values."""
    lines = "\n".join(allowed_values(model))
    return (
        "Answer with one JSON object and nothing else, like this example:\n"
        f"{example_json(model, placeholders)}\n"
        f"Allowed values:\n{lines}"
    )


def spec_answer_format(spec: ActionSpec, placeholders: Placeholders | None = None) -> str:
    """:func:`answer_format` of the answer model of ``spec``."""
    return answer_format(answer_model(spec), placeholders)


def example_json(model: type[BaseModel], placeholders: Placeholders | None = None) -> str:
    """:func:`example_answer` as one line of JSON."""
    return json.dumps(example_answer(model, placeholders), ensure_ascii=False)


def example_answer(model: type[BaseModel], placeholders: Placeholders | None = None) -> dict[str, Any]:
    """A filled-in answer valid for ``model``; ``placeholders`` give text fields' example text by name."""
    return _object_example(model, {**DEFAULT_PLACEHOLDERS, **(placeholders or {})})


def allowed_values(model: type[BaseModel]) -> list[str]:
    """One ``- "field": what it may hold`` line per field (consecutive fields of one type share a line)."""
    fields = list(model.model_fields.items())
    lines = []
    for _, group in itertools.groupby(fields, key=lambda item: _type_key(item[1])):
        items = list(group)
        names = ", ".join(json.dumps(name) for name, _ in items)
        info = items[0][1]
        each = "each " if len(items) > 1 else ""
        lines.append(f"- {names}: {each}{_phrase(info.annotation, list(info.metadata))}")
    return lines


# examples -----------------------------------------------------------------------------------------
def _object_example(model: type[BaseModel], names: Placeholders) -> dict[str, Any]:
    return {
        name: _example(info.annotation, list(info.metadata), name, names)
        for name, info in model.model_fields.items()
    }


def _example(annotation: Any, metadata: list[Any], name: str, names: Placeholders) -> Any:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _example(args[0], [*metadata, *args[1:]], name, names)
    if annotation is None or annotation is type(None):
        return None
    if origin is Literal:
        return args[0]
    if origin in (typing.Union, types.UnionType):
        real = [a for a in args if a is not type(None)]
        return _example(real[0], metadata, name, names)
    bounds = field_bounds(metadata)
    if origin in (list, tuple, set, frozenset):
        return _example_list(args[0] if args else str, bounds, name, names)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _object_example(annotation, names)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return next(iter(annotation)).value
    if annotation is bool:
        return False
    if annotation in (int, float):
        return _middle(annotation, bounds)
    return _text(names.get(name, f"your {name.replace('_', ' ')}"), bounds)


def _example_list(item: Any, bounds: dict[str, Any], name: str, names: Placeholders) -> list[Any]:
    count = max(bounds.get("min_length", 1), 1)
    if bounds.get("max_length") is not None:
        count = min(count, bounds["max_length"])
    values = _values(item)
    if values is not None:  # distinct allowed values, as a multi-choice requires
        return list(values[:count])
    return [_example(item, [], name, names) for _ in range(count)]


def _middle(number: type, bounds: dict[str, Any]) -> int | float:
    low = bounds.get("ge", bounds.get("gt"))
    high = bounds.get("le", bounds.get("lt"))
    if low is not None and high is not None:
        middle = (low + high) / 2
    else:
        middle = low if low is not None else (high if high is not None else 0)
    if number is int:
        return int(middle)
    return float(middle)


def _text(placeholder: str, bounds: dict[str, Any]) -> str:
    text = placeholder.ljust(bounds.get("min_length", 0), ".")
    limit = bounds.get("max_length")
    return text if limit is None else text[:limit]


# allowed values in words ----------------------------------------------------------------------------
def _phrase(annotation: Any, metadata: list[Any]) -> str:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _phrase(args[0], [*metadata, *args[1:]])
    if annotation is None or annotation is type(None):
        return "null"
    values = _values(annotation)
    if values is not None:
        shown = ", ".join(json.dumps(v, ensure_ascii=False) for v in values)
        return f"exactly {shown}" if len(values) == 1 else f"one of {shown}"
    if origin in (typing.Union, types.UnionType):
        real = [a for a in args if a is not type(None)]
        optional = " (or null)" if len(real) < len(args) else ""
        if all(isinstance(a, type) and issubclass(a, BaseModel) for a in real):
            return "one of these objects: " + "; or ".join(_inline(a) for a in real) + optional
        return " or ".join(_phrase(a, metadata) for a in real) + optional
    bounds = field_bounds(metadata)
    if origin in (list, tuple, set, frozenset):
        return _list_phrase(args[0] if args else str, bounds)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _inline(annotation)
    if annotation is bool:
        return "true or false"
    if annotation in (int, float):
        noun = "a whole number" if annotation is int else "a number"
        return noun + _range(bounds)
    limit = bounds.get("max_length")
    return "free text" + (f" of at most {limit} characters" if limit is not None else "")


def _inline(model: type[BaseModel]) -> str:
    """An object's fields in one line: {"name": what it may hold, ...}."""
    parts = [f"{json.dumps(name)}: {_field_phrase(info)}" for name, info in model.model_fields.items()]
    return "{" + ", ".join(parts) + "}"


def _field_phrase(info: FieldInfo) -> str:
    """Inside an object, a field with a single allowed value is shown as that value."""
    values = _values(info.annotation)
    if values is not None and len(values) == 1:
        return json.dumps(values[0], ensure_ascii=False)
    return _phrase(info.annotation, list(info.metadata))


def _list_phrase(item: Any, bounds: dict[str, Any]) -> str:
    low, high = bounds.get("min_length", 0), bounds.get("max_length")
    if high is not None and low == high:
        count = f"exactly {low}"
    elif high is not None:
        count = f"from {low} to {high}"
    else:
        count = f"at least {low}" if low else "any number of"
    values = _values(item)
    if values is not None:
        shown = ", ".join(json.dumps(v, ensure_ascii=False) for v in values)
        return f"a list of {count} different values from {shown}"
    return f"a list of {count} items, each {_phrase(item, [])}"


def _range(bounds: dict[str, Any]) -> str:
    low = bounds.get("ge", bounds.get("gt"))
    high = bounds.get("le", bounds.get("lt"))
    if low is not None and high is not None:
        return f" from {low:g} to {high:g}"
    if low is not None:
        return f" of at least {low:g}"
    if high is not None:
        return f" of at most {high:g}"
    return ""


# shared ------------------------------------------------------------------------------------------
def _values(annotation: Any) -> tuple[Any, ...] | None:
    """The allowed values of a Literal or Enum type (None for any other type)."""
    if typing.get_origin(annotation) is Literal:
        return typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return tuple(member.value for member in annotation)
    return None


def _type_key(info: FieldInfo) -> str:
    """Fields with equal keys are described once."""
    return f"{info.annotation!r}|{info.metadata!r}"
