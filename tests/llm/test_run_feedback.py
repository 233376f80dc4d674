"""Feedback while LLM runs play (real litellm over real HTTP to the local test server): a short
connect check instead of many seconds of retries when no server listens, its error naming the URL
and the model with the offline hint, rows for what happened, and live LLM counts for the progress line."""

from __future__ import annotations

import asyncio
import io
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from sim.cli_run import run_command
from sim.llm.activity import Activity, watching
from sim.llm.client import UNREACHABLE, LLMClient, LLMUnavailable, _litellm
from sim.llm.settings import ModelSettings
from sim.llm.testserver import TestServer
from sim.llm.testserver.policies import fixed

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def closed_port() -> int:
    """A port nothing listens on: bound to find it free, then closed."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ask(client: LLMClient, api_base: str, **model: Any) -> Any:
    settings = ModelSettings(**{"model": "openai/stub", "api_base": api_base, **model})
    return asyncio.run(client.ask(settings, [{"role": "user", "content": "J or F?"}], str.strip, purpose="t"))


@pytest.fixture(scope="module", autouse=True)
def litellm_loaded() -> None:
    _litellm()  # imported once up front: the timings below are the check's, not the import's


def test_no_server_fails_in_seconds_naming_the_url_and_model_with_the_offline_hint() -> None:
    port = closed_port()
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    with pytest.raises(LLMUnavailable) as failed:
        ask(LLMClient(record=rows.append), f"http://127.0.0.1:{port}/v1")  # default retries and backoff
    assert time.perf_counter() - started < 3
    message = str(failed.value)
    assert message.startswith(f"openai/stub: cannot reach api_base http://127.0.0.1:{port}/v1: ")
    assert "refused" in message and message.endswith(f"sim test-server --port {port}")
    # The failed check is one row: no HTTP attempt was made, so http_attempt is empty.
    (row,) = rows
    assert (row["error_class"], row["http_attempt"], row["valid"], row["response"]) == (
        UNREACHABLE,
        None,
        False,
        None,
    )
    assert row["error"] == message and row["latency_ms"] < 2000


def test_credentials_in_the_url_are_masked() -> None:
    port = closed_port()
    rows: list[dict[str, Any]] = []
    base = f"http://user:hunter2pass@127.0.0.1:{port}/v1?api_key=sk-abcdefghijklmnop1234"
    with pytest.raises(LLMUnavailable) as failed:
        ask(LLMClient(record=rows.append), base)
    for text in (str(failed.value), rows[0]["error"]):
        assert "hunter2pass" not in text and "abcdefghijklmnop1234" not in text
        assert "127.0.0.1" in text and "***" in text


def test_a_server_started_after_a_failed_check_is_used() -> None:
    port = closed_port()
    client = LLMClient()
    with pytest.raises(LLMUnavailable):
        ask(client, f"http://127.0.0.1:{port}/v1")
    with TestServer(fixed("J"), port=port) as server:
        answer = ask(client, server.openai_base)
        assert answer.valid and server.count == 1


def test_a_server_gone_after_the_check_is_retried_and_named() -> None:
    rows: list[dict[str, Any]] = []
    client = LLMClient(record=rows.append)
    server = TestServer(fixed("J")).start()
    try:
        assert ask(client, server.openai_base).valid
    finally:
        server.stop()
    with pytest.raises(LLMUnavailable) as failed:
        ask(client, server.openai_base, retries=1, backoff=0.0)
    message = str(failed.value)
    assert "after 1 retries" in message and f"(api_base {server.openai_base})" in message
    assert message.endswith(f"sim test-server --port {server.port}")
    assert [r["http_attempt"] for r in rows[1:]] == [1, 2]  # every HTTP try is a row, as before


def test_live_activity_counts_calls_tokens_and_unknown_cost() -> None:
    live = Activity()
    with TestServer(fixed("J")) as server, watching(live):
        ask(LLMClient(), server.openai_base)
        ask(LLMClient(), server.openai_base)
    assert (live.calls, live.cached, live.unpriced, live.cost_usd) == (2, 0, True, 0.0)
    assert live.tokens > 0
    outside = Activity()
    with TestServer(fixed("J")) as server:
        ask(LLMClient(), server.openai_base)
    assert outside.calls == 0 and live.calls == 2  # counted only while watched


@pytest.mark.slow  # a fresh interpreter imports litellm: 5-15 s
def test_loading_is_flagged_while_litellm_imports() -> None:
    code = (
        "import threading, time\n"
        "from sim.llm import activity\n"
        "from sim.llm.client import _litellm\n"
        "live, seen, done = activity.Activity(), [], threading.Event()\n"
        "def watch():\n"
        "    while not done.is_set():\n"
        "        seen.append(live.loading)\n"
        "        time.sleep(0.01)\n"
        "with activity.watching(live):\n"
        "    t = threading.Thread(target=watch)\n"
        "    t.start()\n"
        "    _litellm()\n"
        "    done.set()\n"
        "    t.join()\n"
        "print(any(seen), live.loading)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["True", "False"], out.stderr


def test_the_progress_line_shows_live_llm_calls_tokens_and_cost(tmp_path: Path) -> None:
    with TestServer("first_option", latency=0.02) as server:
        scenario = tmp_path / "llm.yaml"
        scenario.write_text(
            "name: llm-live\nworld: matrix/repeated-v1\n"
            "params: {game: akata_prisoners_dilemma, rounds: 4}\n"
            "seats:\n"
            "  - {agent: llm, config: {model: {model: openai/stub, api_base: '"
            + server.openai_base
            + "', max_tokens: 1}, prompt: akata, scot: false}}\n"
            "  - {agent: defector}\n"
            "episodes: 2\nseed: 1\n"
        )
        buffer = io.StringIO()
        console = Console(file=buffer, width=80, force_terminal=True)
        code = run_command(scenario, tmp_path / "l.db", [], False, console, console)
        assert code == 0, buffer.getvalue()
        calls = server.count
    frames = [f for f in re.split(r"[\r\n]", ANSI.sub("", buffer.getvalue())) if f.startswith("llm-live")]
    last = frames[-1]
    assert re.search(rf" 2/2 .*eta 0:00:00 · {calls} LLM calls [\d.]+k? tok \$\?$", last), last
