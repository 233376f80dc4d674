"""``structured`` modes: what each sends, and ``auto``'s negotiation with servers that mimic OpenAI,
llama.cpp, vLLM and Ollama (real litellm over real HTTP to the local test server)."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ValidationError

from sim.llm import structured
from sim.llm.client import LLMClient, _litellm
from sim.llm.settings import ModelSettings
from sim.llm.testserver import Request, TestServer, answer
from sim.runner import run_scenario
from sim.scenario import validate_scenario


class Choice(BaseModel):
    choice: Literal["J", "F"]


SCHEMA = Choice.model_json_schema()


def enforced_or_f(req: Request) -> str:
    """The schema's first option ("J") when the server enforces a schema, else "F"."""
    return answer(req, lambda values: values[0]) if req.schema is not None else json.dumps({"choice": "F"})


def settings(server: TestServer, model: str = "openai/stub", **more: Any) -> ModelSettings:
    base = server.base_url if model.startswith("ollama") else server.openai_base
    return ModelSettings(model=model, api_base=base, backoff=0.0, cache="off", **more)


async def ask(client: LLMClient, model: ModelSettings, prompt: str = "J or F?") -> Choice:
    reply = await client.ask(
        model,
        [{"role": "user", "content": prompt}],
        Choice.model_validate_json,
        schema=Choice,
        purpose="test",
    )
    assert reply.valid, reply.error
    return reply.value  # type: ignore[no-any-return]


def form_types(server: TestServer) -> list[str]:
    """The ``response_format`` type of each request so far ("" when none was sent)."""
    return [str((r.body.get("response_format") or {}).get("type") or "") for r in server.requests]


def sent(req: Request) -> dict[str, Any]:
    """What a request carried for structured output."""
    return {k: v for k, v in req.body.items() if k in ("response_format", "guided_json", "format")}


def test_the_setting_takes_modes_and_the_old_booleans() -> None:
    assert ModelSettings(model="openai/x").structured == "auto"
    assert ModelSettings(model="openai/x", structured=True).structured == "auto"
    assert ModelSettings(model="openai/x", structured=False).structured == "prompt"
    assert ModelSettings(model="openai/x", structured="json_object_schema").structured == "json_object_schema"
    with pytest.raises(ValidationError):
        ModelSettings(model="openai/x", structured="grammar")


@pytest.mark.parametrize(
    ("mode", "mimic", "expected", "choice"),
    [
        ("json_schema", "openai", "json_schema", "J"),
        (
            "json_object_schema",
            "llamacpp",
            {"response_format": {"type": "json_object", "schema": SCHEMA}},
            "J",
        ),
        ("guided_json", "vllm", {"guided_json": SCHEMA}, "J"),
        ("json_object", "openai", {"response_format": {"type": "json_object"}}, "F"),
        ("prompt", "llamacpp", {}, "F"),
    ],
)
def test_each_explicit_mode_sends_its_form(mode: str, mimic: str, expected: Any, choice: str) -> None:
    with TestServer(enforced_or_f, mimic=mimic) as server:
        value = asyncio.run(ask(LLMClient(), settings(server, structured=mode)))
        (req,) = server.requests
    if expected == "json_schema":
        form = req.body["response_format"]
        assert (
            form["type"] == "json_schema"
            and form["json_schema"]["schema"]["properties"] == SCHEMA["properties"]
        )
        assert set(sent(req)) == {"response_format"}
    else:
        assert sent(req) == expected
    assert value.choice == choice  # "J" only where the mimicked server enforced the schema


def test_auto_falls_back_once_on_llamacpp_logs_it_and_remembers(caplog: pytest.LogCaptureFixture) -> None:
    rows: list[dict[str, Any]] = []

    async def two_asks() -> list[Choice]:
        client = LLMClient(record=rows.append)
        model = settings(server, retries=4)
        return [await ask(client, model, "first?"), await ask(client, model, "second?")]

    with TestServer(enforced_or_f, mimic="llamacpp") as server, caplog.at_level(logging.WARNING, "sim.llm"):
        values = asyncio.run(two_asks())
        kinds = form_types(server)
    # one refused json_schema try (not retried although it is a 500), then json_object_schema for good
    assert kinds == ["json_schema", "json_object", "json_object"]
    assert [v.choice for v in values] == ["J", "J"]  # the schema was enforced
    failed, *answered = rows
    assert (failed["error_class"], failed["http_attempt"], failed["valid"]) == (
        "InternalServerError",
        1,
        False,
    )
    assert (
        "Input should be 'text' or 'json_object'" in failed["error"]
    )  # the full message, not its first line
    assert failed["error"].endswith("; falling back to structured: json_object_schema")
    assert [(r["valid"], r["http_attempt"]) for r in answered] == [(True, 2), (True, 1)]
    (line,) = [r.getMessage() for r in caplog.records if "falling back" in r.getMessage()]
    assert "openai/stub" in line and "json_object_schema" in line and server.openai_base in line


