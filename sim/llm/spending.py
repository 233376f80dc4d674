"""A spending cap on a run's LLM calls (a tournament's ``budget``): estimated USD and/or tokens.

The driver counts every stored episode's ``llm_calls`` rows (answers served from the cache cost
nothing now); once a cap is reached, :meth:`SpendingCap.admit` refuses new jobs, so the executor
starts no more while the episodes in flight finish. Spend is counted when an episode's record is
written, so a run may overshoot by what the episodes in flight spend.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sim.jobs import EpisodeJob
from sim.records import EpisodeRecord


class SpendingCap:
    """Stop scheduling once ``usd`` (estimated; unpriced answers count 0) or ``tokens`` is reached.

    An :class:`sim.executor.EpisodeHandler` watcher of the run: told of each record, it counts its
    calls. ``denied`` counts the jobs it kept from starting."""

    def __init__(self, usd: float | None = None, tokens: int | None = None):
        self.usd = usd
        self.tokens = tokens
        self.spent_usd = 0.0
        self.spent_tokens = 0
        self.denied = 0

    @property
    def reason(self) -> str | None:
        """Why no more jobs start (a cap reached), or None."""
        if self.tokens is not None and self.spent_tokens >= self.tokens:
            return f"token budget reached: {self.spent_tokens:,} of {self.tokens:,} tokens"
        if self.usd is not None and self.spent_usd >= self.usd:
            return f"budget reached: ${self.spent_usd:.4f} of ${self.usd:.4f} (estimated)"
        return None

    def stopped_why(self) -> str | None:
        """The reason and how many jobs were not played, if the cap kept any from starting."""
        reason = self.reason
        if reason is None or not self.denied:
            return None
        return f"{reason}; {self.denied} not played"

    def admit(self, job: EpisodeJob) -> bool:
        """Whether ``job`` may start (the executor's ``admit``)."""
        if self.reason is None:
            return True
        self.denied += 1
        return False

    def add_rows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Count ``llm_calls`` rows: tokens and cost of the provider's answers (cache hits are free)."""
        for row in rows:
            if row.get("cache_hit"):
                continue
            self.spent_tokens += (row.get("prompt_tokens") or 0) + (row.get("completion_tokens") or 0)
            self.spent_usd += row.get("cost_usd") or 0.0

    def started(self, job: EpisodeJob) -> None:
        """Nothing to count until the record arrives."""

    def finished(self, record: EpisodeRecord) -> None:
        self.add_rows(record.llm_calls)
