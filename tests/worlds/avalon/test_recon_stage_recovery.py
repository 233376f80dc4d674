"""A ReCon stage that never gives a valid answer does not void the decision (real HTTP, test server).

A failed formulation leaves no draft: second-order is skipped and refinement, asked without a draft,
gives the action. A failed refinement keeps the draft as the action. Only when no stage gave an action
does the engine play the fallback. Each failure is recorded in the private notes (``failed_stages``).
"""

from __future__ import annotations

import json
from typing import Any

from agents.reasoning.recon import CoTAgent, CoTConfig, ReConAgent, ReConConfig
from agents.scripted.avalon import AvalonNaiveAgent
from sim.llm.client import LLMClient
from sim.llm.settings import ModelSettings
from sim.llm.testserver import BAD_CONTENT, Request, TestServer, answer
from sim.testing import play
from sim.types import Event
from worlds.avalon.params import AvalonParams
from worlds.avalon.world import AvalonWorld

ROLES = ["merlin", "percival", "servant", "servant", "morgana", "assassin"]
PARAMS = AvalonParams(roles=ROLES, seating="fixed")  # type: ignore[arg-type]
NO_DRAFT = "Your first draft was not a valid answer"


def stage_of(req: Request) -> str:
    first = req.messages[1]["content"]  # the stage's own prompt (re-asks append after it)
    if "REVISED THINK" in first:
        return "refine"
    if "Respond in two stages" in first:
        return "formulate"
    if "Think step by step" in first:
        return "act"
    if "Analyze the identities" in first:
        return "belief"
    return "second_order"


def failing(stage: str) -> Any:
    """Valid answers (the first allowed value, THINK/SPEAK naming the stage), except for ``stage``:
    prose that never validates, however often it is re-asked."""

    def reply(req: Request) -> str:
        current = stage_of(req)
        if current == stage:
            return BAD_CONTENT
        if req.schema is None:
            return "ANALYSIS-ok"
        value = json.loads(answer(req, lambda values: values[0]))
        if "think" in value:
            value["think"] = f"THINK-{current}"
        if "speak" in value:
            value["speak"] = f"SPEAK-{current}"
        return json.dumps(value)

    return reply


def play_p0(server: TestServer, agent: Any) -> tuple[list[Event], list[dict[str, Any]]]:
    agents: dict[str, Any] = {f"p{i}": AvalonNaiveAgent() for i in range(6)}
    agents["p0"] = agent
    calls: list[dict[str, Any]] = []
    _, events, _ = play(AvalonWorld, PARAMS, agents, seed=3, llm=LLMClient(record=calls.append))
    return events, calls


def settings(server: TestServer) -> ModelSettings:
    return ModelSettings(model="openai/stub", api_base=server.openai_base, max_tokens=256, backoff=0.0)


def of_p0(events: list[Event], kind: str) -> list[Event]:
    return [e for e in events if e.kind == kind and e.actor == "p0"]


def test_a_failed_formulation_goes_on_to_refinement_which_gives_a_legal_action() -> None:
    with TestServer(failing("formulate")) as server:
        events, calls = play_p0(server, ReConAgent(ReConConfig(model=settings(server), first_order=False)))
        requests = list(server.requests)
    notes = [e.payload["notes"] for e in of_p0(events, "rationale")]
    assert notes
    for note in notes:
        assert set(note["failed_stages"]) == {"formulate"}
        assert note["failed_stages"]["formulate"].endswith("(after 3 tries)")
        assert "draft" not in note and "analysis" not in note  # no made-up draft, nothing to analyse
    assert not of_p0(events, "invalid")  # every decision was the agent's own legal action
    assert not [r for r in requests if stage_of(r) == "second_order"]
    refine = [r.messages[1]["content"] for r in requests if stage_of(r) == "refine"]
    assert len(refine) == len(notes) and all(NO_DRAFT in text for text in refine)
    speeches = [e.payload["text"] for e in events if e.kind in ("speech", "confer") and e.actor == "p0"]
    assert speeches and all(text == "SPEAK-refine" for text in speeches)
    formulate = [c for c in calls if c["purpose"] == "avalon.recon.formulate"]
    assert len(formulate) == 3 * len(notes) and not any(c["valid"] for c in formulate)


def test_a_failed_refinement_keeps_the_draft_as_the_action() -> None:
    with TestServer(failing("refine")) as server:
        events, _ = play_p0(server, ReConAgent(ReConConfig(model=settings(server), first_order=False)))
    notes = [e.payload["notes"] for e in of_p0(events, "rationale")]
    assert notes and all(
        set(n["failed_stages"]) == {"refine"} and n["analysis"] == "ANALYSIS-ok" for n in notes
    )
    assert not of_p0(events, "invalid")
    rationales = [e.payload["text"] for e in of_p0(events, "rationale")]
    assert rationales and all(text == "THINK-formulate" for text in rationales)  # the unrefined draft's
    speeches = [e.payload["text"] for e in events if e.kind in ("speech", "confer") and e.actor == "p0"]
    assert speeches and all(text == "SPEAK-formulate" for text in speeches)


def test_with_no_stage_left_to_give_an_action_the_engine_plays_the_fallback() -> None:
    with TestServer(failing("act")) as server:
        events, _ = play_p0(server, CoTAgent(CoTConfig(model=settings(server))))
    invalid = of_p0(events, "invalid")
    assert invalid and not of_p0(events, "rationale")
    assert all("act failed" in " ".join(e.payload["errors"]) for e in invalid)
