"""Text of repeated-game observations (the prompt pack's template of Akata et al.'s phrasing) and events."""

from __future__ import annotations

from sim.types import Event, Observation
from sim.world import describe_generic
from worlds.repeated.prompt_pack import RepeatedPromptPack


def _points(x: float) -> str:
    return f"{x:g}"


_PACK = RepeatedPromptPack()


def render_observation(obs: Observation) -> str:
    """Akata's prompt in the game framing (the prompt pack's ``text.j2``): the rules from the seat's
    own perspective, one line per past round, and the question."""
    return _PACK.world_text(obs)


def describe_event(event: Event) -> str:
    """One readable transcript line."""
    p = event.payload
    if event.kind == "start":
        horizon = (
            f"{p['rounds']} rounds"
            if p.get("horizon") == "fixed"
            else (f"stop p={p['stop_probability']}" if p.get("horizon") == "geometric" else "hidden horizon")
        )
        return f"{p['game']} ({'/'.join(p['labels'])}), {horizon}"
    if event.kind == "setup":
        return "setup: " + ", ".join(f"{k}={v}" for k, v in sorted(p.items()))
    if event.kind == "round":
        moves = "  ".join(f"{k}:{v}" for k, v in p["moves"].items())
        pays = " / ".join(_points(v) for v in p["payoffs"].values())
        return f"round {p['round']:>3}  {moves}  -> {pays}"
    if event.kind == "noise":
        return f"noise: {event.actor} meant {p['intended']}, played {p['played']}"
    if event.kind == "end":
        return f"end after {p['rounds']} rounds: " + ", ".join(
            f"{k} {_points(v)}" for k, v in p["scores"].items()
        )
    return describe_generic(event)  # the engine's rationale, rejected and invalid events
