"""Which structured-output requests each real server accepts, and where it reads the schema from.

``--mimic NAME`` (``TestServer(mimic=NAME)``) refuses what that server refuses, with its status and
message style; without it every form is accepted. The rules, as measured or documented:

- ``openai``: ``response_format`` ``text``, ``json_object`` (no other keys) or ``json_schema``; an unknown
  request field (``guided_json``) is a 400 "Unrecognized request argument supplied".
- ``llamacpp`` (llama-cpp-python's server): ``response_format`` ``text`` or ``json_object``, the latter
  with an optional ``schema`` it enforces; anything else is a **500** carrying a pydantic validation
  message (``response_format.type: Input should be 'text' or 'json_object'``). Unknown fields are ignored.
- ``vllm``: ``text``, ``json_object`` (a ``schema`` key is ignored) and ``json_schema``, and the
  ``guided_json`` field; another type is a 400.
- ``ollama``: ``/api/chat`` and ``/api/generate`` take ``format`` ``"json"`` or a schema object (else 400);
  its ``/v1`` endpoint takes ``text``, ``json_object`` and ``json_schema``. Unknown fields are ignored.
"""

from __future__ import annotations

from typing import Any

from sim.llm.testserver.faults import HTTPFault

MIMICS = ("openai", "llamacpp", "vllm", "ollama")
_OPENAI_TYPES = ("text", "json_object", "json_schema")
_OPENAI_FIELDS = frozenset(
    {
        "model",
        "messages",
        "temperature",
        "top_p",
        "n",
        "stream",
        "stream_options",
        "stop",
        "max_tokens",
        "max_completion_tokens",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "logprobs",
        "top_logprobs",
        "user",
        "seed",
        "response_format",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "metadata",
        "store",
        "service_tier",
        "reasoning_effort",
        "modalities",
        "prediction",
        "audio",
    }
)


def _invalid(message: str, status: int = 400) -> HTTPFault:
    return HTTPFault(status, message, "invalid_request_error", "invalid_request_error")


def _format_type(body: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    rf = body.get("response_format")
    if not isinstance(rf, dict):
        return None, {}
    return (str(rf.get("type")) if rf.get("type") is not None else None), rf


def refusal(mimic: str | None, path: str, body: dict[str, Any]) -> HTTPFault | None:
    """The error ``mimic`` answers this chat request with, or None if it accepts it."""
    if mimic is None:
        return None
    if mimic == "ollama" and path.startswith("/api/"):
        fmt = body.get("format")
        if fmt in (None, "", "json") or isinstance(fmt, dict):
            return None
        return _invalid(f'invalid format: {fmt!r}; expected "json" or a JSON schema')
    kind, rf = _format_type(body)
    if mimic == "llamacpp":
        if kind not in (None, "text", "json_object"):
            return _invalid(
                "1 validation error:\n  response_format.type\n    Input should be 'text' or 'json_object' "
                f"[type=literal_error, input_value={kind!r}, input_type=str]",
                status=500,
            )
        return None
    if kind is not None and kind not in _OPENAI_TYPES:
        return _invalid(f"Invalid value for 'response_format.type': {kind!r} is not supported")
    if mimic == "openai":
        unknown = sorted(set(body) - _OPENAI_FIELDS)
        if unknown:
            return _invalid(f"Unrecognized request argument supplied: {', '.join(unknown)}")
        if kind == "json_object" and set(rf) - {"type"}:
            extra = ", ".join(sorted(set(rf) - {"type"}))
            return _invalid(
                f"Invalid parameter: 'response_format' of type 'json_object' has unexpected {extra}"
            )
    return None


def schema_of(mimic: str | None, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON schema the server would enforce for this request (None: none)."""
    if path.startswith("/api/"):
        fmt = body.get("format")
        return fmt if isinstance(fmt, dict) else None
    kind, rf = _format_type(body)
    found: Any = None
    if kind == "json_schema" and isinstance(rf.get("json_schema"), dict):
        found = rf["json_schema"].get("schema")
    elif kind == "json_object" and mimic in (None, "llamacpp"):
        found = rf.get("schema")
    elif kind is None and mimic in (None, "vllm"):
        found = body.get("guided_json")
    return found if isinstance(found, dict) else None
