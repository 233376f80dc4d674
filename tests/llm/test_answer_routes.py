"""Completion-style (Akata) prompts on the chat, prefill and completion routes, over real HTTP to the
test server's ``chat_model`` policy: a chat model that answers "You ..." unless it has a start to
continue (a prefilled assistant message, or a text completion), as small local models do."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from agents.llm.parsing import parse_option
from sim.llm import routes
from sim.llm.client import Answer, LLMClient
from sim.llm.settings import ModelSettings
from sim.llm.testserver import Request, TestServer, chat_model
from sim.runner import run_scenario
from sim.scenario import validate_scenario

PROMPT = (
    "You are playing a game repeatedly with another player.\n"
    "Q: Which Option do you choose, Option J or Option F?\nA: Option"
)
OPTIONS = ("J", "F")


@pytest.fixture
def server() -> Iterator[TestServer]:
    with TestServer("chat_model") as srv:
        yield srv


def _ask(server: TestServer, **settings: Any) -> Answer:
    model = ModelSettings(
        **{"model": "openai/stub", "api_base": server.openai_base, "cache": "off", "backoff": 0.0, **settings}
    )

    async def ask() -> Answer:
        return await LLMClient().ask(
            model,
            [{"role": "user", "content": PROMPT}],
            lambda text: parse_option(text, OPTIONS),
            purpose="test",
            correction=lambda error: (
                f"That answer is not valid ({error}). Answer with Option J or Option F only."
            ),
            cue=routes.cue_of(PROMPT),
        )

    return asyncio.run(ask())


def test_the_chat_route_gets_a_new_turn_that_names_no_option(server: TestServer) -> None:
    answer = _ask(server, answer_route="chat", max_tokens=1, reasks=1)
    assert not answer.valid and answer.text is not None and answer.text.startswith("You")
    assert server.count == 2 and "stop" not in server.requests[0].body
    assert server.requests[0].body["max_tokens"] == 1  # the chat route sends the settings as they are


def test_auto_prefills_the_answer_start_for_a_local_openai_compatible_server(server: TestServer) -> None:
    answer = _ask(server, max_tokens=1)
    assert answer.valid and answer.value == "J" and answer.text == " J" and answer.attempts == 1
    (request,) = server.requests
    *_, question, prefill = request.messages
    assert prefill == {"role": "assistant", "content": "Option"}
    assert question["content"].endswith("Option J or Option F?")
    assert request.body["stop"] == ["\n"]
    assert request.body["max_tokens"] == routes.MIN_LABEL_TOKENS  # room for the label and a stop


@pytest.mark.parametrize("model", ["openai/stub", "text-completion-openai/stub"])
def test_the_completion_route_sends_one_prompt_text_and_stop_sequences(
    server: TestServer, model: str
) -> None:
    route = "completion" if model.startswith("openai/") else "auto"
    answer = _ask(server, model=model, answer_route=route, stop=["\n", "Q:"])
    assert answer.valid and answer.value == "J"
    (request,) = server.requests
    assert request.path == "/v1/completions" and request.body["model"] == "stub"
    assert request.body["prompt"] == PROMPT and request.body["stop"] == ["\n", "Q:"]
    assert answer.text == " J", "the reply is cut at the first stop sequence"


@pytest.mark.parametrize("route", ["prefill", "completion"])
def test_a_reask_ends_with_the_cue_so_the_answer_stays_one_label(server: TestServer, route: str) -> None:
    def first_wrong(req: Request) -> str:
        return " maybe" if req.index == 0 else chat_model()(req)

    server.set_policy(first_wrong)
    answer = _ask(server, answer_route=route, max_tokens=1, reasks=1)
    assert answer.valid and answer.value == "J" and answer.attempts == 2
    reask = server.requests[1]
    if route == "prefill":
        first, said, hint, prefill = reask.messages
        assert first["content"].endswith("?") and said == {"role": "assistant", "content": "Option maybe"}
        assert hint["content"].endswith("Option J or Option F only.") and prefill["content"] == "Option"
    else:
        prompt = reask.body["prompt"]
        assert prompt.startswith(PROMPT + " maybe\n\nThat answer is not valid")
        assert prompt.endswith("Answer with Option J or Option F only.\nA: Option")


def test_routes_are_picked_from_the_provider() -> None:
    def resolved(model: str, api_base: str | None = None, cue: str | None = "A: Option") -> str:
        return routes.resolve(ModelSettings(model=model, api_base=api_base), cue)

    assert resolved("openai/gpt-4o-mini") == "chat"  # OpenAI's chat models answer anew
    assert resolved("openai/stub", "http://127.0.0.1:8080/v1") == "prefill"
    assert resolved("text-completion-openai/stub", "http://127.0.0.1:8080/v1") == "completion"
    for model in ("anthropic/claude-x", "deepseek/deepseek-chat", "mistral/small", "ollama_chat/smollm2"):
        assert resolved(model) == "prefill"
    assert resolved("openai/stub", "http://127.0.0.1:8080/v1", cue=None) == "chat"  # JSON prompts


def test_provider_flags_on_the_prefilled_message() -> None:
    messages = [{"role": "user", "content": PROMPT}]
    deepseek = routes.route(ModelSettings(model="deepseek/deepseek-chat"), messages, "A: Option")
    assert deepseek.messages[-1] == {"role": "assistant", "content": "Option", "prefix": True}
    vllm = routes.route(
        ModelSettings(model="hosted_vllm/m", extra={"extra_body": {"x": 1}}), messages, "A: Option"
    )
    assert vllm.params["extra_body"] == {
        "x": 1,
        "continue_final_message": True,
        "add_generation_prompt": False,
    }
    assert "prefix" not in vllm.messages[-1]


def test_completion_needs_a_provider_with_a_text_completion_route() -> None:
    with pytest.raises(ValidationError, match="text-completion model"):
        ModelSettings(model="ollama_chat/smollm2", answer_route="completion")


def test_routes_have_their_own_cache_entries(tmp_path: Path) -> None:
    client, messages = LLMClient(), [{"role": "user", "content": PROMPT}]
    keys = set()
    for route in ("chat", "prefill", "completion"):
        settings = ModelSettings(model="openai/stub", answer_route=route)
        routed = routes.route(settings, messages, "A: Option")
        keyed = None if routed.route == "chat" else [None, routed.model, routed.params]
        keys.add(client._cache_key(settings, routed.messages, keyed, _context()))
    assert len(keys) == 3


def _context() -> Any:
    from sim.llm.client import CallContext

    return CallContext()


@pytest.mark.parametrize(("route", "scot"), [("auto", False), ("completion", True)])
def test_akata_episodes_on_a_chat_model_give_valid_moves(
    tmp_path: Path, server: TestServer, route: str, scot: bool
) -> None:
    model = {"model": "openai/stub", "api_base": server.openai_base, "max_tokens": 1, "answer_route": route}
    data = {
        "name": "routes",
        "world": "matrix/repeated-v1",
        "params": {"game": "akata_prisoners_dilemma", "rounds": 3},
        "seats": [{"agent": "llm", "config": {"model": model, "scot": scot}}, {"agent": "tit_for_tat"}],
        "db": str(tmp_path / "routes.db"),
    }
    summary = run_scenario(validate_scenario(data, "routes.yaml"))
    with sqlite3.connect(summary.db) as conn:
        calls = conn.execute("SELECT valid, response, messages, params FROM llm_calls").fetchall()
        invalid = conn.execute("SELECT count(*) FROM events WHERE kind = 'invalid'").fetchone()[0]
    assert len(calls) == 3 * (2 if scot else 1) and invalid == 0
    assert all(valid and response.strip() in OPTIONS for valid, response, *_ in calls)
    assert all(json.loads(params)["stop"] == ["\n"] for *_, params in calls)  # the row says what was sent
    last = json.loads(calls[-1][2])[-1]
    if route == "completion":
        assert last["content"].endswith("A: Option") and server.requests[-1].path == "/v1/completions"
    else:
        assert last == {"role": "assistant", "content": "Option"}
