"""The direct path (``client: direct``, the default for ``openai/`` models with an ``api_base``) sends what
litellm's ``openai/`` route sends and records what the litellm path records: same request bodies, same
rows for every fault the test server injects, same price; and it never imports litellm unless a call
fails."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from enum import StrEnum
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field, ValidationError

from sim.actions import answer_model
from sim.llm import direct, structured
from sim.llm.client import LLMClient, LLMUnavailable, _litellm
from sim.llm.settings import ModelSettings
from sim.llm.testserver import TestServer
from sim.types import ActionKind, ActionSpec

QUESTION = [
    {"role": "system", "content": "You play a game."},
    {"role": "user", "content": "Q: Which option do you choose?\nA: Option"},
]
CUE = "A: Option"


class Mood(StrEnum):
    CALM = "calm"
    ANGRY = "angry"


class Inner(BaseModel):
    """A nested model (a $defs entry)."""

    score: int = Field(ge=0, le=10)
    note: str | None = None


class Nested(BaseModel):
    choice: Literal["J", "F"]
    reasons: list[str] = Field(max_length=3)
    inner: Inner
    described: Inner = Field(description="a $ref with a sibling key: inlined")
    mood: Mood = Mood.CALM
    maybe: int | None = None


def _answer_models() -> list[type[BaseModel]]:
    from agents.llm import parsing
    from agents.reasoning.characterbox import BeliefDesireIntention

    specs = [
        ActionSpec(ActionKind.CHOICE, options=("J", "F")),
        ActionSpec(ActionKind.MULTI_CHOICE, options=("p0", "p1", "p2"), min_count=2, max_count=2),
        ActionSpec(ActionKind.TEXT, max_chars=300),
        ActionSpec(ActionKind.STRUCTURED, schema=Nested),
        ActionSpec(
            ActionKind.ONE_OF,
            branches=(("vote", ActionSpec(ActionKind.CHOICE, options=("p1", "p2"))), ("skip", None)),
        ),
    ]
    return [*(answer_model(spec) for spec in specs), Nested, BeliefDesireIntention, parsing.JudgeScores]


@pytest.mark.parametrize("model", _answer_models(), ids=lambda m: m.__name__)
def test_strict_response_format_equals_litellms(model: type[BaseModel]) -> None:
    from litellm.llms.base_llm.base_utils import type_to_response_format_param

    _litellm()
    assert structured.strict_response_format(model) == type_to_response_format_param(model)


def _settings(server: TestServer, path: str, **extra: Any) -> ModelSettings:
    base: dict[str, Any] = {"model": "openai/stub", "api_base": server.openai_base, "cache": "off"}
    return ModelSettings(**{**base, "backoff": 0, "client": path, **extra})


def _sent(server: TestServer, path: str, ask: dict[str, Any], **settings: Any) -> tuple[str, dict[str, Any]]:
    async def go() -> None:
        answer = await LLMClient().ask(_settings(server, path, **settings), QUESTION, str, purpose="t", **ask)
        assert answer.valid

    server.reset()
    asyncio.run(go())
    request = server.requests[-1]
    return request.path, request.body


BODY_CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "json_schema": ({"schema": Nested}, {"structured": "json_schema"}),
    "auto_schema": ({"schema": answer_model(ActionSpec(ActionKind.CHOICE, options=("J", "F")))}, {}),
    "json_object_schema": ({"schema": Nested}, {"structured": "json_object_schema"}),
    "json_object": ({"schema": Nested}, {"structured": "json_object"}),
    "guided_json": (
        {"schema": Nested},
        {"structured": "guided_json", "extra": {"extra_body": {"min_p": 0.1}}},
    ),
    "prompt": ({"schema": Nested}, {"structured": "prompt"}),
    "prefill": ({"cue": CUE}, {}),
    "completion_route": ({"cue": CUE}, {"answer_route": "completion"}),
    "chat_with_cue": ({"cue": CUE}, {"answer_route": "chat"}),
    "text_completion_model": ({"cue": CUE}, {"model": "text-completion-openai/stub"}),
    "text_completion_model_json": (
        {"schema": Nested},
        {"model": "text-completion-openai/stub", "structured": "prompt"},
    ),
    "params": (
        {},
        {"temperature": 0.7, "seed": 5, "stop": ["\n\n"], "max_tokens": None, "extra": {"top_p": 0.9}},
    ),
}


@pytest.mark.parametrize("case", sorted(BODY_CASES))
def test_the_direct_path_sends_the_body_litellm_sends(case: str) -> None:
    ask, settings = BODY_CASES[case]
    with TestServer("first_option") as server:
        through_litellm = _sent(server, "litellm", ask, **settings)
        direct_path = _sent(server, "direct", ask, **settings)
    assert direct_path == through_litellm
    if case == "completion_route":
        assert direct_path[0].endswith("/completions") and "prompt" in direct_path[1]


def _comparable(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key != "latency_ms"}


def _rows(server: TestServer, path: str, faults: list[str | None], **settings: Any) -> tuple[Any, list]:
    rows: list[dict[str, Any]] = []

    async def go() -> Any:
        client = LLMClient(record=rows.append)
        try:
            answer = await client.ask(_settings(server, path, **settings), QUESTION, str, purpose="t")
            return answer.valid, answer.text
        except LLMUnavailable as exc:
            return "unavailable", str(exc)

    server.reset()
    server.set_faults(faults)
    return asyncio.run(go()), [_comparable(row) for row in rows]


FAULT_CASES = [["429", "500", "503"], ["malformed"], ["400"], ["401"], ["404"], ["422"], ["500"] * 3]


@pytest.mark.parametrize("faults", FAULT_CASES, ids=lambda f: "-".join(f))
def test_every_fault_is_retried_and_recorded_as_on_the_litellm_path(faults: list[str]) -> None:
    with TestServer("first_option") as server:
        through_litellm = _rows(server, "litellm", [*faults, None], retries=2)
        direct_path = _rows(server, "direct", [*faults, None], retries=2)
    assert direct_path == through_litellm
    outcome, rows = direct_path
    assert len(rows) == min(len(faults), 3) + (outcome[0] is True)  # one row per HTTP try
    assert [row["http_attempt"] for row in rows] == list(range(1, len(rows) + 1))


def test_a_hang_times_out_as_on_the_litellm_path() -> None:
    with TestServer("first_option") as server:
        (valid, _), litellm_rows = _rows(server, "litellm", ["hang", None], timeout=0.5, retries=1)
        (direct_valid, _), direct_rows = _rows(server, "direct", ["hang", None], timeout=0.5, retries=1)
    assert valid is direct_valid is True
    classes = [row["error_class"] for row in direct_rows]
    assert classes == [row["error_class"] for row in litellm_rows] == ["Timeout", None]
    assert direct_rows[0]["error"].startswith("litellm.Timeout: APITimeoutError - Request timed out.")


def _negotiated(path: str) -> tuple[Any, list[str | None], list[dict[str, Any]]]:
    model = answer_model(ActionSpec(ActionKind.CHOICE, options=("J", "F")))
    rows: list[dict[str, Any]] = []

    async def go(settings: ModelSettings) -> Any:
        client = LLMClient(record=rows.append)
        return (await client.ask(settings, QUESTION, str, schema=model, purpose="t")).valid

    with TestServer("first_option", mimic="llamacpp") as server:
        valid = asyncio.run(go(_settings(server, path)))
        schemas = [request.body.get("response_format", {}).get("type") for request in server.requests]
    return valid, schemas, [_comparable(row) for row in rows]


def test_auto_structured_falls_back_on_a_llamacpp_server_as_on_the_litellm_path() -> None:
    direct_path = _negotiated("direct")
    assert direct_path == _negotiated("litellm")
    assert direct_path[1] == ["json_schema", "json_object"]  # refused with a 500, then accepted


def _refused(path: str, base: str) -> tuple[str, list[tuple[Any, Any]]]:
    rows: list[dict[str, Any]] = []
    settings = ModelSettings(model="openai/stub", api_base=base, client=path, retries=1, backoff=0)

    async def go() -> str:
        client = LLMClient(record=rows.append)
        client._reachable.add(base)  # the connect check passed: the server went away after it
        with pytest.raises(LLMUnavailable) as caught:
            await client.ask(settings, QUESTION, str, purpose="t")
        return str(caught.value)

    return asyncio.run(go()), [(row["error_class"], row["error"]) for row in rows]


def test_a_refused_connection_is_retried_and_named_as_on_the_litellm_path() -> None:
    with socket.socket() as probe:  # a port that was bound once and never listened on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}/v1"
    direct_path = _refused("direct", base)
    assert direct_path == _refused("litellm", base)
    assert "sim test-server" in direct_path[0] and len(direct_path[1]) == 2


def test_a_priced_model_costs_what_litellm_says() -> None:
    with TestServer("first_option") as server:
        through_litellm = _rows(server, "litellm", [None], model="openai/gpt-4o-mini")
        direct_path = _rows(server, "direct", [None], model="openai/gpt-4o-mini")
    assert direct_path == through_litellm
    assert direct_path[1][0]["cost_usd"] is not None and direct_path[1][0]["cost_usd"] > 0


def test_an_unpriced_local_model_has_no_cost() -> None:
    with TestServer("first_option") as server:
        _, rows = _rows(server, "direct", [None])
    assert rows[0]["cost_usd"] is None and rows[0]["prompt_tokens"] is not None


_NO_IMPORT = """
import asyncio, sys
from sim.llm.client import LLMClient
from sim.llm.settings import ModelSettings
from sim.llm.testserver import TestServer
from sim.llm import direct

