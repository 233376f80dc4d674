"""An OpenAI-compatible and Ollama HTTP server for tests and benchmarks (stdlib only, loopback).

Tests and benchmarks drive the real litellm client against it over real HTTP; no provider is ever
reached. A *policy* (:mod:`.policies`) turns each chat request into the assistant's reply text: it
reads the requested answer schema first, and for schema-less completion-style prompts asks the
registered prompt packs to read the options and history their own phrasing states (:mod:`.readers`).
Per-request *faults* (:mod:`.faults`: rate limits, 5xx, hangs, malformed or off-schema answers; a
list consumed in order, then optionally a seeded share of requests, ``FaultPlan(rate=0.2, kinds=...)``)
and a fixed *latency* are layered on top by the HTTP server (:mod:`.server`); ``injected`` lists the
faults it applied.

Endpoints: ``POST /v1/chat/completions`` (litellm ``openai/...``), ``POST /v1/completions``
(``text-completion-openai/...``: the ``prompt`` becomes one user message), ``POST /api/chat``
(``ollama_chat/...``), ``POST /api/generate`` (``ollama/...``), ``GET /v1/models``, ``GET /health``,
and Ollama's ``GET /api/tags`` and ``POST /api/show`` (litellm asks for model info after an Ollama
call, to price it). Only chat requests are recorded (``requests``, ``count``, and ``max_in_flight``:
the most answered at once). ``"stream": true`` is refused with 400. A request's ``stop`` sequences
cut the reply. Responses are deterministic: constant ``created``, ids from the request number, usage
counted in whitespace-separated words.

In-process use::

    with TestServer("first_option", faults=["429", None]) as server:
        await litellm.acompletion(model="openai/stub", api_base=server.openai_base, api_key="x", ...)
        server.requests[-1].schema

Dry-running a scenario: start ``python -m sim.llm.testserver --policy tit_for_tat`` (prints
``listening on http://127.0.0.1:PORT``), then point the scenario's model at it, either
``model: openai/stub`` with ``api_base: http://127.0.0.1:PORT/v1`` and any ``api_key``, or
``model: ollama_chat/stub`` with ``api_base: http://127.0.0.1:PORT`` (no ``/v1``). Stop it with
Ctrl-C or SIGTERM.

``Retry-After: 0`` does not shorten the openai SDK's own backoff (it only honours values above 0):
pass ``num_retries=0``. ``stop()`` also closes kept-alive client connections, but test "server
down" against a port that was never bound: a stopped server's port may be reused, and pooled
clients fail differently.
"""

from __future__ import annotations

from sim.llm.testserver.cli import main
from sim.llm.testserver.faults import BAD_CONTENT, FAULTS, FaultPlan
from sim.llm.testserver.policies import (
    POLICIES,
    answer,
    chat_model,
    echo,
    first_option,
    fixed,
    make_policy,
    random_option,
    sequence,
    tit_for_tat,
)
from sim.llm.testserver.readers import text_options
from sim.llm.testserver.request import Policy, Request
from sim.llm.testserver.schema import DEFAULT_REPLY
from sim.llm.testserver.server import CREATED, CREATED_AT, TestServer

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
    "chat_model",
    "echo",
    "first_option",
    "fixed",
    "main",
    "make_policy",
    "random_option",
    "sequence",
    "text_options",
    "tit_for_tat",
]
