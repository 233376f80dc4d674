"""Recursive Contemplation (ReCon, Wang et al. 2023) and a chain-of-thought baseline for Avalon.

Per action, with every stage switchable (the paper's ablation grid) and each stage one logged
``llm_calls`` row with its own purpose and, optionally, its own model:

1. ``first_order`` (``avalon.recon.belief``): a belief about every other player (role, P(evil),
   certain), updated from the previous one; skipped while nothing public has happened yet.
2. ``formulation`` (``avalon.recon.formulate``): private THINK, then SPEAK (the speech, or the
   action). Off: one chain-of-thought call (``avalon.cot.act``), "think step by step, then answer".
3. ``second_order`` (``avalon.recon.second_order``): how each role would read that SPEAK.
4. ``refinement`` (``avalon.recon.refine``): REVISED THINK and REVISED SPEAK from the draft and
   that analysis; the revised answer is the action.

Only the final SPEAK becomes public (it is the action of a discussion turn); every THINK, the belief
and the analyses stay in this seat's private memory and its private ``rationale`` event. A decision
with a single legal option (a good player's quest card) is played without asking. Stage answers are
JSON validated against schemas from :mod:`agents.llm.parsing`; each JSON stage's prompt shows a
filled-in example answer and the allowed values in words (:mod:`sim.answer_examples`), never the raw
schema, which still goes to the provider as structured output.

A stage whose answer never validates (after the client's re-asks) is a failed stage: it is recorded in
the decision's private ``rationale`` notes (``failed_stages``: stage -> error; each try is an invalid
``llm_calls`` row), never replaced by an empty or made-up answer, and the agent goes on with what it has:

- ``belief`` failed: the previous belief stands in memory and in later prompts (none before the first:
  beliefs unknown); it is not logged as this decision's ``belief``.
- ``formulate`` (or the CoT ``act``) failed: there is no draft, so second-order is skipped (nothing to
  read) and refinement, if on, is asked without a draft ("think afresh") and gives the action.
- ``second_order`` failed: refinement goes on without an analysis (and memory keeps none).
- ``refine`` failed: the unrefined draft is the action.

Only when no stage gave an action (the draft failed and refinement was off or failed too) does the
decision raise :class:`sim.agent.NoAnswer` (the engine logs it and plays the world's fallback).

With ``judge`` set, the run applies the ``recon_judge`` evaluator
(:mod:`agents.reasoning.recon_judge`) to this seat after the episode: each of its speeches scored on
ReCon's six dimensions; a score that does not parse is NULL, never 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from agents.llm import parsing
from agents.llm.seat import LLMSeat
from sim.agent import AgentConfig, NoAnswer
from sim.answer_examples import answer_format
from sim.llm.client import CallContext
from sim.llm.settings import ModelSettings
from sim.prompts import prompt_pack
from sim.types import Action, ActionKind, Observation, PlayerId, WorldSpec
from worlds.avalon.roles import is_evil
from worlds.avalon.text import role_title
from worlds.avalon.world import AvalonWorld

GOALS = {"good": "three successful quests, and keeping Merlin hidden", "evil": "three failed quests"}


class StageModels(BaseModel):
    """A model per stage (unset stages use ``model``); the paper used a cheaper formulation model."""

    model_config = {"extra": "forbid", "frozen": True}
    belief: ModelSettings | None = None
    formulation: ModelSettings | None = None
    second_order: ModelSettings | None = None
    refinement: ModelSettings | None = None


class ReConConfig(AgentConfig):
    """The model, the four ReCon stages, private memory and the optional judge (an evaluator's model)."""

    model: ModelSettings
    first_order: bool = Field(True, description="belief about each other player before acting")
    formulation: bool = Field(True, description="private THINK, then SPEAK")
    second_order: bool = Field(True, description="how each role would read the SPEAK")
    refinement: bool = Field(True, description="REVISED THINK and REVISED SPEAK")
    stage_models: StageModels = StageModels()
    thoughts_kept: int = Field(3, ge=0, le=50, description="own past THINKs shown in later prompts")
    judge: ModelSettings | None = Field(
        None, description="after the episode, score this seat's speeches (the recon_judge evaluator)"
    )


class CoTConfig(ReConConfig):
    """Chain-of-thought baseline: every ReCon stage off by default."""

    first_order: bool = False
    formulation: bool = False
    second_order: bool = False
    refinement: bool = False


@dataclass
class Memory:
    """What this seat privately remembers across its decisions in one game."""

    belief: dict[str, Any] | None = None
    thoughts: list[str] = field(default_factory=list)
    analysis: str | None = None


class ReConAgent(LLMSeat):
    """ReCon (all stages on by default) for any Avalon seat."""

    Config: ClassVar[type[AgentConfig]] = ReConConfig
    worlds: ClassVar[tuple[str, ...] | None] = (AvalonWorld.spec.id,)

    def __init__(self, config: ReConConfig):
        super().__init__(config)
        self.config: ReConConfig = config
        # The derived action limit (engine.action_timeout unset) covers every stage's ask: an upper bound.
        self.asks_per_action = 1 + sum((config.first_order, config.second_order, config.refinement))
        self.seat: PlayerId = ""
        self.seed = 0
        self.memory = Memory()
        self.pack = prompt_pack(AvalonWorld.spec.id)  # the stage templates

    def reset(self, seat: PlayerId, world: WorldSpec, seed: int) -> None:
        """New game, empty memory."""
        self.seat = seat
        self.seed = seed
        self.memory = Memory()

    # the pipeline -----------------------------------------------------------------------------
    async def act(self, obs: Observation) -> Action:
        """Run the enabled stages and return the final answer as the action."""
        legal = obs.legal
        if legal is None:
            raise NoAnswer(f"{obs.player} is not to act")
        if legal.kind is ActionKind.CHOICE and len(legal.options) == 1:
            return Action(legal.kind, legal.options[0])  # nothing to decide
        cfg, memory = self.config, self.memory
        notes: dict[str, Any] = {}
        failed: dict[str, str] = {}  # stage -> why it failed
        if cfg.first_order and len(obs.history):
            belief = await self._ask_belief(obs, failed)
            if belief is not None:
                memory.belief = notes["belief"] = belief
        first = "formulate" if cfg.formulation else "act"
        draft = await self._ask_staged(obs, first, self.prompts(obs), failed)
        analysis = None
        if draft is not None:
            notes["draft"] = draft.model_dump()
            if cfg.second_order:  # there is nothing to read without a draft
                analysis = await self._ask_text(obs, "second_order", self.prompts(obs, draft=draft), failed)
                if analysis is not None:
                    notes["analysis"] = analysis
        final = draft
        if cfg.refinement:  # without an analysis (off, or failed) the refinement prompt has none
            context = self.prompts(obs, draft=draft, analysis=analysis, after_draft=True)
            refined = await self._ask_staged(obs, "refine", context, failed)
            final = draft if refined is None else refined  # a failed refinement keeps the draft
        memory.analysis = analysis
        if failed:
            notes["failed_stages"] = failed
        if final is None:
            raise NoAnswer(f"{obs.player}: no stage gave an action ({_stages(failed)})")
        think = str(getattr(final, "think", ""))
        memory.thoughts.append(think)
        value = parsing.staged_value(final)
        return Action(legal.kind, value, rationale=think, notes=notes)

    def prompts(
        self,
        obs: Observation,
        *,
        draft: BaseModel | None = None,
        analysis: str | None = None,
        after_draft: bool = False,
    ) -> dict[str, Any]:
        """The context every stage template gets (pure: built from the observation and own memory).

        ``analysis`` is this decision's second-order analysis for the stages after the draft (None: off
        or failed); the stages before it see the last decision's analysis from memory. A refinement
        without a draft (the first stage failed) gets ``after_draft`` and no analysis at all."""
        private, memory = obs.private, self.memory
        talk = obs.legal is not None and obs.legal.kind is ActionKind.TEXT
        others = [p for p in obs.public["players"] if p != obs.player]
        kept = memory.thoughts[-self.config.thoughts_kept :] if self.config.thoughts_kept else []
        belief = json.dumps(memory.belief) if memory.belief else ""
        return {
            "status": obs.text,
            "player": obs.player,
            "role": role_title(private["role"]),
            "side": private["side"],
            "goal": GOALS[private["side"]],
            "mission": "succeed" if private["side"] == "good" else "fail",
            "talk": talk,
            "roles": ", ".join(role_title(r) for r in obs.public["role_set"]),
            "others": ", ".join(others),
            "belief": belief,
            "previous": belief,
            "thoughts": kept,
            "analysis": analysis if draft is not None or after_draft else memory.analysis,
            "think": str(getattr(draft, "think", "")) if draft is not None else "",
            "speak": json.dumps(parsing.staged_value(draft)) if draft is not None else "",
            "feedback": obs.feedback or "",
            "answer_format": answer_format(parsing.staged_answer_model(obs.legal)) if obs.legal else "",
            "belief_format": answer_format(belief_model(obs)),
        }

    def messages(self, template: str, context: dict[str, Any]) -> list[dict[str, Any]]:
        """System message (persona) and the stage's user message."""
        return [
            {"role": "system", "content": self.pack.render("system.j2", **context)},
            {"role": "user", "content": self.pack.render(f"{template}.j2", **context)},
        ]

    # stages ------------------------------------------------------------------------------------
    def _settings(self, stage: str) -> ModelSettings:
        chosen: ModelSettings | None = getattr(self.config.stage_models, stage)
        return chosen or self.config.model

    def _context(self, obs: Observation) -> CallContext:
        return CallContext(self.services.episode_id, self.seat, obs.turn, self.seed)

    def _purpose(self, stage: str) -> str:
        return "avalon.cot.act" if stage == "act" else f"avalon.recon.{stage}"

    async def _ask_staged(
        self, obs: Observation, stage: str, context: dict[str, Any], failed: dict[str, str]
    ) -> BaseModel | None:
        """A THINK-and-act stage's answer; None (and the reason in ``failed``) if it never validated."""
        assert obs.legal is not None  # act() asks only for a decision
        model = parsing.staged_answer_model(obs.legal)
        settings = self._settings("refinement" if stage == "refine" else "formulation")
        answer = await self.client.ask(
            settings,
            self.messages(stage, context),
            lambda text: parsing.parse_json_answer(text, model),
            schema=model,
            purpose=self._purpose(stage),
            context=self._context(obs),
        )
        if not answer.valid:  # each attempt is an invalid llm_calls row
            failed[stage] = _failure(answer.error, answer.attempts)
            return None
        result: BaseModel = answer.value
        return result

    async def _ask_text(
        self, obs: Observation, stage: str, context: dict[str, Any], failed: dict[str, str]
    ) -> str | None:
        """A plain-text stage's answer; None (and the reason in ``failed``) if it never parsed."""

        def parse(text: str) -> str:
            if not text.strip():
                raise ValueError("the answer is empty")
            return text.strip()

        answer = await self.client.ask(
            self._settings("second_order"),
            self.messages(stage, context),
            parse,
            purpose=self._purpose(stage),
            context=self._context(obs),
        )
        if not answer.valid:
            failed[stage] = _failure(answer.error, answer.attempts)
            return None
        return str(answer.value)

    async def _ask_belief(self, obs: Observation, failed: dict[str, str]) -> dict[str, Any] | None:
        """A new belief about every other player; None (and the reason in ``failed``) if none parsed."""
        model = belief_model(obs)
        answer = await self.client.ask(
            self._settings("belief"),
            self.messages("belief", self.prompts(obs)),
            lambda text: parsing.parse_json_answer(text, model),
            schema=model,
            purpose="avalon.recon.belief",
            context=self._context(obs),
        )
        if not answer.valid:  # each attempt is an invalid llm_calls row; the previous belief stands
            failed["belief"] = _failure(answer.error, answer.attempts)
            return None
        belief: dict[str, Any] = answer.value.model_dump()
        return belief

    # after the game ----------------------------------------------------------------------------
    def episode_metrics(self, final: Observation) -> dict[str, float | None]:
        """Deduction accuracy of the last belief (the judge is an evaluator: ``recon_judge``)."""
        return self.deduction(final)

    def deduction(self, final: Observation) -> dict[str, float | None]:
        """Role-deduction accuracy of the last belief (P(evil) > 0.5 against the revealed roles)."""
        roles = final.public.get("roles")
        belief = self.memory.belief
        if not roles or not belief:
            return {}
        evil = {p: is_evil(roles[p]) for p in belief}
        hits = [(b["evil_probability"] > 0.5) == evil[p] for p, b in belief.items()]
        out: dict[str, float | None] = {"deduction_accuracy": sum(hits) / len(hits)}
        named = [b["role"] == roles[p] for p, b in belief.items() if b["role"] != "unknown"]
        out["role_accuracy"] = sum(named) / len(named) if named else None
        return out


def belief_model(obs: Observation) -> type[BaseModel]:
    """The answer model of the belief stage: an entry per other player."""
    others = tuple(p for p in obs.public["players"] if p != obs.player)
    return parsing.belief_model(others, tuple(obs.public["role_set"]))


def _failure(error: str | None, attempts: int) -> str:
    """Why a stage failed, for the private notes."""
    return f"{error or 'no valid answer'} (after {attempts} tries)"


def _stages(failed: dict[str, str]) -> str:
    """The failed stages and why, in one line."""
    return "; ".join(f"{stage} failed: {why}" for stage, why in failed.items())


class CoTAgent(ReConAgent):
    """The chain-of-thought baseline: one "think step by step" call per decision."""

    Config: ClassVar[type[AgentConfig]] = CoTConfig
