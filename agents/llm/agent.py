"""The LLM agent: one class for every world, any model litellm reaches.

It knows no world: the world's prompt pack (:func:`sim.prompts.prompt_pack`) writes every prompt and
says how its answer is read. In repeated games that is Akata et al.'s prompt (completion style,
"A: Option" answered with one label; :mod:`sim.llm.routes` sends it as chat, as an assistant prefill
or on the text-completion route) or a JSON chat variant, optionally with social chain-of-thought
(SCoT: predict the other player's option, then choose given that prediction, two calls per round);
in worlds without a pack of their own, the world's text of the observation, a filled-in example of a
legal answer and its allowed values (:mod:`sim.answer_examples`; the JSON schema goes to the provider
as structured output, never into the prompt).

Every call goes through the run's :class:`sim.llm.client.LLMClient` (queues, retries, cache,
``llm_calls`` rows). An answer that still does not parse after the client's re-asks raises
:class:`sim.agent.NoAnswer`: the engine then plays the world's fallback and logs it as invalid.
"""

from __future__ import annotations

import random
from typing import Any, ClassVar, Literal

from pydantic import Field

from agents.llm import parsing
from agents.llm.seat import LLMSeat
from sim.agent import AgentConfig, NoAnswer
from sim.llm import routes
from sim.llm.client import CallContext
from sim.llm.settings import ModelSettings
from sim.prompts import Prompt, PromptPack, PromptSettings, prompt_pack
from sim.types import Action, Observation, PlayerId, WorldSpec


class LLMAgentConfig(AgentConfig):
    """The model and how to prompt it (the world's prompt pack says which styles it offers)."""

    model: ModelSettings
    prompt: Literal["akata", "json"] | None = Field(
        None, description="prompt style (akata: completion, or json); default: the world's pack's first"
    )
    scot: bool = Field(False, description="predict the other's option first (two calls; repeated games)")
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
        self.pack = PromptPack()
        self.settings = PromptSettings(self.pack.styles[0])
        self.predictions: dict[int, str] = {}
        self.asks_per_action = 2 if config.scot else 1

    @classmethod
    def check_config(cls, config: AgentConfig, world: WorldSpec) -> list[tuple[str, str]]:
        """A prompt style or SCoT that the world's prompt pack does not offer."""
        assert isinstance(config, LLMAgentConfig)
        pack = prompt_pack(world.id)
        problems = []
        if config.prompt is not None and config.prompt not in pack.styles:
            offered = ", ".join(pack.styles)
            message = f"{world.id} offers the prompt styles {offered}, not {config.prompt!r}"
            problems.append(("prompt", message))
        if config.scot and not pack.scot:
            problems.append(("scot", f"{world.id} offers no social chain-of-thought prompts"))
        return problems

    def reset(self, seat: PlayerId, world: WorldSpec, seed: int) -> None:
        """New episode: the world's prompt pack, a fresh RNG (option shuffles), no predictions."""
        cfg = self.config
        self.seat = seat
        self.world_id = world.id
        self.pack = prompt_pack(world.id)
        self.needs_text = self.pack.from_text
        self.settings = PromptSettings(
            cfg.prompt or self.pack.styles[0], cfg.framing, cfg.unit, cfg.shuffle_options, cfg.opponent_note
        )
        self.seed = seed
        self.rng = random.Random(seed)
        self.predictions = {}

    async def act(self, observation: Observation) -> Action:
        """Ask the model for this seat's action (first its SCoT prediction, with ``scot``)."""
        assert observation.legal is not None
        decision = self.pack.decision(observation, self.settings, self.rng)
        prediction = None
        if self.config.scot:
            prediction = await self._ask(observation, self.pack.predict_prompt(decision))
            decision.notes["prediction"] = prediction
            self.predictions[observation.turn] = prediction
        value = await self._ask(observation, self.pack.act_prompt(decision, prediction))
        return Action(observation.legal.kind, value, notes=decision.notes or None)

    def episode_metrics(self, final: Observation) -> dict[str, float]:
        """SCoT: how often the predicted option was the other player's actual move."""
        if not self.predictions:
            return {}
        moves = self.pack.other_moves(final)
        scored = [self.predictions[t] == moves[t] for t in self.predictions if t in moves]
        return (
            {"predictions": float(len(scored)), "prediction_accuracy": sum(scored) / len(scored)}
            if scored
            else {}
        )

    async def _ask(self, obs: Observation, prompt: Prompt) -> Any:
        purpose = self.pack.purpose(self.world_id, prompt.stage)
        answer = await self.client.ask(
            self.config.model,
            self._messages(prompt.text),
            lambda text: parsing.parse_answer(text, prompt),
            schema=prompt.model if prompt.answer == "json" else None,
            purpose=purpose,
            context=CallContext(self.services.episode_id, self.seat, obs.turn, self.seed),
            correction=prompt.correction,
            cue=routes.cue_of(prompt.text) if prompt.answer == "label" else None,
        )
        if not answer.valid:
            raise NoAnswer(f"{purpose}: {answer.error} (after {answer.attempts} tries)")
        return answer.value

    def _messages(self, prompt: str) -> list[dict[str, Any]]:
        system = [{"role": "system", "content": self.config.system}] if self.config.system else []
        return [*system, {"role": "user", "content": prompt}]
