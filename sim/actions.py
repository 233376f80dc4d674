"""Action kinds in one place: answer models (the JSON schemas LLMs are asked for) and seeded sampling.

Validation lives in :meth:`sim.types.ActionSpec.check`; this module turns a spec into the pydantic
model of a legal answer (``answer_model``; choices become ``Literal`` enums, STRUCTURED answers wrap
the world's own schema, ONE_OF answers are a union discriminated by ``branch``) and draws a uniformly
random legal action from a seeded RNG (``sample``), for random agents and the conformance suite.
"""

from __future__ import annotations

import dataclasses
import enum
import random
import string
import types
import typing
from functools import lru_cache
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from sim.types import Action, ActionKind, ActionSpec


class AnswerBase(BaseModel):
    """Base of every answer model: unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid")


def shape(spec: ActionSpec) -> ActionSpec:
    """The spec without its fallback (a list for team proposals): hashable, so models cache by it."""
    return spec if spec.fallback is None else dataclasses.replace(spec, fallback=None)


def answer_model(spec: ActionSpec) -> type[BaseModel]:
    """The pydantic model of a legal answer to ``spec`` (its JSON schema is sent as ``response_format``)."""
    return _answer_model(shape(spec))


@lru_cache(maxsize=1024)
def _answer_model(spec: ActionSpec) -> type[BaseModel]:
    """Built once per distinct spec (pydantic class creation costs about a quarter millisecond)."""
    if spec.kind is ActionKind.ONE_OF:
        variants = [_branch_model(name, arg) for name, arg in spec.branches]
        union: Any = variants[0] if len(variants) == 1 else typing.Union[tuple(variants)]  # noqa: UP007
        return create_model("Answer", __base__=AnswerBase, action=(union, Field(discriminator="branch")))
    field_name, annotation, info = value_field(spec)
    fields: dict[str, Any] = {field_name: (annotation, info)}
    return create_model("Answer", __base__=AnswerBase, **fields)


def value_field(spec: ActionSpec) -> tuple[str, Any, FieldInfo]:
    """The answer field for a non-ONE_OF spec: its name, type and constraints."""
    if spec.kind is ActionKind.CHOICE:
        return "choice", Literal[tuple(spec.options)], Field()  # type: ignore[valid-type]
    if spec.kind is ActionKind.MULTI_CHOICE:
        item: Any = Literal[tuple(spec.options)]  # type: ignore[valid-type]
        return "choices", list[item], Field(min_length=spec.min_count, max_length=spec.max_count)
    if spec.kind is ActionKind.NUMBER:
        return "number", float, Field(ge=spec.minimum, le=spec.maximum)
    if spec.kind is ActionKind.STRUCTURED:
        if spec.schema is None:
            raise ValueError("a STRUCTURED spec needs a schema")
        return "answer", spec.schema, Field()
    if spec.kind is ActionKind.TEXT:
        return "text", str, Field(max_length=spec.max_chars)
    raise ValueError(f"no single answer field for {spec.kind}")


def _branch_model(name: str, argument: ActionSpec | None) -> type[BaseModel]:
    fields: dict[str, Any] = {"branch": (Literal[name], ...)}  # type: ignore[valid-type]
    if argument is None:
        fields["value"] = (None, None)
    else:
        _, annotation, info = value_field(argument)
        fields["value"] = (annotation, info)
    return create_model(f"Branch_{name}", __base__=AnswerBase, **fields)


def answer_value(answer: BaseModel) -> Any:
    """The action value inside a validated answer (a dict for STRUCTURED and ONE_OF answers)."""
    value = next(iter(answer.model_dump(mode="json").values()))
    return value


def sample(spec: ActionSpec, rng: random.Random) -> Action:
    """A uniformly random legal action for ``spec`` drawn from ``rng`` (never the global RNG)."""
    return Action(spec.kind, sample_value(spec, rng))


def sample_value(spec: ActionSpec, rng: random.Random) -> Any:
    """A random legal value for ``spec``."""
    kind = spec.kind
    if kind is ActionKind.CHOICE:
        return rng.choice(spec.options)
    if kind is ActionKind.MULTI_CHOICE:
        k = rng.randint(spec.min_count, min(spec.max_count, len(spec.options)))
        return rng.sample(list(spec.options), k)
    if kind is ActionKind.NUMBER:
        lo = spec.minimum if spec.minimum is not None else -1e6
        hi = spec.maximum if spec.maximum is not None else 1e6
        return rng.uniform(lo, hi)
    if kind is ActionKind.TEXT:
        return _text(rng, min(spec.max_chars or 40, 40))
    if kind is ActionKind.STRUCTURED:
        if spec.schema is None:
            raise ValueError("a STRUCTURED spec needs a schema")
        return sample_model(spec.schema, rng)
    name, argument = rng.choice(spec.branches)
    return {"branch": name, "value": None if argument is None else sample_value(argument, rng)}


def _text(rng: random.Random, limit: int, minimum: int = 0) -> str:
    return "".join(rng.choice(string.ascii_lowercase + " ") for _ in range(rng.randint(minimum, limit)))


def sample_model(model: type[BaseModel], rng: random.Random) -> dict[str, Any]:
    """A random JSON object valid for ``model`` (fields: literals, enums, str, int, float, bool,
    optional, lists and nested models, with their length and range constraints)."""
    out = {
        name: _sample_annotation(info.annotation, info.metadata, rng)
        for name, info in model.model_fields.items()
    }
    return model.model_validate(out).model_dump(mode="json")


def _bounds(metadata: list[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in metadata:
        for key in ("ge", "gt", "le", "lt", "min_length", "max_length"):
            value = getattr(item, key, None)
            if value is not None:
                found[key] = value
        if isinstance(item, annotated_types.Len):
            found["min_length"], found["max_length"] = item.min_length, item.max_length
    return found


#: A field's length and range constraints (``ge``, ``gt``, ``le``, ``lt``, ``min_length``, ``max_length``).
field_bounds = _bounds


def _sample_annotation(annotation: Any, metadata: list[Any], rng: random.Random) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _sample_annotation(args[0], [*metadata, *args[1:]], rng)
    if origin is Literal:
        return rng.choice(args)
    if origin in (typing.Union, types.UnionType):
        real = [a for a in args if a is not type(None)]
        return _sample_annotation(rng.choice(real), metadata, rng)
    bounds = _bounds(metadata)
    if origin in (list, tuple, set, frozenset):
        item = args[0] if args else str
        lo = bounds.get("min_length", 0)
        hi = bounds.get("max_length") or lo + 3
        return [_sample_annotation(item, [], rng) for _ in range(rng.randint(lo, hi))]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return sample_model(annotation, rng)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return rng.choice([member.value for member in annotation])
    if annotation is bool:
        return rng.random() < 0.5
    if annotation in (int, float):
        lo = bounds.get("ge", bounds.get("gt", -100))
        hi = bounds.get("le", bounds.get("lt", 100))
        if annotation is int:
            lo = int(lo) + (1 if "gt" in bounds and "ge" not in bounds else 0)
            hi = int(hi) - (1 if "lt" in bounds and "le" not in bounds else 0)
            return rng.randint(lo, hi)
        return rng.uniform(float(lo), float(hi))
    if annotation is str or annotation is Any:
        lo = bounds.get("min_length", 0)
        return _text(rng, max(lo, min(bounds.get("max_length") or 40, 40)), lo)
    raise TypeError(f"cannot sample a value of type {annotation!r}")
