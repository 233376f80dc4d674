"""The one place where model answers become actions: answer schemas (``sim.actions``) and parsers.

Nothing here guesses: an answer that does not name exactly one legal option (or does not match the
schema) raises ``ValueError`` with a short reason, which the client sends back to the model.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from sim.actions import AnswerBase, answer_model, answer_value, shape
from sim.prompts import Prompt
from sim.types import ActionKind, ActionSpec

_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


_Answer = AnswerBase


def parse_answer(text: str, prompt: Prompt) -> Any:
    """The action value an answer to ``prompt`` gives: JSON against the prompt's answer model (always
    for JSON prompts, and for completion-style answers that are JSON), else a bare option label."""
    if prompt.answer == "json" or text.lstrip().startswith("{"):
        return answer_value(parse_json_answer(text, prompt.model))
    return parse_option(text, prompt.options)


def parse_json_answer(text: str, model: type[BaseModel]) -> BaseModel:
    """Validate a JSON answer (a surrounding ```json fence is allowed); raises ValueError/ValidationError."""
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    return model.model_validate_json(fenced.group(1) if fenced else stripped)


def parse_option(text: str, options: tuple[str, ...]) -> str:
    """The option a completion-style answer names at the answer position (right after "A: Option").

    Accepted: one label as the first token, after optional whitespace, quotes, ``*``/backticks or
    "(" and an optional noun in any case ("J", " J.", "Option J", "option J", "**J**", "J because...",
    "J\nIn round 2 ..."). The completion continues the prompt, so later lines are ignored; the rest
    of the first line must not name another option ("Option J or Option F", "J/F", "J, not F").
    The label must match exactly: "j", a Cyrillic "Ј" or a full-width "Ｊ" is not "J", nor is "JF"
    or "J:" (the start of an echoed "Q:"/"A:" line). A label found anywhere else (an echo of the
    prompt, "I pick Option J") is never an answer. Anything else raises ``ValueError``.
    """
    match = _answer_position(options).match(text)
    if match is not None:
        label = match.group("label")
        rest = text[match.end() :].split("\n", 1)[0]
        others = tuple(o for o in options if o != label)
        if not others or _labels(others).search(rest) is None:
            return label
    shown = text.strip()[:60]
    raise ValueError(f"{shown!r} does not name one of the options {', '.join(options)} at the start")


@lru_cache(maxsize=256)
def _answer_position(options: tuple[str, ...]) -> re.Pattern[str]:
    """The start of an answer: an optional noun, then one of ``options`` not followed by a word
    character or a colon."""
    return re.compile(
        rf"\s*[\"'*`(]*(?:(?i:Option|Recipe|Approach)\s+)?(?P<label>{_alternatives(options)})(?![\w:])"
    )


@lru_cache(maxsize=256)
def _labels(options: tuple[str, ...]) -> re.Pattern[str]:
    """Any of ``options`` as a token of its own."""
    return re.compile(rf"(?<!\w)(?:{_alternatives(options)})(?!\w)")


def _alternatives(options: tuple[str, ...]) -> str:
    return "|".join(re.escape(o) for o in sorted(options, key=len, reverse=True))


def staged_answer_model(spec: ActionSpec) -> type[BaseModel]:
    """A reasoning stage's answer: private ``think`` first, then ``speak`` (text actions) or the action."""
    return _staged_answer_model(shape(spec))


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
    fields: dict[str, Any] = {p: (entry, ...) for p in others}
    return create_model("Beliefs", __base__=_Answer, **fields)


JUDGE_DIMENSIONS = ("concealment", "logic", "contribution", "persuasiveness", "information", "creativity")
_JUDGE_FIELDS: dict[str, Any] = {d: (int, Field(ge=1, le=10)) for d in JUDGE_DIMENSIONS}
JudgeScores = create_model("JudgeScores", __base__=_Answer, **_JUDGE_FIELDS)
