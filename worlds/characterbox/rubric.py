"""The rubrics of ``roleplay/characterbox-v1``: dimensions scored 1-5 with anchors at 1, 3 and 5 (the
data model the ``characterbox_judge`` evaluator scores with, and a scenario's ``evaluation`` block).

Defaults (spec 1.6 and 5.3): ``characterbox7`` for characters (Knowledge Accuracy, Emotional
Expression, Personality Traits, Behavioral Accuracy, Immersion, Adaptability, Behavioral Coherence)
and ``narrator4`` for the narrator (Grice's maxims: Quantity Appropriateness, Quality Accuracy,
Relevance to Context, Clarity and Order). A scenario (``evaluation.rubric``) or the evaluator's
config (``rubric``) may declare its own dimensions, replacing or extending a default
(:class:`RubricSpec`); every declaration is validated here. :class:`Evaluation` is a scenario's
``evaluation:`` block (scene file or params).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: A declared rubric's name for the defaults (``evaluation: {rubric: characterbox7}``).
DEFAULT = "characterbox7"
LOW, HIGH = 1, 5
ANCHORS = (1, 3, 5)
#: Metric names the evaluator writes besides the dimensions (a dimension may not take them).
RESERVED = frozenset({"overall", "valid_dimensions"})
_SLUG = re.compile(r"[^a-z0-9]+")


def slug(name: str) -> str:
    """A dimension's key in metric names and answers: lower case, words joined by ``_``."""
    return _SLUG.sub("_", name.casefold()).strip("_")


