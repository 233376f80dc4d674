"""Phases and answer schemas of ``roleplay/characterbox-v1``.

Answers are STRUCTURED. Character names are ``Literal`` enums of the file's cast (an unknown name fails
the schema, so the engine re-asks and then falls back); whether a named character is present, alive and
free to react is the world's check (:mod:`worlds.characterbox.rules`), logged, never raised.
"""

from __future__ import annotations

import enum
import functools
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

ACTION_MAX = 300
SPEECH_MAX = 300
IMPACT_MAX = 300
OUTCOME_MAX = 600
SUMMARY_MAX = 800
POSITION_MAX = 120
STATE_TEXT_MAX = 80


class Phase(enum.StrEnum):
    """A character acts; the narrator names who is affected; that one reacts; the narrator rules; at the
    round's end the narrator summarises."""

    ACT = "act"
    INFLUENCE = "influence"
    REACT = "react"
    RULE = "rule"
    SUMMARY = "summary"
    END = "end"


class CharacterAction(BaseModel):
    """One observable physical action, optional speech, and whether the character leaves the scene."""

    model_config = ConfigDict(extra="forbid")
    action: str = Field(min_length=1, max_length=ACTION_MAX, description="one observable physical action")
    speech: str = Field(
        "", max_length=SPEECH_MAX, description="what the character says aloud ('' for nothing)"
    )
    leave: bool = Field(False, description="true if the character leaves the scene with this action")


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


@functools.lru_cache(maxsize=64)
def answer_schemas(cast: tuple[str, ...], state_keys: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """The narrator's ``influence`` and ``verdict`` models for this cast and these state keys
    (``(key, "bool" | "str")``), built once per scene file."""
    name: Any = Literal[cast]  # type: ignore[valid-type]
    fields: dict[str, Any] = {
        key: (bool | None, Field(None))
        if kind == "bool"
        else (str | None, Field(None, max_length=STATE_TEXT_MAX))
        for key, kind in state_keys
    }
    state = create_model("StateChange", __base__=_Answer, **fields)
    change = create_model(
        "Change",
        __base__=_Answer,
        character=(name, Field(description="a character present and alive")),
        position=(
            str | None,
            Field(None, max_length=POSITION_MAX, description="new position, null: unchanged"),
        ),
        state=(state | None, Field(None, description="changed state keys only, null: unchanged")),
    )
    influence = create_model(
        "Influence",
        __base__=_Answer,
        target=(
            name | None,
            Field(description="the one character affected who has not acted this round, or null"),
        ),
        impact=(str, Field("", max_length=IMPACT_MAX, description="the physical impact on the target")),
    )
    verdict = create_model(
        "Verdict",
        __base__=_Answer,
        outcome=(str, Field(max_length=OUTCOME_MAX, description="what happens, in a terse omniscient voice")),
        changes=(list[change], Field(default_factory=list, max_length=len(cast))),  # type: ignore[valid-type]
        perceived_by=(list[name], Field(default_factory=list, max_length=len(cast))),  # type: ignore[valid-type]
    )
    return {"influence": influence, "verdict": verdict}


def no_change_verdict() -> dict[str, Any]:
    """The narrator's fallback ruling: nothing happens, nobody perceives anything, the state is kept."""
    return {"outcome": "", "changes": [], "perceived_by": []}
