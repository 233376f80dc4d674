"""The test server's ``--mimic``: each provider's response_format rules, over raw HTTP and from the CLI."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from typing import Any

import pytest

from sim.llm.testserver import TestServer

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"choice": {"enum": ["J", "F"]}},
    "required": ["choice"],
}
JSON_SCHEMA = {"response_format": {"type": "json_schema", "json_schema": {"name": "C", "schema": SCHEMA}}}
OBJECT_SCHEMA = {"response_format": {"type": "json_object", "schema": SCHEMA}}
GUIDED = {"guided_json": SCHEMA}
OBJECT = {"response_format": {"type": "json_object"}}


def post(port: int, extra: dict[str, Any], path: str = "/v1/chat/completions") -> tuple[int, str]:
    body = {"model": "stub", "messages": [{"role": "user", "content": "J or F?"}], **extra}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


# (mimic, request extra fields, expected status, whether the server saw a schema to enforce)
CASES = [
    ("openai", JSON_SCHEMA, 200, True),
    ("openai", OBJECT, 200, False),
    ("openai", OBJECT_SCHEMA, 400, None),
    ("openai", GUIDED, 400, None),
    ("llamacpp", JSON_SCHEMA, 500, None),
    ("llamacpp", OBJECT_SCHEMA, 200, True),
    ("llamacpp", GUIDED, 200, False),
    ("vllm", JSON_SCHEMA, 200, True),
    ("vllm", GUIDED, 200, True),
    ("vllm", OBJECT_SCHEMA, 200, False),
    ("vllm", {"response_format": {"type": "grammar"}}, 400, None),
    ("ollama", JSON_SCHEMA, 200, True),
]


@pytest.mark.parametrize(("mimic", "extra", "status", "schema_seen"), CASES)
def test_each_mimic_accepts_and_refuses_as_its_server(
    mimic: str, extra: dict[str, Any], status: int, schema_seen: bool | None
) -> None:
    with TestServer("first_option", mimic=mimic) as server:
        code, text = post(server.port, extra)
        (req,) = server.requests
    assert code == status, text
    if schema_seen is not None:
        assert (req.schema == SCHEMA) is schema_seen
    if mimic == "llamacpp" and status == 500:
        assert "response_format.type" in text and "Input should be 'text' or 'json_object'" in text


def test_ollama_native_format_rules() -> None:
    with TestServer("first_option", mimic="ollama") as server:
        assert post(server.port, {"format": SCHEMA}, "/api/chat")[0] == 200
        assert post(server.port, {"format": "json"}, "/api/chat")[0] == 200
        assert post(server.port, {"format": "xml"}, "/api/chat")[0] == 400
        assert server.requests[0].schema == SCHEMA


def test_no_mimic_accepts_every_form_and_reads_every_schema() -> None:
    with TestServer("first_option") as server:
        for extra in (JSON_SCHEMA, OBJECT_SCHEMA, GUIDED):
            assert post(server.port, extra)[0] == 200
        assert [r.schema for r in server.requests] == [SCHEMA] * 3
    with pytest.raises(ValueError, match="unknown mimic"):
        TestServer("first_option", mimic="tgi")


def test_the_cli_takes_mimic() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim.llm.testserver", "--mimic", "llamacpp"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        port = int(line.rsplit(":", 1)[1])
        assert post(port, JSON_SCHEMA)[0] == 500
        assert post(port, OBJECT_SCHEMA)[0] == 200
    finally:
        proc.terminate()
        proc.wait(10)
