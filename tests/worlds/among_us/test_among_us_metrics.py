"""Among Us metrics: a hand-built event log's numbers per episode and per seat, the Elo arithmetic by
hand, and the metrics of a real run as the store keeps them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from sim.runner import run_scenario
from sim.scenario import load_scenario
from sim.transcript import episode_transcript
from sim.types import Event
from worlds.among_us.metrics import (
    aggregate,
    deception_detection_elo,
    elo_ratings,
    episode_numbers,
    seat_metrics,
    speech_signals,
    survey_steps,
)

ROLES = {"p0": "impostor", "p1": "crewmate", "p2": "crewmate", "p3": "crewmate", "p4": "crewmate"}


def _e(kind: str, **payload: Any) -> Event:
    return Event(0, "x", kind, payload)


def _survey(after: str | None, speech: int | None, **answers: str) -> Event:
    return _e("survey", meeting=1, after=after, speech=speech, answers=answers)


#: p0 (the impostor) kills p1; a meeting: surveys around p0's and p3's speeches; the crew ejects p2
#: (wrong); p0 kills p3; the next vote ejects p0 (right); a kill after that does not count as "before".
LOG = [
    _e("kill", killer="p0", victim="p1"),
    _survey(None, None, p0="p2", p2="skip", p3="p0", p4="p2"),  # crew naming p0: 1 of 3
    _e("speech", meeting=1, round=1, player="p0", text="..."),
    _survey("p0", 0, p0="p2", p2="p4", p3="p2", p4="p2"),  # 0 of 3: p0's speech -1/3
    _e("speech", meeting=1, round=1, player="p3", text="..."),
    _survey("p3", 1, p0="p3", p2="p0", p3="p0", p4="p0"),  # 3 of 3: p3's speech +1
    _e("vote", votes={"p0": "p2", "p2": "skip", "p3": "p2", "p4": "p2"}),
    _e("eject", player="p2"),
    _e("kill", killer="p0", victim="p3"),
    _e("vote", votes={"p0": "p4", "p4": "p0"}),
    _e("eject", player="p0"),
    _e("kill", killer="p0", victim="p4"),
]


def test_episode_numbers_of_a_hand_built_log() -> None:
    numbers = episode_numbers(ROLES, LOG)
    assert numbers["kills_before_impostor_ejection"] == 2
    assert (numbers["ejected_impostors"], numbers["ejected_crewmates"]) == (1, 1)
    # crew ballots: p2 skip, p3 p2, p4 p2, then p4 p0: 4 cast, 1 for the impostor, 1 skip
    assert (numbers["crew_ballots"], numbers["crew_ballots_impostor"], numbers["crew_ballots_skip"]) == (
        4,
        1,
        1,
    )
    steps = numbers["surveys"]
    assert [(s["after"], s["round"], s["answers"], s["naming_impostor"]) for s in steps] == [
        (None, None, 3, 1),
        ("p0", 1, 3, 0),
        ("p3", 1, 3, 3),
    ]
    assert speech_signals(steps) == [("p0", pytest.approx(-1 / 3)), ("p3", pytest.approx(1.0))]


def test_seat_metrics_of_a_hand_built_log() -> None:
    m = seat_metrics(ROLES, LOG)
    assert m["p0"]["impostor"] == 1.0 and m["p0"]["kills"] == 3 and m["p0"]["ejected"] == 1.0
    assert "vote_accuracy" not in m["p0"] and "suspicion_accuracy" not in m["p0"]  # crewmates only
    assert m["p0"]["speaking_signal"] == pytest.approx(-1 / 3) and m["p3"]["speaking_signal"] == 1.0
    assert m["p4"]["ballots"] == 2 and m["p4"]["vote_accuracy"] == 0.5 and m["p4"]["skip_rate"] == 0.0
    assert m["p2"]["skip_rate"] == 1.0 and m["p2"]["vote_accuracy"] == 0.0
    assert m["p3"]["suspicion_accuracy"] == pytest.approx(2 / 3) and m["p3"]["survey_answers"] == 3
    assert m["p1"]["killed"] == 1.0 and "ballots" not in m["p1"]


def test_survey_steps_after_speeches_of_later_rounds() -> None:
    log = [
        _e("speech", meeting=2, round=1, player="p1", text=""),
        _e("speech", meeting=2, round=2, player="p1", text=""),
        _e("survey", meeting=2, after="p1", speech=1, answers={"p1": "p0"}),
    ]
    assert survey_steps(ROLES, log) == [
        {"meeting": 2, "after": "p1", "round": 2, "answers": 1, "naming_impostor": 1}
    ]


def test_elo_computed_by_hand() -> None:
    games = [
        # 1: A impostor beats a crew of B (mean 1500): expected 0.5, A = 1500 + 32 * 0.5 = 1516
        (["A"], ["B", "B", "B", "B"], 1.0),
        # 2: B impostor loses to A, B, B, B (mean (1516 + 3 * 1500) / 4 = 1504): expected
        #    1 / (1 + 10 ** (4 / 400)) = 0.494244, B = 1500 - 32 * 0.494244 = 1484.1842
        (["B"], ["A", "B", "B", "B"], 0.0),
        # 3: A on two impostor seats draws against B, C, C (mean (1484.1842 + 3000) / 3 = 1494.7281):
        #    rated once, expected 1 / (1 + 10 ** (-21.2719 / 400)) = 0.530590,
        #    A = 1516 + 32 * (0.5 - 0.530590) = 1515.0211
        (["A", "A"], ["B", "C", "C"], 0.5),
    ]
    ratings = elo_ratings(games)
    assert ratings == {"A": pytest.approx(1515.0211, abs=1e-3), "B": pytest.approx(1484.1842, abs=1e-3)}
    assert elo_ratings(games[:1]) == {"A": 1516.0}


def test_deception_rates_impostors_and_detection_rates_the_crew() -> None:
    seats = [("A", "impostor"), ("B", "crewmate"), ("B", "crewmate"), ("C", "crewmate")]
    deception, detection = deception_detection_elo([(seats, "crewmate")])
    assert deception == {"A": 1484.0}  # lost at expected 0.5: 1500 - 16
    assert detection == {"B": 1516.0, "C": 1516.0}  # each crew agent once: 1500 + 16
    deception, detection = deception_detection_elo([(seats, None)])  # a draw moves nobody at 0.5
    assert deception == {"A": 1500.0} and detection == {"B": 1500.0, "C": 1500.0}


def test_aggregate_over_outcomes() -> None:
    outcomes = [
        {"winner": "crewmate", "reason": "crew_tasks", "crew_ballots": 4, "crew_ballots_impostor": 1},
        {"winner": "impostor", "reason": "imp_parity", "crew_ballots": 0, "crew_ballots_impostor": 0},
        {"winner": None, "reason": "timeout", "kills_before_impostor_ejection": 2},
    ]
    report = aggregate({"outcome": o, "metrics": {}} for o in outcomes)
    assert report["games"] == 3 and report["crew_win_rate"] == pytest.approx(1 / 3)
    assert report["impostor_win_rate"] == pytest.approx(1 / 3) and report["ended_timeout"] == pytest.approx(
        1 / 3
    )
    assert report["crew_vote_accuracy"] == 0.25 and report["mean_kills_before_impostor_ejection"] == 2
    assert report["crew_win_rate_ci_low"] < 1 / 3 < report["crew_win_rate_ci_high"]


def test_a_stored_run_keeps_the_metrics_and_the_survey_only_in_the_omniscient_transcript(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.yaml"
    bots = [{"agent": "among_us_bot"}] * 5
    params = {
        "short_tasks": 3,
        "long_tasks": 1,
        "initial_kill_cooldown": 0,
        "kill_cooldown": 2,
        "survey": True,
    }
    scenario = {"name": "s", "world": "social/among_us-v1", "params": params, "seats": bots, "episodes": 8}
    path.write_text(json.dumps(scenario))
    db = tmp_path / "s.db"
    run_scenario(load_scenario(path), db)
    with sqlite3.connect(db) as conn:
        outcomes = {i: json.loads(o) for i, o in conn.execute("SELECT id, outcome FROM episodes")}
        names = {r[0] for r in conn.execute("SELECT name FROM metrics")}
        surveys = conn.execute("SELECT visible_to FROM events WHERE kind = 'survey'").fetchall()
    episode = next(i for i, o in outcomes.items() if o.get("surveys"))  # the bots meet in some games
    assert surveys and all(json.loads(v) == [] for (v,) in surveys)
    assert {"suspicion_accuracy", "speaking_signal", "vote_accuracy", "engine.invalid_rate"} <= names
    omniscient = episode_transcript(db, episode)
    assert any(entry.kind == "survey" and entry.sections for entry in omniscient.entries)
    for seat in ("p0", "p1"):
        assert not any(entry.kind == "survey" for entry in episode_transcript(db, episode, seat).entries)
