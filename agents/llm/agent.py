"""The LLM agent: one class for every world, any model litellm reaches.

In repeated games it speaks Akata et al.'s prompt (completion style, "A: Option" answered with one
token) or a JSON chat variant, optionally with social chain-of-thought (SCoT: predict the other
player's option, then choose given that prediction, two calls per round). Elsewhere it sends the
world's own text of the observation and asks for JSON matching the action's schema.

Every call goes through the run's :class:`sim.llm.client.LLMClient` (queues, retries, cache,
``llm_calls`` rows). An answer that still does not parse after the client's re-asks raises
:class:`sim.agent.NoAnswer`: the engine then plays the world's fallback and logs it as invalid.
"""

from __future__ import annotations

import random
from typing import Any, ClassVar, Literal

from pydantic import Field

from agents.llm import parsing, prompts
from agents.llm.seat import LLMSeat
from sim.agent import AgentConfig, NoAnswer
from sim.llm.client import CallContext
from sim.llm.settings import ModelSettings
from sim.types import Action, ActionKind, Observation, PlayerId, WorldSpec

REPEATED = "matrix/repeated-v1"


class LLMAgentConfig(AgentConfig):
    """The model and how to prompt it."""

    model: ModelSettings
    prompt: Literal["akata", "json"] = Field(
        "akata", description="repeated games: Akata's completion or JSON"
    )
    scot: bool = Field(False, description="repeated games: predict the other's option first (two calls)")
    framing: Literal["game", "cooking", "project"] = "game"
    unit: str | None = Field(None, description="unit word for payoffs (default: the framing's)")
    shuffle_options: bool = Field(True, description="shuffle option and rule order each round (seeded)")
    opponent_note: str | None = Field(None, description="extra text about the opponent")
    system: str | None = Field(None, description="an optional system message")


class LLMAgent(LLMSeat):
    """An LLM in any seat of any world."""

    Config: ClassVar[type[AgentConfig]] = LLMAgentConfig
    worlds: ClassVar[tuple[str, ...] | None] = None

    def __init__(self, config: LLMAgentConfig):
        super().__init__(config)
        self.config: LLMAgentConfig = config
        self.rng = random.Random(0)
        self.seed = 0
        self.seat: PlayerId = ""
        self.world_id = ""
        self.predictions: dict[int, str] = {}

    def reset(self, seat: PlayerId, world: WorldSpec, seed: int) -> None:
        """New episode: fresh RNG (option shuffles), no predictions."""
        self.seat = seat
        self.world_id = world.id
        self.needs_text = world.id != REPEATED  # the repeated prompt is built from the fields, not the text
        self.seed = seed
        self.rng = random.Random(seed)
        self.predictions = {}

    async def act(self, observation: Observation) -> Action:
        """Ask the model for this seat's action."""
        if self.world_id == REPEATED and observation.legal.kind is ActionKind.CHOICE:
            return await self._repeated(observation)
        return await self._generic(observation)

    def episode_metrics(self, final: Observation) -> dict[str, float]:
        """SCoT: how often the predicted option was the other player's actual move."""
        if not self.predictions:
            return {}
        moves = {r.round: r.other for r in final.history}
        scored = [self.predictions[t] == moves[t] for t in self.predictions if t in moves]
        return (
            {"predictions": float(len(scored)), "prediction_accuracy": sum(scored) / len(scored)}
            if scored
            else {}
        )

    # repeated games -------------------------------------------------------------------------
    async def _repeated(self, obs: Observation) -> Action:
        cfg = self.config
        options = obs.legal.options
        context = prompts.repeated_context(
            obs,
            self.rng,
            framing=cfg.framing,
            unit=cfg.unit,
            shuffle=cfg.shuffle_options,
            opponent_note=cfg.opponent_note,
        )
        notes: dict[str, Any] = {"order": list(context["order"])}
        template = "repeated/json.j2" if cfg.prompt == "json" else "repeated/akata.j2"
        if cfg.scot:
            prediction = await self._ask_option(
                obs, render_as="repeated/scot_predict.j2", context=context, purpose="repeated.scot.predict"
            )
            notes["prediction"] = prediction
            self.predictions[obs.turn] = prediction
            context = {**context, "prediction": prediction}
            template = "repeated/scot_choose.j2"
        choice = await self._ask_option(obs, render_as=template, context=context, purpose="repeated.act")
        assert choice in options
        return Action(ActionKind.CHOICE, choice, notes=notes)

    async def _ask_option(
        self, obs: Observation, *, render_as: str, context: dict[str, Any], purpose: str
    ) -> str:
        cfg = self.config
        options = obs.legal.options
        spec_model = parsing.answer_model(obs.legal)
        json_style = cfg.prompt == "json" and not render_as.endswith(("scot_predict.j2", "scot_choose.j2"))

        def parse(text: str) -> str:
            if json_style or text.lstrip().startswith("{"):
                value: str = parsing.answer_value(parsing.parse_json_answer(text, spec_model))
                return value
            return parsing.parse_option(text, options)

        noun = context["framing"].noun
        order = context["order"]
        answer = await self.client.ask(
            cfg.model,
            self._messages(prompts.render(render_as, **context)),
            parse,
            schema=spec_model if json_style else None,
            purpose=purpose,
            context=CallContext(self.services.episode_id, self.seat, obs.turn, self.seed),
            correction=lambda error: (
                f"That answer is not valid ({error}). Answer with {noun} {order[0]} or "
                f"{noun} {order[1]} only."
            ),
        )
        if not answer.valid:
            raise NoAnswer(f"{purpose}: {answer.error} (after {answer.attempts} tries)")
        value: str = answer.value
        return value

    # any world ------------------------------------------------------------------------------
    async def _generic(self, obs: Observation) -> Action:
        model = parsing.answer_model(obs.legal)
        answer = await self.client.ask(
            self.config.model,
            self._messages(prompts.generic_prompt(obs, model.model_json_schema())),
            lambda text: parsing.answer_value(parsing.parse_json_answer(text, model)),
            schema=model,
            purpose=f"{self.world_id}.act",
            context=CallContext(self.services.episode_id, self.seat, obs.turn, self.seed),
        )
        if not answer.valid:
            raise NoAnswer(f"{answer.error} (after {answer.attempts} tries)")
        return Action(obs.legal.kind, answer.value)

    def _messages(self, prompt: str) -> list[dict[str, Any]]:
        system = [{"role": "system", "content": self.config.system}] if self.config.system else []
        return [*system, {"role": "user", "content": prompt}]
