"""How long a model may take: one ask's worst case under its settings, and the models an agent uses.

One ask (:meth:`sim.llm.client.LLMClient.ask`) makes up to ``reasks + 1`` attempts; each attempt up
to ``retries + 1`` HTTP tries of at most ``timeout`` seconds, with a jittered exponential backoff
of at most ``min(30, backoff * 2**(n-1))`` seconds before try ``n + 1`` (a server's ``Retry-After``,
at most 60 s, is not counted). The engine's derived per-action limit
(:meth:`sim.settings.EngineSettings.action_limit`) is built from this.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from sim.llm.settings import ModelSettings

#: The client's cap on one backoff wait (``wait_random_exponential(max=30)``).
MAX_BACKOFF = 30.0


def ask_budget(settings: ModelSettings) -> float:
    """Seconds one ask may take at most: every attempt's tries at ``timeout`` plus the backoff waits."""
    waits = sum(min(MAX_BACKOFF, settings.backoff * 2 ** (n - 1)) for n in range(1, settings.retries + 1))
    return (settings.reasks + 1) * ((settings.retries + 1) * settings.timeout + waits)


def models_in(config: Any) -> Iterator[ModelSettings]:
    """Every :class:`ModelSettings` in an agent config (its fields, nested models, lists and dicts)."""
    if isinstance(config, ModelSettings):
        yield config
    elif isinstance(config, BaseModel):
        for name in type(config).model_fields:
            yield from models_in(getattr(config, name))
    elif isinstance(config, (list, tuple)):
        for item in config:
            yield from models_in(item)
    elif isinstance(config, dict):
        for item in config.values():
            yield from models_in(item)
