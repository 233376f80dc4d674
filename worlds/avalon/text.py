"""Avalon observations and events as text.

The observation text is what an LLM seat reads as the game status: the rules in short, its own role
and night knowledge, one line per past quest, the proposals, votes and speeches of the current quest
(older speeches are summarised away, as in ReCon's short memory), and what to do now. It is built
only from the seat's own observation, so it cannot contain anything the seat may not know.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sim.types import Event, Observation
from sim.world import describe_generic
from worlds.avalon.roles import TITLES, Role


def role_title(role: str) -> str:
    """A role's card name (``"merlin"`` -> ``"Merlin"``)."""
    return TITLES[Role(role)]


def players_text(players: Sequence[str]) -> str:
    """``p0, p1 and p2``."""
    items = list(players)
    if len(items) <= 1:
        return "".join(items) or "nobody"
    return ", ".join(items[:-1]) + " and " + items[-1]


def rules_text(public: Mapping[str, Any]) -> str:
    """The rules in short, with this game's role set and quest sizes."""
    roles = public["role_set"]
    good = [f"{role_title(r)} x{k}" for r, k in roles.items() if Role(r).side.value == "good"]
    evil = [f"{role_title(r)} x{k}" for r, k in roles.items() if Role(r).side.value == "evil"]
    sizes = ", ".join(
        f"{s}{' (2 fails needed)' if f == 2 else ''}"
        for s, f in zip(public["quest_sizes"], public["fails_required"], strict=True)
    )
    rules = public["rules"]
    hammer = (
        "the fifth team of a quest is approved whatever the vote"
        if rules["hammer"] == "auto_approve"
        else "if five teams in a row are rejected in one quest, evil wins"
    )
    lines = [
        f"The Resistance: Avalon with {public['n_players']} players: {players_text(public['players'])}.",
        f"Good roles: {', '.join(good)}. Evil roles: {', '.join(evil)}.",
        f"Five quests; team sizes {sizes}. Good wins with three successful quests, evil with three failed.",
        "Each proposal: the leader picks the team, "
        + ("everyone speaks once, " if rules["discussion"] else "")
        + "then all vote at once; a team needs more than half of the votes"
        + (" (a tie approves)" if rules["tie_approves"] else "")
        + f"; the leader passes after every vote; {hammer}.",
        "On a quest, good players must play success; evil players may play fail. Only the number of"
        " fail cards is revealed.",
    ]
    if "assassin" in roles:
        lines.append("If good wins three quests, the Assassin names one player; naming Merlin wins for evil.")
    return "\n".join(lines)


def knowledge_text(private: Mapping[str, Any]) -> str:
    """What the seat learned at night."""
    role, known = private["role"], dict(private["known"])
    if role == "merlin":
        return (
            f"You know these players are evil: {players_text(sorted(known))}."
            if known
            else "You see no evil."
        )
    if role == "percival":
        seats = sorted(known)
        if len(seats) == 2:
            return (
                f"One of {seats[0]} and {seats[1]} is Merlin, the other is Morgana (you cannot tell which)."
            )
        return f"{players_text(seats)} is Merlin." if seats else "You do not see Merlin."
    if role == "oberon":
        return "You are evil but do not know the other evil players, and they do not know you."
    if private["side"] == "evil":
        if not known:
            return "You know of no other evil player."
        parts = [p if tag == "evil" else f"{p} ({role_title(tag)})" for p, tag in sorted(known.items())]
        return f"Your fellow evil players: {players_text(parts)}."
    return "You have no special knowledge."


def record_line(record: Any) -> str:
    """One public record (proposal, speech, vote, quest, assassination) as a line."""
    kind = record.kind
    if kind == "proposal":
        forced = " (forced: it goes on the quest without a vote)" if record.forced else ""
        team = players_text(record.team)
        return f"Quest {record.quest}, proposal {record.attempt}: {record.leader} proposes {team}{forced}."
    if kind in ("speech", "conference"):
        return f"{record.player} says: {record.text}"
    if kind == "vote":
        yes = ", ".join(p for p, v in record.votes.items() if v == "approve") or "-"
        no = ", ".join(p for p, v in record.votes.items() if v != "approve") or "-"
        result = "rejected"
        if record.approved:
            result = "approved automatically (fifth team)" if record.auto else "approved"
        team = players_text(record.team)
        return f"Vote on {team}: {result} ({record.approvals} approve: {yes}; reject: {no})."
    if kind == "quest":
        result = "succeeded" if record.success else "failed"
        cards = f"{record.fails} fail card{'s' if record.fails != 1 else ''}"
        return f"Quest {record.quest} with {players_text(record.team)} {result} ({cards})."
    if kind == "assassination":
        verdict = "right" if record.correct else "wrong"
        return f"The Assassin {record.assassin} names {record.target} as Merlin: {verdict}."
    return str(record)


