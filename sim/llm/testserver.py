"""An OpenAI-compatible and Ollama HTTP server for tests and benchmarks (stdlib only, loopback).

Tests and benchmarks drive the real litellm client against it over real HTTP; no provider is ever
reached. A *policy* turns each chat request into the assistant's reply text; per-request *faults*
(rate limits, 5xx, hangs, malformed or off-schema answers) and a fixed *latency* are layered on top.

Endpoints: ``POST /v1/chat/completions`` (litellm ``openai/...``), ``POST /api/chat``
(``ollama_chat/...``), ``POST /api/generate`` (``ollama/...``), ``GET /v1/models``, ``GET /health``,
and Ollama's ``GET /api/tags`` and ``POST /api/show`` (litellm asks for model info after an Ollama
call, to price it). Only chat requests are recorded (``requests``, ``count``, and ``max_in_flight``:
the most answered at once). ``"stream": true`` is refused with 400.
Responses are deterministic: constant ``created``, ids from the request number, usage counted in
whitespace-separated words.

In-process use::

    with TestServer("first_option", faults=["429", None]) as server:
        await litellm.acompletion(model="openai/stub", api_base=server.openai_base, api_key="x", ...)
        server.requests[-1].schema

Dry-running a scenario: start ``python -m sim.llm.testserver --policy tit_for_tat`` (prints
``listening on http://127.0.0.1:PORT``), then point the scenario's model at it, either
``model: openai/stub`` with ``api_base: http://127.0.0.1:PORT/v1`` and any ``api_key``, or
``model: ollama_chat/stub`` with ``api_base: http://127.0.0.1:PORT`` (no ``/v1``). Stop it with
Ctrl-C or SIGTERM.

Faults as litellm 1.110 raises them: "429" ``RateLimitError``, "500" ``InternalServerError``, "503"
``ServiceUnavailableError``, "hang" ``Timeout`` (with a short ``timeout=``), "malformed"
``InternalServerError`` for ``openai/`` but ``APIConnectionError`` for ``ollama_chat/``;
"bad_content" and "illegal" succeed with content that fails validation. ``Retry-After: 0`` does not
shorten the openai SDK's own backoff (it only honours values above 0): pass ``num_retries=0``.

``stop()`` also closes kept-alive client connections, but test "server down" against a port that
was never bound: a stopped server's port may be reused, and pooled clients fail differently.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import signal
import socket
import socketserver
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "BAD_CONTENT",
    "CREATED",
    "CREATED_AT",
    "DEFAULT_REPLY",
    "FAULTS",
    "POLICIES",
    "FaultPlan",
    "Policy",
    "Request",
    "TestServer",
    "answer",
    "echo",
    "first_option",
    "fixed",
    "make_policy",
    "random_option",
    "sequence",
    "text_options",
    "tit_for_tat",
]

CREATED = 1767225600  # 2026-01-01T00:00:00Z: responses carry a constant timestamp
CREATED_AT = "2026-01-01T00:00:00Z"
DEFAULT_REPLY = "stub"  # option policies' answer when a request offers no options
BAD_CONTENT = "I think I'll cooperate!"
FAULTS = frozenset({"429", "500", "503", "hang", "malformed", "bad_content", "illegal"})
CHAT_PATHS = frozenset({"/v1/chat/completions", "/chat/completions", "/api/chat", "/api/generate"})
_OLLAMA_SHOW = {
    "modelfile": "",
    "parameters": "",
    "template": "{{ .Prompt }}",
    "details": {"format": "gguf", "family": "stub", "parameter_size": "0B", "quantization_level": "none"},
    "model_info": {"general.architecture": "stub", "stub.context_length": 131072},
}


@dataclass(frozen=True)
class Request:
    """One chat request as the server received it."""

    path: str
    model: str
    messages: list[dict[str, Any]]
    body: dict[str, Any]
    schema: dict[str, Any] | None  # requested JSON schema (OpenAI json_schema or Ollama dict format)
    index: int  # 0-based request number since start or reset()


Policy = Callable[[Request], str]


# ---------------------------------------------------------------------------------------------- text


def _text(content: Any) -> str:
    """Message content as text (OpenAI content parts are joined)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def _last_user_text(req: Request) -> str:
    for m in reversed(req.messages):
        if m.get("role") == "user":
            return _text(m.get("content"))
    return ""


def _words(text: str) -> int:
    return len(text.split())


