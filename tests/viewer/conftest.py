"""Stores written by real ``sim run`` calls, shared by the viewer's AppTest and browser tests (written
once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sim_cli import ROOT, run_sim

from sim.llm.testserver import TestServer

LABELLED_AVALON = {
    "name": "labelled-avalon",
    "world": "social/avalon-v1",
    "params": {"roles": ["merlin", "percival", "servant", "morgana", "assassin"], "seating": "fixed"},
    "seats": [
        {"agent": "avalon_naive", "label": f"naive-{role}"}
        for role in ("merlin", "percival", "servant", "morgana", "assassin")
    ],
    "episodes": 2,
    "seed": 7,
}
"""Five bots whose labels name their (fixed) roles, as the ReCon presets' labels do."""


def _run(*args: object) -> None:
    result = run_sim("run", *args, "--quiet")
    assert result.returncode == 0, f"sim run failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="session")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``demo``: a repeated-games tournament; ``avalon``: ten players with discussion; ``llm``: an Akata run
    against the test server; ``combined``: the demo tournament (run 1) and labelled Avalon bots (run 2)."""
    tmp = tmp_path_factory.mktemp("viewer")
    out = {name: tmp / f"{name}.db" for name in ("demo", "avalon", "llm", "combined")}
    demo = ROOT / "worlds/repeated/scenarios/demo.yaml"
    _run(demo, "--db", out["demo"])
    _run(
        ROOT / "worlds/avalon/scenarios/avalon_10p_all_roles.yaml",
        "--db",
        out["avalon"],
        "--set",
        "episodes=2",
    )
    with TestServer("tit_for_tat") as server:
        preset = ROOT / "worlds/repeated/scenarios/llm_akata_pd.yaml"
        _run(
            preset,
            "--db",
            out["llm"],
            "--set",
            f"tournament.focal.config.model.api_base={server.openai_base}",
        )
    labelled = tmp / "labelled-avalon.yaml"
    labelled.write_text(yaml.safe_dump(LABELLED_AVALON))
    _run(demo, "--db", out["combined"])
    _run(labelled, "--db", out["combined"])
    return out
