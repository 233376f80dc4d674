"""Whole Avalon games scripted move by move and played through the replay agent, the engine and the store."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from pathlib import Path
from typing import Any

from sim.runner import run_scenario
from sim.scenario import load_scenario

Step = dict[str, Any]


def players(n: int) -> list[str]:
    return [f"p{i}" for i in range(n)]


def propose(leader: str, *team: str) -> Step:
    return {leader: list(team)}


def votes(n: int, approvers: str) -> Step:
    """``approvers``: seat numbers that approve, e.g. "0134"."""
    return {p: "approve" if p[1:] in approvers else "reject" for p in players(n)}


def quest(team: str, fails: str = "") -> Step:
    return {f"p{i}": "fail" if i in fails else "success" for i in team}


def speeches(n: int, first: int) -> Step:
    return {f"p{(first + i) % n}": f"p{(first + i) % n} speaks" for i in range(n)}


def run_script(tmp_path: Path, n: int, params: dict[str, Any], steps: list[Step]) -> tuple[dict, list[dict]]:
    """Play the script (actions listed per seat, in order) and return the outcome and the public events."""
    actions: dict[str, list[Any]] = defaultdict(list)
    for step in steps:
        for seat, value in step.items():
            actions[seat].append(value)
    scenario = {
        "name": "scripted",
        "world": "social/avalon-v1",
        "params": {"seating": "fixed", "discussion": False, **params},
        "seats": [{"agent": "replay", "config": {"actions": actions[p] or ["unused"]}} for p in players(n)],
        "seed": 5,
    }
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "script.yaml"
    path.write_text(json.dumps(scenario))
    summary = run_scenario(load_scenario(path), tmp_path / "script.db")
    ((_, result),) = summary.episodes
    with sqlite3.connect(summary.db) as conn:
        status = conn.execute("SELECT status FROM episodes").fetchone()[0]
        rows = conn.execute(
            "SELECT kind, payload FROM events WHERE visible_to = '\"all\"' ORDER BY seq"
        ).fetchall()
        invalid = conn.execute("SELECT sum(invalid_actions) FROM seats").fetchone()[0]
    assert status == "complete" and invalid == 0
    return result.outcome, [{"kind": k, **json.loads(p)} for k, p in rows]


def test_five_rejections_in_one_quest_give_evil_the_win(tmp_path: Path) -> None:
    # 5p fixed: p0 Merlin, p1 Assassin, p2 p3 servants, p4 minion; p0 leads first
    steps = []
    for leader in range(5):
        steps += [propose(f"p{leader}", "p2", "p3"), votes(5, "01" if leader % 2 else "")]
    outcome, events = run_script(tmp_path, 5, {}, steps)
    assert outcome["winner"] == "evil" and outcome["reason"] == "hammer"
    assert [e["leader"] for e in events if e["kind"] == "proposal"] == players(5)
    assert [e["rejections"] for e in events if e["kind"] == "vote"] == [1, 2, 3, 4, 5]


def test_vote_ties_reject_unless_tie_approves(tmp_path: Path) -> None:
    # 6p: a 3-3 vote. Official: rejected, then approved 4-2; with tie_approves the tie passes at once
    official = [
        propose("p0", "p2", "p3"),
        votes(6, "012"),
        propose("p1", "p2", "p3"),
        votes(6, "0123"),
        quest("23"),
    ]
    _, events = run_script(tmp_path, 6, {"roles": ["merlin", "assassin"]}, [*official, *_fail_rest(6, 2)])
    tallies = [(e["approvals"], e["approved"]) for e in events if e["kind"] == "vote"]
    assert tallies[:2] == [(3, False), (4, True)]

    tie = [propose("p0", "p2", "p3"), votes(6, "012"), quest("23")]
    _, events = run_script(
        tmp_path / "tie",
        6,
        {"roles": ["merlin", "assassin"], "tie_approves": True},
        [*tie, *_fail_rest(6, 1)],
    )
    assert next((e["approvals"], e["approved"]) for e in events if e["kind"] == "vote") == (3, True)


def _fail_rest(n: int, leader: int) -> list[Step]:
    """Three quests the Assassin (p1) fails, with everyone approving, from the given leader on."""
    sizes = {5: [2, 3, 2, 3, 3], 6: [2, 3, 4, 3, 4], 7: [2, 3, 3, 4, 4]}[n]
    steps = []
    for q in range(1, 4):
        team = "1" + "023456"[: sizes[q] - 1]
        steps += [
            propose(f"p{(leader + q - 1) % n}", *[f"p{i}" for i in team]),
            votes(n, "".join(map(str, range(n)))),
            quest(team, "1"),
        ]
    return steps


def test_quest_four_needs_two_fails_at_seven_players_then_both_assassination_outcomes(tmp_path: Path) -> None:
    # 7p fixed: p0 Merlin, p1 Assassin, p2-p4 servants, p5 p6 minions; sizes 2,3,3,4(2 fails),4
    everyone = "0123456"
    base = [
        propose("p0", "p0", "p2"),
        votes(7, everyone),
        quest("02"),  # quest 1 succeeds
        propose("p1", "p1", "p2", "p3"),
        votes(7, everyone),
        quest("123", "1"),  # quest 2 fails
        propose("p2", "p2", "p3", "p4"),
        votes(7, everyone),
        quest("234"),  # quest 3 succeeds
        propose("p3", "p1", "p2", "p3", "p5"),
        votes(7, everyone),
        quest("1235", "1"),  # one fail: succeeds
        {"p5": "p0 looks like Merlin", "p6": "agreed"},  # the evil conference (assassin last)
        {"p1": "I name p0"},
    ]
    for target, winner, reason in (("p0", "evil", "merlin_assassinated"), ("p3", "good", "quests_succeeded")):
        outcome, events = run_script(tmp_path / target, 7, {}, [*base, {"p1": target}])
        results = [(e["fails"], e["fails_required"], e["success"]) for e in events if e["kind"] == "quest"]
        assert results == [(0, 1, True), (1, 1, False), (0, 1, True), (1, 2, True)]
        assert outcome["winner"] == winner and outcome["reason"] == reason
        assert outcome["assassination"]["target"] == target
        assert not any(e["kind"] == "confer" for e in events)  # the conference is evil's alone


def test_discussion_speeches_are_public_in_order(tmp_path: Path) -> None:
    steps = [propose("p0", "p2", "p3"), speeches(5, 0), votes(5, "0123"), quest("23")]
    steps += [propose("p1", "p1", "p2", "p3"), speeches(5, 1), votes(5, "0123"), quest("123", "1")]
    steps += [propose("p2", "p1", "p4"), speeches(5, 2), votes(5, "0124"), quest("14", "14")]
    steps += [propose("p3", "p1", "p2", "p4"), speeches(5, 3), votes(5, "01234"), quest("124", "4")]
    outcome, events = run_script(tmp_path, 5, {"discussion": True}, steps)
    assert outcome["reason"] == "quests_failed"
    spoken = [e["player"] for e in events if e["kind"] == "speech"]
    assert spoken[:5] == players(5) and spoken[5:10] == ["p1", "p2", "p3", "p4", "p0"]
