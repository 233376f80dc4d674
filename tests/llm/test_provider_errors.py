"""Refused requests (validation errors, unsupported parameters, unknown model, auth) are tried once,
whatever HTTP status the server used, and reported with the provider's full message and a hint
(real litellm over real HTTP to the local test server)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel

from sim.llm.client import LLMClient, LLMUnavailable
from sim.llm.settings import ModelSettings
from sim.llm.testserver import TestServer
from sim.runner import run_scenario
from sim.scenario import validate_scenario
from sim.shutdown import RunFailed


class Choice(BaseModel):
    choice: Literal["J", "F"]


def failing_ask(server: TestServer, **model: Any) -> tuple[LLMUnavailable, list[dict[str, Any]]]:
    """Ask once (with retries to spare); the error and the recorded rows."""
    rows: list[dict[str, Any]] = []
    settings = ModelSettings(
        **{"model": "openai/stub", "api_base": server.openai_base, "backoff": 0.0, "retries": 4, **model}
    )
    coro = LLMClient(record=rows.append).ask(
        settings,
        [{"role": "user", "content": "J or F?"}],
        Choice.model_validate_json,
        schema=Choice,
        purpose="t",
    )
    with pytest.raises(LLMUnavailable) as failed:
        asyncio.run(coro)
    return failed.value, rows


@pytest.mark.parametrize(
    ("fault", "error_class", "full", "advice"),
    [
        ("400", "BadRequestError", ["Input should be less than or equal to 2", "Extra inputs are not"], ""),
        ("401", "AuthenticationError", ["Incorrect API key provided: ***"], "check the variable named by"),
        ("404", "NotFoundError", ["The model does not exist"], "check model and api_base"),
        ("422", "BadRequestError", ["Unprocessable request: stop", "must be a list"], ""),
    ],
)
def test_a_refused_request_is_tried_once_and_reported_in_full(
    fault: str, error_class: str, full: list[str], advice: str
) -> None:
    with TestServer("first_option", faults=[fault, None]) as server:
        error, rows = failing_ask(server)
        assert server.count == 1
    (row,) = rows
    assert (row["error_class"], row["http_attempt"]) == (error_class, 1)
    message = str(error)
    assert "\n" not in message and "not retried" in message and error_class in message
    for part in full:  # every line of the provider's message, the later ones too
        assert part in row["error"] and part in message
    assert "FAKEKEY" not in row["error"] + message  # a key quoted by the provider is masked
    assert advice in row["error"] and advice in message


def test_json_schema_refused_by_llamacpp_with_a_500_is_not_retried_and_says_what_to_set() -> None:
    with TestServer("first_option", mimic="llamacpp") as server:
        error, rows = failing_ask(server, structured="json_schema")
        assert server.count == 1
    (row,) = rows
    assert row["error_class"] == "InternalServerError"
    hint = (
        "this server does not accept response_format json_schema; set structured: json_object_schema or auto"
    )
    for text in (row["error"], str(error)):
        assert "1 validation error" in text and "Input should be 'text' or 'json_object'" in text
        assert text.endswith(hint)


def test_guided_json_refused_by_openai_says_what_to_set() -> None:
    with TestServer("first_option", mimic="openai") as server:
        error, rows = failing_ask(server, structured="guided_json")
        assert server.count == 1
    assert "Unrecognized request argument supplied: guided_json" in str(error)
    assert str(error).endswith("this server does not accept guided_json; set structured: json_schema or auto")
    assert rows[0]["error_class"] == "BadRequestError"


def test_a_plain_500_is_still_retried() -> None:
    with TestServer("first_option", faults=["500", "500"]) as server:
        error, rows = failing_ask(server, retries=1)
        assert server.count == 2
    assert [r["http_attempt"] for r in rows] == [1, 2]
    assert "after 1 retries" in str(error) and "not retried" not in str(error)


def test_the_run_fails_with_the_hint_in_its_cause(tmp_path: Path) -> None:
    with TestServer("first_option", mimic="llamacpp") as server:
        model = {"model": "openai/stub", "api_base": server.openai_base, "structured": "json_schema"}
        data = {
            "name": "refused",
            "world": "matrix/repeated-v1",
            "params": {"game": "akata_prisoners_dilemma", "rounds": 2},
            "seats": [{"agent": "llm", "config": {"model": model, "prompt": "json"}}, {"agent": "defector"}],
            "seed": 5,
            "db": str(tmp_path / "refused.db"),
        }
        with pytest.raises(RunFailed) as failed, contextlib.suppress(LLMUnavailable):
            run_scenario(validate_scenario(data, "refused.yaml"))
        assert server.count == 1
    assert "set structured: json_object_schema or auto" in failed.value.cause
    assert "Input should be 'text' or 'json_object'" in failed.value.cause
    with sqlite3.connect(tmp_path / "refused.db") as conn:
        assert conn.execute("SELECT count(*), max(http_attempt) FROM llm_calls").fetchone() == (1, 1)


def test_the_hint_under_auto_names_the_modes_below_the_refused_one() -> None:
    from sim.llm import structured
    from sim.llm.client import _litellm

    refused = Exception("400: response_format json_schema is not supported by this model")
    assert structured.hint(_litellm(), refused, "json_schema", "auto").endswith(
        "set structured: json_object_schema, json_object or prompt"
    )
    assert structured.hint(_litellm(), refused, "json_object", "auto").endswith("set structured: prompt")
