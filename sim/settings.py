"""How the engine plays episodes and how a run paces its writes (a scenario's ``engine:`` block)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class EngineSettings(BaseModel):
    """How the engine runs episodes."""

    model_config = ConfigDict(extra="forbid")

    action_timeout: float = Field(
        60.0,
        gt=0,
        description="seconds an I/O agent (LLM) may take per action; "
        "scripted bots run inline and cannot be pre-empted",
    )
    max_retries: int = Field(
        2, ge=0, le=20, description="re-asks after an illegal answer before the fallback"
    )
    metrics_every: int = Field(1, ge=0, description="collect per-turn metrics every N turns (0 = never)")
    parallel_episodes: int = Field(1, ge=1, le=1024, description="episodes played at once (for LLM seats)")
    flush_rows: int = Field(20_000, ge=1, description="flush the writer after this many buffered rows")
    flush_seconds: float = Field(1.0, gt=0, description="flush the writer at least this often during play")
