"""The Ray backend counts its workers' LLM calls on the driver's live progress line (as the process
backend does): the workers' own clients count them in the worker processes only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.llm.activity import Activity, watching
from sim.llm.testserver import TestServer
from sim.ray_executor import ray_backend
from sim.runner import run_scenario

pytestmark = pytest.mark.slow


def test_the_live_line_counts_the_calls_ray_workers_made(tmp_path: Path, ray_instance: Any) -> None:
    with TestServer("first_option") as server:
        settings = {"model": "openai/stub", "api_base": server.openai_base, "backoff": 0.0, "cache": "off"}
        scenario = tmp_path / "llm.yaml"
        data = {
            "name": "llm",
            "world": "matrix/repeated-v1",
            "params": {"game": "akata_prisoners_dilemma", "rounds": 3},
            "seats": [{"agent": "llm", "config": {"model": settings}}, {"agent": "random"}],
            "episodes": 2,
            "seed": 3,
        }
        scenario.write_text(yaml.safe_dump(data, sort_keys=False))
        with watching(Activity()) as live:
            run_scenario(scenario, db=tmp_path / "ray.db", executor=ray_backend(num_cpus=2))
        assert server.count == 6  # 2 episodes x 3 rounds
    assert (live.calls, live.cached) == (6, 0)
