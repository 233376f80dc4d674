"""One async ``ask()`` over ``litellm.acompletion``: queueing, rate limits, retries, structured answers.

- OpenAI-compatible servers (``openai/`` models with an ``api_base``) are called directly
  (:mod:`sim.llm.direct`, ``client: auto``): the same request, litellm's own exception for each
  failure, the same rows, at a tenth of the CPU. Everything below holds for both paths.
- litellm is imported lazily, here only, after ``LITELLM_LOCAL_MODEL_COST_MAP`` and
  ``LITELLM_OFFLINE_MODE`` are set (no price-map fetch, no hub downloads); on the direct path only
  when a call fails (to map the error) or a priced model is priced.
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
- Before the first request to each ``api_base`` a TCP connect check (:mod:`sim.llm.connect`, at most
  2 s) makes sure a server listens there: if none does, the call fails at once with the URL, the model
  and the offline hint, and the check is recorded as one ``llm_calls`` row (``error_class``
  "Unreachable", no ``http_attempt``: no request was sent). Once a check passed, the server is not
  checked again by this client.
- Rate limits, timeouts, connection errors and 5xx are retried with jittered exponential backoff
  (tenacity). A refused connection (the server went away after its check) is ``InternalServerError``
  for ``openai/`` and ``APIConnectionError`` for ``ollama_chat/``: both are retried, and the final
  error names the ``api_base``. A refused request (bad or unsupported
  parameters, unknown model, auth; also a 5xx whose body is a request-validation error) is tried once
  and reported with the provider's full message and a hint (:func:`sim.llm.structured.refused_request`).
- The answer schema is sent as the model's ``structured`` mode asks (:mod:`sim.llm.structured`; ``auto``
  negotiates with OpenAI-compatible servers) and always validated here; an answer that does not
  validate is re-asked with the error appended, up to ``reasks`` times.
- A completion-style prompt (one that ends with a ``cue`` such as "A: Option") is sent on the chat,
  prefill or text-completion route (:mod:`sim.llm.routes`); rows hold the messages as sent.
- Every attempt becomes one ``llm_calls`` row through ``record``: each HTTP try (``http_attempt`` 1,
  2.. within one ask, failed tries with their exception class and that try's latency), each answer
  the parser refused, each cache hit, and a call cancelled mid-flight (``error_class`` "Cancelled",
  e.g. by ``engine.action_timeout`` or shutdown) before the cancellation propagates.
- Only answers the parser accepted are written to the cache; a cached answer that no longer parses
  (an older store, see ``sim cache prune --invalid``) is never served: the request goes to the provider.
- API keys are read from the environment variable named in the settings and never stored.
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import json
import os
import re
import sys
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.agent import AgentError
from sim.llm import activity, connect, direct, routes, structured
from sim.llm.cache import CachedAnswer, ResponseCache, cache_key
from sim.llm.settings import ModelSettings
from sim.llm.usage import INVALID_ANSWER, LLMUsage
from sim.redact import redact_text
from sim.types import to_jsonable

Messages = list[dict[str, Any]]
Parser = Callable[[str], Any]  # raises ValueError (or ValidationError) on a bad answer
CANCELLED = "Cancelled"  # error_class of a try cancelled mid-flight (action timeout, shutdown)
UNREACHABLE = "Unreachable"  # error_class of a failed connect check (no request was sent)
_ERROR_CHARS = 8000  # a provider message longer than this is cut (an HTML error page, say)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


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
    live = activity.current() if "litellm" not in sys.modules else None
    if live is not None:
        live.loading = True  # the first import takes seconds: the progress line says so
    try:
        import litellm
    finally:
        if live is not None:
            live.loading = False

    litellm.suppress_debug_info = True
    return litellm


class _LazyLitellm:
    """litellm, imported at the first attribute read: the direct path (:mod:`sim.llm.direct`) needs it
    only to map an error or price a model in its price map, so a run against a local server with no
    failure never pays the import."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_litellm(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(_litellm(), name, value)


