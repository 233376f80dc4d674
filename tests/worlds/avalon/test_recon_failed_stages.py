"""A ReCon stage that never parses is recorded as failed in the seat's private notes, and the decision
goes on without it (real HTTP).

A failed formulation leaves no draft: second-order is skipped and refinement, asked without a draft,
gives the action. A failed refinement keeps the draft as the action. Only when no stage gave an action
does the engine play the fallback.
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
BELIEF = "Analyze the identities"
ANALYSIS_LINE = "How the other roles may read it:"
NO_DRAFT = "Your first draft was not a valid answer"


def stage_of(req: Request) -> str:
    first = req.messages[1]["content"]  # the stage's own prompt (re-asks append after it)
    if "REVISED THINK" in first:
        return "refine"
    if "Respond in two stages" in first:
        return "formulate"
    if "Think step by step" in first:
        return "act"
    if BELIEF in first:
        return "belief"
    return "second_order"


def policy(empty_analysis: bool) -> Any:
    """Valid staged answers; the second-order analysis is blank when ``empty_analysis``."""

    def reply(req: Request) -> str:
        if req.schema is None:
            return "   " if empty_analysis else "ANALYSIS-ok"
        return answer(req, lambda values: values[0])

    return reply


def play_p0(server: TestServer, **switches: bool) -> tuple[list[Event], list[dict[str, Any]]]:
    settings = ModelSettings(model="openai/stub", api_base=server.openai_base, max_tokens=256)
    return play_agent(server, ReConAgent(ReConConfig(model=settings, **switches)))


def play_agent(server: TestServer, agent: Any) -> tuple[list[Event], list[dict[str, Any]]]:
    agents: dict[str, Any] = {f"p{i}": AvalonNaiveAgent() for i in range(6)}
    agents["p0"] = agent
    calls: list[dict[str, Any]] = []
    _, events, _ = play(AvalonWorld, PARAMS, agents, seed=3, llm=LLMClient(record=calls.append))
    return events, calls


def notes_of(events: list[Event]) -> list[dict[str, Any]]:
    return [dict(e.payload.get("notes") or {}) for e in events if e.kind == "rationale" and e.actor == "p0"]


def test_a_second_order_analysis_that_never_parses_is_a_failed_stage_not_an_empty_text() -> None:
    with TestServer(policy(empty_analysis=True)) as server:
        events, calls = play_p0(server)
        requests = list(server.requests)
    notes = notes_of(events)
    assert notes
    for note in notes:
        assert "analysis" not in note, note  # no "" analysis stands in for the failed one
        assert note["failed_stages"] == {"second_order": "the answer is empty (after 3 tries)"}
    second = [c for c in calls if c["purpose"] == "avalon.recon.second_order"]
    assert second and not any(c["valid"] for c in second)
    assert len(second) == 3 * len(notes)  # every decision asked it, re-asked twice, and recorded each try
    refine = [r for r in requests if stage_of(r) == "refine"]
    assert len(refine) == len(notes)
    assert not any(ANALYSIS_LINE in r.messages[1]["content"] for r in refine)  # refinement goes on without it
    formulate = [r.messages[1]["content"] for r in requests if stage_of(r) == "formulate"]
    assert not any("How others may have read your last speech" in text for text in formulate)


def test_a_second_order_analysis_that_parses_reaches_refinement_and_the_notes() -> None:
    with TestServer(policy(empty_analysis=False)) as server:
        events, _ = play_p0(server)
        refine = [r.messages[1]["content"] for r in server.requests if stage_of(r) == "refine"]
    notes = notes_of(events)
    assert notes and all(n["analysis"] == "ANALYSIS-ok" and "failed_stages" not in n for n in notes)
    assert refine and all(f"{ANALYSIS_LINE} ANALYSIS-ok" in text for text in refine)


def test_a_belief_that_never_parses_is_a_failed_stage_and_no_stale_belief_is_logged() -> None:
    # p0 leads first with nothing public yet (no belief asked): request 0 is that proposal's draft,
    # requests 1-3 are the first belief and its two re-asks, all answered with the server's bad content.
    switches = dict(second_order=False, refinement=False)
    faults = [None, "bad_content", "bad_content", "bad_content"]
    with TestServer(policy(empty_analysis=False), faults=faults) as s:
        events, calls = play_p0(s, **switches)
        requests = list(s.requests)
    assert stage_of(requests[0]) == "formulate" and all(stage_of(r) == "belief" for r in requests[1:4])
    notes = notes_of(events)
    failed, later = notes[1], notes[2:]
    assert "belief" not in failed
    assert set(failed["failed_stages"]) == {"belief"}
    assert failed["failed_stages"]["belief"].endswith("(after 3 tries)")
    beliefs = [c for c in calls if c["purpose"] == "avalon.recon.belief"]
    assert [c["valid"] for c in beliefs[:3]] == [False, False, False] and beliefs[3]["valid"]
    assert later and "belief" in later[0] and "failed_stages" not in later[0]
    assert json.loads(json.dumps(notes))  # the notes stay JSON


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
        value.update({key: f"{key.upper()}-{current}" for key in ("think", "speak") if key in value})
        return json.dumps(value)

    return reply


def settings(server: TestServer) -> ModelSettings:
    return ModelSettings(model="openai/stub", api_base=server.openai_base, max_tokens=256, backoff=0.0)


def of_p0(events: list[Event], kind: str) -> list[Event]:
    return [e for e in events if e.kind == kind and e.actor == "p0"]


def test_a_failed_formulation_goes_on_to_refinement_which_gives_a_legal_action() -> None:
    with TestServer(failing("formulate")) as server:
        events, calls = play_agent(server, ReConAgent(ReConConfig(model=settings(server), first_order=False)))
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
        events, _ = play_agent(server, ReConAgent(ReConConfig(model=settings(server), first_order=False)))
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
        events, _ = play_agent(server, CoTAgent(CoTConfig(model=settings(server))))
    invalid = of_p0(events, "invalid")
    assert invalid and not of_p0(events, "rationale")
    assert all("act failed" in " ".join(e.payload["errors"]) for e in invalid)
