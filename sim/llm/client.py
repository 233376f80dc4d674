"""One async ``ask()`` over ``litellm.acompletion``: queueing, rate limits, retries, structured answers.

- litellm is imported lazily, here only, after ``LITELLM_LOCAL_MODEL_COST_MAP`` and
  ``LITELLM_OFFLINE_MODE`` are set (no price-map fetch, no hub downloads).
- A per-model ``asyncio.Semaphore`` queues callers beyond ``max_parallel`` (litellm's Router rejects
  them instead); ``aiolimiter`` enforces ``rpm``. Every call has an explicit ``timeout``.
- A slot is held only while the request is at the provider, not while litellm prepares it or
  turns the answer into a ``ModelResponse`` and prices it (about 6 ms of CPU per call on the dev
  box, half of it before the request): where litellm sends through the openai SDK (``openai/``),
  ``litellm.aclient_session`` is an httpx client built like litellm's default one whose ``send``
  takes the caller's slot, then the ``rpm`` token, around the HTTP exchange (the caller's slot
  travels in a context variable). Other routes (``hosted_vllm/``, ``ollama_chat/`` in litellm 1.110,
  or a session someone else set) hold the slot around the whole ``litellm.acompletion`` call, as
  does every route until one of its requests was seen at our session (:meth:`LLMClient._send`).
- Rate limits, timeouts, connection errors and 5xx are retried with jittered exponential backoff
  (tenacity). A refused connection is ``InternalServerError`` for ``openai/`` and
  ``APIConnectionError`` for ``ollama_chat/``: both are retried.
- The answer schema is sent as ``response_format`` where wanted and always validated here; an answer
  that does not validate is re-asked with the error appended, up to ``reasks`` times.
- Every attempt becomes one ``llm_calls`` row through ``record``; API keys are read from the
  environment variable named in the settings and never stored.
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import json
import os
import sys
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.agent import AgentError
from sim.llm.cache import CachedAnswer, ResponseCache, cache_key
from sim.llm.settings import ModelSettings
from sim.types import to_jsonable

Messages = list[dict[str, Any]]
Parser = Callable[[str], Any]  # raises ValueError (or ValidationError) on a bad answer


class LLMUnavailable(AgentError):
    """The provider kept failing after every retry (or the cache had no answer in replay mode): the
    episode stops with this error rather than playing on with made-up moves."""


@dataclass(frozen=True)
class CallContext:
    """Where a call belongs in the trajectory."""

    episode_id: int | None = None
    player_id: str | None = None
    turn: int | None = None
    #: The seat's episode seed. With temperature > 0 it joins the cache key (with a per-request
    #: occurrence count), so repeated episodes sample anew yet a re-run replays the same answers.
    sample_key: int | None = None


@dataclass
class Usage:
    """Calls, tokens and estimated cost of one seat in one episode."""

    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    cost_known: bool = True

    def add(self, meta: dict[str, Any]) -> None:
        """Count one call."""
        self.calls += 1
        self.cache_hits += bool(meta.get("cache_hit"))
        self.prompt_tokens += meta.get("prompt_tokens") or 0
        self.completion_tokens += meta.get("completion_tokens") or 0
        if meta.get("cost_usd") is not None:
            self.cost_usd += meta["cost_usd"]
        elif not meta.get("cache_hit"):
            self.cost_known = False  # an unmapped (local) model: no price to estimate from


@dataclass
class Answer:
    """The outcome of :meth:`LLMClient.ask`: a parsed value, or ``valid=False`` with the last error."""

    value: Any
    text: str | None
    valid: bool
    error: str | None
    attempts: int
    messages: Messages = field(default_factory=list)


def _litellm() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")
    import litellm

    litellm.suppress_debug_info = True
    return litellm


class _Slot:
    """One ``acompletion`` call's claim on its model's slots, read by our HTTP session."""

    __slots__ = ("active", "limiter", "seen", "semaphore", "take")

    def __init__(self, semaphore: asyncio.Semaphore, limiter: Any, take: bool) -> None:
        self.semaphore = semaphore
        self.limiter = limiter
        self.take = take  # True: the session acquires the slot per request; False: the caller holds it
        self.seen = False  # a request of this call went through the session
        self.active = True  # False once the call returned (litellm's logging tasks copy the context)


_SLOT: contextvars.ContextVar[_Slot | None] = contextvars.ContextVar("sim_llm_slot", default=None)
_SESSIONS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()
_SESSION_CLASS: list[Any] = []  # the httpx.AsyncClient subclass, made on first use ([None]: unavailable)
_AT_SESSION: dict[tuple[Any, ...], bool] = {}  # route (see _route) -> its requests go through our session


def _session(litellm: Any) -> Any | None:
    """Our session for the running event loop, made ``litellm.aclient_session``; None if unavailable.

    One per event loop, as litellm keeps one SDK client (and so one HTTP client) per loop. Left alone,
    and None, when someone else set ``litellm.aclient_session`` or this litellm lacks the helpers.
    """
    current = litellm.aclient_session
    loop = asyncio.get_running_loop()
    ours = _SESSIONS.get(loop)
    if current is not None and current is ours:
        return ours
    if current is not None and not getattr(current, "sim_slots", False):
        return None
    if ours is None:
        if _SESSION_CLASS == [None]:
            return None
        ours = _new_session()
        if ours is None:
            _SESSION_CLASS[:] = [None]
            return None
        _SESSIONS[loop] = ours
    litellm.aclient_session = ours
    return ours


def _forget_sessions() -> None:
    """At exit, drop our references to the sessions (else they outlive the modules they need)."""
    _SESSIONS.clear()
    litellm: Any = sys.modules.get("litellm")
    if litellm is not None and getattr(litellm.aclient_session, "sim_slots", False):
        litellm.aclient_session = None


def _new_session() -> Any | None:
    """An httpx client built as litellm 1.110 builds its default one for OpenAI-compatible providers
    (``BaseOpenAILLM._get_async_http_client``: transport, proxy mounts, SSL, redirects, HTTP/2), whose
    ``send`` takes the caller's slot, then its ``rpm`` token, around the exchange (the body of a
    non-streamed answer is read inside ``send``)."""
    try:
        import ssl

        import httpx
        from litellm.llms.custom_httpx.http_handler import (
            AsyncHTTPHandler,
            get_ssl_configuration,
            http2_enabled,
        )

        if not _SESSION_CLASS:
            atexit.register(_forget_sessions)

            class SlotClient(httpx.AsyncClient):
                sim_slots = True

                async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
                    slot = _SLOT.get()
                    if slot is None or not slot.active:
                        return await super().send(request, **kwargs)
                    slot.seen = True
                    if not slot.take:
                        return await super().send(request, **kwargs)
                    async with slot.semaphore:
                        if slot.limiter is not None:
                            await slot.limiter.acquire()
                        return await super().send(request, **kwargs)

            _SESSION_CLASS.append(SlotClient)
        ssl_config = get_ssl_configuration()
        transport = AsyncHTTPHandler.create_async_transport(
            ssl_context=ssl_config if isinstance(ssl_config, ssl.SSLContext) else None,
            ssl_verify=ssl_config if isinstance(ssl_config, bool) else None,
        )
        return _SESSION_CLASS[0](
            verify=ssl_config,
            transport=transport,
            mounts=AsyncHTTPHandler.create_httpx_proxy_mounts(transport, verify=ssl_config, cert=None),
            follow_redirects=True,
            http2=http2_enabled(),
        )
    except (ImportError, AttributeError, TypeError):  # another litellm: slots around whole calls
        return None


def _retryable(litellm: Any) -> tuple[type[BaseException], ...]:
    return (
        litellm.RateLimitError,
        litellm.Timeout,
        litellm.APIConnectionError,
        litellm.InternalServerError,
        litellm.ServiceUnavailableError,
        litellm.BadGatewayError,
    )


class LLMClient:
    """Shared by every LLM seat of a run: per-model queues and rate limits, the cache, the call recorder."""

    def __init__(
        self, cache: ResponseCache | None = None, record: Callable[[dict[str, Any]], None] | None = None
    ):
        self.cache = cache
        self.record = record
        self.usage: dict[tuple[int | None, str | None], Usage] = {}
        self._occurrences: dict[tuple[int | None, str], int] = {}
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._limiters: dict[str, Any] = {}

    async def ask(
        self,
        settings: ModelSettings,
        messages: Messages,
        parse: Parser,
        *,
        schema: type[BaseModel] | None = None,
        purpose: str,
        context: CallContext = CallContext(),
        correction: Callable[[str], str] | None = None,
    ) -> Answer:
        """Ask until ``parse`` accepts the answer (re-asking with the error), or give up after ``reasks``."""
        conversation = list(messages)
        error: str | None = None
        text: str | None = None
        for attempt in range(1, settings.reasks + 2):
            text, meta = await self._complete(settings, conversation, schema, purpose, context, attempt)
            try:
                value = parse(text)
            except (ValueError, ValidationError) as exc:
                error = _short_error(exc)
                self._record(
                    settings,
                    conversation,
                    text,
                    None,
                    False,
                    "InvalidAnswer",
                    error,
                    attempt,
                    meta,
                    purpose,
                    context,
                )
                hint = correction(error) if correction else f"Your answer was invalid: {error}. Answer again."
                conversation = [
                    *conversation,
                    {"role": "assistant", "content": text},
                    {"role": "user", "content": hint},
                ]
                continue
            self._record(
                settings, conversation, text, value, True, None, None, attempt, meta, purpose, context
            )
            return Answer(value, text, True, None, attempt, conversation)
        return Answer(None, text, False, error, settings.reasks + 1, conversation)

    async def _complete(
        self,
        settings: ModelSettings,
        messages: Messages,
        schema: type[BaseModel] | None,
        purpose: str,
        context: CallContext,
        attempt: int,
    ) -> tuple[str, dict[str, Any]]:
        """One answer text: from the cache, or from the provider with retries."""
        schema_json = schema.model_json_schema() if schema is not None and settings.structured else None
        key = cache_key(settings.model, messages, settings.call_params(), schema_json)
        if settings.temperature > 0:
            seen = self._occurrences[context.sample_key, key] = (
                self._occurrences.get((context.sample_key, key), 0) + 1
            )
            key = cache_key(
                settings.model, messages, settings.call_params(), [schema_json, context.sample_key, seen]
            )
        if settings.cache != "off" and self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                return hit.text, {
                    "cache_hit": True,
                    "latency_ms": 0.0,
                    "prompt_tokens": hit.prompt_tokens,
                    "completion_tokens": hit.completion_tokens,
                    "cost_usd": hit.cost_usd,
                }
        if settings.cache == "replay":
            raise LLMUnavailable(
                f"replay-only cache has no answer for this {purpose} request to {settings.model} "
                f"(key {key[:12]}); run once with cache: use to record it"
            )
        litellm = _litellm()
        kwargs: dict[str, Any] = {
            "model": settings.model,
            "messages": messages,
            "timeout": settings.timeout,
            "num_retries": 0,
            **settings.call_params(),
        }
        if settings.api_base:
            kwargs["api_base"] = settings.api_base
        if settings.api_key_env:
            kwargs["api_key"] = os.environ.get(settings.api_key_env)
            if not kwargs["api_key"]:
                raise LLMUnavailable(f"environment variable {settings.api_key_env} (api_key_env) is not set")
        elif settings.api_base:
            kwargs["api_key"] = "not-needed"  # local OpenAI-compatible servers want some key, and ignore it
        if schema_json is not None:
            kwargs["response_format"] = schema
        started = time.perf_counter()
        try:
            response = await self._with_retries(settings, litellm, kwargs)
        except Exception as exc:
            failed = {"cache_hit": False, "latency_ms": (time.perf_counter() - started) * 1000}
            self._record(
                settings,
                messages,
                None,
                None,
                False,
                type(exc).__name__,
                _short_error(exc),
                attempt,
                failed,
                purpose,
                context,
            )
            raise LLMUnavailable(
                f"{settings.model}: {type(exc).__name__} after {settings.retries} retries: "
                f"{_short_error(exc)}"
            ) from exc
        latency_ms = (time.perf_counter() - started) * 1000
        text = response.choices[0].message.content or ""
        usage = getattr(response, "usage", None)
        meta: dict[str, Any] = {
            "cache_hit": False,
            "latency_ms": latency_ms,
            "prompt_tokens": getattr(usage, "prompt_tokens", None),
            "completion_tokens": getattr(usage, "completion_tokens", None),
            "cost_usd": _cost(litellm, response),
        }
        if settings.cache == "use" and self.cache is not None:
            self.cache.put(
                key,
                settings.model,
                CachedAnswer(text, meta["prompt_tokens"], meta["completion_tokens"], meta["cost_usd"]),
            )
        return text, meta

    async def _with_retries(self, settings: ModelSettings, litellm: Any, kwargs: dict[str, Any]) -> Any:
        from tenacity import (
            AsyncRetrying,
            retry_if_exception_type,
            stop_after_attempt,
            wait_random_exponential,
        )

        backoff = wait_random_exponential(multiplier=settings.backoff, max=30)

        def wait(state: Any) -> float:  # a server's Retry-After wins over our own backoff
            after = _retry_after(state.outcome.exception()) if state.outcome else None
            return after if after is not None else float(backoff(state))

        retrying = AsyncRetrying(
            retry=retry_if_exception_type(_retryable(litellm)),
            wait=wait,
            stop=stop_after_attempt(settings.retries + 1),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._send(settings, litellm, kwargs)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(self, settings: ModelSettings, litellm: Any, kwargs: dict[str, Any]) -> Any:
        """One ``acompletion``, its model's slot (and ``rpm`` token) held only around the HTTP exchange
        where the route is known to go through our session, else around the whole call.

        A route (model, server, key, timeout, extra parameters: what picks litellm's cached SDK
        client) starts with slots around whole calls; once one of its requests is seen at our session,
        its later calls in this process leave the slot to the session. A call in that mode whose
        request was not seen there puts the route back.
        """
        semaphore, limiter = self._semaphore(settings), self._limiter(settings)
        route = _route(settings)
        session = _session(litellm)
        if session is not None and _AT_SESSION.get(route):
            slot = _Slot(semaphore, limiter, take=True)
            token = _SLOT.set(slot)
            try:
                return await litellm.acompletion(**kwargs)
            finally:
                slot.active = False
                _SLOT.reset(token)
                if not slot.seen:
                    _AT_SESSION[route] = False
        async with semaphore:
            if limiter is not None:
                await limiter.acquire()
            slot = _Slot(semaphore, limiter, take=False)
            token = _SLOT.set(slot)
            try:
                return await litellm.acompletion(**kwargs)
            finally:
                slot.active = False
                _SLOT.reset(token)
                if slot.seen and session is not None:
                    _AT_SESSION[route] = True

    def _semaphore(self, settings: ModelSettings) -> asyncio.Semaphore:
        semaphore = self._semaphores.get(settings.model)
        if semaphore is None:
            semaphore = self._semaphores[settings.model] = asyncio.Semaphore(settings.max_parallel)
        return semaphore

    def _limiter(self, settings: ModelSettings) -> Any:
        if settings.rpm is None:
            return None
        if settings.model not in self._limiters:
            from aiolimiter import AsyncLimiter

            # one request every 60/rpm seconds: no burst at start (providers count per rolling minute)
            self._limiters[settings.model] = AsyncLimiter(1, 60 / settings.rpm)
        return self._limiters[settings.model]

    def _record(
        self,
        settings: ModelSettings,
        messages: Messages,
        text: str | None,
        value: Any,
        valid: bool,
        error_class: str | None,
        error: str | None,
        attempt: int,
        meta: dict[str, Any],
        purpose: str,
        context: CallContext,
    ) -> None:
        self.usage.setdefault((context.episode_id, context.player_id), Usage()).add(meta)
        if self.record is None:
            return
        self.record(
            {
                "episode_id": context.episode_id,
                "player_id": context.player_id,
                "turn": context.turn,
                "purpose": purpose,
                "model": settings.model,
                "messages": messages,
                "params": settings.call_params(),
                "response": text if error is None or text is not None else None,
                "parsed": to_jsonable(value.model_dump() if isinstance(value, BaseModel) else value),
                "valid": valid,
                "error_class": error_class,
                "error": error,
                "attempt": attempt,
                "prompt_tokens": meta.get("prompt_tokens"),
                "completion_tokens": meta.get("completion_tokens"),
                "cost_usd": meta.get("cost_usd"),
                "latency_ms": meta.get("latency_ms"),
                "cache_hit": bool(meta.get("cache_hit")),
            }
        )


def _route(settings: ModelSettings) -> tuple[Any, ...]:
    extra = json.dumps(settings.extra, sort_keys=True, default=str) if settings.extra else ""
    return (settings.model, settings.api_base, settings.api_key_env, settings.timeout, extra)


def _retry_after(exc: BaseException | None) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    try:
        value = headers.get("retry-after")
        return None if value is None else min(float(value), 60.0)
    except (TypeError, ValueError):
        return None


def _cost(litellm: Any, response: Any) -> float | None:
    hidden = getattr(response, "_hidden_params", None) or {}
    if (
        "response_cost" in hidden
    ):  # litellm priced it already (None: an unpriced model; asking again costs ~0.5 ms)
        cost = hidden["response_cost"]
    else:
        try:
            cost = litellm.completion_cost(completion_response=response)
        except Exception:  # unmapped (local) models have no price: cost stays unknown, not zero
            return None
    return float(cost) if cost is not None else None


def _short_error(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"{where}: {first['msg']}" if where else first["msg"]
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]