_LABEL = r"[^\s,;:?!.\"'()]+"
_QUESTION = re.compile(rf"Option {_LABEL}(?:\s*,\s*Option {_LABEL})*\s*,?\s+or\s+Option {_LABEL}")
_OPTION = re.compile(rf"Option ({_LABEL})")
_HISTORY = re.compile(
    rf"In round \d+, you chose Option ({_LABEL}) and the other player chose Option ({_LABEL})"
)


def _texts(req: Request) -> list[str]:
    """The last user message first, then every message from the newest."""
    return [_last_user_text(req)] + [_text(m.get("content")) for m in reversed(req.messages)]


def text_options(req: Request) -> list[str]:
    """Labels of the last "Option X or Option Y" question in the last user message (else any message)."""
    for text in _texts(req):
        questions = _QUESTION.findall(text)
        if questions:
            return _OPTION.findall(questions[-1])
    return []


def _other_last_move(req: Request) -> str | None:
    """The other player's move in the last "In round N, you chose ..." line."""
    for text in _texts(req):
        moves = _HISTORY.findall(text)
        if moves:
            return str(moves[-1][1])
    return None


# -------------------------------------------------------------------------------------------- schema


def _resolve(node: Any, root: dict[str, Any]) -> Any:
    """Follow local ``$ref`` pointers (``#/$defs/...``)."""
    for _ in range(32):
        ref = node.get("$ref") if isinstance(node, dict) else None
        if not isinstance(ref, str) or not ref.startswith("#"):
            return node
        target: Any = root
        for part in ref.lstrip("#").strip("/").split("/"):
            if part:
                key = part.replace("~1", "/").replace("~0", "~")
                target = target.get(key, {}) if isinstance(target, dict) else {}
        node = target
    return node


def _choices(node: Any, root: dict[str, Any]) -> list[Any] | None:
    """The allowed values of a schema node (``enum``, ``const``, through ``anyOf``/``oneOf``/``allOf``)."""
    node = _resolve(node, root)
    if not isinstance(node, dict):
        return None
    if "enum" in node:
        return list(node["enum"])
    if "const" in node:
        return [node["const"]]
    for key in ("anyOf", "oneOf", "allOf"):
        found: list[Any] = []
        for sub in node.get(key, []):
            for v in _choices(sub, root) or []:
                if v not in found:
                    found.append(v)
        if found:
            return found
    return None


def _type(node: Any, root: dict[str, Any]) -> Any:
    node = _resolve(node, root)
    return node.get("type") if isinstance(node, dict) else None


