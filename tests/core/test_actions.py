"""STRUCTURED and ONE_OF actions: validated in one place, a JSON schema each, seeded sampling."""

from __future__ import annotations

import random
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field

from sim.actions import answer_model, answer_value, sample, sample_model
from sim.types import Action, ActionKind, ActionSpec


class Accusation(BaseModel):
    """An accusation with a target and a reason."""

    model_config = ConfigDict(extra="forbid")
    target: Literal["p1", "p2", "p3"]
    reason: str = Field(min_length=3, max_length=40)
    confidence: float = Field(ge=0, le=1)
    certain: bool
    evidence: list[Literal["seen", "heard"]] = Field(min_length=1, max_length=2)


STRUCTURED = ActionSpec(ActionKind.STRUCTURED, schema=Accusation)
ONE_OF = ActionSpec(
    ActionKind.ONE_OF,
    branches=(
        ("move", ActionSpec(ActionKind.CHOICE, ("cafeteria", "admin"))),
        ("kill", ActionSpec(ActionKind.CHOICE, ("p1", "p2"))),
        ("report", None),
        ("say", ActionSpec(ActionKind.TEXT, max_chars=20)),
        ("vote", ActionSpec(ActionKind.MULTI_CHOICE, ("p1", "p2", "p3"), 1, 2)),
        ("bid", ActionSpec(ActionKind.NUMBER, minimum=1, maximum=5)),
        ("accuse", STRUCTURED),
    ),
)


def test_structured_answers_are_checked_against_the_schema() -> None:
    good = {"target": "p2", "reason": "vented", "confidence": 0.9, "certain": False, "evidence": ["seen"]}
    assert STRUCTURED.check(Action(ActionKind.STRUCTURED, good)) is None
    assert STRUCTURED.check(Action(ActionKind.STRUCTURED, Accusation(**good))) is None
    bad = {**good, "target": "p9"}
    assert "target" in (STRUCTURED.check(Action(ActionKind.STRUCTURED, bad)) or "")
    assert "unknown" not in (STRUCTURED.check(Action(ActionKind.STRUCTURED, {**good, "x": 1})) or "unknown")
    assert STRUCTURED.check(Action(ActionKind.STRUCTURED, "p2")) == "expected a JSON object, got str"
    assert STRUCTURED.check(Action(ActionKind.CHOICE, good)) is not None
    assert ActionSpec(ActionKind.STRUCTURED).check(Action(ActionKind.STRUCTURED, {})) is not None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"branch": "move", "value": "admin"}, None),
        ({"branch": "report", "value": None}, None),
        ({"branch": "report", "value": "p1"}, "branch 'report' takes no argument"),
        ({"branch": "move", "value": "electrical"}, "move: 'electrical' is not one of"),
        ({"branch": "fly", "value": None}, "'fly' is not one of the branches"),
        ({"branch": "move"}, "expected {'branch': ..., 'value': ...}"),
        ("move", "expected {'branch': ..., 'value': ...}"),
        ({"branch": "say", "value": "x" * 21}, "say: text is 21 characters"),
        ({"branch": "bid", "value": 9}, "bid: 9 is above the maximum"),
        ({"branch": "accuse", "value": {"target": "p1"}}, "accuse: reason"),
    ],
)
def test_one_of_checks_the_branch_then_its_argument(value: object, problem: str | None) -> None:
    found = ONE_OF.check(Action(ActionKind.ONE_OF, value))
    if problem is None:
        assert found is None
    else:
        assert found is not None and found.startswith(problem), found


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_sampled_actions_are_legal_and_seeded(seed: int) -> None:
    for spec in (STRUCTURED, ONE_OF):
        action = sample(spec, random.Random(seed))
        assert spec.check(action) is None, (action, spec.check(action))
        assert sample(spec, random.Random(seed)) == action  # the same seed draws the same action
        assert spec.sample(random.Random(seed)) == action


def test_sampling_covers_every_branch() -> None:
    rng = random.Random(4)
    seen = {sample(ONE_OF, rng).value["branch"] for _ in range(300)}
    assert seen == {name for name, _ in ONE_OF.branches}


def test_sample_model_respects_bounds() -> None:
    rng = random.Random(0)
    for _ in range(100):
        value = sample_model(Accusation, rng)
        assert 3 <= len(value["reason"]) <= 40 and 0 <= value["confidence"] <= 1


def test_answer_models_round_trip_and_give_schemas() -> None:
    one_of = answer_model(ONE_OF)
    parsed = one_of.model_validate_json('{"action": {"branch": "kill", "value": "p2"}}')
    assert answer_value(parsed) == {"branch": "kill", "value": "p2"}
    schema = ONE_OF.json_schema()
    branches = {
        d["properties"]["branch"]["const"]
        for d in schema["$defs"].values()
        if "branch" in d.get("properties", {})
    }
    assert branches == {name for name, _ in ONE_OF.branches}
    with pytest.raises(ValueError, match=r"action\.kill\.value"):
        one_of.model_validate_json('{"action": {"branch": "kill", "value": "p3"}}')
    structured = answer_model(STRUCTURED)
    answer = {"target": "p1", "reason": "abc", "confidence": 0.5, "certain": True, "evidence": ["heard"]}
    assert answer_value(structured.model_validate({"answer": answer})) == answer
    assert STRUCTURED.json_schema()["properties"]["answer"]["$ref"].endswith("Accusation")
    # every answer value the model accepts is legal for the spec (parsing and checking agree)
    value = answer_value(structured.model_validate({"answer": answer}))
    assert STRUCTURED.check(Action(ActionKind.STRUCTURED, value)) is None


def test_specs_with_schemas_are_hashable_and_models_cached() -> None:
    assert answer_model(ONE_OF) is answer_model(ONE_OF)
    assert hash(ONE_OF) == hash(ActionSpec(ActionKind.ONE_OF, branches=ONE_OF.branches))