_LITELLM = _LazyLitellm()


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
        self,
        cache: ResponseCache | None = None,
        record: Callable[[dict[str, Any]], None] | None = None,
        model_caps: Mapping[str, int] | None = None,
    ):
        self.cache = cache
        self.record = record
        #: Requests at once per model name across every seat of this client (a tournament's
        #: ``concurrency.per_model``); the lower of this and the model's ``max_parallel`` holds.
        self.model_caps = dict(model_caps or {})
        self.usage: dict[tuple[int | None, str | None], LLMUsage] = {}
        self._occurrences: dict[tuple[int | None, str], int] = {}
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._limiters: dict[str, Any] = {}
        self._structured = structured.Negotiator()
        self._reachable: set[str] = set()  # api_bases whose connect check passed
        self._direct: direct.DirectHTTP | None = None

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
        cue: str | None = None,
    ) -> Answer:
        """Ask until ``parse`` accepts the answer (re-asking with the error), or give up after ``reasks``.

        Only accepted answers are cached; a cached answer that ``parse`` refuses is not served.
        ``cue``: the answer's start a completion-style prompt ends with, for :mod:`sim.llm.routes`.
        """
        conversation = list(messages)
        error: str | None = None
        text: str | None = None
        for attempt in range(1, settings.reasks + 2):
            routed = routes.route(settings, conversation, cue)
            call = _Call(settings, routed.messages, purpose, context, attempt, routed=routed)
            sends_schema = schema is not None and settings.structured != "prompt"  # any wire form: one key
            schema_json = schema.model_json_schema() if schema is not None and sends_schema else None
            keyed = schema_json if routed.route == "chat" else [schema_json, routed.model, routed.params]
            call.key = self._cache_key(settings, routed.messages, keyed, context)
            accepted, hit = False, self._cached(call)
            if hit is not None:  # served only if it parses (stores older than this rule hold invalid ones)
                text, meta = hit
                accepted, value, error = _parsed(parse, text)
            if not accepted:
                if settings.cache == "replay":
                    raise LLMUnavailable(
                        f"replay-only cache has no answer for this {purpose} request to {settings.model} "
                        f"(key {call.key[:12]}); run once with cache: use to record it"
                    )
                text, meta = await self._complete(call, schema if schema_json is not None else None)
                accepted, value, error = _parsed(parse, text)
                if accepted:
                    self._remember(call, text, meta)
            if accepted:
                self._record(call, text, value, True, None, None, meta)
                return Answer(value, text, True, None, attempt, conversation)
            assert error is not None
            self._record(call, text, None, False, INVALID_ANSWER, error, meta)
            hint = correction(error) if correction else f"Your answer was invalid: {error}. Answer again."
            conversation = [
                *conversation,
                {"role": "assistant", "content": text},
                {"role": "user", "content": hint},
            ]
        return Answer(None, text, False, error, settings.reasks + 1, conversation)

    def _cache_key(
        self, settings: ModelSettings, messages: Messages, schema_json: Any, context: CallContext
    ) -> str:
        """The response-cache key of a request (with temperature > 0: per seat seed and occurrence)."""
        key = cache_key(settings.model, messages, settings.call_params(), schema_json)
        if settings.temperature > 0:
            seen = self._occurrences[context.sample_key, key] = (
                self._occurrences.get((context.sample_key, key), 0) + 1
            )
            key = cache_key(
                settings.model, messages, settings.call_params(), [schema_json, context.sample_key, seen]
            )
        return key

    def _cached(self, call: _Call) -> tuple[str, dict[str, Any]] | None:
        """The cached answer text and its row fields, if caching is on and there is one."""
        if call.settings.cache == "off" or self.cache is None:
            return None
        hit = self.cache.get(call.key)
        if hit is None:
            return None
        return hit.text, {
            "cache_hit": True,
            "latency_ms": 0.0,
            "prompt_tokens": hit.prompt_tokens,
            "completion_tokens": hit.completion_tokens,
            "cost_usd": hit.cost_usd,
        }

    def _remember(self, call: _Call, text: str, meta: dict[str, Any]) -> None:
        """Cache an accepted answer from the provider (``cache: use``)."""
        if call.settings.cache == "use" and self.cache is not None:
            answer = CachedAnswer(text, meta["prompt_tokens"], meta["completion_tokens"], meta["cost_usd"])
            self.cache.put(call.key, call.settings.model, answer)

    async def _complete(self, call: _Call, schema: type[BaseModel] | None) -> tuple[str, dict[str, Any]]:
        """One answer text from the provider, with retries; every failed try is recorded as it fails."""
        settings = call.settings
        kwargs: dict[str, Any] = {
            "model": settings.model,
            "messages": call.messages,
            "timeout": settings.timeout,
            "num_retries": 0,
            **settings.call_params(),
        }
        if call.routed is not None:
            kwargs.update(call.routed.params, model=call.routed.model)
        if settings.api_base:
            kwargs["api_base"] = settings.api_base
        if settings.api_key_env:
            kwargs["api_key"] = os.environ.get(settings.api_key_env)
            if not kwargs["api_key"]:
                raise LLMUnavailable(_missing_key(settings.api_key_env))
        elif settings.api_base:
            kwargs["api_key"] = "not-needed"  # local OpenAI-compatible servers want some key, and ignore it
        if settings.api_base and settings.api_base not in self._reachable:
            await self._check_connection(call, settings.api_base)  # before litellm's slow first import
        litellm = _LITELLM
        while True:
            sent = dict(kwargs)
            call.mode = call.fallback = None
            if schema is not None:
                call.mode = self._structured.mode(
                    litellm, settings.model, settings.api_base, settings.structured
                )
                structured.apply(sent, call.mode, schema)
            call.tries_before = call.tries
            try:
                response, number, latency_ms = await self._with_retries(call, litellm, sent)
                break
            except asyncio.CancelledError:
                if not call.cancel_recorded:  # cancelled between tries, while waiting to retry
                    since = (time.perf_counter() - call.try_ended) * 1000
                    self._record_failure(
                        call, call.tries + 1, CANCELLED, "cancelled while waiting to retry", since
                    )
                raise
            except Exception as exc:
                if call.fallback is not None:  # auto: the next try uses the next structured mode
                    continue
                raise LLMUnavailable(self._unavailable(call, litellm, exc)) from exc
        reply = response if isinstance(response, direct.Reply) else _reply(litellm, response)
        return reply.text, {
            "cache_hit": False,
            "latency_ms": latency_ms,
            "http_attempt": number,
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "cost_usd": reply.cost_usd,
        }

    async def _check_connection(self, call: _Call, api_base: str) -> None:
        """Raise :class:`LLMUnavailable`, the check recorded as a row, if nothing listens at ``api_base``."""
        started = time.perf_counter()
        reason = await connect.unreachable(api_base)
        if reason is None:
            self._reachable.add(api_base)
            return
        message = connect.unreachable_message(call.settings.model, api_base, reason)
        meta = {
            "cache_hit": False,
            "latency_ms": (time.perf_counter() - started) * 1000,
            "http_attempt": None,
        }
        self._record(call, None, None, False, UNREACHABLE, message, meta)
        raise LLMUnavailable(message)

    async def _with_retries(
        self, call: _Call, litellm: Any, kwargs: dict[str, Any]
    ) -> tuple[Any, int, float]:
        """The response, the number of the try that got it and that try's latency (ms)."""
        from tenacity import (
            AsyncRetrying,
            retry_if_exception,
            stop_after_attempt,
            wait_random_exponential,
        )

        settings = call.settings
        backoff = wait_random_exponential(multiplier=settings.backoff, max=30)

        def wait(state: Any) -> float:  # a server's Retry-After wins over our own backoff
            after = _retry_after(state.outcome.exception()) if state.outcome else None
            return after if after is not None else float(backoff(state))

        def transient(exc: BaseException) -> bool:
            return (
                "litellm" in sys.modules  # its errors imply it is loaded: a cancellation never imports it
                and isinstance(exc, _retryable(litellm))
                and call.fallback is None
                and not structured.refused_request(litellm, exc)
            )

        retrying = AsyncRetrying(
            retry=retry_if_exception(transient),
            wait=wait,
            stop=stop_after_attempt(settings.retries + 1),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                number = call.tries_before + attempt.retry_state.attempt_number
                return await self._try(call, number, litellm, kwargs)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _try(
        self, call: _Call, number: int, litellm: Any, kwargs: dict[str, Any]
    ) -> tuple[Any, int, float]:
        """One HTTP try: recorded here if it fails or is cancelled, before the error propagates."""
        call.tries = number
        started = time.perf_counter()
        try:
            response = await self._send(call.settings, litellm, kwargs)
        except BaseException as exc:
            call.try_ended = time.perf_counter()
            latency_ms = (call.try_ended - started) * 1000
            if isinstance(exc, asyncio.CancelledError):
                call.cancel_recorded = True
                self._record_failure(call, number, CANCELLED, "cancelled during the request", latency_ms)
            elif isinstance(exc, Exception):
                error = _error_text(exc) + self._after_refusal(call, litellm, exc)
                self._record_failure(call, number, type(exc).__name__, error, latency_ms)
            raise
        return response, number, (time.perf_counter() - started) * 1000

    def _after_refusal(self, call: _Call, litellm: Any, exc: Exception) -> str:
        """For a refused request: decide ``auto``'s fallback (set on ``call``) and return the note for
        the try's row ("; falling back to ..." or "; " and a hint; "" for transient errors)."""
        settings = call.settings
        if call.mode is not None and not isinstance(exc, litellm.RateLimitError | litellm.Timeout):
            call.fallback = self._structured.fall_back(
                settings.model, settings.api_base, settings.structured, call.mode, exc
            )
            if call.fallback is not None:
                return f"; falling back to structured: {call.fallback}"
        if not structured.refused_request(litellm, exc):
            return ""
        advice = structured.hint(litellm, exc, call.mode, settings.structured)
        return f"; {advice}" if advice else ""

    def _unavailable(self, call: _Call, litellm: Any, exc: Exception) -> str:
        """The ``LLMUnavailable`` message: one line with the provider's full message (and a hint)."""
        name = f"{call.settings.model}: {type(exc).__name__}"
        if not structured.refused_request(litellm, exc):
            text = f"{name} after {call.tries - 1} retries: {structured.one_line(_error_text(exc))}"
            api_base = call.settings.api_base
            if api_base and connect.connection_failed(exc):  # the server went away after the check
                text += f" (api_base {redact_text(api_base)}). {connect.offline_hint(api_base)}"
            return text
        advice = structured.hint(litellm, exc, call.mode, call.settings.structured)
        text = structured.one_line(_error_text(exc)) + (f"; {advice}" if advice else "")
        return f"{name} (the request was refused; not retried): {text}"

    async def _send(self, settings: ModelSettings, litellm: Any, kwargs: dict[str, Any]) -> Any:
        """One ``acompletion``, its model's slot (and ``rpm`` token) held only around the HTTP exchange
        where the route is known to go through our session, else around the whole call.

        A route (model, server, key, timeout, extra parameters: what picks litellm's cached SDK
        client) starts with slots around whole calls; once one of its requests is seen at our session,
        its later calls in this process leave the slot to the session. A call in that mode whose
        request was not seen there puts the route back.
        """
        semaphore, limiter = self._semaphore(settings), self._limiter(settings)
        if direct.applies(settings.client, kwargs["model"], settings.api_base, settings.extra):
            if self._direct is None:
                self._direct = direct.DirectHTTP(_litellm)
            async with semaphore:
                if limiter is not None:
                    await limiter.acquire()
                return await self._direct.complete(kwargs)
        litellm = _litellm()  # the module itself (the caller may hold the lazy handle)
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
            slots = min(settings.max_parallel, self.model_caps.get(settings.model, settings.max_parallel))
            semaphore = self._semaphores[settings.model] = asyncio.Semaphore(slots)
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
        call: _Call,
        text: str | None,
        value: Any,
        valid: bool,
        error_class: str | None,
        error: str | None,
        meta: dict[str, Any],
    ) -> None:
        """One ``llm_calls`` row (and the seat's usage)."""
        context = call.context
        row = {
            "episode_id": context.episode_id,
            "player_id": context.player_id,
            "turn": context.turn,
            "purpose": call.purpose,
            "model": call.settings.model,
            "messages": call.messages,
            "params": {**call.settings.call_params(), **(call.routed.params if call.routed else {})},
            "response": text,
            "parsed": to_jsonable(value.model_dump() if isinstance(value, BaseModel) else value),
            "valid": valid,
            "error_class": error_class,
            "error": error,
            "attempt": call.attempt,
            "http_attempt": meta.get("http_attempt"),
            "cache_key": call.key,
            "prompt_tokens": meta.get("prompt_tokens"),
            "completion_tokens": meta.get("completion_tokens"),
            "cost_usd": meta.get("cost_usd"),
            "latency_ms": meta.get("latency_ms"),
            "cache_hit": bool(meta.get("cache_hit")),
        }
        self.usage.setdefault((context.episode_id, context.player_id), LLMUsage()).add(row)
        live = activity.current()
        if live is not None:
            live.add(row)
        if self.record is not None:
            self.record(row)

    def _record_failure(
        self, call: _Call, number: int, error_class: str, error: str, latency_ms: float
    ) -> None:
        """One HTTP try that got no answer."""
        meta = {"cache_hit": False, "latency_ms": latency_ms, "http_attempt": number}
        self._record(call, None, None, False, error_class, error, meta)