def test_concurrent_refusals_step_down_once(caplog: pytest.LogCaptureFixture) -> None:
    async def four_at_once() -> list[Choice]:
        client, model = LLMClient(), settings(server)
        return await asyncio.gather(*(ask(client, model, f"question {i}?") for i in range(4)))

    with TestServer(enforced_or_f, mimic="llamacpp", latency=0.2) as server, caplog.at_level(logging.WARNING):
        values = asyncio.run(four_at_once())
        kinds = form_types(server)
    assert sorted(kinds) == ["json_object"] * 4 + ["json_schema"] * 4
    assert {v.choice for v in values} == {"J"}
    assert sum("falling back" in r.getMessage() for r in caplog.records) == 1


@pytest.mark.parametrize(
    ("model", "mimic"),
    [("openai/stub", "openai"), ("hosted_vllm/stub", "vllm"), ("ollama_chat/stub", "ollama")],
)
def test_auto_sends_the_schema_where_the_server_takes_it(model: str, mimic: str) -> None:
    with TestServer(enforced_or_f, mimic=mimic) as server:
        value = asyncio.run(ask(LLMClient(), settings(server, model)))
        (req,) = server.requests
    assert req.schema is not None and req.schema["properties"] == SCHEMA["properties"]
    assert value.choice == "J"


def test_hosted_vllm_pointed_at_llamacpp_lands_on_the_enforced_form() -> None:
    with TestServer(enforced_or_f, mimic="llamacpp") as server:
        value = asyncio.run(ask(LLMClient(), settings(server, "hosted_vllm/stub")))
        assert form_types(server) == ["json_schema", "json_object"]
    assert value.choice == "J"


def test_auto_for_hosted_providers_follows_litellm_capability_data() -> None:
    litellm, negotiator = _litellm(), structured.Negotiator()
    assert negotiator.mode(litellm, "gpt-4o-mini", None, "auto") == "json_schema"
    assert negotiator.mode(litellm, "ollama_chat/llama3", "http://127.0.0.1:11434", "auto") == "json_schema"
    assert negotiator.mode(litellm, "no-such-provider/model", None, "auto") == "prompt"
    assert negotiator.mode(litellm, "gpt-4o-mini", None, "json_object") == "json_object"


def test_a_run_against_llamacpp_negotiates_once(tmp_path: Path) -> None:
    with TestServer("first_option", mimic="llamacpp") as server:
        model = {"model": "openai/stub", "api_base": server.openai_base, "backoff": 0.0}
        scenario = validate_scenario(
            {
                "name": "negotiate",
                "world": "matrix/repeated-v1",
                "params": {"game": "akata_prisoners_dilemma", "rounds": 3},
                "seats": [
                    {"agent": "llm", "config": {"model": model, "prompt": "json"}},
                    {"agent": "defector"},
                ],
                "seed": 5,
                "db": str(tmp_path / "negotiate.db"),
            },
            "negotiate.yaml",
        )
        summary = run_scenario(scenario)
        kinds = form_types(server)
    assert kinds == ["json_schema", "json_object", "json_object", "json_object"]
    with sqlite3.connect(summary.db) as conn:
        rows = conn.execute("SELECT valid, error_class, error FROM llm_calls ORDER BY id").fetchall()
    assert [r[:2] for r in rows] == [(0, "InternalServerError"), (1, None), (1, None), (1, None)]
    assert rows[0][2].endswith("falling back to structured: json_object_schema")


def test_grammar_servers_get_no_long_string_bounds() -> None:
    """llama.cpp unrolls maxLength into one grammar rule per character and dies on a speech limit of
    hundreds (found by the real-model smoke test); our own validation still enforces the bound."""
    from pydantic import BaseModel, Field

    from sim.llm import structured

    class Speech(BaseModel):
        text: str = Field(max_length=500)
        tag: str = Field(max_length=8)

    for mode in ("json_object_schema", "guided_json"):
        kwargs: dict[str, Any] = {}
        structured.apply(kwargs, mode, Speech)
        sent = (
            kwargs["response_format"]["schema"]
            if mode == "json_object_schema"
            else kwargs["extra_body"]["guided_json"]
        )
        assert "maxLength" not in sent["properties"]["text"], mode
        assert sent["properties"]["tag"]["maxLength"] == 8, mode
