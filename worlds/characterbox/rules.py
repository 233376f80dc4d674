"""Pure checks and updates of ``roleplay/characterbox-v1``: who may be affected, whether a verdict is
valid, and what it changes. Nothing here raises on a bad answer: problems are returned, to be logged."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from worlds.characterbox.scene import StateValue


def influence_problem(
    target: str | None,
    actor: str,
    present: Collection[str],
    alive: Mapping[str, bool],
    acted: Collection[str],
) -> str | None:
    """Why ``target`` cannot react to ``actor`` now (None: it can, or there is no target)."""
    if target is None:
        return None
    if target == actor:
        return f"{target} is the actor itself"
    if target not in present:
        return f"{target} is not in the scene"
    if not alive[target]:
        return f"{target} is dead"
    if target in acted:
        return f"{target} has already acted this round"
    return None


def verdict_problems(
    verdict: Mapping[str, Any], present: Collection[str], alive: Mapping[str, bool]
) -> tuple[list[str], int]:
    """The verdict's problems (an absent or dead character changed or perceiving, a character changed
    twice), and how many of them treat a dead character as alive."""
    problems: list[str] = []
    dead = 0
    seen: set[str] = set()
    named = [(c["character"], "changed") for c in verdict["changes"]]
    named += [(p, "perceiving") for p in verdict["perceived_by"]]
    for name, how in named:
        if name not in present:
            problems.append(f"{name} ({how}) is not in the scene")
        elif not alive[name]:
            problems.append(f"{name} ({how}) is dead")
            dead += 1
    for change in verdict["changes"]:
        if change["character"] in seen:
            problems.append(f"{change['character']} is changed twice")
        seen.add(change["character"])
    return problems, dead


def effective_changes(
    changes: Iterable[Mapping[str, Any]],
    positions: Mapping[str, str],
    states: Mapping[str, Mapping[str, StateValue]],
) -> list[dict[str, Any]]:
    """The changes that change something: per character, a new position and/or the state keys that differ."""
    out = []
    for change in changes:
        name = change["character"]
        entry: dict[str, Any] = {"character": name}
        position = change.get("position")
        if position is not None and position != positions[name]:
            entry["position"] = position
        new_state = {
            k: v for k, v in (change.get("state") or {}).items() if v is not None and states[name].get(k) != v
        }
        if new_state:
            entry["state"] = new_state
        if len(entry) > 1:
            out.append(entry)
    return out