async def ask(settings):
    answer = await LLMClient().ask(settings, [{"role": "user", "content": "Q: pick\\nA: Option"}], str,
                                   purpose="t", cue="A: Option")
    session = direct._SESSIONS[asyncio.get_running_loop()][0]
    return answer.valid, session

with TestServer("first_option") as server:
    settings = ModelSettings(model="openai/stub", api_base=server.openai_base, cache="off", backoff=0)
    valid, session = asyncio.run(ask(settings))
    print(valid, "litellm" in sys.modules, session.closed)
    server.set_faults(["500"])
    valid, session = asyncio.run(ask(settings))
    print(valid, "litellm" in sys.modules, session.closed)
"""


def test_a_run_without_failures_never_imports_litellm_and_closes_its_session() -> None:
    done = subprocess.run([sys.executable, "-c", _NO_IMPORT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["True False True", "True True True"]  # a 500 imports it
    assert "Unclosed" not in done.stderr and "model cost map" not in done.stderr
    assert "Give Feedback" not in done.stdout + done.stderr  # imported quietly, offline


def test_client_direct_is_refused_where_it_cannot_serve() -> None:
    with pytest.raises(ValidationError, match="openai/ models"):
        ModelSettings(model="ollama_chat/stub", api_base="http://127.0.0.1:1", client="direct")
    with pytest.raises(ValidationError, match="needs an api_base"):
        ModelSettings(model="openai/gpt-4o-mini", client="direct")
    with pytest.raises(ValidationError, match="drop_params"):
        ModelSettings(model="openai/stub", api_base="http://x/v1", client="direct", extra={"drop_params": 1})


@pytest.mark.parametrize(
    ("settings", "chat", "completion"),
    [
        ({"model": "openai/stub", "api_base": "http://x/v1"}, True, True),
        ({"model": "openai/stub", "api_base": "http://x/v1", "client": "litellm"}, False, False),
        ({"model": "openai/stub", "api_base": "http://x/v1", "extra": {"drop_params": True}}, False, False),
        ({"model": "openai/gpt-4o-mini"}, False, False),  # the hosted API: litellm
        ({"model": "ollama_chat/stub", "api_base": "http://x"}, False, None),  # no completion route
        # vLLM's chat goes through litellm's hosted_vllm route; its completion route is litellm's
        # text-completion-openai/, an OpenAI-compatible /completions the direct path sends alike
        ({"model": "hosted_vllm/stub", "api_base": "http://x/v1"}, False, True),
    ],
)
def test_auto_takes_the_direct_path_only_for_openai_compatible_servers(
    settings: dict[str, Any], chat: bool, completion: bool | None
) -> None:
    from sim.llm.routes import completion_model

    model = ModelSettings(**settings)
    assert direct.applies(model.client, model.model, model.api_base, model.extra) is chat
    routed = completion_model(model.model)
    assert (routed and direct.applies(model.client, routed, model.api_base, model.extra)) is completion


def test_error_bodies_give_the_providers_message() -> None:
    assert direct._error_message(json.dumps({"error": {"message": "bad", "type": "x"}})) == "bad"
    assert direct._error_message(json.dumps({"detail": "vLLM says no"})) == "vLLM says no"
    assert direct._error_message("<html>502 Bad Gateway</html>") == "<html>502 Bad Gateway</html>"


@pytest.mark.parametrize(
    ("config", "takes"),
    [
        ({"model": {"model": "openai/stub", "api_base": "http://x/v1"}, "prompt": "akata"}, False),
        ({"model": {"model": "openai/stub", "api_base": "http://x/v1", "client": "litellm"}}, True),
        ({"model": {"model": "ollama_chat/stub", "api_base": "http://x"}}, True),
        ({"stage_models": {"belief": {"model": "anthropic/claude"}}, "model": {"model": "openai/s"}}, True),
        ({"model": {"model": "openai/stub", "api_base": "http://x/v1", "temperature": 9}}, True),  # invalid
        ({"strategy": "tit_for_tat"}, False),
    ],
)
def test_takes_litellm_finds_every_model_of_a_seat_config(config: dict[str, Any], takes: bool) -> None:
    assert direct.takes_litellm(config) is takes


def test_a_200_answer_without_choices_names_the_servers_error() -> None:
    for raw, expected in (
        (b'{"error": {"message": "model is loading"}}', "model is loading"),
        (b'{"object": "list"}', 'no answer text in the response (KeyError: \'choices\'): {"object": "list"}'),
        (b'{"choices": [', "Expecting value: line 1 column 14 (char 13)"),
    ):
        assert direct._unreadable(raw, KeyError("choices")) == expected


def test_the_proxy_comes_from_the_environment_once_per_server(monkeypatch: pytest.MonkeyPatch) -> None:
    direct._proxy.cache_clear()
    for name in ("http_proxy", "https_proxy", "no_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("http_proxy", "proxy.internal:3128")
    monkeypatch.setenv("no_proxy", "localhost,127.0.0.1")
    try:
        assert direct._proxy_for("http://gpu-box:8000/v1/chat/completions") == "http://proxy.internal:3128"
        assert direct._proxy_for("http://127.0.0.1:8000/v1/chat/completions") is None
        assert direct._proxy_for("https://gpu-box/v1/chat/completions") is None  # no https_proxy
    finally:
        direct._proxy.cache_clear()
