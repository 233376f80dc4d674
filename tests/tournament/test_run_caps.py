"""A tournament's ``concurrency`` caps: matches in flight overall, and LLM requests in flight per model
across every match of the process (the shared client's per-model slots)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.llm.testserver import TestServer
from sim.tournament.run import run_tournament
from tests.tournament.helpers import write
from tests.tournament.run_helpers import llm_tournament


@pytest.mark.parametrize("per_model", [{"openai/stub": 2}, {}])
def test_per_model_cap_holds_across_concurrent_matches(tmp_path: Path, per_model: dict[str, int]) -> None:
    with TestServer("tit_for_tat", latency=0.15) as server:
        concurrency = {"matches": 6, "per_model": per_model}
        path = write(tmp_path, llm_tournament(server.openai_base, concurrency=concurrency, repetitions=3))
        summary = run_tournament(path, tmp_path / "t.db")
    assert summary.played == 9
    if per_model:
        assert server.max_in_flight == 2  # six matches at once, two requests at the model
    else:  # the control: without the cap, the six LLM matches ask at once (max_parallel is 8)
        assert server.max_in_flight == 6


def test_matches_cap_bounds_matches_in_flight(tmp_path: Path) -> None:
    running, most = 0, 0

    class Watch:
        def started(self, job: object) -> None:
            nonlocal running, most
            running += 1
            most = max(most, running)

        def finished(self, record: object) -> None:
            nonlocal running
            running -= 1

    with TestServer("tit_for_tat", latency=0.05) as server:
        path = write(tmp_path, llm_tournament(server.openai_base, concurrency={"matches": 3}))
        summary = run_tournament(path, tmp_path / "t.db", watchers=[Watch()])
    assert summary.played == 12 and most == 3
