"""A chat request as the test server received it, and the text of its messages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Request:
    """One chat request as the server received it."""

    path: str
    model: str
    messages: list[dict[str, Any]]
    body: dict[str, Any]
    #: the schema the server enforces (json_schema, llama.cpp's json_object schema, vLLM's guided_json,
    #: Ollama's format; see mimic.schema_of), or None
    schema: dict[str, Any] | None
    index: int  # 0-based request number since start or reset()


#: Turns a chat request into the assistant's reply text.
Policy = Callable[[Request], str]


def message_text(content: Any) -> str:
    """Message content as text (OpenAI content parts are joined)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def last_user_text(req: Request) -> str:
    """The content of the last user message ("" if there is none)."""
    for m in reversed(req.messages):
        if m.get("role") == "user":
            return message_text(m.get("content"))
    return ""


def texts(req: Request) -> list[str]:
    """The last user message first, then every message from the newest."""
    return [last_user_text(req)] + [message_text(m.get("content")) for m in reversed(req.messages)]