def _default(node: Any, root: dict[str, Any], pick: Callable[[list[Any]], Any]) -> Any:
    """A schema-shaped filler value: "stub" for strings, 0, False, [] or a filled object."""
    node = _resolve(node, root)
    if not isinstance(node, dict):
        return DEFAULT_REPLY
    if "default" in node:
        return node["default"]
    for key in ("anyOf", "oneOf", "allOf"):
        subs = [s for s in node.get(key, []) if _type(s, root) != "null"]
        if subs:
            return _default(subs[0], root, pick)
    kind = node.get("type", "object" if "properties" in node else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        return _fill(node, root, pick)
    if kind == "array":
        return _array(node, root, pick)
    return {"integer": 0, "number": 0, "boolean": False, "array": [], "null": None}.get(kind, DEFAULT_REPLY)


def _array(node: dict[str, Any], root: dict[str, Any], pick: Callable[[list[Any]], Any]) -> list[Any]:
    """``minItems`` items: distinct values chosen by ``pick`` when the items are an enum (a team of
    players, say), else schema-shaped fillers."""
    count = int(node.get("minItems", 0))
    items = node.get("items", {})
    allowed = _choices(items, root)
    if not allowed:
        return [_default(items, root, pick) for _ in range(count)]
    chosen: list[Any] = []
    for _ in range(min(count, len(allowed))):
        value = pick([v for v in allowed if v not in chosen])
        chosen.append(value)
    return chosen


def _fill(
    node: dict[str, Any],
    root: dict[str, Any],
    pick: Callable[[list[Any]], Any],
    options: list[str] | None = None,
) -> dict[str, Any]:
    """Every enum property set by ``pick``, every other required property filled with a default.

    Without any enum property, the first required string property gets ``pick(options)`` (the options
    offered in the text), so ``{"action": str, "reason": str}`` schemas still get a real answer.
    """
    required = set(node.get("required", []))
    props: dict[str, Any] = node.get("properties") or {}
    values = {name: _choices(prop, root) for name, prop in props.items()}
    if any(values.values()):
        options = None
    out: dict[str, Any] = {}
    for name, prop in props.items():
        allowed = values[name]
        if allowed:
            out[name] = pick(allowed)
        elif name in required and options and _type(prop, root) == "string":
            out[name], options = pick(options), None
        elif name in required:
            out[name] = _default(prop, root, pick)
    return out


def answer(req: Request, pick: Callable[[list[Any]], Any]) -> str:
    """The reply choosing among the request's options with ``pick``: schema-shaped JSON, or a bare label."""
    options = text_options(req)
    if req.schema is None:
        return str(pick(options)) if options else DEFAULT_REPLY
    root = _resolve(req.schema, req.schema)
    top = _choices(root, req.schema)
    if top:
        return json.dumps(pick(top))
    if isinstance(root, dict) and (root.get("type") == "object" or "properties" in root):
        return json.dumps(_fill(root, req.schema, pick, options))
    return json.dumps(_default(root, req.schema, pick))


# ------------------------------------------------------------------------------------------ policies


def first_option() -> Policy:
    """Always the first option (first enum value per schema property, else the first labelled option)."""
    return lambda req: answer(req, lambda values: values[0])


def fixed(text: str) -> Policy:
    """Always ``text``."""
    return lambda req: text


def sequence(texts: Sequence[str]) -> Policy:
    """The i-th reply is ``texts[i % len(texts)]`` (i is the request index)."""
    items = list(texts)
    if not items:
        raise ValueError("sequence() needs at least one text")
    return lambda req: items[req.index % len(items)]


def random_option(seed: int = 0) -> Policy:
    """A uniformly random option, drawn from ``random.Random(f"{seed}/{index}")``.

    Seeding per request index keeps replies reproducible whatever the thread scheduling; the global
    RNG is never used.
    """
    return lambda req: answer(req, random.Random(f"{seed}/{req.index}").choice)


def tit_for_tat() -> Policy:
    """Repeat the other player's last move (Akata-style history lines), else play the first option."""

    def policy(req: Request) -> str:
        other = _other_last_move(req)
        return answer(req, lambda values: next((v for v in values if str(v) == other), values[0]))

    return policy


def echo() -> Policy:
    """The last user message's content."""
    return _last_user_text


POLICIES: dict[str, Callable[..., Policy]] = {
    "first_option": first_option,
    "fixed": fixed,
    "sequence": sequence,
    "random_option": random_option,
    "tit_for_tat": tit_for_tat,
    "echo": echo,
}


def make_policy(policy: Policy | str, **kwargs: Any) -> Policy:
    """A policy itself, or the one built by ``POLICIES[name](**kwargs)``."""
    if not isinstance(policy, str):
        return policy
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; known: {', '.join(sorted(POLICIES))}")
    return POLICIES[policy](**kwargs)


def _illegal(values: list[Any]) -> str:
    """A value not among ``values``: "Z", "ZZ", ..."""
    bad = "Z"
    while bad in [str(v) for v in values]:
        bad += "Z"
    return bad


# -------------------------------------------------------------------------------------------- faults


@dataclass
class FaultPlan:
    """Fault names (or None for a normal answer) consumed one per chat request, in order; then none."""

    faults: list[str | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        unknown = [f for f in self.faults if f is not None and f not in FAULTS]
        if unknown:
            raise ValueError(f"unknown faults {unknown}; known: {', '.join(sorted(FAULTS))}")
        self.faults = list(self.faults)

    def take(self) -> str | None:
        """The next fault (not thread-safe: the server calls it under its lock)."""
        return self.faults.pop(0) if self.faults else None


# -------------------------------------------------------------------------------------------- server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], owner: TestServer) -> None:
        self.owner = owner
        self.connections: set[socket.socket] = set()
        self.conn_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # skips HTTPServer's reverse-DNS getfqdn()
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.conn_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.conn_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self.conn_lock:
            conns = list(self.connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # clients that hang up are not errors
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # else ~40 ms per response (Nagle + delayed ACK)
    server_version = "sim-testserver/1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.owner.verbose:
            sys.stderr.write(f"testserver: {format % args}\n")

    def _send(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        headers = {"Content-Type": "application/json", "Content-Length": str(len(data)), **(headers or {})}
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj).encode(), headers)

    def _error(
        self, status: int, message: str, kind: str, code: str, headers: dict[str, str] | None = None
    ) -> None:
        if self.path.startswith("/api/"):
            self._json(status, {"error": message}, headers)  # Ollama's shape
        else:
            self._json(
                status, {"error": {"message": message, "type": kind, "param": None, "code": code}}, headers
            )

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():  # trailers
                pass
            return b"".join(parts)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/health":
            self._send(200, b"ok", {"Content-Type": "text/plain"})
        elif path in ("/v1/models", "/models"):
            names = self.server.owner.models or ["stub"]
            data = [{"id": n, "object": "model", "created": CREATED, "owned_by": "testserver"} for n in names]
            self._json(200, {"object": "list", "data": data})
        elif path == "/api/tags":
            names = self.server.owner.models or ["stub"]
            self._json(200, {"models": [{"name": n, "model": n, "modified_at": CREATED_AT} for n in names]})
        else:
            self._error(404, f"not found: {path}", "invalid_request_error", "not_found")

    def do_POST(self) -> None:
        raw = self._read_body()
        path = self.path.split("?")[0]
        if path == "/api/show":  # litellm's ollama cost lookup asks for model info after a chat call
            return self._json(200, _OLLAMA_SHOW)
        if path not in CHAT_PATHS:
            return self._error(404, f"not found: {path}", "invalid_request_error", "not_found")
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return self._error(400, "request body is not a JSON object", "invalid_request_error", "bad_json")
        if body.get("stream"):
            return self._error(
                400,
                "streaming is not supported by the test server",
                "invalid_request_error",
                "stream_unsupported",
            )
        self.server.owner._serve_chat(self, path, body)


def _schema_of(path: str, body: dict[str, Any]) -> dict[str, Any] | None:
    if path.startswith("/api/"):
        fmt = body.get("format")
        return fmt if isinstance(fmt, dict) else None
    rf = body.get("response_format")
    if isinstance(rf, dict) and isinstance(rf.get("json_schema"), dict):
        schema = rf["json_schema"].get("schema")
        return schema if isinstance(schema, dict) else None
    return None


def _messages_of(path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    if path == "/api/generate":
        msgs = [{"role": "system", "content": body["system"]}] if body.get("system") else []
        return [*msgs, {"role": "user", "content": _text(body.get("prompt"))}]
    messages = body.get("messages")
    return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []


class TestServer:
    """A threaded OpenAI/Ollama-compatible server on 127.0.0.1; a context manager (start/stop)."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        policy: Policy | str = "first_option",
        *,
        latency: float = 0.0,
        faults: Iterable[str | None] | FaultPlan | None = None,
        hang_seconds: float = 30.0,
        port: int = 0,
        host: str = "127.0.0.1",
        verbose: bool = False,
    ) -> None:
        self._lock = threading.Lock()
        self._policy = make_policy(policy)
        self._latency = float(latency)
        self._plan = self._as_plan(faults)
        self.hang_seconds = float(hang_seconds)
        self.host = host
        self.verbose = verbose
        self._port = port
        self._requests: list[Request] = []
        self._in_flight = 0
        self._max_in_flight = 0
        self._models: list[str] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # lifecycle

    def start(self) -> TestServer:
        """Bind (port 0 picks a free one; a restart rebinds the same port) and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("test server already running")
        self._stopping.clear()
        self._server = _Server((self.host, self._port), self)
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="testserver", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake hung handlers, close the listening socket and kept-alive connections."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        server.close_connections()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> TestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # addresses

    @property
    def port(self) -> int:
        """The bound port (0 before the first start when constructed with port=0)."""
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: the api_base for ``ollama_chat/`` and ``ollama/``."""
        return f"http://{self.host}:{self._port}"

    @property
    def openai_base(self) -> str:
        """``http://127.0.0.1:PORT/v1``: the api_base for ``openai/`` and ``hosted_vllm/``."""
        return self.base_url + "/v1"

    # records and settings

    @property
    def requests(self) -> list[Request]:
        """A copy of the chat requests received since start or reset(), in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def count(self) -> int:
        """Number of chat requests received since start or reset()."""
        with self._lock:
            return len(self._requests)

    @property
    def max_in_flight(self) -> int:
        """Most chat requests being answered at once (latency included) since start or reset()."""
        with self._lock:
            return self._max_in_flight

    @property
    def models(self) -> list[str]:
        """Model names seen in chat requests since start or reset(), in first-seen order."""
        with self._lock:
            return list(self._models)

    def reset(self) -> None:
        """Forget recorded requests and models; the request index restarts at 0 (settings stay)."""
        with self._lock:
            self._requests.clear()
            self._models.clear()
            self._max_in_flight = 0  # requests answered before the reset may still be closing

    def set_faults(self, faults: Iterable[str | None] | FaultPlan | None) -> None:
        """Replace the pending faults."""
        plan = self._as_plan(faults)
        with self._lock:
            self._plan = plan

    def set_policy(self, policy: Policy | str) -> None:
        """Replace the policy (a callable or a POLICIES name with default arguments)."""
        self._policy = make_policy(policy)

    def set_latency(self, seconds: float) -> None:
        """Seconds added before every chat answer."""
        self._latency = float(seconds)

    @property
    def latency(self) -> float:
        """Seconds currently added before every chat answer."""
        return self._latency

    @property
    def pending_faults(self) -> list[str | None]:
        """Faults not yet consumed."""
        with self._lock:
            return list(self._plan.faults)

    @staticmethod
    def _as_plan(faults: Iterable[str | None] | FaultPlan | None) -> FaultPlan:
        return faults if isinstance(faults, FaultPlan) else FaultPlan(list(faults or []))

    # request handling

    def _serve_chat(self, h: _Handler, path: str, body: dict[str, Any]) -> None:
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            self._answer_chat(h, path, body)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _answer_chat(self, h: _Handler, path: str, body: dict[str, Any]) -> None:
        model = str(body.get("model") or "")
        messages = _messages_of(path, body)
        with self._lock:
            req = Request(path, model, messages, body, _schema_of(path, body), len(self._requests))
            self._requests.append(req)
            if model and model not in self._models:
                self._models.append(model)
            fault = self._plan.take()
            policy, latency = self._policy, self._latency
        if latency > 0:
            self._stopping.wait(latency)
        if fault == "hang":
            self._stopping.wait(self.hang_seconds)
        if fault == "429":
            return h._error(
                429,
                "rate limit reached (test server fault)",
                "rate_limit_error",
                "rate_limit_exceeded",
                {"Retry-After": "0"},
            )
        if fault == "500":
            return h._error(500, "internal server error (test server fault)", "server_error", "server_error")
        if fault == "503":
            return h._error(
                503, "service unavailable (test server fault)", "server_error", "service_unavailable"
            )
        if fault == "bad_content":
            text = BAD_CONTENT
        elif fault == "illegal":
            text = answer(req, _illegal)
        else:
            try:
                text = policy(req)
            except Exception as exc:
                return h._error(500, f"policy error: {exc!r}", "server_error", "policy_error")
        data = json.dumps(self._response(req, str(text))).encode()
        if fault == "malformed":
            data = data[: len(data) // 2]
        h._send(200, data)

    @staticmethod
    def _response(req: Request, text: str) -> dict[str, Any]:
        prompt = sum(_words(_text(m.get("content"))) for m in req.messages)
        completion = _words(text)
        if req.path.startswith("/api/"):
            out: dict[str, Any] = {"model": req.model, "created_at": CREATED_AT}
            if req.path == "/api/generate":
                out["response"] = text
            else:
                out["message"] = {"role": "assistant", "content": text}
            return {
                **out,
                "done": True,
                "done_reason": "stop",
                "prompt_eval_count": prompt,
                "eval_count": completion,
            }
        return {
            "id": f"chatcmpl-test-{req.index}",
            "object": "chat.completion",
            "created": CREATED,
            "model": req.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }


# ------------------------------------------------------------------------------------------------ cli


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.llm.testserver``: serve until SIGINT or SIGTERM."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m sim.llm.testserver", description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--policy", default="first_option", choices=sorted(POLICIES))
    p.add_argument("--text", action="append", default=[], help="reply for 'fixed'; repeat for 'sequence'")
    p.add_argument("--seed", type=int, default=0, help="seed for 'random_option'")
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        choices=sorted(FAULTS),
        help="fault for the next request; repeat for a sequence",
    )
    p.add_argument("--hang-seconds", type=float, default=30.0)
    p.add_argument("--verbose", action="store_true", help="log requests to stderr")
    args = p.parse_args(argv)
    kwargs: dict[str, Any] = {}
    if args.policy == "random_option":
        kwargs["seed"] = args.seed
    elif args.policy == "fixed":
        kwargs["text"] = " ".join(args.text) or DEFAULT_REPLY
    elif args.policy == "sequence":
        kwargs["texts"] = args.text or [DEFAULT_REPLY]
    server = TestServer(
        make_policy(args.policy, **kwargs),
        latency=args.latency,
        faults=args.fault,
        hang_seconds=args.hang_seconds,
        port=args.port,
        host=args.host,
        verbose=args.verbose,
    )
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    with server:
        print(f"listening on {server.base_url}", flush=True)
        while not done.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
