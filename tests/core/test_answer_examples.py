"""The answer format a prompt shows: a filled-in example that validates, every allowed value, no schema."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, create_model

from agents.llm import parsing
from sim.actions import answer_model, answer_value
from sim.answer_examples import allowed_values, answer_format, example_answer, spec_answer_format
from sim.types import Action, ActionKind, ActionSpec

#: What a raw JSON Schema dump looks like; no prompt may contain it.
SCHEMA_MARKS = ("$defs", '"properties"', '"type": "object"', "$ref", '"enum"')


class Verdict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    closest: Literal["p1", "p2"]
    note: str = Field(max_length=12)
    confidence: int = Field(ge=1, le=5)


SPECS: dict[str, ActionSpec] = {
    "choice": ActionSpec(ActionKind.CHOICE, ("approve", "reject")),
    "multi_choice": ActionSpec(ActionKind.MULTI_CHOICE, ("p0", "p1", "p2", "p3", "p4"), 3, 3),
    "multi_choice_range": ActionSpec(ActionKind.MULTI_CHOICE, ("a", "b", "c"), 0, 2),
    "number": ActionSpec(ActionKind.NUMBER, minimum=2, maximum=7),
    "unbounded_number": ActionSpec(ActionKind.NUMBER),
    "text": ActionSpec(ActionKind.TEXT, max_chars=5),
    "structured": ActionSpec(ActionKind.STRUCTURED, schema=Verdict),
    "one_of": ActionSpec(
        ActionKind.ONE_OF,
        branches=(
            ("guess", ActionSpec(ActionKind.NUMBER, minimum=0, maximum=10)),
            ("accuse", ActionSpec(ActionKind.CHOICE, ("p1", "p2", "p3"))),
            ("pass", None),
        ),
    ),
}


def example_of(prompt: str) -> Any:
    """The example answer line of a rendered answer format."""
    match = re.search(r"like this example:\n(.*)\n", prompt)
    assert match, prompt
    return json.loads(match.group(1))


def legal_values(spec: ActionSpec) -> list[str]:
    """Every value a spec allows, as the prompt must spell it (JSON)."""
    values = [json.dumps(o) for o in spec.options]
    for name, argument in spec.branches:
        values.append(json.dumps(name))
        values += legal_values(argument) if argument is not None else []
    if spec.schema is not None:
        values += ['"p1"', '"p2"', "at most 12 characters", "from 1 to 5"]
    return values


@pytest.mark.parametrize("name", sorted(SPECS))
def test_the_format_of_every_kind_shows_a_valid_example_and_every_allowed_value(name: str) -> None:
    spec = SPECS[name]
    for model in (answer_model(spec), parsing.staged_answer_model(spec)):
        text = answer_format(model)
        assert not [mark for mark in SCHEMA_MARKS if mark in text], text
        model.model_validate(example_of(text))  # the example is a legal answer
        for value in legal_values(spec):
            assert value in text, (value, text)
    assert spec_answer_format(spec) == answer_format(answer_model(spec))


def test_the_examples_and_words_of_each_kind() -> None:
    assert example_answer(answer_model(SPECS["choice"])) == {"choice": "approve"}
    assert example_answer(answer_model(SPECS["multi_choice"])) == {"choices": ["p0", "p1", "p2"]}
    assert allowed_values(answer_model(SPECS["multi_choice"])) == [
        '- "choices": a list of exactly 3 different values from "p0", "p1", "p2", "p3", "p4"'
    ]
    assert example_answer(answer_model(SPECS["number"])) == {"number": 4.5}
    assert allowed_values(answer_model(SPECS["number"])) == ['- "number": a number from 2 to 7']
    assert example_answer(answer_model(SPECS["text"])) == {"text": "your "}  # cut to max_chars
    assert allowed_values(answer_model(SPECS["one_of"])) == [
        '- "action": one of these objects: {"branch": "guess", "value": a number from 0 to 10}; '
        'or {"branch": "accuse", "value": one of "p1", "p2", "p3"}; or {"branch": "pass", "value": null}'
    ]
    staged = parsing.staged_answer_model(SPECS["text"])
    assert example_answer(staged, {"speak": "hi"}) == {"think": "your private reasoning", "speak": "hi"}


def test_fields_of_one_type_share_a_line_and_nested_objects_are_spelled_out() -> None:
    beliefs = parsing.belief_model(("p1", "p2"), ("merlin", "assassin"))
    assert allowed_values(beliefs) == [
        '- "p1", "p2": each {"role": one of "merlin", "assassin", "unknown", '
        '"evil_probability": a number from 0 to 1, "certain": true or false}'
    ]
    beliefs.model_validate(example_answer(beliefs))
    scores = answer_format(parsing.JudgeScores)
    parsing.JudgeScores.model_validate(example_of(scores))
    assert "each a whole number from 1 to 10" in scores


labels = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789_-", min_size=1, max_size=8)


@st.composite
def specs(draw: st.DrawFn) -> ActionSpec:
    """Random CHOICE, MULTI_CHOICE, NUMBER, TEXT and ONE_OF specs."""
    options = tuple(draw(st.lists(labels, min_size=1, max_size=6, unique=True)))
    kind = draw(st.sampled_from(["choice", "multi", "number", "text", "one_of"]))
    if kind == "choice":
        return ActionSpec(ActionKind.CHOICE, options)
    if kind == "multi":
        low = draw(st.integers(0, len(options)))
        return ActionSpec(ActionKind.MULTI_CHOICE, options, low, draw(st.integers(low, len(options))))
    if kind == "number":
        low = draw(st.integers(-50, 50))
        return ActionSpec(ActionKind.NUMBER, minimum=low, maximum=low + draw(st.integers(0, 100)))
    if kind == "text":
        return ActionSpec(ActionKind.TEXT, max_chars=draw(st.integers(1, 400)))
    arguments = [
        ActionSpec(ActionKind.CHOICE, options),
        None,
        ActionSpec(ActionKind.NUMBER, minimum=0, maximum=1),
    ]
    branches = tuple((label, draw(st.sampled_from(arguments))) for label in options)
    return ActionSpec(ActionKind.ONE_OF, branches=branches)


@given(specs())
def test_any_spec_gets_a_legal_example_and_all_its_values_without_a_schema(spec: ActionSpec) -> None:
    model = answer_model(spec)
    text = answer_format(model)
    assert not [mark for mark in SCHEMA_MARKS if mark in text]
    answer = model.model_validate(example_of(text))
    assert spec.check(Action(spec.kind, answer_value(answer))) is None  # legal for the world too
    for value in legal_values(spec):
        assert value in text


def test_a_model_of_unknown_shape_still_gets_an_example() -> None:
    odd = create_model(
        "Odd", tags=(list[str], Field(min_length=2)), maybe=(int | None, None), flag=(bool, ...)
    )
    assert example_answer(odd) == {"tags": ["your tags", "your tags"], "maybe": 0, "flag": False}
    odd.model_validate(example_answer(odd))
