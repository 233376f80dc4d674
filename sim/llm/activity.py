"""What a run's LLM clients are doing right now, for its live progress line.

The CLI sets an :class:`Activity` with :func:`watching` before it starts the run; every
:class:`sim.llm.client.LLMClient` in that context (the run's event loop copies it) counts each
``llm_calls`` row into it and flags litellm's import. The progress display reads it from its refresh
thread: plain counters, written by one thread only.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass
class Activity:
    """Live LLM counts of a run: every ``llm_calls`` row, and what the provider's answers cost."""

    calls: int = 0
    #: Rows served from the response cache (counted in ``calls``; their tokens and cost were not spent).
    cached: int = 0
    #: Prompt and completion tokens of the provider's answers in this run.
    tokens: int = 0
    cost_usd: float = 0.0
    #: Some answer had no price (an unmapped, local model): the cost is unknown, shown as ``?``.
    unpriced: bool = False
    #: litellm is being imported (the first LLM call of a process waits for it, several seconds).
    loading: bool = False

    def add(self, row: Mapping[str, Any]) -> None:
        """Count one ``llm_calls`` row."""
        self.calls += 1
        if row.get("cache_hit"):
            self.cached += 1
            return
        self.tokens += (row.get("prompt_tokens") or 0) + (row.get("completion_tokens") or 0)
        if row.get("cost_usd") is not None:
            self.cost_usd += row["cost_usd"]
        elif row.get("response") is not None:  # the provider answered, and no price is known for it
            self.unpriced = True


_CURRENT: contextvars.ContextVar[Activity | None] = contextvars.ContextVar("sim_llm_activity", default=None)


def current() -> Activity | None:
    """The activity being watched in this context, if any."""
    return _CURRENT.get()


@contextlib.contextmanager
def watching(activity: Activity) -> Iterator[Activity]:
    """Count the LLM calls made in this context (and in event loops started from it) into ``activity``."""
    token = _CURRENT.set(activity)
    try:
        yield activity
    finally:
        _CURRENT.reset(token)
