"""Among Us as text: an observation for a reader (LLM or human) and one line per event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.types import Event, Observation
from worlds.among_us.observations import AmongUsPrivate, AmongUsPublic
from worlds.among_us.records import SKIP, Phase, Role

BRANCH_TEXT = {
    "move": "walk to a neighbouring room",
    "vent": "vent to a connected room",
    "task": "do a task here",
    "fake_task": "pretend to do a task",
    "kill": "kill someone here",
    "report": "report the body here",
    "button": "call an emergency meeting",
    "wait": "wait",
}


def describe_event(event: Event) -> str:
    """One readable transcript line."""
    p: Mapping[str, Any] = event.payload
    kind = event.kind
    if kind == "start":
        n, k = len(p["players"]), p["impostors"]
        return f"{n} players, {k} impostor(s), map {p['map']}; everyone at {p['spawn']}"
    if kind == "setup":
        impostors = [q for q, r in p["roles"].items() if r == Role.IMPOSTOR]
        return f"deal: impostors {', '.join(impostors)}"
    if kind == "role":
        if p["role"] == Role.IMPOSTOR:
            partners = ", ".join(p["impostors"]) or "none"
            return f"{event.actor} is an impostor (fellow impostors: {partners})"
        return f"{event.actor} is a crewmate with tasks: {'; '.join(p['tasks'])}"
    if kind == "move":
        return f"{p['player']} walks from {p['from']} to {p['to']}"
    if kind == "vent":
        return f"{p['player']} vents from {p['from']} to {p['to']}"
    if kind == "appear":
        return f"{p['player']} appears in {p['room']}"
    if kind == "sight":
        here = ", ".join(p["occupants"]) or "nobody"
        bodies = f"; bodies: {', '.join(p['bodies'])}" if p["bodies"] else ""
        return f"{p['player']} sees in {p['room']}: {here}{bodies}"
    if kind == "kill":
        seen = ", ".join(p["witnesses"]) or "nobody"
        return f"{p['killer']} kills {p['victim']} in {p['room']} (witnesses: {seen})"
    if kind == "kill_failed":
        return f"{p['killer']} fails to kill {p['target']} ({p['reason']})"
    if kind == "task":
        return f"{p['player']} works on {p['task']} in {p['room']} ({p['done']}/{p['turns']})"
    if kind == "fake_task":
        return f"{p['player']} pretends to do a task in {p['room']}"
    if kind == "busy":
        return f"{p['player']} seems to be doing a task in {p['room']}"
    if kind == "meeting":
        why = f"reported {p['body']}'s body in {p['room']}" if p["call"] == "report" else "pressed the button"
        dead = ", ".join(p["dead"]) or "nobody new"
        return f"meeting {p['number']}: {p['caller']} {why}; dead: {dead}"
    if kind == "speech":
        return f"{p['player']} (round {p['round']}): {p['text']}"
    if kind == "survey":
        when = f"after {p['after']}'s speech" if p["after"] else "before the first speech"
        answers = ", ".join(f"{v}->{t}" for v, t in p["answers"].items())
        return f"survey, meeting {p['meeting']}, {when}: most suspicious ({answers})"
    if kind == "vote":
        votes = ", ".join(f"{v}->{t}" for v, t in p["votes"].items())
        tally = ", ".join(f"{t}: {c}" for t, c in p["tally"].items())
        result = f"{p['ejected']} is ejected" if p["ejected"] else "nobody is ejected"
        return f"vote ({votes}); tally {tally}; {result}"
    if kind == "eject":
        role = (
            f" (was {'an impostor' if p['role'] == Role.IMPOSTOR else 'a crewmate'})" if "role" in p else ""
        )
        return f"{p['player']} is ejected{role}"
    if kind == "end":
        side = {Role.IMPOSTOR: "the impostors", Role.CREWMATE: "the crew"}.get(p["winner"], "nobody")
        return f"game over: {side} win ({p['reason']}) after {p['clock']} turns"
    return f"{kind} {event.actor or ''} {dict(p)}"


def render_observation(obs: Observation) -> str:
    """Rules summary, own role and room, tasks, the meeting, recent sightings, what to answer."""
    pub, priv = obs.public, obs.private
    assert isinstance(pub, AmongUsPublic) and isinstance(priv, AmongUsPrivate)
    lines = [
        f"Among Us on {pub.map_name}: {len(pub.players)} players ({', '.join(pub.players)}), "
        f"{pub.n_impostors} impostor(s); kill cooldown {pub.rules['kill_cooldown']} rounds; "
        f"time {pub.clock}/{pub.max_turns}.",
        f"You are {obs.player}, {'an impostor' if priv.role is Role.IMPOSTOR else 'a crewmate'}"
        + (" (dead)." if not priv.alive else "."),
    ]
    if priv.impostors is not None:
        lines.append(
            f"Fellow impostors: {', '.join(priv.impostors) or 'none'}. Kill cooldown: {priv.kill_cooldown}."
        )
    lines.append(f"You are in {priv.room}. Here: {', '.join(priv.occupants) or 'nobody else'}.")
    if priv.bodies:
        lines.append(f"Dead bodies here: {', '.join(priv.bodies)}.")
    label = "Fake tasks (for alibis)" if priv.role is Role.IMPOSTOR else "Your tasks"
    tasks = "; ".join(f"{t.name} in {t.room} {t.done}/{t.turns}" for t in priv.tasks) or "none"
    lines.append(f"{label}: {tasks}.")
    if pub.known_dead:
        lines.append(f"Known dead: {', '.join(pub.known_dead)}.")
    recent = [describe_record(r) for r in list(obs.history)[-8:] if r["kind"] not in ("start", "role")]
    if recent:
        lines.append("Recently seen:\n" + "\n".join(f"- {line}" for line in recent))
    if pub.meeting is not None:
        m = pub.meeting
        lines.append(f"Meeting {m.number} called by {m.caller} ({m.call} in {m.room}).")
        lines += [f"  {s['player']}: {s['text']}" for s in m.speeches]
    if pub.phase is Phase.END:
        lines.append(f"The game is over: {pub.winner or 'nobody'} won ({pub.reason}).")
    legal = obs.legal
    if legal is not None and pub.phase is Phase.TASKS:
        options = [
            f"- {name}: {BRANCH_TEXT[name]}" + (f" ({', '.join(arg.options)})" if arg is not None else "")
            for name, arg in legal.branches
        ]
        lines.append("Choose one action:\n" + "\n".join(options))
    elif legal is not None and pub.phase is Phase.SURVEY:
        lines.append(
            "Survey (nobody sees your answer): who is most suspicious? "
            f"Name one of {', '.join(o for o in legal.options if o != SKIP)}, or {SKIP}."
        )
    elif legal is not None and pub.phase is Phase.VOTE:
        lines.append(f"Vote to eject one of {', '.join(o for o in legal.options if o != SKIP)}, or {SKIP}.")
    elif legal is not None:
        lines.append("It is your turn to speak to the meeting.")
    return "\n".join(lines)


def describe_record(record: Mapping[str, Any]) -> str:
    """A history record (an event's payload with its kind) as a line."""
    payload = {k: v for k, v in record.items() if k not in ("turn", "phase", "kind")}
    return describe_event(Event(record["turn"], record["phase"], record["kind"], payload))
