"""Helpers for Among Us LLM tests: a test-server policy that plays like a (dumb) player, and the prompt
leak check over a store's ``llm_calls``."""

from __future__ import annotations

import json
import random
import re
import sqlite3
from collections import defaultdict
from typing import Any

from sim.llm.testserver import Request, answer
from sim.llm.testserver.request import last_user_text

from .test_among_us_leaks import REVEALING

PREFERRED = ("kill", "report", "task")


def player_policy(seed: int = 0, prefer: tuple[str, ...] = PREFERRED, button: float = 0.0) -> Any:
    """Task rounds: the first branch of ``prefer`` offered (default: kill, report, do a task), else the
    button with probability ``button`` when offered, else walk to a random neighbour; speeches, votes
    and surveys: a seeded random option. Drawn from an RNG seeded with ``seed`` and the prompt (not the
    request number: seats ask at once, in any order), never the global RNG."""

    def reply(req: Request) -> str:
        rng = random.Random(f"{seed}/{last_user_text(req)}")
        defs = (req.schema or {}).get("$defs", {})
        branches = {name.removeprefix("Branch_"): d for name, d in defs.items() if name.startswith("Branch_")}
        if not branches:
            return answer(req, rng.choice)
        name = next((b for b in prefer if b in branches), "move")
        if name == "move" and "button" in branches and rng.random() < button:
            name = "button"
        value = branches[name]["properties"].get("value", {})
        target = (
            value["const"] if "const" in value else rng.choice(value["enum"]) if "enum" in value else None
        )
        return json.dumps({"action": {"branch": name, "value": target}})

    return reply


def prompt_of(messages: str) -> str:
    """The user message of a stored ``llm_calls.messages`` (the first ask's prompt)."""
    return next(m["content"] for m in json.loads(messages) if m["role"] == "user")


def crewmate_prompt_leaks(conn: sqlite3.Connection) -> tuple[int, list[str]]:
    """Check every stored prompt of a crewmate seat: no line that says "impostor" names an impostor
    unless a confirmed ejection revealed it, and no line shows an impostor killing or venting unless that
    crewmate saw it (an event visible to it at or before the prompt's turn). Returns (prompts checked,
    problems)."""
    roles: dict[int, dict[str, str]] = {}
    revealing: dict[tuple[int, str], list[tuple[int, str]]] = defaultdict(list)
    kinds = ("setup", "eject", *REVEALING)
    for episode, kind, turn, visible, payload in conn.execute(
        f"SELECT episode_id, kind, turn, visible_to, payload FROM events WHERE kind IN {kinds!r}"
    ):
        data = json.loads(payload)
        if kind == "setup":
            roles[episode] = data["roles"]
            continue
        seen = json.loads(visible)
        actor = data.get("killer") or data.get("player")
        if kind == "eject" and data.get("role") != "impostor":
            continue
        for seat in roles.get(episode, {}) if seen == "all" else seen:
            revealing[(episode, seat)].append((turn, actor))
    checked, problems = 0, []
    rows = conn.execute("SELECT episode_id, player_id, turn, messages FROM llm_calls WHERE attempt = 1")
    for episode, seat, turn, messages in rows:
        deal = roles[episode]
        if deal[seat] != "crewmate":
            continue
        checked += 1
        known = {actor for t, actor in revealing[(episode, seat)] if t <= turn}
        for impostor in (p for p, r in deal.items() if r == "impostor" and p not in known):
            named = re.compile(rf"(?<!\w){impostor}(?!\w)")
            for text in prompt_of(messages).splitlines():
                if named.search(text) and "impostor" in text.lower():
                    problems.append(f"{seat} turn {turn} reads {text!r}")
                if re.search(rf"(?<!\w){impostor} (kills|vents|appears)", text):
                    problems.append(f"{seat} turn {turn} sees an unwitnessed {text!r}")
    return checked, problems
