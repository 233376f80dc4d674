"""The HTTP side of the test server: a threaded OpenAI/Ollama-compatible server on loopback.

It records every chat request, applies the pending fault and the latency, and sends the policy's
reply in the OpenAI or Ollama response shape (see the package docstring for the endpoints).
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import sys
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sim.llm.testserver import mimic as mimics
from sim.llm.testserver import readers
from sim.llm.testserver.faults import BAD_CONTENT, HTTP_FAULTS, FaultPlan, illegal
from sim.llm.testserver.policies import answer, make_policy
from sim.llm.testserver.request import Policy, Request, message_text

CREATED = 1767225600  # 2026-01-01T00:00:00Z: responses carry a constant timestamp
CREATED_AT = "2026-01-01T00:00:00Z"
COMPLETION_PATHS = frozenset({"/v1/completions", "/completions"})  # text completion (a "prompt")
CHAT_PATHS = frozenset(
    {"/v1/chat/completions", "/chat/completions", "/api/chat", "/api/generate", *COMPLETION_PATHS}
)
_OLLAMA_SHOW = {
    "modelfile": "",
    "parameters": "",
    "template": "{{ .Prompt }}",
    "details": {"format": "gguf", "family": "stub", "parameter_size": "0B", "quantization_level": "none"},
    "model_info": {"general.architecture": "stub", "stub.context_length": 131072},
}


def _words(text: str) -> int:
    return len(text.split())


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


def _messages_of(path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    if path in COMPLETION_PATHS:
        prompt = body.get("prompt")
        return [{"role": "user", "content": prompt[0] if isinstance(prompt, list) and prompt else prompt}]
    if path == "/api/generate":
        msgs = [{"role": "system", "content": body["system"]}] if body.get("system") else []
        return [*msgs, {"role": "user", "content": message_text(body.get("prompt"))}]
    messages = body.get("messages")
    return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []


def _stopped(text: str, stop: Any) -> str:
    """``text`` cut before the first of the request's stop sequences (OpenAI's ``stop``)."""
    sequences = [stop] if isinstance(stop, str) else stop if isinstance(stop, list) else []
    cuts = [text.find(s) for s in sequences if isinstance(s, str) and s and s in text]
    return text[: min(cuts)] if cuts else text


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
        mimic: str | None = None,
    ) -> None:
        if mimic is not None and mimic not in mimics.MIMICS:
            raise ValueError(f"unknown mimic {mimic!r}; known: {', '.join(mimics.MIMICS)}")
        self._lock = threading.Lock()
        self.mimic = mimic  # the provider whose response_format rules are enforced (None: accept all)
        self._policy = make_policy(policy)
        self._latency = float(latency)
        self._plan = self._as_plan(faults)
        self.hang_seconds = float(hang_seconds)
        self.host = host
        self.verbose = verbose
        self._port = port
        self._requests: list[Request] = []
        self._injected: list[str] = []
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
        readers.warm()  # the prompt packs that read schema-less prompts, imported before any request
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
    def injected(self) -> list[str]:
        """The faults applied since start or reset(), in request order (None answers left out)."""
        with self._lock:
            return list(self._injected)

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
            self._injected.clear()
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
            schema = mimics.schema_of(self.mimic, path, body)
            req = Request(path, model, messages, body, schema, len(self._requests))
            self._requests.append(req)
            if model and model not in self._models:
                self._models.append(model)
            refused = mimics.refusal(self.mimic, path, body)
        if refused is not None:  # the mimicked server refuses the request before any fault or answer
            return h._error(refused.status, refused.message, refused.kind, refused.code)
        with self._lock:
            fault = self._plan.take()
            if fault is not None:
                self._injected.append(fault)
            policy, latency = self._policy, self._latency
        if latency > 0:
            self._stopping.wait(latency)
        if fault == "hang":
            self._stopping.wait(self.hang_seconds)
        error = HTTP_FAULTS.get(fault or "")
        if error is not None:
            return h._error(error.status, error.message, error.kind, error.code, error.headers)
        if fault == "bad_content":
            text = BAD_CONTENT
        elif fault == "illegal":
            text = answer(req, illegal)
        else:
            try:
                text = policy(req)
            except Exception as exc:
                return h._error(500, f"policy error: {exc!r}", "server_error", "policy_error")
        data = json.dumps(self._response(req, _stopped(str(text), body.get("stop")))).encode()
        if fault == "malformed":
            data = data[: len(data) // 2]
        h._send(200, data)

    @staticmethod
    def _response(req: Request, text: str) -> dict[str, Any]:
        prompt = sum(_words(message_text(m.get("content"))) for m in req.messages)
        completion = _words(text)
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        if req.path in COMPLETION_PATHS:
            choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": "stop"}
            return {
                "id": f"cmpl-test-{req.index}",
                "object": "text_completion",
                "created": CREATED,
                "model": req.model,
                "choices": [choice],
                "usage": usage,
            }
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
