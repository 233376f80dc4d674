"""The LLM agent for CharacterBox: the generic LLM agent plus a character's memory settings and its
per-round belief/desire/intention (BDI) update.

Every prompt comes from the world's pack (:mod:`worlds.characterbox.prompt_pack`). In a character seat,
at its first decision of each round (act or react) the agent first asks for a short first-person BDI
(STRUCTURED, purpose ``characterbox.bdi``), then for the action with that BDI in the prompt. The BDI is
logged in the action's notes (``Action.notes["bdi"]``: the seat's private ``rationale`` event) and kept
for later prompts and retrieval queries. A BDI that never validates (after the client's re-asks; each
try is an invalid ``llm_calls`` row) does not block the action: it is noted (``bdi_failed``) and the
action is asked with the previous BDI, if any. In the narrator seat this agent is the generic one (no
BDI); the generic ``llm`` agent plays either seat too, with the pack's default memory and no BDI.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import ClassVar

from pydantic import Field

from agents.llm import parsing
from agents.llm.agent import LLMAgent, LLMAgentConfig
from sim.agent import AgentConfig
from sim.llm.client import CallContext
from sim.prompts import Decision
from sim.types import Action, Observation, PlayerId, WorldSpec
from worlds.characterbox.prompt_pack import (
    CHARACTER_STAGES,
    DEFAULT_RETRIEVE,
    DEFAULT_WINDOW,
    BeliefDesireIntention,
    CharacterBoxPromptPack,
    CharacterBoxPromptSettings,
)
from worlds.characterbox.world import CharacterBoxWorld


class CharacterBoxLLMConfig(LLMAgentConfig):
    """The model, the character's memory, and whether it updates its BDI each round."""

    memory_window: int = Field(
        DEFAULT_WINDOW, ge=0, le=500, description="most recent perceived events shown verbatim"
    )
    retrieve_k: int = Field(
        DEFAULT_RETRIEVE, ge=0, le=50, description="older own events recalled by lexical retrieval"
    )
    bdi: bool = Field(True, description="a first-person belief/desire/intention update each round")


class CharacterBoxLLMAgent(LLMAgent):
    """An LLM in a CharacterBox seat: a character with memory and BDI, or the narrator."""

    Config: ClassVar[type[AgentConfig]] = CharacterBoxLLMConfig
    worlds: ClassVar[tuple[str, ...] | None] = (CharacterBoxWorld.spec.id,)

    def __init__(self, config: CharacterBoxLLMConfig):
        super().__init__(config)
        self.config: CharacterBoxLLMConfig = config
        self.asks_per_action = 2 if config.bdi else 1
        self.bdi: dict[str, str] | None = None
        self.bdi_round: tuple[int, int] | None = None  # (scene, round) of the last BDI asked

    def reset(self, seat: PlayerId, world: WorldSpec, seed: int) -> None:
        """The generic reset, then the memory settings the pack reads, and no BDI yet."""
        super().reset(seat, world, seed)
        cfg = self.config
        self.settings = CharacterBoxPromptSettings(
            **asdict(self.settings), window=cfg.memory_window, retrieve_k=cfg.retrieve_k
        )
        self.bdi = None
        self.bdi_round = None

    async def act(self, observation: Observation) -> Action:
        """A character's BDI update at its round's first decision, then the action (the narrator: the
        generic decision)."""
        assert observation.legal is not None
        pack = self.pack
        assert isinstance(pack, CharacterBoxPromptPack)
        decision = pack.decision(observation, self.settings, self.rng)
        pub = observation.public
        now = (pub.scene, pub.round)
        if self.config.bdi and pack.stage_of(observation) in CHARACTER_STAGES and self.bdi_round != now:
            self.bdi_round = now
            decision.context["bdi"] = self.bdi  # the previous one, if any
            await self._update_bdi(pack, decision)
        decision.context["bdi"] = self.bdi
        if self.bdi is not None and self.bdi_round == now:
            decision.notes["bdi"] = dict(self.bdi)
        value = await self._ask(observation, pack.act_prompt(decision))
        return Action(observation.legal.kind, value, notes=decision.notes or None)

    async def _update_bdi(self, pack: CharacterBoxPromptPack, decision: Decision) -> None:
        """Ask for this round's BDI; a failure is noted and the previous BDI stands."""
        obs = decision.observation
        prompt = pack.bdi_prompt(decision)
        answer = await self.client.ask(
            self.config.model,
            self._messages(prompt.text),
            lambda text: parsing.parse_json_answer(text, BeliefDesireIntention),
            schema=BeliefDesireIntention,
            purpose=pack.purpose(self.world_id, prompt.stage),
            context=CallContext(self.services.episode_id, self.seat, obs.turn, self.seed),
        )
        if not answer.valid:
            decision.notes["bdi_failed"] = (
                f"{answer.error or 'no valid answer'} (after {answer.attempts} tries)"
            )
            return
        self.bdi = answer.value.model_dump()
