"""Meetings: the call, the discussion rounds (with the optional survey before the first speech and after
each one), the vote with SKIP as a candidate, and the return to tasks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from sim.types import Action, Event
from worlds.among_us import rules
from worlds.among_us.records import Phase
from worlds.among_us.state import Meeting
from worlds.among_us.task_round import Call

if TYPE_CHECKING:
    from worlds.among_us.world import AmongUsWorld


def start(world: AmongUsWorld, call: Call) -> Event:
    """Mark every body reported, announce every death so far, gather the living, count one turn."""
    s, params = world.state, world.params
    s.meetings += 1
    newly_dead = [p for p in world.players if not s.alive[p] and p not in s.known_dead]
    s.known_dead += newly_dead
    s.bodies.clear()
    living = s.living()
    for p in living:
        s.room[p] = world.map.meeting_room
    s.clock += 1
    queue = [
        (r + 1, p)
        for r in range(params.discussion_rounds)
        for p in rules.speaking_order(living, call.caller, params.discussion_order, world.rng)
    ]
    s.meeting = Meeting(s.meetings, call.caller, call.call, call.room, call.body, queue)
    discussion = _after_survey(queue)  # the meeting's phase, after the first survey if any
    world.phase = Phase.SURVEY if params.survey else discussion
    payload = {
        "number": s.meetings,
        "caller": call.caller,
        "call": call.call,
        "room": call.room,
        "body": call.body,
        "dead": newly_dead,
        "alive": living,
        "buttons_left": s.buttons if isinstance(s.buttons, int) else s.buttons[call.caller],
    }
    return Event(world.steps, discussion.value, "meeting", payload, actor=call.caller)


def speak(world: AmongUsWorld, actions: Mapping[str, Action]) -> list[Event]:
    """The next speaker's message, broadcast; the vote follows the last one."""
    meeting = world.state.meeting
    assert meeting is not None
    round_, speaker = meeting.queue.pop(0)
    speech = {
        "meeting": meeting.number,
        "round": round_,
        "player": speaker,
        "text": str(actions[speaker].value),
    }
    meeting.speeches.append(speech)
    event = Event(world.steps, Phase.DISCUSS.value, "speech", speech, actor=speaker)
    if world.params.survey:
        world.phase = Phase.SURVEY
    elif not meeting.queue:
        world.phase = Phase.VOTE
    return [event]


def survey(world: AmongUsWorld, actions: Mapping[str, Action]) -> list[Event]:
    """Every living seat's private answer to "who is most suspicious?" (an event nobody sees), after
    the latest speech (or before the first); then the next speech, or the vote."""
    meeting = world.state.meeting
    assert meeting is not None
    last = meeting.speeches[-1] if meeting.speeches else None
    payload = {
        "meeting": meeting.number,
        "after": last["player"] if last else None,
        "speech": len(meeting.speeches) - 1 if last else None,
        "answers": {p: str(actions[p].value) for p in world.state.living()},
    }
    world.phase = _after_survey(meeting.queue)
    return [Event(world.steps, Phase.SURVEY.value, "survey", payload, visible_to=())]


def _after_survey(queue: list[tuple[int, str]]) -> Phase:
    """The next speech while speakers are left, else the vote."""
    return Phase.DISCUSS if queue else Phase.VOTE


def vote(world: AmongUsWorld, actions: Mapping[str, Action]) -> list[Event]:
    """Tally the votes (skip competes; only a strict plurality ejects) and eject."""
    s = world.state
    meeting = s.meeting
    assert meeting is not None
    votes = {p: str(actions[p].value) for p in s.living()}
    counts, ejected = rules.tally(votes)
    s.ejections.append(ejected)
    payload = {"meeting": meeting.number, "votes": votes, "tally": counts, "ejected": ejected}
    events = [Event(world.steps, Phase.VOTE.value, "vote", payload)]
    if ejected is not None:
        s.alive[ejected] = False
        s.known_dead.append(ejected)
        eject: dict[str, object] = {"player": ejected}
        if world.params.confirm_ejects:
            eject["role"] = s.roles[ejected].value
        events.append(Event(world.steps, Phase.VOTE.value, "eject", eject, actor=ejected))
    return events


def close(world: AmongUsWorld) -> None:
    """Back to the task phase at the meeting room, every impostor's cooldown reset to K."""
    s = world.state
    s.meeting = None
    for p in s.kill_cd:
        s.kill_cd[p] = world.params.kill_cooldown
    world.phase = Phase.TASKS
