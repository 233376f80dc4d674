"""Among Us's prompt pack: one template per phase over the seat's typed observation and bounded memory.

Every prompt starts with ``situation.j2`` (the rules, the map, the seat's role, room, tasks, what it
remembers, the meeting in progress), then asks one thing, and ends with ``answer.j2`` (a filled-in example
answer and the allowed values, :mod:`sim.answer_examples`; never the raw JSON Schema):

- ``act.j2`` (task rounds, stage ``act``): one ONE_OF answer, a branch and its target;
- ``speak.j2`` (discussion, ``speak``): free text within the world's length cap;
- ``vote.j2`` (the vote, ``vote``): a living other player or ``skip``;
- ``survey.j2`` (the survey, ``survey``): "who is most suspicious?", a living other player or ``skip``.

Logged purposes are ``among_us.<stage>``. Memory (:mod:`worlds.among_us.memory`): the last
``window`` history records verbatim and a facts summary of the older ones, so prompts stay bounded in
long games; :class:`AmongUsPromptSettings` carries the window and summary mode (the ``among_us_llm``
agent's config; the generic ``llm`` agent gets the defaults). Prompts are built from the typed
observation, not the world's text, so the engine renders no text for these seats.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from sim.prompts import Decision, PhasePromptPack, PromptSettings
from sim.types import ActionKind, Observation
from worlds.among_us.memory import SummaryMode, memory
from worlds.among_us.observations import AmongUsPrivate, AmongUsPublic
from worlds.among_us.records import SKIP, Role
from worlds.among_us.text import BRANCH_TEXT

#: The stage (template and logged purpose) of each phase a seat is asked to act in.
STAGES = {"tasks": "act", "discuss": "speak", "vote": "vote", "survey": "survey"}
DEFAULT_WINDOW = 12
DEFAULT_SUMMARY: SummaryMode = "facts"
#: The example text of a speech in the answer format.
SPEECH_PLACEHOLDER = {"text": "what you say to the meeting"}


@dataclass(frozen=True)
class AmongUsPromptSettings(PromptSettings):
    """Prompt settings plus the memory: records shown verbatim, and how older ones are summarised."""

    window: int = DEFAULT_WINDOW
    summary: SummaryMode = DEFAULT_SUMMARY


class AmongUsPromptPack(PhasePromptPack):
    """Per-phase prompts over the typed observation, with a bounded memory."""

    templates: ClassVar[Path] = Path(__file__).parent / "prompts"
    purpose_prefix: ClassVar[str | None] = "among_us"
    stages: ClassVar[Mapping[str, str]] = STAGES

    def context(self, decision: Decision, stage: str) -> dict[str, Any]:
        """The situation, then what the stage asks about (task round, speech, vote or survey)."""
        obs = decision.observation
        return {**situation(obs, decision.settings), **question(obs), "feedback": obs.feedback}

    def placeholders(self, stage: str) -> Mapping[str, str] | None:
        """A speech's example text."""
        return SPEECH_PLACEHOLDER if stage == "speak" else None


def situation(obs: Observation, settings: PromptSettings) -> dict[str, Any]:
    """What ``situation.j2`` shows: the public table and the seat's own view and memory."""
    pub, me = obs.public, obs.private
    assert isinstance(pub, AmongUsPublic) and isinstance(me, AmongUsPrivate)
    window, summary = (
        (settings.window, settings.summary)
        if isinstance(settings, AmongUsPromptSettings)
        else (DEFAULT_WINDOW, DEFAULT_SUMMARY)
    )
    meeting = pub.meeting
    return {
        "me": obs.player,
        "players": pub.players,
        "n_impostors": pub.n_impostors,
        "kill_cooldown": pub.rules["kill_cooldown"],
        "timeout_winner": pub.rules["timeout_winner"],
        "confirm_ejects": pub.rules["confirm_ejects"],
        "map_name": Path(pub.map_name).stem,
        "corridors": [f"{a} - {b}" for a, b in pub.corridors],
        "vents": [f"{a} - {b}" for a, b in pub.vents],
        "role": me.role.value,
        "alive": me.alive,
        "partners": me.impostors or (),
        "kill_cooldown_left": me.kill_cooldown,
        "step": obs.turn,
        "clock": pub.clock,
        "max_turns": pub.max_turns,
        "known_dead": pub.known_dead,
        "buttons_left": me.buttons_left if me.buttons_left is not None else pub.buttons_left,
        "room": me.room,
        "occupants": me.occupants,
        "bodies": me.bodies,
        "tasks": [f"{t.name} in {t.room} {t.done}/{t.turns}" for t in me.tasks]
        if me.role is Role.CREWMATE
        else [f"{t.name} in {t.room}" for t in me.tasks],
        "memory": memory(obs, window, summary),
        "meeting": meeting,
        "speeches": [f"{s['player']}: {s['text']}" for s in meeting.speeches] if meeting else [],
    }


def question(obs: Observation) -> dict[str, Any]:
    """What the stage's own template asks about: the branches, the candidates or the length cap."""
    legal = obs.action_spec()
    if legal.kind is ActionKind.ONE_OF:
        branches = [
            f"{name}: {BRANCH_TEXT.get(name, name)}" + (f" ({', '.join(arg.options)})" if arg else "")
            for name, arg in legal.branches
        ]
        return {"branches": branches}
    if legal.kind is ActionKind.TEXT:
        return {"max_chars": legal.max_chars}
    return {"candidates": [o for o in legal.options if o != SKIP]}
