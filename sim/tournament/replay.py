"""Replay of deterministic matches: a match whose world draws nothing from its RNG (for its params) and
whose seats are all deterministic agents plays the same way whatever its seed, so a tournament plays
it once and stores copies of its record for the repetitions (as axelrod's deterministic cache).

:class:`ReplayExecutor` wraps any backend's executor. Matches are grouped by everything but their seed
and index (:func:`replay_key`); the first of each group (the leader) is played by the wrapped executor
without a live stream, so its record holds its rows; every other match of a group whose leader ended
complete is handed to the driver as if played, with a copy of that record. A leader that failed or was
interrupted is not replayed: its group's other matches are played normally (or, after a stop, left
unplayed for ``--resume``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Callable, Sequence

from sim.engine import Interrupted
from sim.executor import EpisodeHandler, Executor
from sim.jobs import EpisodeJob
from sim.play import agent_class, world_class, world_params
from sim.records import EpisodeRecord, EpisodeStream
from sim.types import dumps


def replay_key(job: EpisodeJob) -> str | None:
    """The key of the job's replay group (world, params, seats, matchup, engine settings: all but the
    seed and index), or None when its result may depend on the seed (or its classes do not load: the
    play reports that)."""
    try:
        if not world_class(job.world).replayable(world_params(job)):
            return None
        if not all(agent_class(seat.agent).deterministic for seat in job.seats):
            return None
    except Exception:
        return None
    seats = [[s.agent, s.label, s.role, s.config] for s in job.seats]
    plan = {"world": [job.world, job.world_id], "params": job.params, "seats": seats}
    return dumps({**plan, "matchup": job.matchup, "engine": job.engine.model_dump(mode="json")})


def replica(record: EpisodeRecord, job: EpisodeJob) -> EpisodeRecord:
    """``record`` (a complete, unstreamed one) as the record of ``job``: a new result object (the writer
    stamps the episode id on it) and new LLM call rows; the events, series and the result's contents are
    shared, as the writer and the hooks only read them (a deep copy cost a fifth of a bots tournament)."""
    result = record.result
    return dataclasses.replace(
        record,
        job=job,
        result=None if result is None else dataclasses.replace(result, episode_id=None),
        llm_calls=[dict(row) for row in record.llm_calls],
    )


class _Leaders:
    """The handler the wrapped executor sees: leaders are played without a live stream, and the record
    of each complete one is kept (before the driver stamps it) for its group."""

    def __init__(self, handler: EpisodeHandler, groups: dict[str, str]):
        self.handler = handler
        self.groups = groups  # leader's job key -> group key
        self.records: dict[str, EpisodeRecord] = {}  # group key -> the leader's complete record

    def started(self, job: EpisodeJob) -> EpisodeStream | None:
        stream = self.handler.started(job)
        return None if job.key in self.groups else stream

    def finished(self, record: EpisodeRecord) -> None:
        group = self.groups.get(record.job.key)
        if group is not None and record.status == "complete" and not record.streamed:
            self.records[group] = replica(record, record.job)
        self.handler.finished(record)


class ReplayExecutor:
    """An :class:`sim.executor.Executor` that plays one match of each deterministic group through
    ``inner`` and replays the others (see the module). ``stop`` and ``admit`` are the run's, as given to
    ``inner``: a replica is not handed over once the run is stopped or when ``admit`` refuses it (it
    stays unplayed, for ``--resume``)."""

    def __init__(
        self,
        inner: Executor,
        *,
        stop: threading.Event,
        admit: Callable[[EpisodeJob], bool] | None = None,
    ):
        self.inner = inner
        self.stop = stop
        self.admit = admit
        #: Jobs handed to ``inner`` by the last run (tests count plays with it).
        self.played: list[EpisodeJob] = []

    async def run(self, jobs: Sequence[EpisodeJob], handler: EpisodeHandler) -> None:
        """Play every job (see :meth:`sim.executor.Executor.run`)."""
        groups: dict[str, list[EpisodeJob]] = {}
        for job in jobs:
            key = replay_key(job)
            if key is not None:
                groups.setdefault(key, []).append(job)
        replicas = {j.key: key for key, group in groups.items() for j in group[1:]}
        leaders = _Leaders(handler, {group[0].key: key for key, group in groups.items() if len(group) > 1})
        self.played = [job for job in jobs if job.key not in replicas]
        stopped: Interrupted | None = None
        try:
            await self.inner.run(self.played, leaders)
        except Interrupted as exc:
            stopped = exc
        unplayed = 0
        again: list[EpisodeJob] = []  # replicas of leaders that did not end complete
        for job in jobs:
            group = replicas.get(job.key)
            if group is None:
                continue
            record = leaders.records.get(group)
            if record is None:
                again.append(job)
            elif self.stop.is_set() or (self.admit is not None and not self.admit(job)):
                unplayed += 1
            else:
                handler.started(job)
                handler.finished(replica(record, job))
                await asyncio.sleep(0)  # let a stop request or the heartbeat in between
        if again and self.stop.is_set():
            unplayed += len(again)
        elif again:
            self.played = [*self.played, *again]
            try:
                await self.inner.run(again, handler)
            except Interrupted as exc:
                stopped = stopped or exc
        if stopped is not None:
            raise stopped
        if unplayed:
            raise Interrupted(f"stop requested: {getattr(self.stop, 'reason', None) or 'stop event set'}")
