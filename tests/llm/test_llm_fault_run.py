"""A 100-episode LLM run against the test server with 20 % mixed faults: every episode completes and every
injected fault is an ``llm_calls`` row, counted per seat in the run summary."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from sim.llm.testserver import FaultPlan, TestServer
from sim.runner import run_scenario
from sim.scenario import validate_scenario
from sim.summaries.build import build_summary

#: The exception class litellm raises for each fault of an ``openai/`` model.
RAISED = {
    "429": "RateLimitError",
    "500": "InternalServerError",
    "503": "ServiceUnavailableError",
    "hang": "Timeout",
    "malformed": "InternalServerError",
}
EPISODES = 100


@pytest.mark.slow
def test_every_injected_fault_is_a_row_and_every_episode_completes(tmp_path: Path) -> None:
    plan = FaultPlan(rate=0.2, kinds=tuple(RAISED), seed=10)
    with TestServer("tit_for_tat", faults=plan, hang_seconds=2.5) as server:
        # retries: 8 makes an exhausted call (nine faults in a row, 0.2**9) practically impossible
        model = {
            "model": "openai/stub",
            "api_base": server.openai_base,
            "cache": "off",
            "backoff": 0.0,
            "retries": 8,
            "timeout": 1.0,
        }
        data = {
            "name": "faults",
            "world": "matrix/repeated-v1",
            "params": {"game": "akata_prisoners_dilemma", "rounds": 2},
            "episodes": EPISODES,
            "seats": [{"agent": "llm", "config": {"model": model}}, {"agent": "tit_for_tat"}],
            "seed": 4,
            "db": str(tmp_path / "faults.db"),
            "engine": {"parallel_episodes": 25},
        }
        summary = run_scenario(validate_scenario(data, "faults.yaml"))
        injected, requests = server.injected, server.count
    with sqlite3.connect(summary.db) as conn:
        statuses = conn.execute("SELECT status, count(*) FROM episodes GROUP BY status").fetchall()
        rows = conn.execute("SELECT error_class, http_attempt, valid FROM llm_calls").fetchall()
    assert statuses == [("complete", EPISODES)]
    assert 0.1 * requests < len(injected) < 0.3 * requests  # about 20 % of the requests
    assert set(injected) == set(RAISED)  # every kind of fault happened
    assert len(rows) == requests  # one row per HTTP request: nothing lost, nothing made up
    faults = Counter(e for e, _, _ in rows if e is not None)
    assert faults == Counter(RAISED[f] for f in injected)
    assert sum(valid for _, _, valid in rows) == EPISODES * 2  # one accepted answer per round
    assert sum(a > 1 for _, a, _ in rows) == len(injected)  # each fault was retried once more
    usage = summary.llm_usage.values()
    assert sum(u.faults for u in usage) == sum(u.retries for u in usage) == len(injected)
    llm = next(s for s in build_summary(summary.db, summary.run_id).sections if s.key == "llm")
    columns = {name: [row[i].text for row in llm.rows] for i, name in enumerate(llm.columns)}
    for name in ("faults", "retries"):  # only the LLM's row: the bot made no calls
        assert columns[name] == [str(len(injected))]
