"""Tournament files written to tmp_path for the tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sim.tournament.spec import TournamentSpec, load_tournament


def write(tmp_path: Path, data: dict[str, Any], name: str = "t.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def load(tmp_path: Path, data: dict[str, Any]) -> TournamentSpec:
    return load_tournament(write(tmp_path, data))


def repeated(**extra: Any) -> dict[str, Any]:
    """A repeated-game round robin over three strategies."""
    data: dict[str, Any] = {
        "name": "rr",
        "world": "matrix/repeated-v1",
        "params": {"rounds": 5},
        "pool": {
            "tft": {"agent": "tit_for_tat"},
            "alld": {"agent": "defector"},
            "allc": {"agent": "cooperator"},
        },
        "repetitions": 2,
        "seed": 11,
    }
    return {**data, **extra}


def avalon(**schedule: Any) -> dict[str, Any]:
    """A role-balanced five-seat Avalon tournament over three agents."""
    return {
        "name": "avalon",
        "world": "social/avalon-v1",
        "pool": {
            "naive1": {"agent": "avalon_naive"},
            "naive2": {"agent": "avalon_naive"},
            "rnd": {"agent": "random_legal"},
        },
        "schedule": {"format": "seatings", "players": 5, "balance": "roles", **schedule},
        "repetitions": 2,
        "seed": 5,
    }


NARRATOR = {"seat": 3, "agent": "characterbox_narrator_bot", "role": "narrator"}


def characterbox(pool: tuple[str, ...] = ("bot",), **schedule: Any) -> dict[str, Any]:
    """A four-seat CharacterBox scene tournament of character bots (pass ``fixed`` for the narrator)."""
    return {
        "name": "cb",
        "world": "roleplay/characterbox-v1",
        "params": {"scene": "glasshouse"},
        "pool": {name: {"agent": "characterbox_character_bot"} for name in pool},
        "schedule": {"format": "seatings", "players": 4, **schedule},
    }
