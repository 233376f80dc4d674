"""The OpenAI/Ollama test server over real HTTP: shapes, policies, faults, latency, CLI, litellm."""

from __future__ import annotations

import http.client
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sim.llm import testserver as ts
from sim.llm.testserver import CREATED, FaultPlan, Request, TestServer

ROOT = Path(__file__).resolve().parents[2]
MOVE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"action": {"type": "string", "enum": ["J", "F"]}, "reason": {"type": "string"}},
    "required": ["action", "reason"],
    "additionalProperties": False,
}


def akata(history: list[tuple[str, str]]) -> str:
    """An Akata-style repeated-game prompt with the given (own, other) rounds."""
    lines = [
        "You are playing a game repeatedly with another player. In this game, you can choose between "
        "Option J and Option F.",
        "If you choose Option J and the other player chooses Option F, then you win 0 points.",
    ]
    for i, (own, other) in enumerate(history, 1):
        lines.append(
            f"In round {i}, you chose Option {own} and the other player chose Option {other}. "
            "Thus, you won 3 points and the other player won 3 points."
        )
    lines.append(f"You are currently playing round {len(history) + 1}.")
    lines.append("Q: Which Option do you choose, Option J or Option F?")
    return "\n".join(lines)


def post(
    server: TestServer, path: str, body: Any, timeout: float = 5.0
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """POST JSON on a fresh connection; (status, headers, raw body)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def get(server: TestServer, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def chat_body(content: str, schema: dict[str, Any] | None = None, model: str = "stub") -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": content}]}
    if schema is not None:
        body["response_format"] = {"type": "json_schema", "json_schema": {"name": "Move", "schema": schema}}
    return body


def reply(server: TestServer, content: str, schema: dict[str, Any] | None = None) -> str:
    status, _, raw = post(server, "/v1/chat/completions", chat_body(content, schema))
    assert status == 200, raw
    return str(json.loads(raw)["choices"][0]["message"]["content"])


def req(content: str, schema: dict[str, Any] | None = None, index: int = 0) -> Request:
    messages = [
        {"role": "system", "content": "Answer with one option."},
        {"role": "user", "content": content},
    ]
    return Request("/v1/chat/completions", "stub", messages, {}, schema, index)


@pytest.fixture
def server() -> Iterator[TestServer]:
    with TestServer() as s:
        yield s


# ------------------------------------------------------------------------------------------ shapes


def test_openai_shape_usage_and_last_question(server: TestServer) -> None:
    content = "Earlier: Option A or Option B? Now: Which Option do you choose, Option J or Option F?"
    status, headers, raw = post(server, "/v1/chat/completions", chat_body(content))
    assert status == 200 and headers["Content-Type"] == "application/json"
    out = json.loads(raw)
    assert out["id"] == "chatcmpl-test-0" and out["object"] == "chat.completion"
    assert out["created"] == CREATED and out["model"] == "stub"
    choice = out["choices"][0]
    assert choice["message"] == {"role": "assistant", "content": "J"} and choice["finish_reason"] == "stop"
    words = len(content.split())
    assert out["usage"] == {"prompt_tokens": words, "completion_tokens": 1, "total_tokens": words + 1}
    assert post(server, "/v1/chat/completions", chat_body(content))[2] == raw.replace(b"-0", b"-1")


def test_ollama_chat_shape_with_format_schema(server: TestServer) -> None:
    body = {"model": "llama", "messages": [{"role": "user", "content": "pick"}], "format": MOVE_SCHEMA}
    status, _, raw = post(server, "/api/chat", body)
    out = json.loads(raw)
    assert status == 200 and out["done"] is True and out["done_reason"] == "stop"
    assert out["model"] == "llama" and out["created_at"] == ts.CREATED_AT
    assert out["message"]["role"] == "assistant"
    assert json.loads(out["message"]["content"]) == {"action": "J", "reason": "stub"}
    assert out["prompt_eval_count"] == 1 and out["eval_count"] == 4
    assert server.requests[0].schema == MOVE_SCHEMA
    body["format"] = "json"  # not a schema
    post(server, "/api/chat", body)
    assert server.requests[1].schema is None


def test_health_models_404_and_stream_refused(server: TestServer) -> None:
    assert get(server, "/health") == (200, b"ok")
    assert json.loads(get(server, "/v1/models")[1])["data"][0]["id"] == "stub"
    post(server, "/v1/chat/completions", chat_body("x", model="alpha"))
    post(server, "/v1/chat/completions", chat_body("x", model="beta"))
    assert [m["id"] for m in json.loads(get(server, "/v1/models")[1])["data"]] == ["alpha", "beta"]
    status, raw = get(server, "/nope")
    assert status == 404 and "not found" in json.loads(raw)["error"]["message"]
    assert post(server, "/v1/nope", {})[0] == 404
    status, _, raw = post(server, "/v1/chat/completions", {**chat_body("x"), "stream": True})
    assert status == 400 and "streaming is not supported" in json.loads(raw)["error"]["message"]
    status, _, raw = post(server, "/api/chat", {**chat_body("x"), "stream": True})
    assert status == 400 and "streaming" in json.loads(raw)["error"]
    assert server.count == 2  # refused and unknown requests are not recorded


def test_recording_and_reset(server: TestServer) -> None:
    post(server, "/v1/chat/completions", chat_body("one", MOVE_SCHEMA, model="m1"))
    post(server, "/api/chat", {"model": "m2", "messages": [{"role": "user", "content": "two"}]})
    first, second = server.requests
    assert (first.path, first.model, first.index, first.schema) == (
        "/v1/chat/completions",
        "m1",
        0,
        MOVE_SCHEMA,
    )
    assert first.messages == [{"role": "user", "content": "one"}] and first.body["model"] == "m1"
    assert (second.path, second.model, second.index, second.schema) == ("/api/chat", "m2", 1, None)
    assert server.count == 2 and server.models == ["m1", "m2"]
    server.reset()
    assert server.count == 0 and server.requests == [] and server.models == []
    post(server, "/v1/chat/completions", chat_body("three"))
    assert server.requests[0].index == 0 and server.count == 1


def test_keep_alive_two_requests_on_one_connection(server: TestServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("POST", "/v1/chat/completions", json.dumps(chat_body("Option X or Option Y")))
        resp = conn.getresponse()
        assert resp.status == 200 and resp.headers.get("Connection") != "close"
        assert json.loads(resp.read())["choices"][0]["message"]["content"] == "X"
        sock = conn.sock
        conn.request("POST", "/v1/chat/completions", json.dumps(chat_body("Option P or Option Q")))
        resp = conn.getresponse()
        assert json.loads(resp.read())["choices"][0]["message"]["content"] == "P"
        assert conn.sock is sock and sock is not None  # no reconnect
        t0 = time.perf_counter()
        for _ in range(20):
            conn.request("POST", "/v1/chat/completions", json.dumps(chat_body("Option X or Option Y")))
            conn.getresponse().read()
        assert time.perf_counter() - t0 < 0.4  # no Nagle + delayed-ACK stall (~40 ms per response)
    finally:
        conn.close()
    assert server.count == 22


def test_stop_closes_kept_alive_connections() -> None:
    with TestServer() as s:
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=5)
        conn.request("GET", "/health")
        assert conn.getresponse().read() == b"ok"
    with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):
        conn.request("GET", "/health")
        conn.getresponse()
    conn.close()


# ---------------------------------------------------------------------------------------- policies


def test_first_option_schema_variants() -> None:
    policy = ts.first_option()
    assert json.loads(policy(req("x", MOVE_SCHEMA))) == {"action": "J", "reason": "stub"}
    via_defs = {
        "$defs": {"Choice": {"enum": ["C", "D"], "type": "string"}},
        "properties": {
            "note": {"type": "string"},
            "count": {"type": "integer"},
            "choice": {"$ref": "#/$defs/Choice"},
            "optional": {"type": "string"},
        },
        "required": ["note", "count", "choice"],
        "type": "object",
    }
    assert json.loads(policy(req("x", via_defs))) == {"note": "stub", "count": 0, "choice": "C"}
    any_of = {"properties": {"move": {"anyOf": [{"const": "up"}, {"const": "down"}, {"type": "null"}]}}}
    assert json.loads(policy(req("x", any_of))) == {"move": "up"}
    free_text = {"properties": {"action": {"type": "string"}, "reason": {"type": "string"}}, "type": "object"}
    free_text["required"] = ["action", "reason"]
    assert json.loads(policy(req("Option K or Option L?", free_text))) == {"action": "K", "reason": "stub"}
    assert json.loads(policy(req("no options", free_text))) == {"action": "stub", "reason": "stub"}
    assert json.loads(policy(req("x", {"enum": [3, 4]}))) == 3
    assert json.loads(policy(req("x", {"type": "integer"}))) == 0
    assert policy(req("Which Option do you choose, Option J or Option F?")) == "J"
    assert policy(req("Option A, Option B, or Option C? later: Option K or Option L")) == "K"
    assert policy(req("no options here")) == ts.DEFAULT_REPLY


def test_fixed_sequence_echo_and_custom(server: TestServer) -> None:
    server.set_policy(ts.fixed("hello there"))
    assert reply(server, "anything") == "hello there"
    server.set_policy(ts.sequence(["a", "b", "c"]))
    assert [reply(server, "q") for _ in range(5)] == ["b", "c", "a", "b", "c"]  # the index is 1 here
    server.set_policy("echo")
    assert reply(server, "say this back") == "say this back"
    server.set_policy(lambda r: f"{r.model}:{r.index}:{len(r.messages)}")
    assert reply(server, "x") == "stub:7:1"
    with pytest.raises(ValueError):
        ts.sequence([])
    with pytest.raises(ValueError, match="unknown policy"):
        server.set_policy("nope")
    assert set(ts.POLICIES) == {
        "first_option",
        "fixed",
        "sequence",
        "random_option",
        "tit_for_tat",
        "echo",
        "chat_model",
    }


def test_policy_error_is_a_500(server: TestServer) -> None:
    def broken(r: Request) -> str:
        raise RuntimeError("boom")

    server.set_policy(broken)
    status, _, raw = post(server, "/v1/chat/completions", chat_body("x"))
    assert status == 500 and "boom" in json.loads(raw)["error"]["message"]


@pytest.mark.usefixtures("no_global_rng")
def test_random_option_reproducible_without_global_rng() -> None:
    def run(seed: int, schema: dict[str, Any] | None) -> list[str]:
        with TestServer(ts.random_option(seed)) as s:
            return [reply(s, "Option A, Option B, or Option C?", schema) for _ in range(30)]

    first = run(7, None)
    assert first == run(7, None) and first != run(8, None)
    assert set(first) == {"A", "B", "C"}
    moves = [json.loads(text)["action"] for text in run(7, MOVE_SCHEMA)]
    assert set(moves) == {"J", "F"}
    assert ts.make_policy("random_option")(req("Option A or Option B")) in {"A", "B"}


def test_tit_for_tat_on_akata_history(server: TestServer) -> None:
    server.set_policy("tit_for_tat")
    assert reply(server, akata([])) == "J"
    assert reply(server, akata([("J", "F")])) == "F"
    assert reply(server, akata([("J", "F"), ("F", "J")])) == "J"
    assert reply(server, akata([("J", "J"), ("J", "F")])) == "F"
    assert json.loads(reply(server, akata([("J", "J"), ("J", "F")]), MOVE_SCHEMA)) == {
        "action": "F",
        "reason": "stub",
    }
    assert json.loads(reply(server, akata([]), MOVE_SCHEMA))["action"] == "J"


# ------------------------------------------------------------------------------------------ faults


def test_fault_429_then_normal() -> None:
    with TestServer(faults=["429", None, "429"]) as s:
        status, headers, raw = post(s, "/v1/chat/completions", chat_body("Option A or Option B"))
        assert status == 429 and headers["Retry-After"] == "0"
        error = json.loads(raw)["error"]
        assert error["type"] == "rate_limit_error" and error["code"] == "rate_limit_exceeded"
        assert reply(s, "Option A or Option B") == "A"
        status, headers, raw = post(s, "/api/chat", chat_body("x"))
        assert status == 429 and headers["Retry-After"] == "0" and "rate limit" in json.loads(raw)["error"]
        assert reply(s, "Option A or Option B") == "A"  # faults used up
        assert s.count == 4 and s.pending_faults == []


def test_fault_500_and_503(server: TestServer) -> None:
    server.set_faults(["500", "503"])
    status, _, raw = post(server, "/v1/chat/completions", chat_body("x"))
    assert status == 500 and json.loads(raw)["error"]["type"] == "server_error"
    status, _, raw = post(server, "/v1/chat/completions", chat_body("x"))
    assert status == 503 and json.loads(raw)["error"]["code"] == "service_unavailable"
    assert post(server, "/v1/chat/completions", chat_body("x"))[0] == 200


def test_fault_malformed_bad_content_illegal(server: TestServer) -> None:
    server.set_faults(FaultPlan(["malformed", "bad_content", "illegal", "illegal"]))
    status, headers, raw = post(server, "/v1/chat/completions", chat_body("x", MOVE_SCHEMA))
    assert status == 200 and int(headers["Content-Length"]) == len(raw) > 0
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)
    content = reply(server, "x", MOVE_SCHEMA)
    assert content == ts.BAD_CONTENT
    with pytest.raises(json.JSONDecodeError):
        json.loads(content)
    illegal = json.loads(reply(server, "x", MOVE_SCHEMA))
    assert illegal == {"action": "Z", "reason": "stub"} and illegal["action"] not in ["J", "F"]
    assert reply(server, "Option A or Option Z?") == "ZZ"  # never a legal option
    with pytest.raises(ValueError, match="unknown faults"):
        FaultPlan(["timeout"])


def test_hang_does_not_block_other_connections() -> None:
    with TestServer(faults=["hang", None], hang_seconds=2.0) as s:
        outcome: dict[str, Any] = {}

        def hung() -> None:
            t0 = time.perf_counter()
            try:
                post(s, "/v1/chat/completions", chat_body("Option A or Option B"), timeout=0.3)
                outcome["error"] = None
            except TimeoutError as exc:
                outcome["error"] = exc
            outcome["elapsed"] = time.perf_counter() - t0

        thread = threading.Thread(target=hung)
        thread.start()
        deadline = time.monotonic() + 5
        while s.count < 1 and time.monotonic() < deadline:  # the hang took the first fault
            time.sleep(0.005)
        t0 = time.perf_counter()
        assert reply(s, "Option A or Option B") == "A"
        assert time.perf_counter() - t0 < 0.25
        thread.join(5)
        assert isinstance(outcome["error"], TimeoutError) and outcome["elapsed"] < 1.5
        t0 = time.perf_counter()
    assert time.perf_counter() - t0 < 1.0  # stop() does not wait for the hung handler


def test_latency_applied_and_concurrent() -> None:
    with TestServer(latency=0.2) as s:
        t0 = time.perf_counter()
        assert reply(s, "Option A or Option B") == "A"
        assert time.perf_counter() - t0 >= 0.2
        results: list[str] = []
        threads = [
            threading.Thread(target=lambda: results.append(reply(s, "Option A or Option B")))
            for _ in range(30)
        ]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        wall = time.perf_counter() - t0
        assert results == ["A"] * 30 and 0.2 <= wall < 2.0  # served in parallel, not 30 x 0.2 s
        s.set_latency(0)
        t0 = time.perf_counter()
        reply(s, "x")
        assert time.perf_counter() - t0 < 0.15 and s.latency == 0


# ---------------------------------------------------------------------------------------- process


def test_import_is_light() -> None:
    heavy = "{'litellm', 'openai', 'httpx', 'pydantic'}"
    code = f"import sys, sim.llm.testserver; print(sorted({heavy} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True)
    assert out.stdout.strip() == "[]"


def test_cli_listens_answers_and_stops_on_sigterm() -> None:
    cmd = [sys.executable, "-m", "sim.llm.testserver", "--port", "0", "--policy", "fixed", "--text", "hi"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 10)
        assert ready, "no listening line within 10 s"
        line = proc.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:") and line.endswith("\n")
        port = int(line.rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/health")
        assert conn.getresponse().read() == b"ok"
        conn.request("POST", "/v1/chat/completions", json.dumps(chat_body("q")))
        assert json.loads(conn.getresponse().read())["choices"][0]["message"]["content"] == "hi"
        conn.close()
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0 and stdout == "" and "Traceback" not in stderr


def test_never_bound_port_is_refused() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


# ----------------------------------------------------------------------------------------- litellm


async def test_real_litellm_client_openai_ollama_and_schema() -> None:
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    os.environ["LITELLM_OFFLINE_MODE"] = "true"
    from typing import Literal

    import litellm
    from pydantic import BaseModel

    litellm.suppress_debug_info = True

    class Move(BaseModel):
        action: Literal["C", "D"]
        reason: str

    messages = [{"role": "user", "content": "Which Option do you choose, Option J or Option F?"}]
    with TestServer() as s:
        r = await litellm.acompletion(
            model="openai/stub",
            api_base=s.openai_base,
            api_key="sk-test",
            messages=messages,
            timeout=10,
            num_retries=0,
        )
        assert (
            r.choices[0].message.content == "J"
            and r.usage.prompt_tokens == 10
            and r.usage.completion_tokens == 1
        )
        r = await litellm.acompletion(
            model="ollama_chat/stub", api_base=s.base_url, messages=messages, timeout=10, num_retries=0
        )
        assert r.choices[0].message.content == "J"
        assert [q.path for q in s.requests] == ["/v1/chat/completions", "/api/chat"]

        r = await litellm.acompletion(
            model="openai/stub",
            api_base=s.openai_base,
            api_key="sk-test",
            messages=messages,
            response_format=Move,
            timeout=10,
            num_retries=0,
        )
        assert Move.model_validate_json(r.choices[0].message.content) == Move(action="C", reason="stub")
        sent = s.requests[-1]
        assert sent.body["response_format"]["type"] == "json_schema"
        assert sent.body["response_format"]["json_schema"]["name"] == "Move"
        assert sent.schema is not None and sent.schema["properties"]["action"]["enum"] == ["C", "D"]
        assert sent.schema["additionalProperties"] is False

        r = await litellm.acompletion(
            model="ollama_chat/stub",
            api_base=s.base_url,
            messages=messages,
            response_format=Move,
            timeout=10,
            num_retries=0,
        )
        assert json.loads(r.choices[0].message.content)["action"] == "C"
        assert s.requests[-1].body["format"] == s.requests[-1].schema == sent.schema

        s.set_faults(["429"])
        before = s.count
        with pytest.raises(litellm.RateLimitError):
            await litellm.acompletion(
                model="openai/stub",
                api_base=s.openai_base,
                api_key="sk-test",
                messages=messages,
                timeout=10,
                num_retries=0,
            )
        assert s.count == before + 1
