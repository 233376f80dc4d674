"""Episode jobs: everything needed to play one episode, as plain picklable data.

A scenario expands to a list of jobs (:meth:`sim.scenario.LoadedScenario.jobs`); an executor plays
them (:func:`sim.play.play_job`) wherever it likes, in this process or another, and the driver writes
their records. A job holds names and JSON only (no classes, no live objects), so it pickles small
and loads its world and agents through the registry where it is played.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sim.redact import redact
from sim.settings import EngineSettings
from sim.types import dumps


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
        """The job's identity within a run: ``"{run_id}/{index}"`` (``"-/{index}"`` without a stored
        run); what the driver and executors key records by. See :attr:`plan_key` for the content."""
        return f"{'-' if self.run_id is None else self.run_id}/{self.index}"

    @property
    def plan_key(self) -> str:
        """The episode's stable key, derived from its plan: sha256 of the canonical JSON of its world,
        params, seats (agent, label, role, config with secrets redacted, so a rotated key keeps it),
        seed and index. Independent of the run and of engine settings (``episodes.key``)."""
        seats = [[s.agent, s.label, s.role, redact(s.config)] for s in self.seats]
        plan = {
            "world": self.world_id,
            "params": self.params,
            "seats": seats,
            "seed": self.seed,
            "index": self.index,
        }
        return _sha256(plan)

    def __hash__(self) -> int:
        return hash(self.key)


def run_fingerprint(jobs: Iterable[EpisodeJob]) -> str:
    """A run's fingerprint (``runs.fingerprint``): sha256 of its world ids and every episode's
    :attr:`EpisodeJob.plan_key` in order. Two runs share it exactly when they plan the same episodes;
    ``sim run --resume`` continues the latest run with the fingerprint of the scenario given."""
    jobs = list(jobs)
    return _sha256({"worlds": sorted({j.world_id for j in jobs}), "episodes": [j.plan_key for j in jobs]})


def _sha256(value: Any) -> str:
    """sha256 (hex) of the canonical (compact, key-sorted) JSON of ``value``."""
    return hashlib.sha256(dumps(value).encode()).hexdigest()
