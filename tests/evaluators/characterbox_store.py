"""A stored ``roleplay/characterbox-v1`` episode of hand-made contract events, for the judge's tests.

Written with the real StoreWriter: seats p0 (Mara), p1 (Tomas) and p2 (the narrator); one scene of
two rounds in which Tomas dies in round 2. The judge talks to the test server (:func:`judge_reply`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sim.llm.testserver import Request
from sim.store.engine import open_engine
from sim.store.writer import StoreWriter
from sim.types import Event

WORLD = "roleplay/characterbox-v1"
SEATS = {"p0": "Mara", "p1": "Tomas", "p2": "narrator"}
CHARACTERS = {
    "Mara": {
        "profile": "Dock-master, blunt, protective of her crew",
        "personality": "high conscientiousness, low agreeableness",
        "speech_style": "short sentences; says 'Tide waits for no one'",
        "knowledge": ["knows the ledger is forged"],
        "goal": "get the cargo released tonight",
        "secret": "MARA-OWES-THE-SMUGGLERS",
        "position": "on the pier by crate 7",
        "state": {"alive": True, "mood": "tense"},
    },
    "Tomas": {
        "profile": "Customs officer, by-the-book",
        "personality": "cautious",
        "speech_style": "formal",
        "knowledge": ["the seal number"],
        "goal": "keep the cargo sealed",
        "secret": "TOMAS-TOOK-A-BRIBE",
        "position": "at the gangway",
        "state": {"alive": True, "mood": "suspicious"},
    },
}
SCENE = {
    "title": "The Harbor Quarrel",
    "time": "dusk",
    "location": "pier",
    "description": "A seized cargo ship; the tide turns soon.",
    "participants": ["Mara", "Tomas"],
    "rounds": 2,
    "premise": {"Mara": "You just saw the customs seal."},
}
SPEECH = "Tide waits for no one. Open it."


def setup_event(evaluation: Mapping[str, Any] | None = None) -> Event:
    payload: dict[str, Any] = {
        "world": "A harbour town, no magic.",
        "characters": CHARACTERS,
        "seats": SEATS,
        "scenes": [SCENE],
    }
    if evaluation is not None:
        payload["evaluation"] = evaluation
    return Event(0, "setup", "setup", payload, visible_to=())


def scene_events() -> list[Event]:
    """Two rounds: Mara pushes, Tomas refuses; in round 2 Tomas falls into the water and dies."""

    def act(turn: int, seat: str, action: str, speech: str) -> Event:
        who = SEATS[seat]
        return Event(turn, "round", "action", {"character": who, "action": action, "speech": speech}, seat)

    def verdict(turn: int, outcome: str, changes: dict[str, Any]) -> Event:
        payload = {"outcome": outcome, "changes": changes, "perceived_by": ["Mara", "Tomas"]}
        return Event(turn, "round", "verdict", payload, "p2")

    return [
        act(1, "p0", "walks up to the gangway", SPEECH),
        verdict(1, "Tomas blocks the way.", {}),
        act(1, "p1", "holds up the seal", "Regulations, madam."),
        verdict(1, "Mara stops.", {}),
        Event(1, "round", "round_summary", {"text": "A standoff at the gangway."}, "p2"),
        act(2, "p0", "shoves Tomas", ""),
        verdict(2, "Tomas slips into the water and drowns.", {"Tomas": {"alive": False}}),
        Event(2, "round", "round_summary", {"text": "Tomas is dead."}, "p2"),
        Event(2, "end", "scene_end", {"reason": "rounds"}),
    ]


def characterbox_store(db: Path, evaluation: Mapping[str, Any] | None = None) -> Path:
    """``db`` with one run of one complete CharacterBox episode (id 1)."""
    writer = StoreWriter(open_engine(db))
    run = writer.begin_run(name="harbor", path=None, scenario={}, world_id=WORLD, seed=3, version="t")
    seats: list[dict[str, Any]] = [
        {
            "player_id": p,
            "agent": "scripted",
            "label": who,
            "config": {},
            "role": "narrator" if p == "p2" else "player",
        }
        for p, who in SEATS.items()
    ]
    episode = writer.begin_episode(
        run_id=run, index=0, matchup="harbor", world_id=WORLD, params={}, seed=3, seats=seats
    )
    writer.add_events(episode, [setup_event(evaluation), *scene_events()])
    writer.finish_episode(
        episode, status="complete", turns=2, outcome={"winners": [], "reason": "rounds", "draw": False}
    )
    writer.finish_run(run, "complete")
    writer.close()
    return db


def subject(req: Request) -> str:
    """Whom a judge request is about: "Mara", "Tomas" or "narrator"."""
    first = str(req.messages[0]["content"])
    if "Judge the NARRATOR" in first:
        return "narrator"
    return first.split("Judge the character ", 1)[1].split(":", 1)[0]


def attempt(req: Request) -> int:
    """1 for a first ask, 2 for the first re-ask, ..."""
    return (len(req.messages) + 1) // 2


def answer(scores: Mapping[str, Any], critique: str = "Solid work, some lapses.") -> str:
    return json.dumps({"critique": critique, "scores": dict(scores)})


def judge_reply(replies: Mapping[str, Callable[[int], str]]) -> Callable[[Request], str]:
    """A test-server policy: ``replies[subject](attempt)``."""
    return lambda req: replies[subject(req)](attempt(req))


def rows(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def scores_of(db: Path, seat: str) -> dict[str, float | None]:
    """The judge's rows of ``seat`` in episode 1, by metric name."""
    sql = "SELECT name, value FROM metrics WHERE evaluator = 'characterbox_judge' AND player_id = ?"
    return dict(rows(db, sql, seat))
