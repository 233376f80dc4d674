"""The driver's adapter from episode jobs and records to the one :class:`sim.store.writer.StoreWriter`.

Jobs are reserved as ``pending`` episode rows when the run starts; an episode becomes ``running``
when its job starts (its events and LLM call rows may then stream in live); its record closes it.
Rows a record says were streamed are not written again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from sim.engine import metric_rows
from sim.jobs import EpisodeJob
from sim.records import EpisodeRecord, EpisodeStream
from sim.store.writer import StoreWriter


class RecordWriter:
    """Writes one run's jobs and records through ``writer``; knows each job's episode id."""

    def __init__(self, writer: StoreWriter, run_id: int):
        self.writer = writer
        self.run_id = run_id
        self.episode_ids: dict[str, int] = {}  # job key -> episodes.id
        self._begun: set[str] = set()

    def reserve(self, jobs: Sequence[EpisodeJob]) -> None:
        """Insert every job as a ``pending`` episode, with its plan key."""
        reserved = [
            {
                "index": j.index,
                "matchup": j.matchup,
                "world_id": j.world_id,
                "params": j.params,
                "seed": j.seed,
                "key": j.plan_key,
            }
            for j in jobs
        ]
        ids = self.writer.reserve_episodes(self.run_id, reserved)
        self.episode_ids.update((j.key, episode_id) for j, episode_id in zip(jobs, ids, strict=True))

    def replay(self, jobs: Sequence[EpisodeJob], stored: Mapping[int, int]) -> None:
        """Prepare ``jobs`` of a resumed run to be played from scratch: those with a stored episode
        (``stored``: index -> episodes.id) are reset to ``pending`` (their partial rows removed in one
        transaction), the others reserved."""
        again = [j for j in jobs if j.index in stored]
        self.writer.reset_episodes([stored[j.index] for j in again])
        self.episode_ids.update((j.key, stored[j.index]) for j in again)
        self.reserve([j for j in jobs if j.index not in stored])

    def begin(self, job: EpisodeJob) -> EpisodeStream:
        """Mark the job's episode ``running`` with its seats; returns the stream of its live rows."""
        episode_id = self.episode_ids[job.key]
        self.writer.begin_episode(
            episode_id=episode_id,
            run_id=self.run_id,
            index=job.index,
            matchup=job.matchup,
            world_id=job.world_id,
            params={},  # stored when the episode was reserved
            seed=job.seed,
            seats=[
                {"player_id": f"p{i}", "agent": s.agent, "label": s.label, "config": s.config, "role": s.role}
                for i, s in enumerate(job.seats)
            ],
        )
        self._begun.add(job.key)
        return EpisodeStream(partial(self.writer.add_events, episode_id), partial(self._llm_call, episode_id))

    def write(self, record: EpisodeRecord) -> int:
        """Write what the record holds that was not streamed, then close its episode; returns its id."""
        job = record.job
        if job.key not in self._begun:
            self.begin(job)
        episode_id = self.episode_ids[job.key]
        if not record.streamed:
            if record.events:
                self.writer.add_events(episode_id, record.events)
            for row in record.llm_calls:
                self._llm_call(episode_id, row)
        result = record.result
        if record.status != "complete" or result is None:
            self.writer.finish_episode(
                episode_id, status=record.status, turns=record.turns, outcome=None, error=record.error
            )
            return episode_id
        result.episode_id = episode_id
        self.writer.add_turn_metrics(episode_id, record.series)
        self.writer.add_metrics(episode_id, metric_rows(result.metrics))
        self.writer.finish_episode(
            episode_id,
            status="complete",
            turns=result.turns,
            outcome=result.outcome,
            scores=result.returns,
            invalid=result.invalid,
            roles=result.game_roles,
        )
        return episode_id

    def _llm_call(self, episode_id: int, row: dict[str, Any]) -> None:
        self.writer.add_llm_call({**row, "episode_id": episode_id})
