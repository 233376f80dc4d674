"""What every LLM-backed agent shares: the run's LLM client, lent by the engine through ``attach``."""

from __future__ import annotations

from typing import ClassVar

from sim.agent import AgentBase, AgentConfig, AgentServices
from sim.llm.client import LLMClient


class LLMSeat(AgentBase):
    """Base of LLM agents: waits on I/O (``concurrent``), reads the observation text, and uses the
    run's LLM client from the engine's services."""

    concurrent: ClassVar[bool] = True
    needs_text: bool = True

    def __init__(self, config: AgentConfig | None = None) -> None:
        super().__init__(config)

    @property
    def client(self) -> LLMClient:
        """The run's client (a private one when played without the engine's services)."""
        if self.services.llm is None:
            self.services = AgentServices(self.services.episode_id, LLMClient())
        client: LLMClient = self.services.llm
        return client
