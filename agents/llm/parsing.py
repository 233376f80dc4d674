"""The one place where model answers become actions: answer schemas from an ActionSpec, and parsers.

Nothing here guesses: an answer that does not name exactly one legal option (or does not match the
schema) raises ``ValueError`` with a short reason, which the client sends back to the model.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from sim import actions
from sim.actions import AnswerBase
from sim.types import ActionKind, ActionSpec

_OPTION = re.compile(r"\b(?:Option|Recipe|Approach)\s+([^\s.,;:!?\"')]+)", re.IGNORECASE)
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


_Answer = AnswerBase


def answer_model(spec: ActionSpec) -> type[BaseModel]:
    """A pydantic model of a legal answer (:func:`sim.actions.answer_model`, sent as ``response_format``)."""
    return actions.answer_model(spec)


def answer_value(answer: BaseModel) -> Any:
    """The action value inside a validated answer."""
    return actions.answer_value(answer)


def parse_json_answer(text: str, model: type[BaseModel]) -> BaseModel:
    """Validate a JSON answer (a surrounding ```json fence is allowed); raises ValueError/ValidationError."""
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    return model.model_validate_json(fenced.group(1) if fenced else stripped)


def parse_option(text: str, options: tuple[str, ...]) -> str:
    """The option a completion-style answer names: ``"J"``, ``" J."``, ``"Option J"``.

    A bare answer must be exactly one option; in longer text the last "Option X" counts (models that
    correct themselves put their final answer last). Anything else raises ``ValueError``.
    """
    stripped = text.strip().strip(".!\"'*` ")
    if stripped in options:
        return stripped
    named = [m.group(1) for m in _OPTION.finditer(text)]
    if named and named[-1] in options:
        return named[-1]
    shown = text.strip()[:60]
    raise ValueError(f"{shown!r} does not name one of the options {', '.join(options)}")


def staged_answer_model(spec: ActionSpec) -> type[BaseModel]:
    """A reasoning stage's answer: private ``think`` first, then ``speak`` (text actions) or the action."""
    return _staged_answer_model(actions.shape(spec))


@lru_cache(maxsize=1024)
def _staged_answer_model(spec: ActionSpec) -> type[BaseModel]:
    if spec.kind is ActionKind.TEXT:
        return create_model(
            "StagedAnswer", __base__=_Answer, think=(str, ...), speak=(str, Field(max_length=spec.max_chars))
        )
    action = answer_model(spec).model_fields
    fields: dict[str, Any] = {name: (f.annotation, f) for name, f in action.items()}
    return create_model("StagedAnswer", __base__=_Answer, think=(str, ...), **fields)


def staged_value(answer: BaseModel) -> Any:
    """The action value inside a staged answer (the speech for text actions)."""
    values = answer.model_dump()
    values.pop("think")
    return values.pop("speak") if "speak" in values else next(iter(values.values()))


class PlayerBelief(BaseModel):
    """One player as another sees them (ReCon's first-order perspective)."""

    model_config = ConfigDict(extra="forbid")
    role: str
    evil_probability: float = Field(ge=0.0, le=1.0)
    certain: bool


@lru_cache(maxsize=256)
def belief_model(others: tuple[str, ...], roles: tuple[str, ...]) -> type[BaseModel]:
    """A belief about every other player; ``role`` is one of the game's roles or ``"unknown"``."""
    role: Any = Literal[(*roles, "unknown")]  # type: ignore[valid-type]
    entry = create_model("Belief", __base__=PlayerBelief, role=(role, ...))
    return create_model("Beliefs", __base__=_Answer, **{p: (entry, ...) for p in others})


JUDGE_DIMENSIONS = ("concealment", "logic", "contribution", "persuasiveness", "information", "creativity")
JudgeScores = create_model(
    "JudgeScores", __base__=_Answer, **{d: (int, Field(ge=1, le=10)) for d in JUDGE_DIMENSIONS}
)
