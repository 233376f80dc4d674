"""Stores for the transcript tests: a ReCon-vs-CoT Avalon game and a SCoT Prisoner's Dilemma, both
played by the presets against the local test server, built once per test session."""

from __future__ import annotations

import json
from pathlib import Path

from sim.llm.testserver import Request, TestServer, answer
from sim.runner import run_scenario
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
AVALON = ROOT / "worlds/avalon/scenarios/recon_good_vs_cot_evil.yaml"
SCOT = ROOT / "worlds/repeated/scenarios/llm_akata_pd_scot.yaml"
SPEECH = "I trust *p1* [really] and bet $5"  # markdown and LaTeX characters a model may write
ANALYSIS = "Merlin would read this as cover."


def staged(req: Request) -> str:
    """A valid answer per stage, each THINK naming its stage (FORMULATE, ACT for CoT, REFINE), so the
    sections can be told apart; the second-order analysis (no schema) is plain text."""
    if req.schema is None:
        return ANALYSIS
    value = json.loads(answer(req, lambda values: values[0]))
    prompt = req.messages[1]["content"]  # the stage's own prompt
    stage = (
        "REFINE" if "REVISED THINK" in prompt else "ACT" if "Think step by step" in prompt else "FORMULATE"
    )
    if isinstance(value, dict) and "think" in value:  # formulate, act or refine (not the belief)
        value["think"] = f"{stage}-THINK"
        if "speak" in value:
            value["speak"] = SPEECH
    return json.dumps(value)


def build(directory: Path) -> dict[str, Path]:
    """The two stores in ``directory`` (built only once: later calls find them)."""
    out = {"avalon": directory / "avalon.db", "scot": directory / "scot.db"}
    if all(p.exists() for p in out.values()):
        return out
    directory.mkdir(parents=True, exist_ok=True)
    with TestServer(staged) as server:
        seats = [f"seats.{i}.config.model.api_base={server.openai_base}" for i in range(6)]
        run_scenario(load_scenario(AVALON, [*seats, "episodes=1"]), out["avalon"])
    with TestServer("tit_for_tat") as server:
        focal = f"tournament.focal.config.model.api_base={server.openai_base}"
        run_scenario(load_scenario(SCOT, [focal]), out["scot"])
    return out
