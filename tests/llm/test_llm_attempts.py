"""Every HTTP try of an ask is an ``llm_calls`` row: retried faults, malformed bodies, exhausted retries and
calls cancelled by the engine's action timeout; real litellm against the local test server."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from sim.llm.client import CallContext, LLMClient, LLMUnavailable
from sim.llm.settings import ModelSettings
from sim.llm.testserver import TestServer
from sim.runner import run_scenario
from sim.scenario import ScenarioWarning, validate_scenario
from sim.shutdown import RunFailed

COLUMNS = "valid, error_class, http_attempt, attempt, cache_hit"


def _scenario(tmp_path: Path, server: TestServer, rounds: int = 1, engine: Any = None, **model: Any) -> Any:
    settings = {"model": "openai/stub", "api_base": server.openai_base, "backoff": 0.0, **model}
    data = {
        "name": "attempts",
        "world": "matrix/repeated-v1",
        "params": {"game": "akata_prisoners_dilemma", "rounds": rounds},
        "seats": [{"agent": "llm", "config": {"model": settings}}, {"agent": "defector"}],
        "seed": 5,
        "db": str(tmp_path / "attempts.db"),
        "engine": engine or {},
    }
    return validate_scenario(data, "attempts.yaml")


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_a_malformed_body_is_a_row_and_every_row_carries_the_cache_key(tmp_path: Path) -> None:
    with TestServer("first_option", faults=["malformed"]) as server:
        summary = run_scenario(_scenario(tmp_path, server))
        assert server.count == 2
    rows = _rows(summary.db, f"SELECT {COLUMNS}, cache_key, response, error FROM llm_calls ORDER BY id")
    assert [r[:5] for r in rows] == [(0, "InternalServerError", 1, 1, 0), (1, None, 2, 1, 0)]
    failed, answered = rows
    assert failed[5] == answered[5] and len(answered[5]) == 64  # the same request, one key
    assert failed[6] is None and failed[7]
    assert _rows(summary.db, "SELECT key FROM llm_cache") == [(answered[5],)]


def test_exhausted_retries_leave_one_row_per_try(tmp_path: Path) -> None:
    with TestServer("first_option", faults=["503", "429", "500"]) as server:
        with contextlib.suppress(RunFailed):  # the episode fails; the run reports it
            run_scenario(_scenario(tmp_path, server, retries=2))
        assert server.count == 3
    rows = _rows(tmp_path / "attempts.db", f"SELECT {COLUMNS}, latency_ms FROM llm_calls ORDER BY id")
    assert [r[:5] for r in rows] == [
        (0, "ServiceUnavailableError", 1, 1, 0),
        (0, "RateLimitError", 2, 1, 0),
        (0, "InternalServerError", 3, 1, 0),
    ]
    assert all(r[5] is not None and r[5] >= 0 for r in rows)
    assert _rows(tmp_path / "attempts.db", "SELECT count(*) FROM llm_cache") == [(0,)]


def test_a_call_cancelled_by_the_action_timeout_is_a_row(tmp_path: Path) -> None:
    """The act's asyncio.timeout cancels the hanging request; the engine then asks again."""
    with TestServer("first_option", faults=["hang"], hang_seconds=5) as server:
        with pytest.warns(ScenarioWarning, match="longer than engine.action_timeout"):  # on purpose here
            scenario = _scenario(tmp_path, server, engine={"action_timeout": 0.5}, timeout=30)
        summary = run_scenario(scenario)
    rows = _rows(summary.db, f"SELECT {COLUMNS}, latency_ms, error FROM llm_calls ORDER BY id")
    assert [r[:5] for r in rows] == [(0, "Cancelled", 1, 1, 0), (1, None, 1, 1, 0)]
    assert 400 < rows[0][5] < 3000  # the cancelled try's latency so far
    assert "cancelled" in rows[0][6]


def test_cache_hits_have_no_http_attempt(tmp_path: Path) -> None:
    with TestServer("first_option") as server:
        run_scenario(_scenario(tmp_path, server))
        run_scenario(_scenario(tmp_path, server))
        assert server.count == 1
    rows = _rows(tmp_path / "attempts.db", f"SELECT {COLUMNS} FROM llm_calls ORDER BY id")
    assert rows == [(1, None, 1, 1, 0), (1, None, None, 1, 1)]


def test_shutdown_cancellation_records_the_call_before_propagating() -> None:
    rows: list[dict[str, Any]] = []
    client = LLMClient(record=rows.append)

    async def main(server: TestServer) -> None:
        settings = ModelSettings(model="openai/stub", api_base=server.openai_base, timeout=30, cache="off")
        messages = [{"role": "user", "content": "Which Option do you choose, Option J or Option F?"}]
        task = asyncio.create_task(
            client.ask(settings, messages, str, purpose="t", context=CallContext(7, "p0", 1))
        )
        while server.count == 0:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    with TestServer("first_option", faults=["hang"], hang_seconds=5) as server:
        asyncio.run(main(server))
    assert [(r["error_class"], r["http_attempt"], r["episode_id"], r["valid"]) for r in rows] == [
        ("Cancelled", 1, 7, False)
    ]
    assert client.usage[7, "p0"].faults == 1


@pytest.mark.parametrize(
    ("name", "named"),
    [("SIM_UNSET_TEST_KEY_VAR", True), ("sk-live-THIS-IS-A-FAKE-SECRET-4242", False), ("a1b2c3d4e5", False)],
)
def test_an_unset_key_variable_is_named_but_a_pasted_key_is_never_echoed(
    name: str, named: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(name, raising=False)
    # model_construct: the check runs even if settings validation lets such a value through
    settings = ModelSettings.model_construct(
        model="openai/stub", api_base="http://127.0.0.1:9/v1", api_key_env=name, cache="off"
    )
    with pytest.raises(LLMUnavailable, match="api_key_env") as caught:
        asyncio.run(LLMClient().ask(settings, [{"role": "user", "content": "hi"}], str, purpose="t"))
    assert (name in str(caught.value)) is named


def test_a_call_cancelled_while_waiting_to_retry_is_a_row(monkeypatch: pytest.MonkeyPatch) -> None:
    import sim.llm.client as client_module

    monkeypatch.setattr(client_module, "_retry_after", lambda exc: 30.0)  # as if Retry-After: 30
    rows: list[dict[str, Any]] = []

    async def main(server: TestServer) -> None:
        settings = ModelSettings(model="openai/stub", api_base=server.openai_base, cache="off")
        messages = [{"role": "user", "content": "Which Option do you choose, Option J or Option F?"}]
        async with asyncio.timeout(1.0):  # what engine.action_timeout does around an act
            await LLMClient(record=rows.append).ask(settings, messages, str, purpose="t")

    with TestServer("first_option", faults=["429"]) as server, pytest.raises(TimeoutError):
        asyncio.run(main(server))
    assert [(r["error_class"], r["http_attempt"], r["response"]) for r in rows] == [
        ("RateLimitError", 1, None),
        ("Cancelled", 2, None),
    ]
    assert rows[1]["error"] == "cancelled while waiting to retry" and 500 < rows[1]["latency_ms"] < 5000
