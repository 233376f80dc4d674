"""Text rendering of repeated-game observations and events (Akata et al.'s phrasing)."""

from __future__ import annotations

from sim.types import Event, Observation


def _points(x: float) -> str:
    return f"{x:g}"


def render_observation(obs: Observation) -> str:
    """The rules from the seat's own perspective, one line per past round, and the question."""
    pub = obs.public
    a, b = pub["options"]
    lines = [
        f"You are playing a game repeatedly with another player. In this game, you can choose between "
        f"Option {a} and Option {b}."
    ]
    if pub.get("horizon") == "fixed":
        lines.append(f"You will play {pub['rounds']} rounds in total with the same player.")
    elif pub.get("horizon") == "geometric":
        lines.append(
            f"You will play an indefinite number of rounds with the same player: after each round the "
            f"game ends with probability {pub['stop_probability']:g}."
        )
    lines.append("The rules of the game are as follows:")
    for o in pub["outcomes"]:
        lines.append(
            f"If you choose Option {o['own']} and the other player chooses Option {o['other']}, then you "
            f"win {_points(o['own_points'])} points and the other player wins "
            f"{_points(o['other_points'])} points."
        )
    for r in obs.history:
        lines.append(
            f"In round {r.round}, you chose Option {r.own} and the other player chose Option {r.other}. "
            f"Thus, you won {_points(r.own_points)} points and the other player won "
            f"{_points(r.other_points)} points."
        )
    lines.append(f"You are currently playing round {obs.turn}.")
    lines.append(f"Q: Which Option do you choose, Option {a} or Option {b}?")
    if obs.feedback:
        lines.append(f"(Your previous answer was rejected: {obs.feedback})")
    return "\n".join(lines)


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
    if event.kind == "rationale":
        return f"rationale of {event.actor}: {p['text']}"
    if event.kind == "rejected":
        return f"rejected answer from {event.actor} (try {p['attempt']}): {p['error']}"
    if event.kind == "invalid":
        return f"invalid answer from {event.actor}: {p['errors'][-1]} -> fallback {p['fallback']}"
    return f"{event.kind} {event.actor or ''} {dict(p)}"
