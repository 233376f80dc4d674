"""World ``roleplay/characterbox-v1``: CharacterBox-style role-play scenes refereed by a narrator seat.

Rules (spec 5.1). A scene file (:mod:`worlds.characterbox.scene`) declares the world, the characters and
the scenes, played in order. Each scene runs ``rounds`` rounds; in round 1 the participants act in their
listed order, later rounds in the order they acted or reacted the round before (carry). Each present,
living character that has not yet acted this round acts once: one observable physical action plus
optional speech (STRUCTURED; ``leave: true`` leaves the scene). The narrator then names the one
character affected, or none; a target that is the actor, absent, dead, or has already acted this round is
logged ``valid: false`` (an ``invalid_target``) and there is no reaction. A valid target reacts at once
(the same answer shape), which uses up its turn this round. The narrator then rules: a STRUCTURED verdict
with the outcome text, per-character position and state changes, and who perceives it. The world checks
it (every character changed or perceiving present and alive, none changed twice; names outside the cast,
unknown state keys and wrong value types already fail the answer schema, so the engine re-asks and then
falls back to the no-change verdict); a verdict that fails the check is logged ``valid: false`` with its
problems and changes nothing: the state is never erased. Death is the change ``alive: false``; the dead
are never asked to act or react again. After every character has acted or reacted, the narrator
summarises the round. A scene ends after its rounds, or early when no character is left in it (everyone
left or died: ``everyone_left``) or after ``stale_rounds`` rounds in a row without any state change
(``stale``), with the reason in the ``scene_end`` event. Nobody wins: the episode is a draw, returns are 0.

Seats. One ``narrator`` seat (omniscient, unrated: it referees) and one ``character`` seat per character in
the file's order (without declared roles, the last seat is the narrator). Extra seats sit idle.

Who sees what. The ``setup`` event (every character in full) is visible to nobody. A character sees the
world and scene, its own profile, goal, secret, state and premise, who is present (positions, alive), the
actions and speech of the characters present when they happen, the impact of an action only when it is
the target, the outcome of a verdict only when it perceives it, and its own state changes; never another
character's goal, secret or state (only its position and whether it lives). The narrator sees
everything; round summaries and verdicts in full are the narrator's alone. A character's ``controller``
in the scene file is informational: the scenario's seat agent plays it.

Metric ``dead_as_alive`` (narrator seat): model outputs that treat a dead character as alive where a
model is still asked after a death (the dead themselves are never offered an action, so this counts the
narrator naming a dead character as the one affected, changing it, or having it perceive).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel

from sim.types import (
    ALL,
    Action,
    ActionKind,
    ActionSpec,
    Dynamics,
    Event,
    HistoryView,
    Observation,
    Outcome,
    PlayerId,
    SeatRole,
    Visibility,
    WorldSpec,
)
from sim.world import GameRole, WorldBase, check_actions
from worlds.characterbox import rules, text
from worlds.characterbox.observations import CharacterBoxPrivate, CharacterBoxPublic, Present
from worlds.characterbox.params import CharacterBoxParams
from worlds.characterbox.records import SUMMARY_MAX, CharacterAction, Phase, answer_schemas, no_change_verdict
from worlds.characterbox.scene import SceneFile

NARRATOR = "narrator"
CHARACTER = "character"
ACTION_SPEC = ActionSpec(
    ActionKind.STRUCTURED,
    schema=CharacterAction,
    fallback={"action": "stands still", "speech": "", "leave": False},
)
SUMMARY_SPEC = ActionSpec(ActionKind.TEXT, max_chars=SUMMARY_MAX, fallback="")


class CharacterBoxWorld(WorldBase):
    """Characters act, the narrator names who is affected, rules and summarises; scene by scene."""

    spec: ClassVar[WorldSpec] = WorldSpec(
        id="roleplay/characterbox-v1",
        title="CharacterBox role-play",
        min_players=3,
        max_players=5,
        dynamics=Dynamics.SEQUENTIAL,
        hidden_info=True,
        max_turns=2_000,
        params_model=CharacterBoxParams,
        phases=Phase,
        public_type=CharacterBoxPublic,
        private_type=CharacterBoxPrivate,
        roles=(
            SeatRole(CHARACTER, 2, 4, description="plays one character of the scene file, in file order"),
            SeatRole(NARRATOR, 1, 1, rated=False, omniscient=True, description="referees every round"),
        ),
    )
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {"scene": "orchard_bargain"},
        {"scene": "orchard_bargain", "stale_rounds": 1},
    )

    @classmethod
    def check_players(cls, params: BaseModel, n_players: int) -> str | None:
        """A seat per character plus the narrator's."""
        assert isinstance(params, CharacterBoxParams)
        need = len(params.scene_file().characters) + 1
        if n_players != need:
            return f"scene {params.scene_file().id} needs {need} seats (one per character, then the narrator)"
        return None

    # setup ----------------------------------------------------------------------------------
    def reset(
        self,
        players: Sequence[PlayerId],
        params: BaseModel,
        rng: random.Random,
        roles: Mapping[PlayerId, str] | None = None,
    ) -> list[Event]:
        """Seat the characters and the narrator, log the hidden setup, and open the first scene."""
        assert isinstance(params, CharacterBoxParams)
        self.params = params
        self.file: SceneFile = params.scene_file()
        self.players = tuple(players)
        roles = dict(roles or {p: NARRATOR if p == players[-1] else CHARACTER for p in players})
        self.narrator = next(p for p in self.players if roles[p] == NARRATOR)
        seats = [p for p in self.players if roles[p] != NARRATOR]
        if len(seats) < len(self.file.characters):
            raise ValueError(f"{len(self.file.characters)} characters need as many character seats")
        self.seat_of = {c.name: seats[i] for i, c in enumerate(self.file.characters)}
        self.character_of = {s: n for n, s in self.seat_of.items()}
        self.cast = {c.name: c for c in self.file.characters}
        self.positions = {c.name: c.position for c in self.file.characters}
        self.states: dict[str, dict[str, Any]] = {c.name: dict(c.state) for c in self.file.characters}
        kinds = tuple((k, "bool" if t is bool else "str") for k, t in sorted(self.file.state_keys().items()))
        schemas = answer_schemas(tuple(self.cast), kinds)
        self.influence_spec = ActionSpec(
            ActionKind.STRUCTURED, schema=schemas["influence"], fallback={"target": None, "impact": ""}
        )
        self.verdict_spec = ActionSpec(
            ActionKind.STRUCTURED, schema=schemas["verdict"], fallback=no_change_verdict()
        )
        self.steps = 0
        self.memory: dict[PlayerId, list[dict[str, Any]]] = {p: [] for p in self.players}
        self.counts = {
            k: 0 for k in ("invalid_targets", "invalid_verdicts", "dead_as_alive", "state_changes")
        }
        self.acts = {n: {"actions": 0, "reactions": 0, "speeches": 0} for n in self.cast}
        self.scene_index = -1
        self.scene_reasons: list[str] = []
        self.phase = Phase.ACT
        setup = {
            "world": self.file.world,
            "rules": list(self.file.rules),
            "characters": {c.name: c.model_dump(mode="json") for c in self.file.characters},
            "relationships": [r.model_dump(mode="json") for r in self.file.relationships],
            "seats": {**{s: n for s, n in self.character_of.items()}, self.narrator: NARRATOR},
            "scenes": [s.model_dump(mode="json", exclude={"changes"}) for s in self.file.scenes],
        }
        if (evaluation := params.effective_evaluation()) is not None:
            setup["evaluation"] = evaluation.payload()  # the judge scores the declared rubric
        events = [Event(0, Phase.ACT, "setup", setup, visible_to=())]
        return events + self._open_scene(0)

    def permute_secrets(self, viewer: PlayerId, rng: random.Random) -> bool:
        """Rewrite the goals and secrets of every character ``viewer`` does not play (False for the
        omniscient narrator)."""
        if self.steps:
            raise RuntimeError("permute_secrets is for a world fresh from reset")
        if viewer == self.narrator:
            return False
        own = self.character_of.get(viewer)
        tag = f" (variant {rng.randrange(1_000)})"
        for name, c in self.cast.items():
            if name != own:
                self.cast[name] = c.model_copy(update={"goal": c.goal + tag, "secret": c.secret + tag})
        return True

    # the scene loop ---------------------------------------------------------------------------
    def _open_scene(self, index: int) -> list[Event]:
        self.scene_index = index
        scene = self.scene = self.file.scenes[index]
        self.round = 1
        self.stale = 0
        self.left: set[str] = set()
        self.order = list(scene.participants)
        self.leaving: list[str] = []
        payload = {"scene": index + 1, **scene.model_dump(mode="json", exclude={"changes", "premise"})}
        events = [self._event("scene_start", payload)]
        for name in scene.participants:
            if name in scene.premise and self._able(name):
                seat = self.seat_of[name]
                premise = {"character": name, "text": scene.premise[name]}
                events.append(self._event("premise", premise, actor=seat, visible_to=(seat, self.narrator)))
        return events + self._begin_round()

    def _begin_round(self) -> list[Event]:
        self.acted: list[str] = []
        self.changed = False
        return self._next_actor()

    def _able(self, name: str) -> bool:
        """Present in this scene (not left) and alive: may act, react, perceive and be changed."""
        return name in self.scene.participants and name not in self.left and bool(self.states[name]["alive"])

    def _next_actor(self) -> list[Event]:
        self.actor: str | None = None
        self.target: str | None = None
        self.interaction: dict[str, Any] = {}
        for name in self.order:
            if name not in self.acted and self._able(name):
                self.actor = name
                self.phase = Phase.ACT
                return []
        self.phase = Phase.SUMMARY
        return []

    def _present(self) -> list[str]:
        return [n for n in self.scene.participants if self._able(n)]

    def _here(self) -> list[str]:
        """In the scene and not left, alive or dead."""
        return [n for n in self.scene.participants if n not in self.left]

    def _eligible_targets(self, actor: str) -> list[str]:
        return [n for n in self._present() if n != actor and n not in self.acted]

    # protocol -------------------------------------------------------------------------------
    def to_act(self) -> tuple[PlayerId, ...]:
        """The acting character's seat, the target's when reacting, else the narrator."""
        if self.phase is Phase.END:
            return ()
        if self.phase is Phase.ACT and self.actor is not None:
            return (self.seat_of[self.actor],)
        if self.phase is Phase.REACT and self.target is not None:
            return (self.seat_of[self.target],)
        return (self.narrator,)

    def legal_actions(self, player: PlayerId) -> ActionSpec | None:
        """An action (act or react), the narrator's influence, verdict or summary; None if not to act."""
        if player not in self.players:
            raise KeyError(f"{player!r} is not a seat of this game")
        if player not in self.to_act():
            return None
        return {
            Phase.ACT: ACTION_SPEC,
            Phase.REACT: ACTION_SPEC,
            Phase.INFLUENCE: self.influence_spec,
            Phase.RULE: self.verdict_spec,
            Phase.SUMMARY: SUMMARY_SPEC,
        }[self.phase]

    def observe(self, player: PlayerId) -> Observation:
        """The seat's view (see the module docstring for who sees what)."""
        if player not in self.players:
            raise KeyError(f"{player!r} is not a seat of this game")
        acting = None
        if self.phase is Phase.ACT:
            acting = self.actor
        elif self.phase is Phase.REACT:
            acting = self.target
        public = CharacterBoxPublic(
            world=self.file.world,
            scene=self.scene_index + 1,
            scenes=len(self.file.scenes),
            title=self.scene.title,
            time=self.scene.time,
            location=self.scene.location,
            description=self.scene.description,
            round=self.round,
            rounds=self.scene.rounds,
            phase=self.phase,
            present=tuple(Present(n, self.positions[n], bool(self.states[n]["alive"])) for n in self._here()),
            acting=acting,
            reason=self.scene_reasons[-1] if self.phase is Phase.END else None,
        )
        obs = Observation(
            player,
            self.steps,
            self.phase,
            public,
            self._private(player),
            HistoryView(self.memory[player]),
            self.legal_actions(player),
        )
        return obs

    def _profile(self, name: str) -> dict[str, Any]:
        c = self.cast[name]
        return {
            **c.model_dump(mode="json", exclude={"controller", "position", "state"}),
            "position": self.positions[name],
            "state": dict(self.states[name]),
        }

    def _private(self, player: PlayerId) -> CharacterBoxPrivate:
        if player == self.narrator:
            return CharacterBoxPrivate(
                NARRATOR,
                cast={n: self._profile(n) for n in self.cast},
                rules=self.file.rules,
                relationships=tuple(r.model_dump(mode="json") for r in self.file.relationships),
                interaction=dict(self.interaction),
                acted=tuple(self.acted),
                scripted=tuple(
                    c.model_dump(mode="json") for c in self.scene.changes if c.round == self.round
                ),
            )
        name = self.character_of.get(player)
        if name is None:
            return CharacterBoxPrivate("idle")
        reacting = None
        if self.phase is Phase.REACT and self.target == name:
            reacting = {k: self.interaction[k] for k in ("actor", "action", "speech", "impact")}
        return CharacterBoxPrivate(
            CHARACTER,
            character=self._profile(name),
            premise=self.scene.premise.get(name) if name in self.scene.participants else None,
            relationships=tuple(
                r.model_dump(mode="json") for r in self.file.relationships if name in (r.a, r.b)
            ),
            reacting_to=reacting,
        )

    def render(self, observation: Observation) -> str:
        """The observation as text for a reader."""
        return text.render_observation(observation)

    def step(self, actions: Mapping[PlayerId, Action]) -> list[Event]:
        """Apply the one seat's answer; illegal answers change nothing."""
        check_actions(self, actions, self.phase)
        (player,) = self.to_act()
        value = actions[player].value
        self.steps += 1
        handler: dict[Phase, Callable[[Any], list[Event]]] = {
            Phase.ACT: self._act,
            Phase.INFLUENCE: self._influence,
            Phase.REACT: self._react,
            Phase.RULE: self._rule,
            Phase.SUMMARY: self._summarise,
        }
        return handler[self.phase](dict(value) if isinstance(value, Mapping) else value)

    # phases ---------------------------------------------------------------------------------
    def _act(self, value: dict[str, Any]) -> list[Event]:
        assert self.actor is not None
        actor = self.actor
        events = [self._action_event(actor, value, reaction=False)]
        self.interaction = {"actor": actor, "action": value["action"], "speech": value.get("speech", "")}
        self.leaving = [actor] if value.get("leave") else []
        if self._eligible_targets(actor):
            self.phase = Phase.INFLUENCE
        else:
            self.interaction["target"] = None
            self.phase = Phase.RULE
        return events

    def _action_event(self, name: str, value: Mapping[str, Any], reaction: bool) -> Event:
        self.acted.append(name)
        tally = self.acts[name]
        tally["reactions" if reaction else "actions"] += 1
        tally["speeches"] += bool(value.get("speech"))
        payload = {
            "character": name,
            "action": value["action"],
            "speech": value.get("speech", ""),
            "leave": bool(value.get("leave")),
            "reaction": reaction,
            "round": self.round,
        }
        return self._event("action", payload, actor=self.seat_of[name], visible_to=self._present_seats())

    def _influence(self, value: dict[str, Any]) -> list[Event]:
        assert self.actor is not None
        target = value.get("target")
        alive = {n: bool(s["alive"]) for n, s in self.states.items()}
        problem = rules.influence_problem(target, self.actor, self._here(), alive, self.acted)
        payload = {
            "actor": self.actor,
            "target": target,
            "impact": value.get("impact", ""),
            "valid": problem is None,
        }
        if problem is not None:
            self.counts["invalid_targets"] += 1
            self.counts["dead_as_alive"] += target in alive and not alive[target]
            payload["error"] = problem
            target = None
        seen = (self.narrator,) if target is None else (self.narrator, self.seat_of[target])
        events = [self._event("influence", payload, actor=self.narrator, visible_to=seen)]
        self.interaction.update(target=target, impact=payload["impact"] if target else "")
        if target is None:
            self.phase = Phase.RULE
        else:
            self.target = target
            self.phase = Phase.REACT
        return events

    def _react(self, value: dict[str, Any]) -> list[Event]:
        assert self.target is not None
        events = [self._action_event(self.target, value, reaction=True)]
        self.interaction["reaction"] = {"action": value["action"], "speech": value.get("speech", "")}
        if value.get("leave"):
            self.leaving.append(self.target)
        self.phase = Phase.RULE
        return events

    def _rule(self, value: dict[str, Any]) -> list[Event]:
        alive = {n: bool(s["alive"]) for n, s in self.states.items()}
        problems, dead = rules.verdict_problems(value, self._here(), alive)
        changes = [] if problems else rules.effective_changes(value["changes"], self.positions, self.states)
        payload: dict[str, Any] = {
            "outcome": value["outcome"],
            "changes": changes,
            "perceived_by": list(value["perceived_by"]),
            "valid": not problems,
            "round": self.round,
        }
        self.counts["dead_as_alive"] += dead
        events = []
        if problems:
            self.counts["invalid_verdicts"] += 1
            payload["errors"] = problems
            payload["proposed"] = value["changes"]
            events.append(self._event("verdict", payload, actor=self.narrator, visible_to=(self.narrator,)))
        else:
            events.append(self._event("verdict", payload, actor=self.narrator, visible_to=(self.narrator,)))
            if value["outcome"] and value["perceived_by"]:
                seats = tuple(
                    dict.fromkeys([self.seat_of[n] for n in value["perceived_by"]] + [self.narrator])
                )
                events.append(self._event("outcome", {"text": value["outcome"]}, visible_to=seats))
            events += self._apply(changes)
        for name in self.leaving:
            if self._able(name):
                self.left.add(name)
                events.append(self._event("leave", {"character": name}, visible_to=self._present_seats(name)))
        self.leaving = []
        return events + self._next_actor()

    def _apply(self, changes: list[dict[str, Any]]) -> list[Event]:
        events = []
        for change in changes:
            name = change["character"]
            if "position" in change:
                self.positions[name] = change["position"]
            self.states[name].update(change.get("state", {}))
            self.changed = True
            self.counts["state_changes"] += 1
            seat = self.seat_of[name]
            update = {"character": name, "position": self.positions[name], "state": dict(self.states[name])}
            events.append(self._event("state_update", update, visible_to=(seat, self.narrator)))
            if change.get("state", {}).get("alive") is False:
                events.append(self._event("death", {"character": name}, visible_to=self._present_seats(name)))
        return events

    def _summarise(self, value: str) -> list[Event]:
        events = [
            self._event(
                "round_summary",
                {"text": value, "round": self.round},
                actor=self.narrator,
                visible_to=(self.narrator,),
            )
        ]
        self.stale = 0 if self.changed else self.stale + 1
        reason = None
        if not self._present():
            reason = "everyone_left"
        elif self.round >= self.scene.rounds:
            reason = "rounds"
        elif self.stale >= self.params.stale_rounds:
            reason = "stale"
        if reason is None:
            self.round += 1
            self.order = self.acted + [n for n in self.order if n not in self.acted]
            return events + self._begin_round()
        self.scene_reasons.append(reason)
        end = {"scene": self.scene_index + 1, "reason": reason, "rounds_played": self.round}
        events.append(self._event("scene_end", end))
        if self.scene_index + 1 < len(self.file.scenes):
            return events + self._open_scene(self.scene_index + 1)
        self.phase = Phase.END
        return [*events, self._event("end", self._outcome_details())]

    # helpers --------------------------------------------------------------------------------
    def _present_seats(self, *also: str) -> tuple[PlayerId, ...]:
        names = [*self._present(), *also]
        return tuple(dict.fromkeys([*(self.seat_of[n] for n in names), self.narrator]))

    def _event(
        self,
        kind: str,
        payload: Mapping[str, Any],
        actor: PlayerId | None = None,
        visible_to: Visibility = ALL,
    ) -> Event:
        """An event, remembered by every seat that sees it (its observation history)."""
        event = Event(self.steps, self.phase.value, kind, payload, actor=actor, visible_to=visible_to)
        record = {"kind": kind, **payload}
        for p in self.players if visible_to == ALL else visible_to:
            self.memory[p].append(record)
        return event

    def is_terminal(self) -> bool:
        """Whether every scene has ended."""
        return self.phase is Phase.END

    def returns(self) -> dict[PlayerId, float]:
        """Nobody scores: role-play is judged by evaluators."""
        return {p: 0.0 for p in self.players}

    def return_bounds(self) -> tuple[float, float]:
        """Always 0."""
        return 0.0, 0.0

    def outcome(self) -> Outcome:
        """A draw (nobody wins role-play), with how each scene ended and who is alive."""
        reason = self.scene_reasons[-1] if self.scene_reasons else ""
        return Outcome((), reason, True, self._outcome_details())

    def _outcome_details(self) -> dict[str, Any]:
        return {
            "scene_reasons": list(self.scene_reasons),
            "alive": {n: bool(s["alive"]) for n, s in self.states.items()},
            "dead_as_alive": self.counts["dead_as_alive"],
        }

    def snapshot(self) -> dict[str, Any]:
        """The full state as JSON."""
        return {
            "phase": self.phase.value,
            "steps": self.steps,
            "scene": self.scene_index,
            "round": self.round,
            "order": list(self.order),
            "acted": list(self.acted),
            "actor": self.actor,
            "target": self.target,
            "interaction": dict(self.interaction),
            "left": sorted(self.left),
            "positions": dict(self.positions),
            "states": {n: dict(s) for n, s in self.states.items()},
            "stale": self.stale,
            "counts": dict(self.counts),
            "memory": {p: len(m) for p, m in self.memory.items()},
            "reasons": list(self.scene_reasons),
        }

    def episode_metrics(self) -> Mapping[PlayerId, Mapping[str, float]]:
        """Per character seat: actions, reactions, speeches, alive at the end; the narrator's seat:
        invalid targets and verdicts, state changes, and ``dead_as_alive``."""
        out: dict[PlayerId, dict[str, float]] = {
            seat: {
                **{k: float(v) for k, v in self.acts[n].items()},
                "alive": float(bool(self.states[n]["alive"])),
            }
            for n, seat in self.seat_of.items()
        }
        out[self.narrator] = {k: float(v) for k, v in self.counts.items()}
        return out

    def game_roles(self) -> Mapping[PlayerId, GameRole]:
        """Each character seat's character; the narrator's seat ``narrator``."""
        return {**{s: GameRole(n) for s, n in self.character_of.items()}, self.narrator: GameRole(NARRATOR)}

    def describe_event(self, event: Event) -> str:
        """One readable transcript line."""
        return text.describe_event(event)
