"""The CharacterBox viewer's data: the cast and its colours, the scenes as screenplay lines, each
character's position and state after every round, and the judge's scores and critiques.

Everything here reads only the events it is given: the page passes a seat's view the events that seat
saw, so a character's view holds its own state updates and never another's goal, secret or state (the
``setup`` event, with every profile, is visible to nobody but the omniscient view).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from agents.reasoning.characterbox_judge import stored_critiques
from sim.store.reader import StoreReader
from sim.types import Event, PlayerId
from sim.viewer.renderers import player_colours
from worlds.characterbox.rubric import CHARACTERBOX7, NARRATOR4

NARRATOR = "narrator"
NARRATOR_COLOUR = "#555555"  # dark grey: apart from every character's colour
JUDGE = "characterbox_judge"
LINE_COLUMNS = ["scene", "round", "kind", "who", "text", "valid"]
SCORE_COLUMNS = ["seat", "who", "dimension", "score"]
DIMENSION_NAMES = {d.key: d.name for d in (*CHARACTERBOX7, *NARRATOR4)}


# the cast -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cast:
    """The characters in seat order (file order), the seat playing each, and the narrator's seat."""

    characters: tuple[str, ...]
    seat_of: Mapping[str, PlayerId]
    narrator: PlayerId | None

    @property
    def character_of(self) -> dict[PlayerId, str]:
        """The character each character seat plays."""
        return {seat: name for name, seat in self.seat_of.items()}

    def colours(self) -> dict[str, str]:
        """One colour per character (the same in every view: seat order), the narrator's grey."""
        return {**player_colours(self.characters), NARRATOR: NARRATOR_COLOUR}

    @classmethod
    def of(cls, seats: pd.DataFrame, events: Iterable[Event]) -> Cast:
        """From the seats' dealt roles (``game_role``: a character's name, or ``narrator``); for an
        episode still running, from the actions seen so far."""
        seat_of: dict[str, PlayerId] = {}
        narrator = None
        if "game_role" in seats.columns:
            for seat, role in zip(seats["player_id"], seats["game_role"], strict=True):
                if isinstance(role, str) and role == NARRATOR:
                    narrator = str(seat)
                elif isinstance(role, str) and role:
                    seat_of[role] = str(seat)
        if not seat_of:
            for e in events:
                if e.kind in ("action", "premise") and e.actor is not None:
                    seat_of.setdefault(e.payload["character"], e.actor)
                elif e.kind in ("influence", "verdict", "round_summary") and e.actor is not None:
                    narrator = e.actor
            order = {str(s): i for i, s in enumerate(seats["player_id"])}
            seat_of = dict(sorted(seat_of.items(), key=lambda item: order.get(item[1], len(order))))
        return cls(tuple(seat_of), seat_of, narrator)


# the screenplay --------------------------------------------------------------------------------------
@dataclass
class Line:
    """One line of the screenplay: what happened, who did or said it, in which scene and round."""

    scene: int
    round: int
    kind: str
    who: str
    text: str
    valid: bool = True
    detail: Mapping[str, Any] = field(default_factory=dict)


def _changes_text(changes: Sequence[Mapping[str, Any]]) -> str:
    parts = []
    for c in changes:
        moved = [f"to {c['position']}"] if "position" in c else []
        state = [f"{k} {v}" for k, v in c.get("state", {}).items()]
        parts.append(f"{c['character']}: {', '.join(moved + state)}")
    return "; ".join(parts)


