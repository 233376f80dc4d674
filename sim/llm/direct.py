"""Direct HTTP to OpenAI-compatible servers: the lean path for ``openai/`` models with an ``api_base``.

litellm spends 5-10 ms of CPU per call in the calling process (it builds an SDK request, turns the answer
into a ``ModelResponse`` and runs its logging, which prices every response); an aiohttp POST costs about
0.5 ms. For a local or self-hosted OpenAI-compatible server (llama.cpp, vLLM, Ollama's ``/v1``, the test
server) this module sends the request litellm's ``openai/`` route would send and reads the answer itself:

- the same JSON body: the model without its ``openai/`` prefix, the messages, the call parameters (None
  left out), ``extra_body`` merged into the body, a pydantic ``response_format`` as litellm turns it
  into a strict ``json_schema`` (:func:`sim.llm.structured.strict_response_format`); the text-completion
  route (``text-completion-openai/``) posts the prompt to ``/completions``;
- the same errors: an HTTP error, a connection failure or an unreadable answer is mapped by litellm's own
  exception mapping (:func:`exception_type`, the ``openai`` provider), so retries, refusals, ``auto``'s
  structured fallback, hints and the stored error text do not depend on the path;
- the same price: a model in litellm's price map is priced with :func:`litellm.cost_per_token`, any other
  (every local model) stays unknown, as litellm leaves it.

litellm itself is imported only to map a failure or to price a priced model (the client hands in a
lazy handle): a run against a local server with no failure never pays its import (4-5 s).

One ``aiohttp.ClientSession`` per event loop (keep-alive, no connection cap: the client's per-model slots
are the cap), closed when the loop's ``asyncio.run`` ends. Only ``extra`` parameters that are OpenAI chat
parameters go this way (:data:`BODY_PARAMS`); ``client: litellm`` forces litellm's path, and
``client: auto`` (the default) takes this one wherever :func:`applies`.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import json
import sys
import time
import urllib.request
import weakref
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from sim.llm import structured

#: ``extra`` keys the direct path sends as they are (OpenAI chat parameters); any other key (a litellm
#: argument such as ``drop_params`` or ``metadata``) sends the call through litellm.
BODY_PARAMS = frozenset(
    {
        "extra_body",
        "extra_headers",
        "frequency_penalty",
        "logit_bias",
        "logprobs",
        "max_completion_tokens",
        "n",
        "presence_penalty",
        "reasoning_effort",
        "top_logprobs",
        "top_p",
        "user",
    }
)
_CHAT_PREFIX = "openai/"
_COMPLETION_PREFIX = "text-completion-openai/"
_NOT_SENT = frozenset({"model", "messages", "timeout", "num_retries", "api_base", "api_key"})


@dataclass(frozen=True)
class Reply:
    """An answer as the client keeps it, whichever path fetched it."""

    text: str
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None


def eligible(model: str, api_base: str | None, extra: dict[str, Any]) -> str | None:
    """Why ``client: direct`` cannot serve this model (None: it can)."""
    if model.startswith(_COMPLETION_PREFIX):
        model = _CHAT_PREFIX + model[len(_COMPLETION_PREFIX) :]
    if not model.startswith(_CHAT_PREFIX):
        return f"client: direct serves openai/ and text-completion-openai/ models, not {model!r}"
    if not api_base:
        return "client: direct needs an api_base (the server's URL)"
    unknown = sorted(set(extra) - BODY_PARAMS)
    if unknown:
        return f"client: direct sends only OpenAI chat parameters in extra, not {', '.join(unknown)}"
    return None


def applies(client: str, model: str, api_base: str | None, extra: dict[str, Any]) -> bool:
    """Whether a call with these settings takes the direct path (``model`` as routed: the completion
    route's ``text-completion-openai/`` counts as ``openai/``)."""
    return client != "litellm" and eligible(model, api_base, extra) is None


def takes_litellm(config: Any) -> bool:
    """Whether any model in a seat's config as written (a mapping holding ``model`` settings, at any
    depth) is called through litellm; settings that do not validate count as litellm's."""
    if isinstance(config, Mapping):
        if isinstance(config.get("model"), str):
            from sim.llm.settings import ModelSettings

            try:
                settings = ModelSettings.model_validate(dict(config))
            except ValueError:
                return True
            return not applies(settings.client, settings.model, settings.api_base, settings.extra)
        return any(takes_litellm(value) for value in config.values())
    if isinstance(config, list | tuple):
        return any(takes_litellm(item) for item in config)
    return False


class DirectHTTP:
    """Sends ``litellm.acompletion``-style keyword arguments to an OpenAI-compatible server."""

    def __init__(self, load_litellm: Callable[[], Any]) -> None:
        self._litellm = load_litellm  # imports litellm (offline, quiet) and returns it: on failures only
        self._formats: dict[type, dict[str, Any]] = {}

    async def complete(self, kwargs: dict[str, Any]) -> Reply:
        """One request (no retries: the caller retries), its answer or litellm's exception for the failure."""
        import aiohttp

        model: str = kwargs["model"]
        completion = model.startswith(_COMPLETION_PREFIX)
        name = model.split("/", 1)[1]
        url = str(kwargs["api_base"]).rstrip("/") + ("/completions" if completion else "/chat/completions")
        body, headers = self._body(kwargs, name, completion)
        headers["Authorization"] = f"Bearer {kwargs.get('api_key') or ''}"
        timeout = float(kwargs["timeout"])
        session = await _session()
        started = time.perf_counter()
        try:
            async with session.post(
                url,
                data=orjson.dumps(body),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=timeout),
                proxy=_proxy_for(url),
            ) as response:
                raw = await response.read()
                status, reply_headers = response.status, dict(response.headers)
        except TimeoutError as exc:
            taken = round(time.perf_counter() - started, 2)
            message = (
                "APITimeoutError - Request timed out. Error_str: Request timed out. "
                f"- timeout value={timeout}, time taken={taken} seconds"
            )
            raise self._litellm().Timeout(message=message, model=name, llm_provider="openai") from exc
        except aiohttp.ClientError as exc:  # refused, reset, disconnected: as the SDK reports it
            raise self._mapped(name, 500, "Connection error.", url, {}, None) from exc
        if status >= 400:
            text = raw.decode("utf-8", "replace")
            raise self._mapped(name, status, _error_message(text), url, reply_headers, _json_or_none(text))
        try:
            answer = orjson.loads(raw)
            choice = answer["choices"][0]
            text = (choice.get("text") if completion else (choice.get("message") or {}).get("content")) or ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise self._mapped(name, 500, _unreadable(raw, exc), url, reply_headers, None) from exc
        usage = answer.get("usage") or {}
        prompt_tokens, completion_tokens = usage.get("prompt_tokens"), usage.get("completion_tokens")
        return Reply(str(text), prompt_tokens, completion_tokens, self._price(model, usage))

    def _body(self, kwargs: dict[str, Any], name: str, completion: bool) -> tuple[dict[str, Any], dict]:
        """The JSON body and extra headers litellm's openai route would send for ``kwargs``."""
        body: dict[str, Any] = {"model": name}
        if completion:
            prompts = [message["content"] for message in kwargs["messages"]]
            body["prompt"] = prompts[0] if len(prompts) == 1 else prompts
        else:
            body["messages"] = kwargs["messages"]
        headers: dict[str, str] = {"Content-Type": "application/json"}
        extra_body: dict[str, Any] = {}
        for key, value in kwargs.items():
            if key in _NOT_SENT or value is None:
                continue
            if key == "extra_body":
                extra_body = dict(value)
            elif key == "extra_headers":
                headers.update({str(k): str(v) for k, v in dict(value).items()})
            elif key == "response_format" and isinstance(value, type):
                body[key] = self._response_format(value)
            else:
                body[key] = value
        body.update(extra_body)
        return body, headers

    def _response_format(self, schema: type) -> dict[str, Any]:
        """A pydantic answer model as litellm sends it (``json_schema``, strict), computed once per model."""
        sent = self._formats.get(schema)
        if sent is None:
            sent = self._formats[schema] = structured.strict_response_format(schema)
        return sent

    def _mapped(
        self, model: str, status: int, message: str, url: str, headers: dict[str, str], body: Any
    ) -> Exception:
        """The exception litellm raises for this failure of its ``openai`` route."""
        self._litellm()  # imported as the client imports it (offline price map, quiet) before its modules
        import httpx
        from litellm.litellm_core_utils.exception_mapping_utils import exception_type
        from litellm.llms.openai.common_utils import OpenAIError

        request = httpx.Request("POST", url)
        response = httpx.Response(status, headers=headers, request=request)
        error = OpenAIError(status, message, request=request, response=response, headers=headers, body=body)
        try:
            exception_type(model=model, original_exception=error, custom_llm_provider="openai")
        except Exception as mapped:
            return mapped
        return error  # pragma: no cover (exception_type always raises)

    def _price(self, model: str, usage: dict[str, Any]) -> float | None:
        """USD for ``usage`` if litellm's price map knows the model (local models: None, unknown)."""
        prices = _price_map()
        name = model.split("/", 1)[1]
        priced = model if model in prices else name if name in prices else None
        if priced is None:
            return None
        try:
            prompt, completion = self._litellm().cost_per_token(
                model=priced,
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
                custom_llm_provider="openai",
            )
        except Exception:
            return None
        return float(prompt + completion)