class Dimension(BaseModel):
    """One scored dimension: its name, what it measures and what a 1, a 3 and a 5 look like."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=60)
    description: str = ""
    anchors: dict[int, str] = Field(description="what a score of 1, 3 and 5 means")

    @property
    def key(self) -> str:
        return slug(self.name)

    @field_validator("name")
    @classmethod
    def _named(cls, name: str) -> str:
        if not slug(name):
            raise ValueError(f"dimension name {name!r} has no letters or digits")
        if slug(name) in RESERVED:
            raise ValueError(f"dimension name {name!r} is reserved ({', '.join(sorted(RESERVED))})")
        return name.strip()

    @field_validator("anchors")
    @classmethod
    def _anchored(cls, anchors: dict[int, str]) -> dict[int, str]:
        if sorted(anchors) != list(ANCHORS):
            raise ValueError(f"anchors must be given for exactly {ANCHORS}, got {sorted(anchors)}")
        if not all(text.strip() for text in anchors.values()):
            raise ValueError("an anchor's text is empty")
        return dict(sorted(anchors.items()))


def _unique(dimensions: tuple[Dimension, ...], what: str) -> tuple[Dimension, ...]:
    keys = [d.key for d in dimensions]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ValueError(f"{what}: dimension(s) named twice: {', '.join(repeated)}")
    return dimensions


class RubricSpec(BaseModel):
    """A declared rubric: dimensions per subject that ``replace`` or ``extend`` the defaults (a subject
    not given keeps its default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["replace", "extend"] = "replace"
    character: tuple[Dimension, ...] | None = None
    narrator: tuple[Dimension, ...] | None = None

    @model_validator(mode="after")
    def _checked(self) -> RubricSpec:
        for subject, default in (("character", CHARACTERBOX7), ("narrator", NARRATOR4)):
            given = getattr(self, subject)
            if given is None:
                continue
            if not given and self.mode == "replace":
                raise ValueError(f"{subject}: a replacing rubric needs at least one dimension")
            _unique(self.dimensions(subject, default), subject)
        return self

    def dimensions(self, subject: str, default: tuple[Dimension, ...]) -> tuple[Dimension, ...]:
        """The dimensions of ``subject`` (``character`` or ``narrator``) under this declaration."""
        given: tuple[Dimension, ...] | None = getattr(self, subject)
        if given is None:
            return default
        return given if self.mode == "replace" else (*default, *given)


class Rubric(BaseModel):
    """The dimensions the judge scores, per subject."""

    model_config = ConfigDict(frozen=True)

    character: tuple[Dimension, ...]
    narrator: tuple[Dimension, ...]

    @classmethod
    def of(cls, spec: RubricSpec | None) -> Rubric:
        """The rubric a declaration gives (None: the defaults)."""
        spec = spec or RubricSpec()
        return cls(
            character=spec.dimensions("character", CHARACTERBOX7),
            narrator=spec.dimensions("narrator", NARRATOR4),
        )


def _dim(name: str, description: str, one: str, three: str, five: str) -> Dimension:
    return Dimension(name=name, description=description, anchors={1: one, 3: three, 5: five})


CHARACTERBOX7: tuple[Dimension, ...] = (
    _dim(
        "Knowledge Accuracy",
        "Is what the character says and does consistent with what the character knows and its background?",
        "Often states things the character could not know, or contradicts its background.",
        "Mostly accurate; occasional facts beyond or against the character's knowledge.",
        "Always accurate and relevant to the character's background and knowledge.",
    ),
    _dim(
        "Emotional Expression",
        "Does the character show emotions that fit it and the situation?",
        "Flat or inappropriate emotions, unrelated to what happens.",
        "Some fitting emotion, but shallow or uneven.",
        "Rich, nuanced emotions, consistent with the context and the character.",
    ),
    _dim(
        "Personality Traits",
        "Does the behaviour match the character's core personality?",
        "Acts against the described personality.",
        "Matches the personality in part; some lapses.",
        "Consistently matches the core personality.",
    ),
    _dim(
        "Behavioral Accuracy",
        "Does the character reproduce its specific behaviours, linguistic habits and catchphrases?",
        "None of the character's habits or speech style.",
        "Some habits or speech style, used unevenly.",
        "Reproduces the character's specific behaviours, linguistic habits and catchphrases.",
    ),
    _dim(
        "Immersion",
        "Does the character stay in character, aware of its own limits (including death)?",
        "Breaks character often (speaks as an AI, acts while dead, knows what it cannot).",
        "Mostly in character with occasional breaks.",
        "Always in character; shows self-awareness and the character's limits.",
    ),
    _dim(
        "Adaptability",
        "Does the character handle new situations while staying in character?",
        "Ignores or mishandles new situations, or leaves character to handle them.",
        "Handles new situations adequately, with some loss of character.",
        "Handles new situations well while staying in character.",
    ),
    _dim(
        "Behavioral Coherence",
        "Are the actions logically consistent with the dialogue and the plot so far?",
        "Actions contradict the dialogue or the plot.",
        "Mostly coherent with a few jumps or contradictions.",
        "Logically consistent with the dialogue and the plot's progression throughout.",
    ),
)

NARRATOR4: tuple[Dimension, ...] = (
    _dim(
        "Quantity Appropriateness",
        "Do the rulings and summaries say as much as needed, and no more?",
        "Far too little to follow, or padded with irrelevant detail.",
        "Usually the right amount, sometimes too terse or too long.",
        "Always as informative as needed and no more.",
    ),
    _dim(
        "Quality Accuracy",
        "Are the rulings true to the world's rules, the characters' states and what happened?",
        "Rulings contradict the world, the states or the events.",
        "Mostly accurate with some errors.",
        "Always accurate and consistent with the world and the events.",
    ),
    _dim(
        "Relevance to Context",
        "Do the rulings respond to the actions taken and the scene?",
        "Rulings unrelated to the actions or the scene.",
        "Mostly relevant, some drift.",
        "Always relevant to the actions and the scene.",
    ),
    _dim(
        "Clarity and Order",
        "Are the rulings clear, unambiguous and in a sensible order?",
        "Confusing, ambiguous or disordered.",
        "Mostly clear with some ambiguity.",
        "Always clear, unambiguous and well ordered.",
    ),
)


class Evaluation(BaseModel):
    """A scenario's ``evaluation:`` block (in the scene file or the params): the rubric the judge scores,
    ``characterbox7`` (the defaults) or a declared one (:class:`RubricSpec`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rubric: RubricSpec | None = Field(None, description=f"{DEFAULT!r} (the defaults) or a declared rubric")

    @field_validator("rubric", mode="before")
    @classmethod
    def _named(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value != DEFAULT:
                raise ValueError(f"expected {DEFAULT!r} or a rubric (mode, character, narrator)")
            return None
        return value

    def payload(self) -> dict[str, Any]:
        """The block as the ``setup`` event carries it (the judge reads ``evaluation.rubric`` there)."""
        rubric = DEFAULT if self.rubric is None else self.rubric.model_dump(mode="json", exclude_none=True)
        return {"rubric": rubric}
