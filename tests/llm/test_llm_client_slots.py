"""Where LLMClient holds a model's slots: around the HTTP exchange (openai/ through litellm, and the
direct path), else around the call."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from sim.llm.client import _AT_SESSION, LLMClient, _litellm, _route
from sim.llm.settings import ModelSettings
from sim.llm.testserver import TestServer


def _stub(server: TestServer, client: str = "litellm", **extra: Any) -> ModelSettings:
    """``openai/stub`` through litellm by default (the direct path has no session to learn)."""
    base = server.openai_base
    return ModelSettings(model="openai/stub", api_base=base, cache="off", client=client, **extra)


def _question(i: int) -> list[dict[str, Any]]:
    return [{"role": "user", "content": f"Option A or Option B? {i}"}]


async def _ask_all(client: LLMClient, settings: ModelSettings, n: int, warm_up: bool = True) -> float:
    """One call first (the route is learned from it), then ``n`` at once; the seconds of the ``n``."""
    if warm_up:
        assert (await client.ask(settings, _question(-1), str, purpose="t")).valid
    start = time.perf_counter()
    answers = await asyncio.gather(*(client.ask(settings, _question(i), str, purpose="t") for i in range(n)))
    assert all(a.valid and a.attempts == 1 for a in answers)
    return time.perf_counter() - start


@pytest.mark.parametrize(
    ("model", "path"), [("openai/stub", "litellm"), ("openai/stub", "direct"), ("ollama_chat/stub", "auto")]
)
def test_max_parallel_caps_requests_in_flight_on_every_route(model: str, path: str) -> None:
    _litellm()
    with TestServer("first_option", latency=0.1) as server:
        base = server.openai_base if model.startswith("openai/") else server.base_url
        settings = ModelSettings(
            model=model, api_base=base, max_parallel=3, cache="off", backoff=0, client=path
        )
        client = LLMClient()
        wall = asyncio.run(_ask_all(client, settings, 12))
        assert server.count == 13 and server.max_in_flight == 3
        assert wall >= 0.1 * 4  # 12 calls, 3 at a time
    # openai/ through litellm goes through the openai SDK and so through our session, which takes the
    # slots there; the direct path takes them itself, around its own request
    assert _AT_SESSION.get(_route(settings)) is (True if path == "litellm" else None)


def test_direct_path_waiting_for_a_slot_does_not_count_against_the_timeout() -> None:
    with TestServer("first_option", latency=0.3) as server:
        settings = _stub(server, "direct", max_parallel=1, timeout=0.5, retries=0)
        wall = asyncio.run(_ask_all(LLMClient(), settings, 4))  # the 4th waits 0.9 s for its slot
        assert server.count == 5 and server.max_in_flight == 1 and wall >= 4 * 0.3


def test_direct_path_rpm_spaces_requests() -> None:
    with TestServer("first_option") as server:
        settings = _stub(server, "direct", rpm=600)
        wall = asyncio.run(_ask_all(LLMClient(), settings, 5))
        assert wall >= 0.1 * 4 * 0.9  # 600/min: one request every 0.1 s


def test_waiting_for_a_slot_at_the_session_does_not_count_against_the_timeout() -> None:
    _litellm()
    with TestServer("first_option", latency=0.3) as server:
        settings = _stub(server, max_parallel=1, timeout=0.5, retries=0)
        client = LLMClient()
        wall = asyncio.run(_ask_all(client, settings, 4))  # the 4th waits 0.9 s for its slot
        assert _AT_SESSION[_route(settings)] is True
        assert server.count == 5 and server.max_in_flight == 1 and wall >= 4 * 0.3


def test_rpm_still_spaces_requests_when_the_session_takes_the_slots() -> None:
    _litellm()
    with TestServer("first_option") as server:
        settings = _stub(server, rpm=600)
        client = LLMClient()
        wall = asyncio.run(_ask_all(client, settings, 5))
        assert _AT_SESSION[_route(settings)] is True
        assert wall >= 0.1 * 4 * 0.9  # 600/min: one request every 0.1 s


def test_a_session_set_elsewhere_is_left_alone_and_calls_hold_their_slot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import httpx

    litellm = _litellm()

    async def run(settings: ModelSettings) -> None:
        theirs = httpx.AsyncClient()
        monkeypatch.setattr(litellm, "aclient_session", theirs)
        try:
            await _ask_all(LLMClient(), settings, 8)
            assert litellm.aclient_session is theirs
        finally:
            await theirs.aclose()

    with TestServer("first_option", latency=0.05) as server:
        settings = _stub(server, max_parallel=2)
        asyncio.run(run(settings))
        assert server.count == 9 and server.max_in_flight == 2
    assert _route(settings) not in _AT_SESSION


def test_the_first_calls_of_a_route_hold_their_slot_around_the_whole_call() -> None:
    _litellm()
    with TestServer("first_option", latency=0.05) as server:
        settings = _stub(server, max_parallel=2)
        client = LLMClient()
        asyncio.run(_ask_all(client, settings, 6, warm_up=False))  # all queued before any answer
        assert server.count == 6 and server.max_in_flight == 2
        assert _AT_SESSION[_route(settings)] is True  # learned from those calls


def test_max_in_flight_counts_concurrent_chat_requests_and_resets() -> None:
    import http.client
    import json
    import threading

    with TestServer("first_option", latency=0.2) as server:

        def post() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            body = json.dumps({"model": "stub", "messages": [{"role": "user", "content": "hi"}]})
            conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
            assert conn.getresponse().status == 200
            conn.close()

        threads = [threading.Thread(target=post) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert server.count == 3 and server.max_in_flight == 3
        server.reset()
        assert server.max_in_flight == 0
        post()
        assert server.max_in_flight == 1