def status_text(obs: Observation) -> str:
    """Past quests in one line each, then everything said and voted in the current quest."""
    pub = obs.public
    current = pub["quest"]
    lines = []
    for record in obs.history:  # past quests: votes and results only; the current quest: everything
        if record.kind in ("quest", "vote", "assassination") or record.quest == current:
            lines.append(record_line(record))
    conference = obs.private.get("conference")
    if conference:
        lines.append("Evil conference (only evil players see this):")
        lines += [record_line(r) for r in conference]
    results = ", ".join(pub["results"]) or "none yet"
    attempt, leader = pub["attempt"], pub["leader"]
    head = f"Quest results so far: {results}. Quest {current}, proposal {attempt}, leader {leader}."
    return "\n".join([head, *lines])


def instruction_text(obs: Observation) -> str:
    """What the seat must do now."""
    pub, phase, me = obs.public, obs.phase, obs.player
    team = players_text(pub["team"])
    if phase == "end":
        roles = ", ".join(f"{p} ({role_title(r)})" for p, r in pub["roles"].items())
        return f"The game is over: {pub['winner']} wins ({pub['reason'].replace('_', ' ')}). Roles: {roles}."
    if obs.legal is None:
        return f"Waiting for others ({phase})."
    if phase == "propose":
        size = pub["quest_sizes"][pub["quest"] - 1]
        quest = pub["quest"]
        return (
            f"You are the leader. Choose exactly {size} players for quest {quest} (you may include yourself)."
        )
    if phase == "discuss":
        return f"Your turn to speak about the proposed team {team}. Everyone will hear you."
    if phase == "vote":
        left = 5 - pub["rejections"]
        quest = pub["quest"]
        return (
            f"Vote to approve or reject {team} for quest {quest} ({left} proposals left before the hammer)."
        )
    if phase == "quest":
        if obs.private["side"] == "good":
            return "You are on the quest. As a good player you must play success."
        return "You are on the quest. Play success or fail."
    if phase == "confer":
        return (
            "Speak to your fellow evil players before the Assassin names Merlin. Only evil players hear you."
        )
    if phase == "assassinate":
        return f"You are the Assassin. Name the player you believe is Merlin (you are {me})."
    return ""


def render_observation(obs: Observation) -> str:
    """The whole text of an observation."""
    private = obs.private
    return "\n\n".join(
        [
            rules_text(obs.public),
            f"You are {obs.player}. Your role: {role_title(private['role'])} ({private['side']}). "
            + knowledge_text(private),
            status_text(obs),
            instruction_text(obs),
        ]
    )


def describe_event(event: Event) -> str:
    """One transcript line per event."""
    p = event.payload
    kind = event.kind
    if kind == "start":
        return f"Avalon with {players_text(p['players'])}; first leader {p['leader']}."
    if kind == "setup":
        return "Roles: " + ", ".join(f"{s} {role_title(r)}" for s, r in p["roles"].items())
    if kind == "night":
        return f"{event.actor} is {role_title(p['role'])} and sees {known_text(p['known'])}."
    if kind == "proposal":
        return f"{p['leader']} proposes {players_text(p['team'])} for quest {p['quest']}" + (
            " (forced)" if p["forced"] else ""
        )
    if kind in ("speech", "confer"):
        return f"{p['player']}{' (to evil)' if kind == 'confer' else ''}: {p['text']}"
    if kind == "vote":
        votes = " ".join(f"{s}:{'+' if v == 'approve' else '-'}" for s, v in p["votes"].items())
        return (
            f"vote {'approved' if p['approved'] else 'rejected'} {p['approvals']}/{len(p['votes'])}  {votes}"
        )
    if kind == "quest_card":
        return f"{event.actor} plays {p['card']} on quest {p['quest']}"
    if kind == "quest":
        return f"quest {p['quest']} {'succeeds' if p['success'] else 'fails'} ({p['fails']} fails)"
    if kind == "assassination":
        return f"{p['assassin']} assassinates {p['target']}: {'Merlin!' if p['correct'] else 'not Merlin'}"
    if kind == "end":
        return f"{p['winner']} wins ({p['reason']})"
    return describe_generic(event)  # the engine's rationale, rejected and invalid events


def known_text(known: Mapping[str, str]) -> str:
    """Night knowledge in words: ``p4 and p5 as evil``, ``p0 and p4 as Merlin or Morgana``."""
    by_tag: dict[str, list[str]] = {}
    for seat, tag in sorted(known.items()):
        by_tag.setdefault(tag, []).append(seat)
    if not by_tag:
        return "nothing"
    return "; ".join(f"{players_text(seats)} as {tag_text(tag)}" for tag, seats in by_tag.items())


def tag_text(tag: str) -> str:
    """A night tag (``evil``, a role, or roles joined by ``_or_``) in words."""
    names = tag.split("_or_")
    if all(n in Role.__members__.values() for n in names):
        return " or ".join(role_title(n) for n in names)
    return tag.replace("_", " ")
