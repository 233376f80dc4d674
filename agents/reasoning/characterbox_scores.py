"""The one place where the CharacterBox judge's answers become scores.

The judge answers one JSON object: ``{"critique": "...", "scores": {"<dimension>": <1-5>, ...}}``
with the critique first (a ```json fence is allowed). Dimensions are matched by their key
(:func:`~worlds.characterbox.rubric.slug`: case, spaces and ``_`` do not matter).
A score is an integer 1-5, also written ``"4"``, ``"[4]"`` or ``"4/5"``; ``4.0`` is 4. Anything
else (``0``, ``6``, ``4.5``, ``"four"``, ``true``), a missing dimension or one the rubric lacks is a
problem. :func:`read_judgement` reads what it can and lists the problems; :func:`strict_judgement`
accepts an answer only without problems (the client re-asks with them). After the last re-ask the
evaluator keeps the dimensions the last answer scored validly and stores NULL for the others.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, RootModel

from agents.llm.parsing import parse_json_answer
from worlds.characterbox.rubric import HIGH, LOW, Dimension, slug

_WRITTEN = re.compile(rf"^(?:\[\s*(\d+)\s*\]|(\d+)(?:\s*/\s*{HIGH})?)$")


class _Object(RootModel[dict[str, Any]]):
    """Any JSON object, its keys in the order written."""


class Judgement(BaseModel):
    """What one answer of the judge says: its critique, a score per dimension key (None: no valid
    score) and the problems found (empty: the answer is valid)."""

    model_config = ConfigDict(frozen=True)

    critique: str | None
    scores: dict[str, int | None]
    problems: tuple[str, ...] = ()


def read_judgement(text: str, dimensions: Sequence[Dimension]) -> Judgement:
    """The critique and every valid score in ``text``, with a problem for everything else."""
    empty = dict.fromkeys((d.key for d in dimensions), None)
    try:
        parsed = parse_json_answer(text, _Object)
    except ValueError:  # pydantic's ValidationError included: not JSON, or not an object
        return Judgement(critique=None, scores=empty, problems=("the answer is not one JSON object",))
    assert isinstance(parsed, _Object)
    data = parsed.root
    problems: list[str] = []
    critique = data.get("critique")
    if not isinstance(critique, str) or not critique.strip():
        problems.append('write the critique first: "critique" must be a non-empty text')
        critique = None
    elif next(iter(data)) != "critique":
        problems.append('write the critique first: "critique" must come before "scores"')
    raw = data.get("scores")
    if not isinstance(raw, dict):
        problems.append('"scores" must be an object with one score per dimension')
        raw = {}
    extra = sorted(set(data) - {"critique", "scores"})
    if extra:
        problems.append(f"unexpected keys {', '.join(map(repr, extra))}: give only critique and scores")
    scores, score_problems = _scores(raw, dimensions)
    return Judgement(critique=critique, scores=scores, problems=(*problems, *score_problems))


def strict_judgement(text: str, dimensions: Sequence[Dimension]) -> Judgement:
    """The judgement in ``text`` if it has no problem; else ValueError naming every problem."""
    judgement = read_judgement(text, dimensions)
    if judgement.problems:
        raise ValueError("; ".join(judgement.problems))
    return judgement


def score_value(value: Any) -> int:
    """One score as an integer from LOW to HIGH; ValueError if it is not one."""
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and (match := _WRITTEN.match(value.strip())):
        number = int(match.group(1) or match.group(2))
    if number is None:
        raise ValueError(f"{value!r} is not an integer from {LOW} to {HIGH}")
    if not LOW <= number <= HIGH:
        raise ValueError(f"{value!r} is out of range: scores go from {LOW} to {HIGH}")
    return number


def _scores(raw: dict[str, Any], dimensions: Sequence[Dimension]) -> tuple[dict[str, int | None], list[str]]:
    """The valid score of each dimension (None otherwise) and the problems of ``raw``."""
    names = {d.key: d.name for d in dimensions}
    given: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in raw.items():
        key = slug(str(name))
        if key not in names:
            problems.append(f"{name!r} is not a dimension of this rubric ({', '.join(names.values())})")
        elif key in given:
            problems.append(f"{names[key]!r} is scored twice")
        else:
            given[key] = value
    scores: dict[str, int | None] = {}
    for key, name in names.items():
        scores[key] = None
        if key not in given:
            problems.append(f"{name!r} has no score")
            continue
        try:
            scores[key] = score_value(given[key])
        except ValueError as exc:
            problems.append(f"{name!r}: {exc}")
    return scores, problems
