"""CharacterBox's prompt pack: one template per phase over the seat's typed observation.

A character's prompts (``character.j2``: the world, the scene, its OWN profile, goal, secret, state,
premise and relationships, who is present, its memory, its latest belief/desire/intention) ask for:

- ``act.j2`` (stage ``act``): one physical action plus optional speech;
- ``react.j2`` (``react``): the same, in answer to what was done to it;
- ``bdi.j2`` (``bdi``): a first-person belief, desire and intention for this round (asked by the
  ``characterbox_llm`` agent, :mod:`agents.reasoning.characterbox`, before its round's action).

The narrator's prompts (``narrator.j2``: it is omniscient, so every character in full, the rules, the
recent events, who has acted, the interaction and this round's scripted changes) ask for:

- ``influence.j2`` (``influence``): the one character affected, or null;
- ``rule.j2`` (``rule``): the verdict (outcome, changes, who perceives it);
- ``summary.j2`` (``summary``): the round in one paragraph.

A character's prompt never carries another character's goal, secret or state: only what it perceived
(its observation history) and who is present (positions, alive). Memory
(:mod:`worlds.characterbox.memory`): the last ``window`` perceived records verbatim and the ``retrieve_k``
older ones that best match the situation (lexical, deterministic), so prompts stay bounded.

Every prompt starts with one fixed header line, ``[scene S, round R | STAGE | WHO] ...`` (WHO: the
character asked, or for the narrator's influence and rule the character whose action it rules on, and
``narrator`` for the summary); :meth:`CharacterBoxPromptPack.read_call_key` reads it back so a test
model can key its answers. Logged purposes are ``characterbox.<stage>``. Answers: a filled-in example
and the allowed values (:mod:`sim.answer_examples`), never the raw schema.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from sim.prompts import Decision, PhasePromptPack, Prompt, PromptSettings
from sim.types import Observation
from worlds.characterbox.memory import recollect, tagged_lines
from worlds.characterbox.observations import CharacterBoxPrivate, CharacterBoxPublic
from worlds.characterbox.records import Phase

DEFAULT_WINDOW = 12
DEFAULT_RETRIEVE = 4
#: Records of the narrator's (omniscient) history shown in its prompts.
NARRATOR_WINDOW = 24
BDI_MAX = 300
NARRATOR = "narrator"
#: The prompt stage of each phase.
STAGES: dict[str, str] = {
    Phase.ACT: "act",
    Phase.REACT: "react",
    Phase.INFLUENCE: "influence",
    Phase.RULE: "rule",
    Phase.SUMMARY: "summary",
}
CHARACTER_STAGES = ("act", "react", "bdi")
HEADER = re.compile(r"^\[scene (\d+), round (\d+) \| (\w+) \| ([^\]]+)\]", re.MULTILINE)
#: Example text of the free-text fields in the answer formats.
PLACEHOLDERS = {
    "action": "one physical action, in the third person",
    "speech": "what you say aloud, or empty",
    "impact": "the physical impact on that character",
    "outcome": "what happens, in a terse omniscient voice",
    "text": "the round in one paragraph",
    "belief": "what I believe now, in the first person",
    "desire": "what I want now",
    "intention": "what I mean to do this round",
}


class BeliefDesireIntention(BaseModel):
    """A character's first-person belief, desire and intention for this round (short)."""

    model_config = ConfigDict(extra="forbid")
    belief: str = Field(min_length=1, max_length=BDI_MAX, description="what I believe about the situation")
    desire: str = Field(min_length=1, max_length=BDI_MAX, description="what I want")
    intention: str = Field(min_length=1, max_length=BDI_MAX, description="what I mean to do this round")


@dataclass(frozen=True)
class CharacterBoxPromptSettings(PromptSettings):
    """Prompt settings plus a character's memory: records shown verbatim, older ones recalled."""

    window: int = DEFAULT_WINDOW
    retrieve_k: int = DEFAULT_RETRIEVE


