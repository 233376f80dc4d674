"""Episode jobs: everything needed to play one episode, as plain picklable data.

A scenario expands to a list of jobs (:meth:`sim.scenario.LoadedScenario.jobs`); an executor plays
them (:func:`sim.play.play_job`) wherever it likes, in this process or another, and the driver writes
their records. A job holds names and JSON only (no classes, no live objects), so it pickles small
and loads its world and agents through the registry where it is played.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.settings import EngineSettings


@dataclass(frozen=True, slots=True)
class SeatConfig:
    """One seat of a job: the agent's registry name (or ``module:attr``), its display label, the
    seat role it plays, and its config as given in the scenario (validated when the agent is made)."""

    agent: str
    label: str
    role: str
    config: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EpisodeJob:
    """One episode to play. Treat ``params`` and seat configs as read-only: jobs share them.

    ``world`` is the name the world class loads from (a registry id or ``module:attr``, as the
    scenario gave it); ``world_id`` is its declared ``spec.id`` (what the store records).
    ``params`` are the world params the scenario set, as JSON (defaults left out, so that validating
    them again gives the same params, including validators that read which fields were set).
    """

    run_id: int | None
    index: int
    world: str
    world_id: str
    params: dict[str, Any]
    seats: tuple[SeatConfig, ...]
    seed: int
    matchup: str
    engine: EngineSettings

    @property
    def key(self) -> str:
        """The job's stable identity: ``"{run_id}/{index}"``, derived from (run, index), not from the
        content. A run's jobs are re-expanded from its stored scenario, so the same key names the same
        episode; a resumed run plays the jobs whose keys have no complete episode. Unique within a run
        (``"-/{index}"`` without a stored run)."""
        return f"{'-' if self.run_id is None else self.run_id}/{self.index}"

    def __hash__(self) -> int:
        return hash(self.key)