def screenplay(events: Iterable[Event]) -> list[Line]:
    """The scenes as screenplay lines: headings, premises, actions and reactions with speech, the
    narrator's influence and rulings (an invalid one with its errors and the state kept), outcomes,
    state updates, deaths, leaves, round summaries and how each scene ended."""
    lines: list[Line] = []
    scene, rnd = 0, 0
    for e in events:
        p = e.payload
        rnd = int(p.get("round", rnd)) if e.kind in ("action", "verdict", "round_summary") else rnd
        if e.kind == "scene_start":
            scene, rnd = int(p["scene"]), 0
            heading = f"{p['title']} · {p['time']} · {p['location']}"
            lines.append(
                Line(scene, 0, "heading", NARRATOR, heading, detail={"description": p["description"]})
            )
        elif e.kind == "premise":
            lines.append(Line(scene, 0, "premise", p["character"], p["text"]))
        elif e.kind == "action":
            kind = "reaction" if p["reaction"] else "action"
            leave = " (leaves)" if p["leave"] else ""
            lines.append(
                Line(scene, rnd, kind, p["character"], p["action"] + leave, detail={"speech": p["speech"]})
            )
        elif e.kind == "influence":
            if not p["valid"]:
                text = f"names {p['target']} as affected by {p['actor']}: rejected ({p.get('error', '')})"
            elif p["target"] is None:
                text = f"{p['actor']}'s action affects no one else"
            else:
                text = f"{p['actor']}'s action affects {p['target']}: {p['impact']}"
            lines.append(Line(scene, rnd, "influence", NARRATOR, text, bool(p["valid"])))
        elif e.kind == "verdict":
            lines.append(_verdict(scene, rnd, p))
        elif e.kind == "outcome":
            lines.append(Line(scene, rnd, "outcome", NARRATOR, p["text"]))
        elif e.kind == "state_update":
            state = ", ".join(f"{k} {v}" for k, v in p["state"].items())
            lines.append(Line(scene, rnd, "state", p["character"], f"now {p['position']}; {state}"))
        elif e.kind in ("death", "leave"):
            text = "dies" if e.kind == "death" else "leaves the scene"
            lines.append(Line(scene, rnd, e.kind, p["character"], text))
        elif e.kind == "round_summary":
            lines.append(Line(scene, rnd, "summary", NARRATOR, p["text"]))
        elif e.kind == "scene_end":
            reason = str(p["reason"]).replace("_", " ")
            text = f"scene {p['scene']} ends after {p['rounds_played']} round(s): {reason}"
            lines.append(Line(scene, rnd, "scene_end", NARRATOR, text))
    return lines


def _verdict(scene: int, rnd: int, p: Mapping[str, Any]) -> Line:
    perceived = ", ".join(p["perceived_by"]) or "nobody"
    if not p["valid"]:
        errors = "; ".join(p.get("errors", ()))
        proposed = _changes_text(p.get("proposed", ()))
        text = f"REJECTED ruling: {p['outcome']} ({errors}); proposed {proposed or 'no change'}; state kept"
        return Line(scene, rnd, "verdict", NARRATOR, text, False, dict(p))
    changes = _changes_text(p["changes"]) or "no change"
    text = f"rules: {p['outcome']} · changes: {changes} · perceived by {perceived}"
    return Line(scene, rnd, "verdict", NARRATOR, text, True, dict(p))


def screenplay_table(lines: Sequence[Line]) -> pd.DataFrame:
    """The lines as a table (scene, round, kind, who, text, valid)."""
    rows = [{c: getattr(line, c) for c in LINE_COLUMNS} for line in lines]
    return pd.DataFrame(rows, columns=LINE_COLUMNS)


