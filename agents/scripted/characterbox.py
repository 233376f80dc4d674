"""Rule-based seats for ``roleplay/characterbox-v1``, so scenes run offline and deterministically.

- ``characterbox_narrator_bot`` (spec 5.4's RuleNarrator): the affected character is the first one who
  may react (present, alive, not yet acted this round) whose name the action or speech mentions, else
  nobody; the outcome is a template drawn with the seat's seeded RNG; the state changes are the scene
  file's scripted ``changes`` for this round, each applied once, in the first verdict of the round in
  which its character is present and alive; the round summary lists the round's actions in order.
- ``characterbox_character_bot``: acts from templates over its own profile, goal and position and the
  other characters present (seeded), speaks a line about its goal (never its secret), and reacts to
  whoever acted on it. It never leaves.

Either bot plays either kind of seat (a bot seated as a character acts as the character bot, and as the
narrator as the narrator bot), so each can sit anywhere. Every choice comes from the seat's ``rng``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from agents.scripted.base import ScriptedAgent
from sim.types import Action, ActionKind, Observation, PlayerId, WorldSpec
from worlds.characterbox.records import OUTCOME_MAX, SPEECH_MAX, SUMMARY_MAX, Phase

WORLD = "roleplay/characterbox-v1"
ACTIONS = (
    "steps closer to {other}",
    "looks {other} in the eye",
    "points at {other} and then at the door",
    "paces across {location}",
    "sets down what they carry and folds their arms",
)
SPEECHES = ("{other}, I mean to {goal}.", "Listen to me, {other}.", "", "We do this my way.")
REACTIONS = ("turns to face {actor}", "backs away from {actor}", "holds up a hand to {actor}")
REPLIES = ("Not so fast, {actor}.", "", "What do you want from me, {actor}?")
OUTCOMES = (
    "{actor}'s move lands as meant{on}.",
    "{actor} hesitates, and the moment passes{on}.",
    "Everyone present notices what {actor} does{on}.",
)


def _goal(character: Mapping[str, Any]) -> str:
    goal = str(character.get("goal") or "see this through").rstrip(".")
    return goal[0].lower() + goal[1:] if goal else goal


class _CharacterBoxBot(ScriptedAgent):
    """Plays whichever seat it sits in: the narrator's phases or a character's."""

    worlds: ClassVar[tuple[str, ...] | None] = (WORLD,)

    def reset(self, seat: PlayerId, world: WorldSpec, seed: int) -> None:
        """A fresh RNG and no scripted change applied yet."""
        super().reset(seat, world, seed)
        self.applied: set[tuple[int, int, int]] = set()

    def decide(self, observation: Observation) -> Action:
        """Answer the phase the world asks."""
        phase = Phase(observation.phase)
        if phase is Phase.INFLUENCE:
            return Action(ActionKind.STRUCTURED, self._influence(observation))
        if phase is Phase.RULE:
            return Action(ActionKind.STRUCTURED, self._verdict(observation))
        if phase is Phase.SUMMARY:
            return Action(ActionKind.TEXT, self._summary(observation))
        return Action(ActionKind.STRUCTURED, self._act(observation, react=phase is Phase.REACT))

    # a character ------------------------------------------------------------------------------
    def _act(self, obs: Observation, react: bool) -> dict[str, Any]:
        me = obs.private.character or {"name": "", "goal": ""}
        others = [p.name for p in obs.public.present if p.alive and p.name != me["name"]] or ["no one"]
        words = {
            "other": self.rng.choice(others),
            "goal": _goal(me),
            "location": obs.public.location,
            "actor": (obs.private.reacting_to or {}).get("actor", "them"),
        }
        action = self.rng.choice(REACTIONS if react else ACTIONS).format(**words)
        speech = self.rng.choice(REPLIES if react else SPEECHES).format(**words)[:SPEECH_MAX]
        return {"action": action, "speech": speech, "leave": False}

    # the narrator -----------------------------------------------------------------------------
    def _influence(self, obs: Observation) -> dict[str, Any]:
        act = obs.private.interaction or {}
        acted = set(obs.private.acted or ())
        said = f"{act.get('action', '')} {act.get('speech', '')}"
        for p in obs.public.present:
            if p.alive and p.name != act.get("actor") and p.name not in acted and p.name in said:
                return {"target": p.name, "impact": f"{act.get('actor')}'s action reaches {p.name}."}
        return {"target": None, "impact": ""}

    def _verdict(self, obs: Observation) -> dict[str, Any]:
        act = obs.private.interaction or {}
        target = act.get("target")
        words = {"actor": act.get("actor", "someone"), "on": f"; {target} feels it" if target else ""}
        outcome = self.rng.choice(OUTCOMES).format(**words)
        living = [p.name for p in obs.public.present if p.alive]
        changes = []
        for i, change in enumerate(obs.private.scripted or ()):
            key = (obs.public.scene, obs.public.round, i)
            if key in self.applied or change["character"] not in living:
                continue
            self.applied.add(key)
            state = dict(change.get("state") or {})
            changes.append(
                {"character": change["character"], "position": change.get("position"), "state": state}
            )
            outcome += " " + (change.get("outcome") or "")
        perceivers = [n for n in living if n in (act.get("actor"), target)] or living
        return {"outcome": outcome.strip()[:OUTCOME_MAX], "changes": changes, "perceived_by": perceivers}

    def _summary(self, obs: Observation) -> str:
        lines = [
            f"{r['character']} {'reacted' if r['reaction'] else 'acted'}: {r['action']}"
            for r in _this_round(obs.history, obs.public.scene, obs.public.round)
        ]
        return (f"Round {obs.public.round}. " + "; ".join(lines) + ".")[:SUMMARY_MAX]


def _this_round(history: Sequence[Mapping[str, Any]], scene: int, round_: int) -> list[Mapping[str, Any]]:
    """The action records of this scene's round ``round_``."""
    current = 0
    found = []
    for r in history:
        if r["kind"] == "scene_start":
            current = r["scene"]
        elif r["kind"] == "action" and current == scene and r["round"] == round_:
            found.append(r)
    return found


class CharacterBoxNarratorBot(_CharacterBoxBot):
    """The deterministic rule-based narrator (template verdicts, scripted state changes)."""


class CharacterBoxCharacterBot(_CharacterBoxBot):
    """The scripted character (template actions and speech from its profile and goal, seeded)."""