@dataclass
class _Call:
    """One attempt of an ask (the first question or a re-ask) and the state of its HTTP tries."""

    settings: ModelSettings
    messages: Messages
    purpose: str
    context: CallContext
    attempt: int
    key: str = ""
    tries: int = 0  # HTTP tries started so far
    tries_before: int = 0  # tries made with earlier structured modes (auto's fallback)
    mode: structured.Mode | None = None  # the structured mode of the current try (None: no schema)
    fallback: structured.Mode | None = None  # set when the current mode was refused and auto steps down
    try_ended: float = 0.0  # perf_counter when the last failed try ended
    cancel_recorded: bool = False
    routed: routes.Routed | None = None  # the request as its route shapes it (model, extra params)


def _parsed(parse: Parser, text: str) -> tuple[bool, Any, str | None]:
    """(accepted, value, error) of ``parse(text)``."""
    try:
        return True, parse(text), None
    except (ValueError, ValidationError) as exc:
        return False, None, _short_error(exc)


def _error_text(exc: BaseException) -> str:
    """A provider error's full message, credentials masked (it is stored and printed)."""
    text = str(exc).strip() or type(exc).__name__
    return redact_text(text[:_ERROR_CHARS])


def _missing_key(name: str) -> str:
    """The unset-key message. It names ``api_key_env`` only if that looks like a variable name (at most
    64 characters, at most 3 digits): a key pasted there by mistake is never echoed."""
    if _ENV_NAME.fullmatch(name) and sum(c.isdigit() for c in name) <= 3:
        return f"environment variable {name} (api_key_env) is not set"
    return "the environment variable named by api_key_env is not set (and does not look like a variable name)"


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


def _reply(litellm: Any, response: Any) -> direct.Reply:
    """The answer text, token counts and price of a litellm ``ModelResponse``."""
    usage = getattr(response, "usage", None)
    return direct.Reply(
        response.choices[0].message.content or "",
        getattr(usage, "prompt_tokens", None),
        getattr(usage, "completion_tokens", None),
        _cost(litellm, response),
    )


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
