"""Readable text of ``roleplay/characterbox-v1``: an observation as a prompt context, an event as one
transcript line (the omniscient transcript is every event in order, each described)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.types import Event, Observation
from sim.world import describe_generic
from worlds.characterbox.records import Phase

TASKS = {
    Phase.ACT: "Act now: one observable physical action, and optionally one line of speech.",
    Phase.REACT: "React now to what was done to you: one observable physical action, optionally speech.",
    Phase.INFLUENCE: "Name the one character physically affected by this action (one who has not acted "
    "this round), or null, and the impact on them.",
    Phase.RULE: "Rule on the interaction: the immediate outcome, each changed character's new position "
    "and state, and who perceives it.",
    Phase.SUMMARY: "Summarise this round in one paragraph, in order, without interpretation.",
}


def _join(items: Any) -> str:
    return "; ".join(str(i) for i in items) if items else "none"


def _profile(c: Mapping[str, Any]) -> list[str]:
    state = ", ".join(f"{k}: {v}" for k, v in c["state"].items())
    return [
        f"{c['name']}: {c['profile']}",
        f"  personality: {c.get('personality') or '-'}; speech style: {c.get('speech_style') or '-'}",
        f"  knowledge: {_join(c.get('knowledge'))}",
        f"  goal: {c.get('goal') or '-'}; secret: {c.get('secret') or '-'}",
        f"  position: {c['position']}; state: {state}",
    ]


def render_observation(obs: Observation) -> str:
    """The world, the scene, the seat's own knowledge, what it has perceived, and its task."""
    pub, priv = obs.public, obs.private
    lines = [
        f"World: {pub.world}",
        f"Scene {pub.scene}/{pub.scenes}: {pub.title} ({pub.time}, {pub.location}). {pub.description}",
        f"Round {pub.round} of {pub.rounds}.",
        "Present: " + ", ".join(f"{p.name} ({p.position}{'' if p.alive else ', dead'})" for p in pub.present),
    ]
    if priv.seat_role == "narrator":
        lines += ["You are the narrator: you see everything and keep the world consistent.", "Characters:"]
        for c in (priv.cast or {}).values():
            lines += _profile(c)
        lines.append(f"Rules: {_join(priv.rules)}")
        if priv.interaction:
            lines.append(f"Interaction: {dict(priv.interaction)}")
        if priv.scripted:
            lines.append(f"Scripted this round: {list(priv.scripted)}")
    elif priv.seat_role == "character" and priv.character is not None:
        lines += [f"You are {priv.character['name']}.", *_profile(priv.character)]
        if priv.premise:
            lines.append(f"Premise: {priv.premise}")
        for r in priv.relationships or ():
            lines.append(f"Relationship: {r['a']} and {r['b']}: {r['type']} {r.get('note', '')}".rstrip())
        if priv.reacting_to:
            r = priv.reacting_to
            lines.append(
                f"{r['actor']} did: {r['action']} said: {r['speech']!r}; impact on you: {r['impact']}"
            )
    if obs.history:
        lines.append("What you perceived:")
        lines += [f"- {describe_record(r)}" for r in list(obs.history)[-30:]]
    if obs.legal is not None:
        lines.append(TASKS.get(Phase(obs.phase), ""))
    return "\n".join(lines)


#: One line per event kind that needs no more than its payload's fields (``str.format``).
LINES = {
    "scene_start": "scene {scene}: {title} ({time}, {location}): {description}",
    "premise": "premise for {character}: {text}",
    "outcome": "outcome: {text}",
    "state_update": "{character} is now {position}, {state}",
    "death": "{character} dies",
    "leave": "{character} leaves the scene",
    "round_summary": "round {round} summary: {text}",
    "scene_end": "scene {scene} ends after {rounds_played} round(s): {reason}",
    "end": "the story ends; alive: {alive}",
}


def describe_record(r: Mapping[str, Any]) -> str:
    """One line for an event's payload (with its ``kind``)."""
    kind = r["kind"]
    if kind in LINES:
        return LINES[kind].format_map(r)
    if kind == "setup":
        return f"setup: {len(r['characters'])} characters, {len(r['scenes'])} scenes; seats {r['seats']}"
    if kind == "action":
        verb = "reacts" if r["reaction"] else "acts"
        said = f' and says "{r["speech"]}"' if r["speech"] else ""
        return f"{r['character']} {verb}: {r['action']}{said}{' (leaves)' if r['leave'] else ''}"
    if kind == "influence":
        if not r["valid"]:
            return f"narrator names {r['target']} as affected by {r['actor']}: invalid ({r['error']})"
        if r["target"] is None:
            return f"narrator: {r['actor']}'s action affects no one else"
        return f"narrator: {r['actor']}'s action affects {r['target']}: {r['impact']}"
    if kind == "verdict":
        if not r["valid"]:
            return f"narrator's verdict is invalid ({'; '.join(r['errors'])}); nothing changes"
        seen = ", ".join(r["perceived_by"]) or "nobody"
        return f"narrator rules: {r['outcome']} (changes {r['changes']}; perceived by {seen})"
    return f"{kind}: {dict(r)}"


def describe_event(event: Event) -> str:
    """One transcript line for an event."""
    if event.kind in ("rationale", "rejected", "invalid"):
        return describe_generic(event)
    return describe_record({"kind": event.kind, **event.payload})
