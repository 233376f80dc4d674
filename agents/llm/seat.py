"""What every LLM-backed agent shares: the run's LLM client, lent by the engine through ``attach``."""

from __future__ import annotations

from typing import ClassVar

from sim.agent import AgentBase, AgentConfig, AgentServices
from sim.llm.budget import ask_budget, models_in
from sim.llm.client import LLMClient


class LLMSeat(AgentBase):
    """Base of LLM agents: waits on I/O (``concurrent``), reads the observation text, and uses the
    run's LLM client from the engine's services."""

    concurrent: ClassVar[bool] = True
    needs_text: bool = True
    #: Most model asks one action makes (each covered by the derived ``engine.action_timeout``).
    asks_per_action: int = 1

    def __init__(self, config: AgentConfig | None = None) -> None:
        super().__init__(config)

    @property
    def client(self) -> LLMClient:
        """The run's client (a private one when played without the engine's services)."""
        if self.services.llm is None:
            self.services = AgentServices(self.services.episode_id, LLMClient())
        client: LLMClient = self.services.llm
        return client

    def action_budget(self) -> float | None:
        """Seconds one action may take under the config's model settings: ``asks_per_action`` asks of
        the slowest model (:func:`sim.llm.budget.ask_budget`); None without model settings."""
        budgets = [ask_budget(m) for m in models_in(self.config)]
        return self.asks_per_action * max(budgets) if budgets else None
