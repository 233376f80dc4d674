"""What every LLM-backed agent shares: the run's LLM client, lent by the engine through ``attach``."""

from __future__ import annotations

from sim.agent import AgentServices
from sim.llm.client import LLMClient


class LLMSeat:
    """Base of LLM agents: keeps the engine's services and gives the run's client."""

    def __init__(self) -> None:
        self.services = AgentServices(None)

    def attach(self, services: AgentServices) -> None:
        """Take the run's LLM client and the episode id from the engine."""
        self.services = services

    @property
    def client(self) -> LLMClient:
        """The run's client (a private one when played without the engine's services)."""
        if self.services.llm is None:
            self.services = AgentServices(self.services.episode_id, LLMClient())
        client: LLMClient = self.services.llm
        return client
