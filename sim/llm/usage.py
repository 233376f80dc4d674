"""What LLM calls cost, counted from ``llm_calls`` rows: one seat's calls in an episode, a run's, or
an agent's over a run (:meth:`LLMUsage.merge`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

INVALID_ANSWER = "InvalidAnswer"
"""``llm_calls.error_class`` of an answer the parser refused (it arrived: not a provider fault)."""


@dataclass
class LLMUsage:
    """A seat's LLM calls in one episode. Cached calls cost nothing now: their recorded price is
    ``saved``. A price of None (an unpriced model) makes the sum unknown (shown as ``?``)."""

    calls: int = 0
    cached: int = 0
    tokens: int = 0
    retries: int = 0
    faults: int = 0
    cost: float = 0.0
    cost_unknown: bool = False
    saved: float = 0.0
    saved_unknown: bool = False

    def add(self, row: Mapping[str, Any]) -> None:
        """Count one ``llm_calls`` row."""
        self.calls += 1
        self.tokens += (row.get("prompt_tokens") or 0) + (row.get("completion_tokens") or 0)
        self.retries += (row.get("http_attempt") or 0) > 1
        fault = row.get("error_class") not in (None, INVALID_ANSWER)
        self.faults += fault
        cost = row.get("cost_usd")
        if row.get("cache_hit"):
            self.cached += 1
            if cost is None:
                self.saved_unknown = True
            else:
                self.saved += cost
        elif cost is not None:
            self.cost += cost
        elif not fault:
            self.cost_unknown = True

    def merge(self, other: LLMUsage) -> None:
        for name in ("calls", "cached", "tokens", "retries", "faults", "cost", "saved"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.cost_unknown |= other.cost_unknown
        self.saved_unknown |= other.saved_unknown