@functools.cache
def _proxy_for(url: str) -> str | None:
    """The proxy for ``url`` from the environment (``HTTP(S)_PROXY``, ``NO_PROXY``), as httpx and the
    SDK honour them; looked up once per scheme and host."""
    parts = urlsplit(url)
    return _proxy(parts.scheme.lower(), parts.hostname or "")


@functools.lru_cache(maxsize=64)
def _proxy(scheme: str, host: str) -> str | None:
    proxy = urllib.request.getproxies().get(scheme)
    if not proxy or urllib.request.proxy_bypass(host):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


@functools.cache
def _bundled_prices() -> dict[str, Any]:
    """The price map litellm loads offline (``LITELLM_LOCAL_MODEL_COST_MAP``), read without importing it."""
    spec = importlib.util.find_spec("litellm")
    folder = list(spec.submodule_search_locations or []) if spec is not None else []
    try:
        data = orjson.loads((Path(folder[0]) / "model_prices_and_context_window_backup.json").read_bytes())
    except (IndexError, OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _price_map() -> Mapping[str, Any]:
    """litellm's price map: its live one once imported (it may hold registered models), else the bundled
    copy it would load."""
    module = sys.modules.get("litellm")
    prices = getattr(module, "model_cost", None) if module is not None else None
    return prices if isinstance(prices, Mapping) else _bundled_prices()


def _error_message(text: str) -> str:
    """The provider's message in an error body (OpenAI's ``error.message``, FastAPI's ``detail``), or the
    body itself."""
    body = _json_or_none(text)
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
        if isinstance(error, str):
            return error
        if isinstance(body.get("detail"), str):
            return body["detail"]
        if isinstance(body.get("message"), str):
            return body["message"]
    return text


def _unreadable(raw: bytes, exc: Exception) -> str:
    """Why an answer could not be read: the json module's message for invalid JSON (as litellm words
    it), the server's own error message in a 200 answer, else what is missing and the answer's start."""
    try:
        json.loads(raw)
    except ValueError as stdlib:
        return str(stdlib)
    text = raw.decode("utf-8", "replace")
    message = _error_message(text)
    if message != text:
        return message
    return f"no answer text in the response ({type(exc).__name__}: {exc}): {text[:300]}"


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


_SESSIONS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[Any, AsyncIterator[None]]] = (
    weakref.WeakKeyDictionary()
)


async def _session() -> Any:
    """The running loop's session, made on first use and closed when ``asyncio.run`` shuts the loop down
    (it closes every open async generator: :func:`_closer` is one)."""
    loop = asyncio.get_running_loop()
    held = _SESSIONS.get(loop)
    if held is not None and not held[0].closed:
        return held[0]
    import aiohttp

    # trust_env would read ~/.netrc and the proxy variables in a thread on every request (a fifth of
    # the path's CPU); the proxy is looked up once per server instead (_proxy_for)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    closer = _closer(session)
    await anext(closer)
    _SESSIONS[loop] = (session, closer)
    return session


async def _closer(session: Any) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await session.close()
