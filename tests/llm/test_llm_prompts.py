"""Prompt rendering for repeated games: perspective, history, SCoT, shuffles, framings, parsing."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.llm import parsing
from sim.llm.testserver import TestServer
from sim.runner import run_scenario
from sim.scenario import validate_scenario
from sim.types import ActionKind, ActionSpec


@pytest.fixture
def server() -> Iterator[TestServer]:
    with TestServer("tit_for_tat") as srv:
        yield srv


def _llm(server: TestServer, **config: Any) -> dict[str, Any]:
    return {
        "agent": "llm",
        "config": {
            # the chat route sends each prompt whole, as one user message (auto would prefill "Option")
            "model": {
                "model": "openai/stub",
                "api_base": server.openai_base,
                "cache": "off",
                "backoff": 0.0,
                "answer_route": "chat",
            },
            **config,
        },
    }


def _run(
    tmp_path: Path,
    seats: list[dict[str, Any]],
    *,
    game: str = "akata_battle_of_the_sexes",
    rounds: int = 4,
    seed: int = 1,
    db: str = "p.db",
) -> Path:
    data = {
        "name": "p",
        "world": "matrix/repeated-v1",
        "params": {"game": game, "rounds": rounds},
        "seats": seats,
        "seed": seed,
        "db": str(tmp_path / db),
    }
    return run_scenario(validate_scenario(data, "p.yaml")).db


def _calls(db: Path) -> list[tuple[str, int, str, str]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT player_id, turn, purpose, messages FROM llm_calls ORDER BY id").fetchall()
    return [(p, t, purpose, _first_user(json.loads(m))) for p, t, purpose, m in rows]


def _first_user(messages: list[dict[str, Any]]) -> str:
    """The prompt itself (re-asks append the answer and a correction after it)."""
    return next(m["content"] for m in messages if m["role"] == "user")


def test_each_seat_sees_its_own_payoffs_first(tmp_path: Path, server: TestServer) -> None:
    db = _run(tmp_path, [_llm(server), _llm(server)], rounds=1)
    prompts = {p: text for p, _, _, text in _calls(db)}
    jj = (
        "If you choose Option J and the other player chooses Option J, then you win {} points and the other "
        "player wins {} points."
    )
    assert jj.format(10, 7) in prompts["p0"] and jj.format(7, 10) in prompts["p1"]


def test_history_lines_match_the_round_events(tmp_path: Path, server: TestServer) -> None:
    db = _run(tmp_path, [_llm(server), {"agent": "alternator"}], rounds=5)
    with sqlite3.connect(db) as conn:
        rounds = [json.loads(p) for (p,) in conn.execute("SELECT payload FROM events WHERE kind = 'round'")]
    for _, turn, _, text in _calls(db):
        lines = re.findall(
            r"In round (\d+), you chose Option (\w) and the other player chose Option (\w)\. "
            r"Thus, you won (\d+) points and the other player won (\d+) points\.",
            text,
        )
        expected = [
            (
                str(r["round"]),
                r["moves"]["p0"],
                r["moves"]["p1"],
                f"{r['payoffs']['p0']:g}",
                f"{r['payoffs']['p1']:g}",
            )
            for r in rounds[: turn - 1]
        ]
        assert lines == expected


def test_scot_makes_exactly_two_calls_per_round_and_logs_its_predictions(
    tmp_path: Path, server: TestServer
) -> None:
    db = _run(tmp_path, [_llm(server, scot=True), {"agent": "alternator"}], rounds=4)
    calls = _calls(db)
    assert [(t, purpose) for _, t, purpose, _ in calls] == [
        (t, purpose) for t in (1, 2, 3, 4) for purpose in ("repeated.scot.predict", "repeated.act")
    ]
    assert "Which Option do you predict the other player will choose" in calls[0][3]
    assert re.search(r"Given that you think the other player will choose Option \w in round 1", calls[1][3])
    with sqlite3.connect(db) as conn:
        notes = [
            json.loads(p)["notes"]
            for (p,) in conn.execute("SELECT payload FROM events WHERE kind='rationale'")
        ]
        moves = [
            json.loads(p)["moves"]["p1"]
            for (p,) in conn.execute("SELECT payload FROM events WHERE kind='round'")
        ]
        (accuracy,) = conn.execute(
            "SELECT value FROM metrics WHERE name = 'agent.prediction_accuracy'"
        ).fetchone()
    predictions = [n["prediction"] for n in notes]
    assert len(predictions) == 4
    assert accuracy == sum(p == m for p, m in zip(predictions, moves, strict=True)) / 4


def test_the_option_order_shuffle_is_reproducible_from_the_seed(tmp_path: Path, server: TestServer) -> None:
    def orders(seed: int, db: str) -> list[str]:
        prompts = [
            text
            for *_, text in _calls(
                _run(tmp_path, [_llm(server), {"agent": "cooperator"}], rounds=12, seed=seed, db=db)
            )
        ]
        return [re.findall(r"Option (\w) or Option (\w)\?", text)[-1] for text in prompts]

    first = orders(1, "a.db")
    assert first == orders(1, "b.db")
    assert first != orders(2, "c.db")
    assert {tuple(o) for o in first} == {("J", "F"), ("F", "J")}
    unshuffled = [
        text
        for *_, text in _calls(
            _run(tmp_path, [_llm(server, shuffle_options=False), {"agent": "cooperator"}], db="d.db")
        )
    ]
    assert all(text.rstrip().endswith("Option J or Option F?\nA: Option") for text in unshuffled)


def test_framings_units_labels_and_opponent_notes(tmp_path: Path, server: TestServer) -> None:
    seat = _llm(
        server, framing="cooking", unit="audience votes", opponent_note="The other chef may make mistakes."
    )
    data = {
        "name": "f",
        "world": "matrix/repeated-v1",
        "params": {"game": "akata_prisoners_dilemma", "rounds": 2, "labels": ["X", "Q"]},
        "seats": [seat, {"agent": "defector"}],
        "db": str(tmp_path / "f.db"),
    }
    db = run_scenario(validate_scenario(data, "f.yaml")).db
    text = _calls(db)[-1][3]
    assert "cooking competition" in text and "Recipe X" in text and "Recipe Q" in text
    assert "you win 8 audience votes" in text and "The other chef may make mistakes." in text
    assert text.rstrip().endswith("A: Recipe")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [("J", "J"), (" F.", "F"), ("Option J", "J"), ("J. Because it pays", "J")],
)
def test_parse_option_accepts_clear_answers(answer: str, expected: str) -> None:
    assert parsing.parse_option(answer, ("J", "F")) == expected


@pytest.mark.parametrize(
    "answer", ["", "X", "cooperate", "Option Z", "JF", "I pick Option F, no wait, Option J"]
)
def test_parse_option_rejects_everything_else(answer: str) -> None:
    with pytest.raises(ValueError, match="does not name one of the options"):
        parsing.parse_option(answer, ("J", "F"))


def test_answer_models_follow_the_action_spec() -> None:
    choice = parsing.answer_model(ActionSpec(ActionKind.CHOICE, ("J", "F")))
    assert choice.model_json_schema()["properties"]["choice"]["enum"] == ["J", "F"]
    assert parsing.answer_value(parsing.parse_json_answer('```json\n{"choice": "F"}\n```', choice)) == "F"
    with pytest.raises(ValueError):
        parsing.parse_json_answer('{"choice": "Z"}', choice)
    number = parsing.answer_model(ActionSpec(ActionKind.NUMBER, minimum=0, maximum=10))
    with pytest.raises(ValueError):
        parsing.parse_json_answer('{"number": 11}', number)
