"""How the answer schema reaches the provider (``structured`` modes) and which provider errors are final.

Modes (``ModelSettings.structured``; ``true`` means ``auto``, ``false`` means ``prompt``):

- ``json_schema``: OpenAI's ``{"type": "json_schema", ...}`` (litellm turns it into Ollama's ``format``).
- ``json_object_schema``: llama.cpp's ``{"type": "json_object", "schema": {...}}`` (grammar-enforced there).
- ``guided_json``: vLLM's ``guided_json`` request field (sent through ``extra_body``).
- ``json_object``: ``{"type": "json_object"}``: JSON, no schema.
- ``prompt``: nothing is sent; the schema is only what the prompt says.
- ``auto``: from litellm's capability data for hosted providers; for OpenAI-compatible servers
  (``openai/`` with ``api_base``, ``hosted_vllm/``) start with ``json_schema`` and step down
  :data:`FALLBACKS` (``json_object_schema``, ``json_object``, ``prompt``) each time a try is refused
  with an error naming the field we sent. The working mode is
  remembered per (model, api_base) for the rest of the run (:class:`Negotiator`).

Whatever the mode, the answer is validated by our own parser.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Literal

from pydantic import BaseModel

Mode = Literal["json_schema", "json_object_schema", "guided_json", "json_object", "prompt"]
StructuredMode = Literal["auto", "json_schema", "json_object_schema", "guided_json", "json_object", "prompt"]

#: ``auto``'s next mode after a refusal on an OpenAI-compatible server. vLLM takes json_schema; llama.cpp
#: (also when reached through ``hosted_vllm/``) refuses it but enforces json_object_schema. guided_json
#: is left out: servers that do not know it ignore it silently, so a refusal would never show it fails.
FALLBACKS: dict[Mode, Mode] = {
    "json_schema": "json_object_schema",
    "json_object_schema": "json_object",
    "json_object": "prompt",
}
#: A provider message that says the request itself is invalid, whatever HTTP status came with it
#: (llama.cpp answers a pydantic validation error with 500).
_REFUSED_REQUEST = re.compile(
    r"validation errors?\b|Input should be|Field required|Extra inputs are not permitted|"
    r"Unrecognized request argument|unsupported (?:parameter|value)|is not supported|does not support",
    re.IGNORECASE,
)
log = logging.getLogger("sim.llm")


def negotiates(model: str, api_base: str | None) -> bool:
    """Whether ``auto`` negotiates with this server (an OpenAI-compatible one) rather than trusting
    litellm's capability data (a hosted provider)."""
    return model.startswith("hosted_vllm/") or (model.startswith("openai/") and bool(api_base))


def _first_mode(litellm: Any, model: str) -> Mode:
    """``auto``'s mode for a hosted provider, from litellm's capability data (Ollama: its ``format``,
    which litellm fills from a json_schema; Ollama enforces schemas since 0.5)."""
    if model.startswith(("ollama_chat/", "ollama/")):
        return "json_schema"
    try:
        if litellm.supports_response_schema(model=model):
            return "json_schema"
    except Exception:  # unknown model: litellm raises rather than answering False
        pass
    try:
        params = litellm.get_supported_openai_params(model=model) or []
    except Exception:
        params = []
    return "json_object" if "response_format" in params else "prompt"


def apply(kwargs: dict[str, Any], mode: Mode, schema: type[BaseModel]) -> None:
    """Add what ``mode`` sends to the ``litellm.acompletion`` arguments."""
    if mode == "json_schema":
        kwargs["response_format"] = schema
    elif mode == "json_object_schema":
        kwargs["response_format"] = {
            "type": "json_object",
            "schema": grammar_safe(schema.model_json_schema()),
        }
    elif mode == "json_object":
        kwargs["response_format"] = {"type": "json_object"}
    elif mode == "guided_json":
        extra_body = dict(kwargs.get("extra_body") or {})
        extra_body["guided_json"] = grammar_safe(schema.model_json_schema())
        kwargs["extra_body"] = extra_body


def strict_response_format(schema: type[BaseModel]) -> dict[str, Any]:
    """The ``response_format`` litellm sends for a pydantic model (its ``type_to_response_format_param``):
    a strict ``json_schema`` named after the model, built as the openai SDK's ``to_strict_json_schema``
    builds it (every object closed, every property required, ``None`` defaults dropped, ``$ref`` with
    siblings inlined). Written out here so that the direct path need not import litellm or the SDK
    (2-5 s); a test holds it equal to litellm's for every answer model."""
    root = schema.model_json_schema()
    return {
        "type": "json_schema",
        "json_schema": {"schema": _strict(root, root), "name": schema.__name__, "strict": True},
    }


def _strict(node: Any, root: dict[str, Any]) -> dict[str, Any]:
    """``node`` (a JSON schema, changed in place) made strict; ``root`` resolves ``$ref``."""
    if not isinstance(node, dict):
        raise TypeError(f"expected a JSON schema object, got {node!r}")
    for key in ("$defs", "definitions"):
        if isinstance(node.get(key), dict):
            for sub in node[key].values():
                _strict(sub, root)
    if node.get("type") == "object" and "additionalProperties" not in node:
        node["additionalProperties"] = False
    properties = node.get("properties")
    if isinstance(properties, dict):
        node["required"] = list(properties)
        node["properties"] = {key: _strict(value, root) for key, value in properties.items()}
    if isinstance(node.get("items"), dict):
        node["items"] = _strict(node["items"], root)
    if isinstance(node.get("anyOf"), list):
        node["anyOf"] = [_strict(variant, root) for variant in node["anyOf"]]
    all_of = node.get("allOf")
    if isinstance(all_of, list):
        if len(all_of) == 1:
            node.update(_strict(all_of[0], root))
            node.pop("allOf")
        else:
            node["allOf"] = [_strict(entry, root) for entry in all_of]
    if "default" in node and node["default"] is None:
        node.pop("default")
    ref = node.get("$ref")
    if ref and len(node) > 1:
        resolved: Any = root
        for key in str(ref).removeprefix("#/").split("/"):
            resolved = resolved[key]
        node.update({**resolved, **node})
        node.pop("$ref")
        return _strict(node, root)
    return node


