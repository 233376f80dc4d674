"""Avalon's per-seat metrics and the run report."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sim_cli import run_sim

from sim.rng import stream
from sim.stats import wilson
from sim.types import Action
from worlds.avalon.metrics import aggregate
from worlds.avalon.params import AvalonParams
from worlds.avalon.world import AvalonWorld

SCENARIOS = Path(__file__).resolve().parents[3] / "worlds/avalon/scenarios"


def _act(world: AvalonWorld, values: dict[str, object]) -> None:
    world.step({p: Action(world.legal_actions(p).kind, v) for p, v in values.items()})


def test_seat_metrics_of_a_scripted_game() -> None:
    world = AvalonWorld()  # 5p fixed: p0 Merlin, p1 Assassin, p2 p3 servants, p4 minion
    world.reset([f"p{i}" for i in range(5)], AvalonParams(seating="fixed", discussion=False), stream(0, "w"))
    everyone = dict.fromkeys(world.players, "approve")
    _act(world, {"p0": ["p1", "p2"]})
    _act(world, {**everyone, "p0": "reject", "p2": "reject", "p3": "reject"})  # rejected 2-3
    for q, leader in enumerate(["p1", "p2", "p3"]):
        team = [["p0", "p2"], ["p0", "p2", "p3"], ["p2", "p3"]][q]
        _act(world, {leader: team})
        _act(world, everyone)
        _act(world, dict.fromkeys(team, "success"))
    _act(world, {"p4": "p1 is Merlin? no: p0"})  # the evil conference, the Assassin last
    _act(world, {"p1": "p0 it is"})
    _act(world, {"p1": "p0"})
    m = world.episode_metrics()
    assert world.outcome()["reason"] == "merlin_assassinated"
    assert m["p1"]["win"] == 1.0 and m["p0"]["win"] == 0.0 and m["p0"]["good"] == 1.0
    assert m["p0"]["proposals"] == 1.0 and m["p0"]["proposals_approved"] == 0.0
    assert m["p1"]["proposals_approved"] == 1.0
    assert m["p0"]["vote_influence"] == 1.0  # rejected with the majority, then approved with it
    assert m["p1"]["vote_influence"] == 0.75 and m["p1"]["approve_rate"] == 1.0
    assert m["p1"]["assassination_correct"] == 1.0 and m["p0"]["assassinated"] == 1.0
    assert m["p4"]["fails_played"] == 0.0 and m["p2"]["quests_joined"] == 3.0


def test_wilson_interval() -> None:
    low, high = wilson(41, 100)
    assert low == pytest.approx(0.3181, abs=1e-3) and high == pytest.approx(0.5082, abs=1e-3)
    assert wilson(0, 0) == (0.0, 1.0)


def test_aggregate_over_outcomes() -> None:
    def episode(winner: str, reason: str, correct: bool | None = None) -> dict:
        hit = None if correct is None else {"correct": correct}
        seats = {"p0": {"proposals": 2.0, "proposals_approved": 1.0, "agent.deduction_accuracy": 0.5}}
        return {"outcome": {"winner": winner, "reason": reason, "assassination": hit}, "metrics": seats}

    report = aggregate(
        [
            episode("good", "quests_succeeded", False),
            episode("evil", "merlin_assassinated", True),
            episode("evil", "quests_failed"),
            episode("evil", "hammer"),
            {"outcome": {"winner": None}, "metrics": {}},  # truncated: not counted
        ]
    )
    assert report["games"] == 4 and report["good_win_rate"] == 0.25 and report["evil_win_rate"] == 0.75
    assert report["evil_wins_hammer"] == report["evil_wins_quests_failed"] == 0.25
    assert report["assassinations"] == 2 and report["assassination_accuracy"] == 0.5
    assert report["proposal_approval_rate"] == 0.5 and report["mean_deduction_accuracy"] == 0.5
    assert report["good_win_rate_ci_low"] < 0.25 < report["good_win_rate_ci_high"]


def test_sim_run_prints_the_run_report(tmp_path: Path) -> None:
    result = run_sim(
        "run", SCENARIOS / "avalonbench_5p_bots.yaml", "--db", tmp_path / "r.db", "--set", "episodes=30"
    )
    assert result.returncode == 0, result.stderr
    assert "win rate per side" in result.stdout and "win rate per role" in result.stdout
    good = next(line for line in result.stdout.splitlines() if line.startswith("│ good "))
    rate, low, high = (float(x) for x in re.findall(r"\d\.\d\d", good.split("│")[-2]))  # one cell
    assert 0.0 <= low <= rate <= high <= 1.0
