"""The LLM agent for Among Us: the generic LLM agent with the memory of its prompts in its config
(beside ReCon, the other world-specific LLM agent: ``agents/llm`` knows no world).

Every prompt comes from the world's pack (:mod:`worlds.among_us.prompt_pack`); this agent only adds the
config fields of the pack's bounded memory (records shown verbatim, and how older ones are summarised).
The generic ``llm`` agent plays Among Us too, with the pack's default memory.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import ClassVar

from pydantic import Field

from agents.llm.agent import LLMAgent, LLMAgentConfig
from sim.agent import AgentConfig
from sim.types import PlayerId, WorldSpec
from worlds.among_us.memory import SummaryMode
from worlds.among_us.prompt_pack import DEFAULT_SUMMARY, DEFAULT_WINDOW, AmongUsPromptSettings


class AmongUsLLMConfig(LLMAgentConfig):
    """The model, and the memory of the seat's prompts."""

    memory_window: int = Field(
        DEFAULT_WINDOW, ge=0, le=500, description="most recent events shown verbatim in every prompt"
    )
    summary: SummaryMode = Field(
        DEFAULT_SUMMARY,
        description="facts: older events summarised (last sighting per player, kills and vents seen, one "
        "line per meeting); none: older events dropped",
    )


class AmongUsLLMAgent(LLMAgent):
    """An LLM in an Among Us seat, with a bounded memory."""

    Config: ClassVar[type[AgentConfig]] = AmongUsLLMConfig
    worlds: ClassVar[tuple[str, ...] | None] = ("social/among_us-v1",)

    def reset(self, seat: PlayerId, world: WorldSpec, seed: int) -> None:
        """The generic reset, then the memory settings the pack reads."""
        super().reset(seat, world, seed)
        cfg = self.config
        assert isinstance(cfg, AmongUsLLMConfig)
        self.settings = AmongUsPromptSettings(
            **asdict(self.settings), window=cfg.memory_window, summary=cfg.summary
        )
