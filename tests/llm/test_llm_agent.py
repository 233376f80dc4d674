"""The LLM agent through the real litellm client against the local test server, over real HTTP."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sim.llm.testserver import TestServer
from sim.runner import run_scenario
from sim.scenario import validate_scenario
from sim.shutdown import RunFailed

REFUSED = "http://127.0.0.1:9/v1"  # the discard port: never bound here, so connections are refused


@pytest.fixture
def server() -> Iterator[TestServer]:
    with TestServer("first_option") as srv:
        yield srv


def _model(server: TestServer | None, **extra: Any) -> dict[str, Any]:
    base = server.openai_base if server is not None else REFUSED
    return {"model": "openai/stub", "api_base": base, "api_key_env": "SIM_TEST_KEY", "backoff": 0.0, **extra}


def _scenario(
    tmp_path: Path,
    llm: dict[str, Any],
    opponent: str = "tit_for_tat",
    rounds: int = 4,
    game: str = "akata_prisoners_dilemma",
    db: str = "llm.db",
    **engine: Any,
) -> Any:
    data = {
        "name": "llm",
        "world": "matrix/repeated-v1",
        "params": {"game": game, "rounds": rounds},
        "seats": [{"agent": "llm", "config": llm}, {"agent": opponent}],
        "seed": 3,
        "db": str(tmp_path / db),
        "engine": engine,
    }
    return validate_scenario(data, "llm.yaml")


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIM_TEST_KEY", "sk-test-not-a-secret")


def test_akata_prompt_over_http_logs_every_call(tmp_path: Path, server: TestServer) -> None:
    summary = run_scenario(_scenario(tmp_path, {"model": _model(server)}))
    db = summary.db
    moves = [
        json.loads(p)["moves"]["p0"] for (p,) in _rows(db, "SELECT payload FROM events WHERE kind='round'")
    ]
    assert len(moves) == 4 and set(moves) <= {"J", "F"}
    calls = _rows(
        db,
        "SELECT purpose, model, valid, attempt, prompt_tokens, completion_tokens, cache_hit, "
        "player_id, turn, messages, params FROM llm_calls ORDER BY id",
    )
    assert [(c[0], c[1], c[2], c[3], c[6], c[7]) for c in calls] == [
        ("repeated.act", "openai/stub", 1, 1, 0, "p0")
    ] * 4
    assert [c[8] for c in calls] == [1, 2, 3, 4]
    assert all(c[4] and c[5] for c in calls), "token counts recorded"
    *_, question, prefill = json.loads(calls[1][9])  # auto route for a local server: assistant prefill
    prompt = question["content"]
    assert "If you choose Option J and the other player chooses Option F, then you win 0 points" in prompt
    assert prompt.rstrip().endswith("?") and prefill == {"role": "assistant", "content": "Option"}
    assert "In round 1, you chose Option" in prompt and "You are currently playing round 2." in prompt
    assert "api_key" not in calls[0][10] and server.count == 4


def test_a_cached_rerun_gives_the_same_trajectory_with_zero_requests(
    tmp_path: Path, server: TestServer
) -> None:
    first = run_scenario(_scenario(tmp_path, {"model": _model(server)}))
    count = server.count
    second = run_scenario(_scenario(tmp_path, {"model": _model(server)}))
    assert server.count == count, "the re-run must not reach the server"
    trace = (
        "SELECT e.seq, e.kind, e.payload FROM events e JOIN episodes p ON p.id = e.episode_id "
        "WHERE p.run_id = {}"
    )
    assert _rows(first.db, trace.format(first.run_id)) == _rows(first.db, trace.format(second.run_id))
    hits = _rows(
        first.db,
        f"SELECT cache_hit FROM llm_calls l JOIN episodes p ON p.id = l.episode_id "
        f"WHERE p.run_id = {second.run_id}",
    )
    assert hits == [(1,)] * 4


def test_replay_only_cache_miss_is_a_clear_error_without_network(tmp_path: Path, server: TestServer) -> None:
    with pytest.raises(RunFailed, match="LLMUnavailable: replay-only cache has no answer"):  # that episode
        run_scenario(_scenario(tmp_path, {"model": _model(server, cache="replay")}))
    assert server.count == 0


@pytest.mark.parametrize("fault", ["429", "500", "503"])
def test_provider_errors_are_retried_then_succeed(tmp_path: Path, server: TestServer, fault: str) -> None:
    server.set_faults([fault, fault])
    summary = run_scenario(_scenario(tmp_path, {"model": _model(server)}, rounds=2))
    assert server.count == 2 + 2
    error_class = {"429": "RateLimitError", "500": "InternalServerError", "503": "ServiceUnavailableError"}
    rows = _rows(summary.db, "SELECT valid, error_class, http_attempt FROM llm_calls ORDER BY id")
    # every HTTP try is a row: two failed tries, then the answer on the third; then round 2 at once
    assert rows == [(0, error_class[fault], 1), (0, error_class[fault], 2), (1, None, 3), (1, None, 1)]


def test_a_hanging_request_times_out_and_is_retried(tmp_path: Path) -> None:
    with TestServer("first_option", faults=["hang"], hang_seconds=3) as server:
        summary = run_scenario(_scenario(tmp_path, {"model": _model(server, timeout=0.3)}, rounds=1))
        assert server.count == 2
    rows = _rows(summary.db, "SELECT valid, error_class, http_attempt, latency_ms FROM llm_calls ORDER BY id")
    assert [r[:3] for r in rows] == [(0, "Timeout", 1), (1, None, 2)]
    assert 250 < rows[0][3] < 3000  # the timed-out try's own latency


def test_malformed_json_answer_is_re_asked_with_the_error(tmp_path: Path, server: TestServer) -> None:
    server.set_faults(["bad_content"])
    summary = run_scenario(_scenario(tmp_path, {"model": _model(server), "prompt": "json"}, rounds=1))
    calls = _rows(summary.db, "SELECT attempt, valid, error_class, messages FROM llm_calls ORDER BY id")
    assert [(a, v, e) for a, v, e, _ in calls] == [(1, 0, "InvalidAnswer"), (2, 1, None)]
    second_prompt = json.loads(calls[1][3])
    assert second_prompt[-2]["role"] == "assistant" and "not valid" in second_prompt[-1]["content"]


def test_illegal_choices_are_re_asked_then_logged_as_an_invalid_fallback(
    tmp_path: Path, server: TestServer
) -> None:
    server.set_faults(["illegal"] * 3)
    summary = run_scenario(
        _scenario(tmp_path, {"model": _model(server, reasks=2), "prompt": "json"}, rounds=1)
    )
    assert _rows(summary.db, "SELECT attempt, valid FROM llm_calls ORDER BY id") == [(1, 0), (2, 0), (3, 0)]
    invalid = _rows(summary.db, "SELECT actor, payload FROM events WHERE kind = 'invalid'")
    assert len(invalid) == 1 and invalid[0][0] == "p0"
    assert json.loads(invalid[0][1])["fallback"] == "J"
    assert _rows(summary.db, "SELECT invalid_actions FROM seats WHERE player_id = 'p0'") == [(1,)]


@pytest.mark.parametrize("model", ["openai/stub", "ollama_chat/stub"])
def test_a_refused_connection_stops_the_episode_after_the_connect_check(tmp_path: Path, model: str) -> None:
    # Issue 12: no request (and no retry) once the connect check found no server; the check is a row.
    base = REFUSED if model.startswith("openai/") else REFUSED.removesuffix("/v1")
    llm = {"model": {"model": model, "api_base": base, "retries": 1, "backoff": 0.0, "timeout": 5}}
    with pytest.raises(RunFailed, match=f"cannot reach api_base {base}") as failed:
        run_scenario(_scenario(tmp_path, llm, rounds=1))
    assert failed.value.status == "complete", "the run played its one episode, which failed"
    db = tmp_path / "llm.db"
    assert _rows(db, "SELECT status FROM episodes") == [("failed",)]
    assert _rows(db, "SELECT error_class, http_attempt FROM llm_calls") == [("Unreachable", None)]


def test_ollama_chat_works_too(tmp_path: Path, server: TestServer) -> None:
    llm = {"model": {"model": "ollama_chat/stub", "api_base": server.base_url, "backoff": 0.0}}
    summary = run_scenario(_scenario(tmp_path, llm, rounds=2))
    assert _rows(summary.db, "SELECT count(*), sum(valid) FROM llm_calls") == [(2, 2)]
    assert all(r.path == "/api/chat" for r in server.requests)


def test_the_api_key_never_reaches_the_store_or_the_output(
    tmp_path: Path, server: TestServer, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    secret = "sk-live-THIS-IS-A-FAKE-SECRET-4242"
    monkeypatch.setenv("SIM_TEST_KEY", secret)
    summary = run_scenario(_scenario(tmp_path, {"model": _model(server), "scot": True}, rounds=3))
    out, err = capfd.readouterr()
    assert secret not in out + err
    for path in tmp_path.iterdir():
        assert secret.encode() not in path.read_bytes(), path
    assert summary.episodes


def test_inline_api_keys_are_refused_with_a_clear_error(tmp_path: Path) -> None:
    from sim.scenario import ScenarioError

    with pytest.raises(ScenarioError, match="API keys come from the environment"):
        _scenario(tmp_path, {"model": {"model": "openai/gpt-4o-mini", "api_key": "sk-123"}})


def test_parallel_episodes_overlap_their_llm_calls_and_give_the_same_trajectories(tmp_path: Path) -> None:
    import time

    def run(parallel: int, db: str) -> tuple[float, list[tuple[Any, ...]]]:
        with TestServer("first_option", latency=0.2) as server:
            data = {
                "name": "par",
                "world": "matrix/repeated-v1",
                "params": {"rounds": 2},
                "episodes": 6,
                "seats": [
                    {"agent": "llm", "config": {"model": _model(server, cache="off")}},
                    {"agent": "random"},
                ],
                "db": str(tmp_path / db),
                "engine": {"parallel_episodes": parallel},
            }
            start = time.perf_counter()
            summary = run_scenario(validate_scenario(data, "par.yaml"))
            wall = time.perf_counter() - start
        events = _rows(
            summary.db,
            'SELECT p."index", e.seq, e.kind, e.payload FROM events e '
            'JOIN episodes p ON p.id = e.episode_id ORDER BY p."index", e.seq',
        )
        return wall, events

    serial_wall, serial = run(1, "s.db")
    parallel_wall, parallel = run(6, "p.db")
    assert parallel == serial
    assert serial_wall > 6 * 2 * 0.2 and parallel_wall < serial_wall / 2


def test_max_parallel_queues_callers_and_rpm_spaces_requests(tmp_path: Path) -> None:
    import asyncio
    import time

    from sim.llm.client import LLMClient, _litellm
    from sim.llm.settings import ModelSettings

    _litellm()  # import litellm before timing anything

    async def burst(settings: ModelSettings, n: int) -> float:
        client = LLMClient()
        start = time.perf_counter()
        answers = await asyncio.gather(
            *(
                client.ask(
                    settings, [{"role": "user", "content": f"Option A or Option B? {i}"}], str, purpose="t"
                )
                for i in range(n)
            )
        )
        assert all(a.valid for a in answers)
        return time.perf_counter() - start

    with TestServer("first_option", latency=0.2) as server:
        capped = ModelSettings(model="openai/stub", api_base=server.openai_base, max_parallel=2, cache="off")
        wide = capped.model_copy(update={"max_parallel": 8})
        capped_wall = asyncio.run(burst(capped, 8))
        assert capped_wall >= 0.2 * 4  # 8 calls, at most 2 at a time: 4 waves
        assert asyncio.run(burst(wide, 8)) < capped_wall / 2  # all 8 at once: one wave
        assert server.count == 16
    with TestServer("first_option") as server:
        limited = ModelSettings(model="openai/stub", api_base=server.openai_base, rpm=600, cache="off")
        assert asyncio.run(burst(limited, 5)) >= 0.1 * 4 * 0.9  # 600/min: one every 0.1 s


def test_sampling_seats_get_fresh_answers_per_episode_and_replay_exactly(tmp_path: Path) -> None:
    def run(server: TestServer, temperature: float, db: str) -> list[tuple[Any, ...]]:
        data = {
            "name": "t",
            "world": "matrix/repeated-v1",
            "params": {"rounds": 3},
            "episodes": 2,
            "seats": [
                {
                    "agent": "llm",
                    "config": {"model": _model(server, temperature=temperature), "shuffle_options": False},
                },
                {"agent": "cooperator"},
            ],
            "db": str(tmp_path / db),
        }
        summary = run_scenario(validate_scenario(data, "t.yaml"))
        return _rows(
            summary.db,
            f"SELECT e.payload FROM events e JOIN episodes p ON p.id = e.episode_id "
            f"WHERE p.run_id = {summary.run_id} AND e.kind = 'round'",
        )

    with TestServer("random_option") as server:
        run(server, 0.0, "greedy.db")
        assert server.count == 3, "identical greedy prompts of the second episode come from the cache"
        server.reset()
        first = run(server, 1.0, "sampled.db")
        assert server.count == 6, "a sampling seat asks again in every episode"
        again = run(server, 1.0, "sampled.db")
        assert server.count == 6 and again == first, "and a re-run replays the same answers"
