"""What a run produced, for the CLI's closing table and for callers of :func:`sim.runner.run_scenario`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.engine import EpisodeResult
from sim.jobs import EpisodeJob
from sim.llm.usage import LLMUsage


@dataclass
class RunSummary:
    """Where a run is stored, each episode's job and result in job order, and LLM usage per
    ``(episode_id, player_id)``."""

    db: Path
    run_id: int
    episodes: list[tuple[EpisodeJob, EpisodeResult]] = field(default_factory=list)
    llm_usage: dict[tuple[int | None, str | None], LLMUsage] = field(default_factory=dict)

    def add_usage(self, episode_id: int, calls: Iterable[Mapping[str, Any]]) -> None:
        """Count an episode's ``llm_calls`` rows (calls, cache hits, tokens, cost) per seat."""
        for row in calls:
            self.llm_usage.setdefault((episode_id, row["player_id"]), LLMUsage()).add(dict(row))