class CharacterBoxPromptPack(PhasePromptPack):
    """Per-phase prompts for characters and the narrator, over the typed observation."""

    templates: ClassVar[Path] = Path(__file__).parent / "prompts"
    purpose_prefix: ClassVar[str | None] = "characterbox"
    stages: ClassVar[Mapping[str, str]] = STAGES

    def context(self, decision: Decision, stage: str) -> dict[str, Any]:
        """The scene and the seat's view, with the decision's ``bdi`` (a character's latest)."""
        return self.view(decision.observation, decision.settings, stage, decision.context.get("bdi"))

    def placeholders(self, stage: str) -> Mapping[str, str] | None:
        """Example text of every free-text field."""
        return PLACEHOLDERS

    def bdi_prompt(self, decision: Decision) -> Prompt:
        """A character's belief/desire/intention update for this round (before its action)."""
        from sim.answer_examples import answer_format

        obs = decision.observation
        context = self.view(obs, decision.settings, "bdi", decision.context.get("bdi"))
        model = BeliefDesireIntention
        text = self.render("bdi.j2", **context, answer_format=answer_format(model, PLACEHOLDERS))
        return Prompt(text, model, stage="bdi")

    def view(
        self, obs: Observation, settings: PromptSettings, stage: str, bdi: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """What the templates show: the scene, then the character's own view or the narrator's."""
        pub, me = obs.public, obs.private
        assert isinstance(pub, CharacterBoxPublic) and isinstance(me, CharacterBoxPrivate)
        scene = {
            "world": pub.world,
            "scene": pub.scene,
            "scenes": pub.scenes,
            "title": pub.title,
            "time": pub.time,
            "location": pub.location,
            "description": pub.description,
            "round": pub.round,
            "rounds": pub.rounds,
            "present": [f"{p.name} ({p.position}{'' if p.alive else ', dead'})" for p in pub.present],
            "stage": stage,
            "feedback": obs.feedback or "",
        }
        if me.seat_role == NARRATOR:
            return {**scene, **narrator_view(obs, me, stage)}
        if me.character is None:
            raise ValueError(f"{obs.player} plays no character")
        return {**scene, **character_view(obs, me, settings, bdi)}

    # reading the pack's own prose back ---------------------------------------------------------
    def read_call_key(self, text: str) -> tuple[str, str, int, int] | None:
        """``(stage, who, scene, round)`` from the header line of a prompt of this pack, else None."""
        found = HEADER.search(text)
        if found is None:
            return None
        scene, round_, stage, who = found.groups()
        return stage, who.strip(), int(scene), int(round_)


def character_view(
    obs: Observation, me: CharacterBoxPrivate, settings: PromptSettings, bdi: dict[str, str] | None
) -> dict[str, Any]:
    """A character's own profile and what it perceived (never another character's goal, secret or state)."""
    assert me.character is not None
    c = me.character
    window, k = (
        (settings.window, settings.retrieve_k)
        if isinstance(settings, CharacterBoxPromptSettings)
        else (DEFAULT_WINDOW, DEFAULT_RETRIEVE)
    )
    reacting = dict(me.reacting_to) if me.reacting_to else None
    memory = recollect(obs.history, situation_query(obs, me, bdi), window, k)
    return {
        "who": c["name"],
        "me": c,
        "state": ", ".join(f"{k}: {v}" for k, v in c["state"].items()),
        "knowledge": list(c.get("knowledge") or ()),
        "premise": me.premise or "",
        "relationships": [
            f"{r['a']} and {r['b']}: {r['type']}" + (f" ({r['note']})" if r.get("note") else "")
            for r in me.relationships or ()
        ],
        "reacting": reacting,
        "recalled": memory.recalled,
        "recent": memory.recent,
        "bdi": bdi,
    }


def situation_query(obs: Observation, me: CharacterBoxPrivate, bdi: dict[str, str] | None) -> str:
    """The retrieval query: the scene, who is present, what the character reacts to, its intention."""
    pub = obs.public
    parts = [pub.description, pub.location, *(p.name for p in pub.present)]
    if me.reacting_to:
        parts += [str(me.reacting_to.get(k) or "") for k in ("actor", "action", "speech", "impact")]
    if bdi:
        parts.append(bdi.get("intention", ""))
    return " ".join(parts)


def narrator_view(obs: Observation, me: CharacterBoxPrivate, stage: str) -> dict[str, Any]:
    """The omniscient narrator's view: every character in full, the rules, the recent events."""
    interaction = dict(me.interaction or {})
    who = NARRATOR if stage == "summary" else str(interaction.get("actor") or NARRATOR)
    cast = [
        {**c, "state_text": ", ".join(f"{k}: {v}" for k, v in c["state"].items())}
        for c in (me.cast or {}).values()
    ]
    return {
        "who": who,
        "cast": cast,
        "rules": list(me.rules or ()),
        "relationships": [f"{r['a']} and {r['b']}: {r['type']}" for r in me.relationships or ()],
        "recent": tagged_lines(obs.history)[-NARRATOR_WINDOW:],
        "acted": list(me.acted or ()),
        "interaction": interaction,
        "scripted": [
            f"{s['character']}: "
            + "; ".join(
                part
                for part in (
                    f"position {s['position']}" if s.get("position") else "",
                    f"state {s['state']}" if s.get("state") else "",
                    s.get("outcome") or "",
                )
                if part
            )
            for s in me.scripted or ()
        ],
    }
