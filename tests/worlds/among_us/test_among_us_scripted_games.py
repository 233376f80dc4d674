"""Whole Among Us games scripted move by move, played through the replay agent, the engine and the store."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from pathlib import Path
from typing import Any

from sim.runner import run_scenario
from sim.scenario import load_scenario
from tests.worlds.among_us.helpers import BASE

Step = dict[str, Any]


def tasks(alive: str, **moves: tuple[str, Any] | str) -> Step:
    """A task round: every living seat (digits in ``alive``) waits unless given a branch."""
    step = {}
    for i in alive:
        move = moves.get(f"p{i}", "wait")
        branch, value = (move, None) if isinstance(move, str) else move
        step[f"p{i}"] = {"branch": branch, "value": value}
    return step


def ballot(alive: str, **votes: str) -> Step:
    """The vote: every living seat skips unless named."""
    return {f"p{i}": votes.get(f"p{i}", "skip") for i in alive}


def speeches(*order: str) -> list[Step]:
    return [{p: f"{p} speaks"} for p in order]


def run_script(tmp_path: Path, n: int, params: dict[str, Any], steps: list[Step]) -> tuple[dict, list[dict]]:
    """Play the script and return the outcome and every stored event (kind, visible_to, payload)."""
    actions: dict[str, list[Any]] = defaultdict(list)
    for step in steps:
        for seat, value in step.items():
            actions[seat].append(value)
    scenario = {
        "name": "scripted",
        "world": "social/among_us-v1",
        "params": {**BASE, **params},
        "seats": [
            {"agent": "replay", "config": {"actions": actions[f"p{i}"] or ["unused"]}} for i in range(n)
        ],
        "seed": 5,
    }
    path = tmp_path / "script.yaml"
    path.write_text(json.dumps(scenario))
    summary = run_scenario(load_scenario(path), tmp_path / "script.db")
    ((_, result),) = summary.episodes
    with sqlite3.connect(summary.db) as conn:
        status = conn.execute("SELECT status FROM episodes").fetchone()[0]
        rows = conn.execute("SELECT kind, visible_to, payload FROM events ORDER BY seq").fetchall()
        invalid = conn.execute("SELECT sum(invalid_actions) FROM seats").fetchone()[0]
        roles = conn.execute("SELECT player_id, game_role, side FROM seats ORDER BY player_id").fetchall()
    assert status == "complete" and invalid == 0
    assert roles[0] == ("p0", "impostor", "impostor") and all(
        r[1:] == ("crewmate", "crewmate") for r in roles[1:]
    )
    return result.outcome, [{"kind": k, "visible_to": json.loads(v), **json.loads(p)} for k, v, p in rows]


def test_a_witnessed_kill_is_reported_and_the_killer_ejected(tmp_path: Path) -> None:
    steps = [
        tasks("01234", p0=("kill", "p1")),
        tasks("0234", p2="report"),
        *speeches("p2", "p3", "p4", "p0"),
        ballot("0234", p0="p2", p2="p0", p3="p0", p4="p0"),
    ]
    outcome, events = run_script(tmp_path, 5, {"discussion_rounds": 1}, steps)
    assert outcome["reason"] == "crew_vote_out" and outcome["winners"] == ["p1", "p2", "p3", "p4"]
    (kill,) = [e for e in events if e["kind"] == "kill"]
    assert kill["witnesses"] == ["p2", "p3", "p4"] and kill["visible_to"] == ["p0", "p1", "p2", "p3", "p4"]
    (meeting,) = [e for e in events if e["kind"] == "meeting"]
    assert (meeting["caller"], meeting["call"], meeting["body"], meeting["dead"]) == (
        "p2",
        "report",
        "p1",
        ["p1"],
    )
    (vote,) = [e for e in events if e["kind"] == "vote"]
    assert vote["tally"] == {"p0": 3, "p2": 1} and vote["ejected"] == "p0"


def test_a_vote_tied_with_skip_ejects_nobody(tmp_path: Path) -> None:
    steps = [
        tasks("01234", p1="button"),
        ballot("01234", p1="p2", p3="p2", p2="p1"),  # p2: 2, skip: 2, p1: 1
        tasks("01234"),
    ]
    outcome, events = run_script(tmp_path, 5, {"max_turns": 3}, steps)
    (vote,) = [e for e in events if e["kind"] == "vote"]
    assert vote["tally"] == {"p2": 2, "skip": 2, "p1": 1} and vote["ejected"] is None
    assert not [e for e in events if e["kind"] == "eject"]
    assert outcome["reason"] == "imp_timeout" and outcome["winners"] == ["p0"]


def test_votes_p4_one_skip_two_eject_nobody(tmp_path: Path) -> None:
    steps = [
        tasks("01234", p0=("kill", "p1")),
        tasks("0234"),  # round 2: p0 on cooldown (K = 1)
        tasks("0234", p0=("kill", "p2")),
        tasks("034", p3="report"),
        ballot("034", p0="p4"),
        tasks("034"),
    ]
    outcome, events = run_script(tmp_path, 5, {"kill_cooldown": 1, "max_turns": 6}, steps)
    (vote,) = [e for e in events if e["kind"] == "vote"]
    assert vote["tally"] == {"skip": 2, "p4": 1} and vote["ejected"] is None
    assert outcome["reason"] == "imp_timeout"


def test_parity_reached_by_a_kill_ends_the_game(tmp_path: Path) -> None:
    steps = [
        tasks("0123", p0=("kill", "p1"), p3=("move", "Lab")),
        tasks("023", p3=("move", "Pod")),
        tasks("023", p0=("kill", "p2")),
    ]
    outcome, events = run_script(tmp_path, 4, {"kill_cooldown": 1}, steps)
    assert outcome["reason"] == "imp_parity" and outcome["winners"] == ["p0"]
    assert [e["victim"] for e in events if e["kind"] == "kill"] == ["p1", "p2"]
    assert not [e for e in events if e["kind"] == "meeting"]


def test_the_task_win_beats_the_timeout_in_the_same_round(tmp_path: Path) -> None:
    steps = [
        tasks("012", p1=("move", "Lab"), p2=("move", "Lab")),
        tasks("012", p1=("task", "Scan"), p2=("task", "Scan")),
        tasks("012", p1=("task", "Scan"), p2=("task", "Scan")),
    ]
    params = {"common_tasks": 0, "long_tasks": 1, "max_turns": 3, "initial_kill_cooldown": 5}
    outcome, events = run_script(tmp_path, 3, params, steps)
    assert outcome["reason"] == "crew_tasks" and outcome["winners"] == ["p1", "p2"] and outcome["clock"] == 3
    assert [e["done"] for e in events if e["kind"] == "task" and e["player"] == "p1"] == [1, 2]
