"""The stores the viewer's tests read, written by real ``sim run`` calls, and what they hold; where the
browser tests' screenshots go."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sim_cli import ROOT, run_sim

from sim.llm.testserver import TestServer
from sim.store.reader import StoreReader

ROLES = ("merlin", "percival", "servant", "morgana", "assassin")
LABELS = [f"naive-{role}" for role in ROLES]
"""Labels that name their seat's (fixed) role, as the ReCon presets' labels do."""
LABELLED_AVALON = {
    "name": "labelled-avalon",
    "world": "social/avalon-v1",
    "params": {"roles": list(ROLES), "seating": "fixed"},
    "seats": [{"agent": "avalon_naive", "label": label} for label in LABELS],
    "episodes": 2,
    "seed": 7,
}
SCREENSHOTS = pytest.StashKey[Path]()
"""Set by the browser tests: the directory their screenshots were saved to (named in the summary)."""
AVALON_RUN = 2
"""The labelled Avalon run of the combined store (run 1 is the demo tournament)."""


def _run(*args: object) -> None:
    result = run_sim("run", *args, "--quiet")
    assert result.returncode == 0, f"sim run failed:\n{result.stdout}\n{result.stderr}"


def write_stores(tmp: Path) -> dict[str, Path]:
    """``demo``: a repeated-games tournament; ``avalon``: ten players with discussion; ``llm``: an Akata run
    against the test server; ``combined``: the demo tournament (run 1) and labelled Avalon bots (run 2)."""
    out = {name: tmp / f"{name}.db" for name in ("demo", "avalon", "llm", "combined")}
    demo = ROOT / "worlds/repeated/scenarios/demo.yaml"
    _run(demo, "--db", out["demo"])
    avalon = ROOT / "worlds/avalon/scenarios/avalon_10p_all_roles.yaml"
    _run(avalon, "--db", out["avalon"], "--set", "episodes=2")
    with TestServer("tit_for_tat") as server:
        base = f"tournament.focal.config.model.api_base={server.openai_base}"
        _run(ROOT / "worlds/repeated/scenarios/llm_akata_pd.yaml", "--db", out["llm"], "--set", base)
    labelled = tmp / "labelled-avalon.yaml"
    labelled.write_text(yaml.safe_dump(LABELLED_AVALON))
    _run(demo, "--db", out["combined"])
    _run(labelled, "--db", out["combined"])
    return out


def avalon_episode(db: Path) -> int:
    """The first episode of the combined store's Avalon run."""
    episodes = StoreReader(db).episodes()
    return int(episodes[episodes.run_id == AVALON_RUN].id.iloc[0])