#: Longest string bound a grammar-compiling server gets. llama.cpp unrolls ``maxLength`` into one rule
#: per character and rejects a speech limit of hundreds (its server process then dies); the bound is
#: still enforced here, by our own validation of every answer.
GRAMMAR_MAX_LENGTH = 64


def grammar_safe(schema: Any) -> Any:
    """``schema`` without string length bounds above :data:`GRAMMAR_MAX_LENGTH` (a copy)."""
    if isinstance(schema, dict):
        return {
            key: grammar_safe(value)
            for key, value in schema.items()
            if not (
                key in ("maxLength", "minLength") and isinstance(value, int) and value > GRAMMAR_MAX_LENGTH
            )
        }
    if isinstance(schema, list):
        return [grammar_safe(item) for item in schema]
    return schema


def _field(mode: Mode) -> str:
    """The request field a mode sends, as providers name it in their errors."""
    return "guided_json" if mode == "guided_json" else "response_format"


def names_field(exc: BaseException, mode: Mode) -> bool:
    """Whether a provider error names the request field ``mode`` sent (so the mode is to blame)."""
    return mode != "prompt" and _field(mode) in str(exc).lower()


def refused_request(litellm: Any, exc: BaseException) -> bool:
    """Whether an error says the request can never succeed (bad or unsupported parameters, unknown
    model, auth): such errors are tried once, whatever HTTP status the server used."""
    final = (
        litellm.BadRequestError,
        litellm.NotFoundError,
        litellm.AuthenticationError,
        litellm.PermissionDeniedError,
        litellm.UnprocessableEntityError,
    )
    if isinstance(exc, final):
        return True
    if isinstance(exc, litellm.RateLimitError | litellm.Timeout):
        return False
    return bool(_REFUSED_REQUEST.search(str(exc)))


#: What to try instead of a refused explicit mode.
_INSTEAD: dict[Mode, str] = {
    "json_schema": "json_object_schema or auto",
    "json_object_schema": "json_schema or auto",
    "guided_json": "json_schema or auto",
    "json_object": "auto or prompt",
}


def _below(mode: Mode) -> list[Mode]:
    """The modes ``auto`` steps down to after ``mode``, in order."""
    later: list[Mode] = []
    step = FALLBACKS.get(mode)
    while step is not None:
        later.append(step)
        step = FALLBACKS.get(step)
    return later


def hint(litellm: Any, exc: BaseException, mode: Mode | None, requested: str) -> str:
    """What to change in the scenario after a refused request ("" if nothing specific)."""
    if mode is not None and names_field(exc, mode):
        field = "guided_json" if mode == "guided_json" else f"response_format {mode}"
        if requested == "auto":  # a provider whose capability data was wrong: the modes below this one
            later = _below(mode)
            instead = ", ".join(later[:-1]) + " or " + later[-1] if len(later) > 1 else "prompt"
        else:
            instead = _INSTEAD.get(mode, "auto")
        return f"this server does not accept {field}; set structured: {instead}"
    if isinstance(exc, litellm.AuthenticationError | litellm.PermissionDeniedError):
        return "the server refused the credentials: check the variable named by api_key_env"
    if isinstance(exc, litellm.NotFoundError):
        return "the server does not know this model or endpoint: check model and api_base"
    return ""


class Negotiator:
    """The structured mode per (model, api_base) for one run: ``auto`` resolved once, then stepped down
    on refusals and remembered."""

    def __init__(self) -> None:
        self._modes: dict[tuple[str, str | None], Mode] = {}

    def mode(self, litellm: Any, model: str, api_base: str | None, requested: str) -> Mode:
        """The mode to send now."""
        if requested != "auto":
            return requested  # type: ignore[return-value]
        key = (model, api_base)
        if key not in self._modes:
            self._modes[key] = "json_schema" if negotiates(model, api_base) else _first_mode(litellm, model)
        return self._modes[key]

    def fall_back(
        self, model: str, api_base: str | None, requested: str, failed: Mode, exc: BaseException
    ) -> Mode | None:
        """The next mode after ``failed`` was refused with ``exc`` (None: no fallback applies).

        Only ``auto`` on an OpenAI-compatible server falls back, only when the error names the field
        ``failed`` sent. Concurrent refusals of the same mode step down once.
        """
        if requested != "auto" or not negotiates(model, api_base) or not names_field(exc, failed):
            return None
        key = (model, api_base)
        current = self._modes.get(key, failed)
        if current != failed:  # another call already stepped down
            return current
        nxt = FALLBACKS.get(failed)
        if nxt is None:
            return None
        self._modes[key] = nxt
        where = f" at {api_base}" if api_base else ""
        log.warning(
            "%s%s refused %s (%s); falling back to structured: %s for the rest of the run",
            model,
            where,
            failed,
            first_line(str(exc)),
            nxt,
        )
        return nxt


def first_line(text: str) -> str:
    """The first non-empty line of a message (for log lines only)."""
    return next((line for line in text.splitlines() if line.strip()), text).strip()


def one_line(text: str) -> str:
    """A message with its line breaks and runs of spaces folded (for the CLI's one-line error)."""
    return " ".join(text.split())
