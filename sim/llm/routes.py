"""How an answer is asked for: the chat route, an assistant prefill, or the text-completion route.

A completion-style prompt (Akata's "... Q: ...?\\nA: Option", answered with one label) ends with a
*cue*: its last line, the start of the answer. A chat model given it as a user message opens a new
assistant turn and answers anew ("You ..."), so the cue is better continued:

- ``chat``: the conversation as it is (the cue stays at the end of the user message).
- ``prefill``: the cue leaves the user message; its answer part (the cue without a leading ``A:``
  marker: "Option") is sent as a trailing assistant message that the model continues, and the
  answer text is the continuation (" J"). DeepSeek and Mistral get ``"prefix": true`` on that
  message, vLLM ``continue_final_message``; llama.cpp, Ollama and Anthropic continue a trailing
  assistant message as it is.
- ``completion``: litellm's text-completion route (``text-completion-openai/``; an ``openai/`` or
  ``hosted_vllm/`` model is sent there) with the conversation rendered as one prompt text that
  ends with the cue (litellm would send each message as a prompt of its own).
- ``auto`` (default): completion for text-completion models, prefill where the provider is known to
  continue an assistant message (the providers above, litellm's ``supports_assistant_prefill``, and
  ``openai/`` with an ``api_base``: local OpenAI-compatible servers), else chat.

Prompts without a cue (JSON answers) always take the chat route. On the prefill and completion
routes a re-ask ends with the cue too (the answer stays one label), ``stop`` defaults to a newline
and ``max_tokens`` is at least :data:`MIN_LABEL_TOKENS` (the label plus a stop sequence).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from sim.llm.settings import ModelSettings

Messages = list[dict[str, Any]]
Route = Literal["chat", "prefill", "completion"]

#: ``max_tokens`` at least this on the prefill and completion routes: a label, its punctuation and a stop.
MIN_LABEL_TOKENS = 8
#: The stop sequences of the prefill and completion routes when the model sets none.
DEFAULT_LABEL_STOP = ("\n",)
#: litellm providers whose models are text-completion models.
TEXT_COMPLETION = frozenset({"text-completion-openai", "text-completion-codestral"})
#: Providers with a text-completion endpoint litellm reaches as ``text-completion-openai/``.
OPENAI_COMPLETIONS = frozenset({"openai", "hosted_vllm"})
#: Providers that continue a trailing assistant message.
PREFILL = frozenset({"anthropic", "deepseek", "mistral", "ollama_chat", "hosted_vllm"})
#: Providers that need ``"prefix": true`` on the prefilled message.
PREFIX_FLAG = frozenset({"deepseek", "mistral"})
_MARKER = re.compile(r"^\s*\w{1,12}:\s*")


@dataclass(frozen=True)
class Routed:
    """One request as a route shapes it: the model string, the messages and extra parameters."""

    route: Route
    model: str
    messages: Messages
    params: dict[str, Any] = field(default_factory=dict)


def cue_of(text: str) -> str:
    """A completion-style prompt's cue: its last line ("A: Option")."""
    return text.rstrip().rsplit("\n", 1)[-1].strip()


def prefill_text(cue: str) -> str:
    """The answer part of a cue: "A: Option" -> "Option" (a cue that is only a marker stays whole)."""
    return _MARKER.sub("", cue, count=1) or cue


def provider(model: str) -> str:
    """The litellm provider prefix of a model string ("" without one)."""
    return model.split("/", 1)[0] if "/" in model else ""


def completion_model(model: str) -> str | None:
    """The model string for litellm's text-completion route, or None if the provider has none."""
    name = provider(model)
    if name in TEXT_COMPLETION:
        return model
    if name in OPENAI_COMPLETIONS:
        return "text-completion-openai/" + model.split("/", 1)[1]
    return None


def resolve(settings: ModelSettings, cue: str | None) -> Route:
    """The route of a request (``auto`` picked from the provider); chat for prompts without a cue."""
    if not cue:
        return "chat"
    if settings.answer_route != "auto":
        return settings.answer_route
    name = provider(settings.model)
    if name in TEXT_COMPLETION:
        return "completion"
    if name in PREFILL or (name == "openai" and settings.api_base) or _litellm_prefill(settings.model):
        return "prefill"
    return "chat"


def route(settings: ModelSettings, conversation: Messages, cue: str | None) -> Routed:
    """The request for ``conversation`` (whose first user message ends with ``cue``) on its route."""
    chosen = resolve(settings, cue)
    if chosen == "chat" or not cue:
        return Routed("chat", settings.model, list(conversation))
    messages = _cued(conversation, cue)
    params: dict[str, Any] = {"stop": list(settings.stop or DEFAULT_LABEL_STOP)}
    if settings.max_tokens is not None:
        params["max_tokens"] = max(settings.max_tokens, MIN_LABEL_TOKENS)
    if chosen == "completion":
        model = completion_model(settings.model)
        if model is None:
            raise ValueError(f"{settings.model}: litellm has no text-completion route for this provider")
        return Routed("completion", model, [{"role": "user", "content": render(messages)}], params)
    name = provider(settings.model)
    if name == "hosted_vllm":
        extra_body = dict(settings.extra.get("extra_body") or {})
        params["extra_body"] = {**extra_body, "continue_final_message": True, "add_generation_prompt": False}
    return Routed("prefill", settings.model, _prefilled(messages, cue, name in PREFIX_FLAG), params)


def render(messages: Messages) -> str:
    """A conversation as one prompt text: an assistant message continues the text before it (the
    answer after the cue); other messages start a new paragraph."""
    text = ""
    for message in messages:
        content = str(message.get("content") or "")
        if message.get("role") == "assistant" or not text:
            text += content
        else:
            text += "\n\n" + content
    return text


def _cued(conversation: Messages, cue: str) -> Messages:
    """The conversation with the cue ending its last user message (a re-ask asks for the label again)."""
    messages = [dict(m) for m in conversation]
    last = messages[-1] if messages else None
    if last is not None and last.get("role") == "user":
        content = str(last.get("content") or "").rstrip()
        if not content.endswith(cue):
            last["content"] = f"{content}\n{cue}"
    return messages


def _prefilled(messages: Messages, cue: str, flag: bool) -> Messages:
    """Every user message ending with the cue loses it; the assistant's answer starts with its answer
    part (earlier answers are shown whole, the last one is the trailing prefill to continue)."""
    start = prefill_text(cue)
    out: Messages = []
    cued = False  # the message before was a user message that ended with the cue
    for message in messages:
        content = str(message.get("content") or "")
        if cued and message.get("role") == "assistant":
            out.append({**message, "content": start + content})
            cued = False
            continue
        cued = message.get("role") == "user" and content.rstrip().endswith(cue)
        out.append({**message, "content": content.rstrip()[: -len(cue)].rstrip()} if cued else message)
    if cued:
        out.append({"role": "assistant", "content": start, **({"prefix": True} if flag else {})})
    return out


def _litellm_prefill(model: str) -> bool:
    """litellm's capability data says the model continues a prefilled assistant message."""
    from sim.llm.client import _litellm

    try:
        return bool(_litellm().supports_assistant_prefill(model))
    except Exception:  # unmapped models: unknown reads as no
        return False
