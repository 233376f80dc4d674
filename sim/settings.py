"""How the engine plays episodes and how a run paces its writes (a scenario's ``engine:`` block)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

#: The per-action limit of an I/O agent that states no budget of its own (``action_budget``).
DEFAULT_ACTION_TIMEOUT = 60.0


class EngineSettings(BaseModel):
    """How the engine runs episodes."""

    model_config = ConfigDict(extra="forbid")

    action_timeout: float | None = Field(
        None,
        gt=0,
        description="seconds an I/O agent (LLM) may take per action; default (unset): what the agent's "
        "model settings allow (timeout x tries x asks plus backoff, see sim.llm.budget), else "
        f"{DEFAULT_ACTION_TIMEOUT:g}; scripted bots run inline and cannot be pre-empted",
    )
    max_retries: int = Field(
        2, ge=0, le=20, description="re-asks after an illegal answer before the fallback"
    )
    metrics_every: int = Field(1, ge=0, description="collect per-turn metrics every N turns (0 = never)")
    parallel_episodes: int = Field(1, ge=1, le=1024, description="episodes played at once (for LLM seats)")
    flush_rows: int = Field(20_000, ge=1, description="flush the writer after this many buffered rows")
    flush_seconds: float = Field(1.0, gt=0, description="flush the writer at least this often during play")
    fail_fast: bool = Field(
        False, description="stop the run at the first failed episode (default: log it and play the others)"
    )
    max_consecutive_failures: int = Field(
        5,
        ge=0,
        description="circuit breaker: stop scheduling episodes after this many failed in a row "
        "(0 = never); the rest become not_run and the run fails",
    )
    stop_grace: float = Field(
        2.0,
        ge=0,
        le=60,
        description="seconds episodes get to reach a turn boundary after a stop request before their "
        "in-flight work (LLM requests) is cancelled; a second signal cancels at once",
    )

    def action_limit(self, agent: Any) -> float:
        """Seconds ``agent`` may take per action: ``action_timeout`` if set, else the agent's own
        ``action_budget()`` (LLM seats: their model settings' worst case), else the default."""
        if self.action_timeout is not None:
            return self.action_timeout
        budget = getattr(agent, "action_budget", None)
        seconds = budget() if callable(budget) else None
        return float(seconds) if seconds else DEFAULT_ACTION_TIMEOUT