# state over rounds ------------------------------------------------------------------------------------
def state_table(
    events: Sequence[Event],
    cast: Cast,
    seat: PlayerId | None,
    profiles: Mapping[str, Mapping[str, Any]] | None = None,
) -> pd.DataFrame:
    """One row per (scene, round, character) the view knows: position, alive and each state key after
    that round (round 0: the scene's start), starting from ``profiles`` (the setup's characters; by
    default the ``setup`` event's, which only the omniscient view has). The narrator's seat knows every
    character (its observation is the whole cast); a character's seat its own position and state (its
    observation's profile, then its updates) and only whether the others live."""
    own = None if seat is None else cast.character_of.get(seat)
    everyone = seat is None or seat == cast.narrator
    if profiles is None:
        setup = next((e.payload for e in events if e.kind == "setup"), None)
        profiles = setup["characters"] if setup is not None else {}
    position: dict[str, Any] = {n: None for n in cast.characters}
    state: dict[str, dict[str, Any]] = {n: {} for n in cast.characters}
    for name, c in profiles.items():
        if name in position:
            position[name], state[name] = c["position"], dict(c["state"])
    alive = {n: state[n].get("alive", True) for n in cast.characters}
    snapshots: dict[tuple[int, int], dict[str, tuple[Any, dict[str, Any], bool]]] = {}
    scene, rnd = 0, 0
    for e in events:
        p = e.payload
        if e.kind == "scene_start":
            scene, rnd = int(p["scene"]), 0
        elif e.kind in ("action", "verdict", "round_summary"):
            rnd = int(p.get("round", rnd))
        elif e.kind == "state_update":
            position[p["character"]], state[p["character"]] = p["position"], dict(p["state"])
            alive[p["character"]] = bool(p["state"].get("alive", True))
        elif e.kind == "death":
            alive[p["character"]] = False
        if scene:
            snapshots[scene, rnd] = {n: (position[n], dict(state[n]), alive[n]) for n in cast.characters}
    keys = sorted({k for s in state.values() for k in s} - {"alive"})
    rows = []
    for (s, r), shot in snapshots.items():
        for name, (pos, st, lives) in shot.items():
            known = everyone or name == own
            row = {"scene": s, "round": r, "character": name, "alive": lives}
            row |= {"position": pos if known else None}
            row |= {k: st.get(k) if known else None for k in keys}
            rows.append(row)
    return pd.DataFrame(rows, columns=["scene", "round", "character", "position", "alive", *keys])


# the judge ----------------------------------------------------------------------------------------------
def judge_scores(reader: StoreReader, episode_id: int, cast: Cast) -> pd.DataFrame:
    """The judge's score per judged seat and dimension (seat, who, dimension, score; NULL scores are
    None), in seat and rubric order; empty when the episode was never judged."""
    metrics = reader.metrics(episode_id)
    if metrics.empty:
        return pd.DataFrame(columns=SCORE_COLUMNS)
    judged = metrics[(metrics["evaluator"] == JUDGE) & metrics["name"].str.startswith("judge.")]
    rows = []
    for row in judged.itertuples():
        key = str(row.name).removeprefix("judge.")
        if key in ("overall", "valid_dimensions"):
            continue
        who = (
            NARRATOR
            if row.player_id == cast.narrator
            else cast.character_of.get(row.player_id, row.player_id)
        )
        score = None if pd.isna(row.value) else float(row.value)
        rows.append(
            {
                "seat": row.player_id,
                "who": who,
                "dimension": DIMENSION_NAMES.get(key, _title(key)),
                "score": score,
            }
        )
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def stored_profiles(reader: StoreReader, episode_id: int) -> dict[str, Mapping[str, Any]]:
    """The characters of the episode's ``setup`` event (visible to no seat: a seat's view takes only
    what its own observation showed from it); empty before the setup is written."""
    sql = "SELECT payload FROM events WHERE episode_id = ? AND kind = 'setup' LIMIT 1"
    with reader.engine.connect() as conn:
        found = conn.exec_driver_sql(sql, (episode_id,)).scalar()
    return dict(json.loads(found)["characters"]) if found else {}


def judge_critiques(reader: StoreReader, episode_id: int) -> dict[PlayerId, str | None]:
    """Each judged seat's critique (see :func:`~agents.reasoning.characterbox_judge.stored_critiques`)."""
    return stored_critiques(reader, episode_id)


def _title(key: str) -> str:
    return key.replace("_", " ").title()


def evaluate_hint(episode_id: int, db: Path | None) -> str:
    """The command that scores the episode with the judge."""
    return (
        f"sim evaluate --db {db or 'DB'} episode:{episode_id} "
        "--evaluator characterbox_judge --set model.model=MODEL"
    )
