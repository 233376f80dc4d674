"""Play one episode job: make its world and agents through the registry, run the engine, return its
record. No store access: this is what an executor runs, in this process or in a worker elsewhere.
"""

from __future__ import annotations

import asyncio
import threading
from functools import cache, lru_cache
from typing import Any

from pydantic import BaseModel

from sim import registry
from sim.agent import Agent, AgentBase
from sim.engine import play_episode, seat_ids
from sim.jobs import EpisodeJob, SeatConfig
from sim.records import EpisodeRecord, EpisodeRecorder, record_llm_call, recording
from sim.types import dumps, to_jsonable
from sim.world import World, WorldBase


@cache
def world_class(name: str) -> type[World]:
    """The world class registered as ``name`` (or at ``module:attr``), loaded once per process."""
    cls = registry.world_entry(name).load()
    if not (isinstance(cls, type) and issubclass(cls, WorldBase)):
        raise registry.RegistryError(f"{name!r} is not a world class (a sim.world.WorldBase subclass)")
    return cls


@cache
def agent_class(name: str) -> type[Agent]:
    """The agent class registered as ``name`` (or at ``module:attr``), loaded once per process."""
    cls = registry.agent_entry(name).load()
    if not (isinstance(cls, type) and issubclass(cls, AgentBase)):
        raise registry.RegistryError(f"{name!r} is not an agent class (a sim.agent.AgentBase subclass)")
    return cls


def world_params(job: EpisodeJob) -> BaseModel:
    """The job's world params, validated (once per process for each distinct params)."""
    return _params(job.world, dumps(job.params))[0]


def stored_params(job: EpisodeJob) -> dict[str, Any]:
    """The job's world params in full, defaults included, as the store records them (read-only)."""
    return _params(job.world, dumps(job.params))[1]


@lru_cache(maxsize=64)
def _params(world: str, params: str) -> tuple[BaseModel, dict[str, Any]]:
    model: BaseModel = world_class(world).spec.params_model.model_validate_json(params)
    return model, to_jsonable(model.model_dump(mode="json"))


def make_agent(seat: SeatConfig) -> Agent:
    """A fresh agent for ``seat`` (one per seat and episode, in self-play too)."""
    cls = agent_class(seat.agent)
    return cls(cls.Config.model_validate(seat.config))


async def play_job(
    job: EpisodeJob,
    *,
    llm: Any = None,
    stop: threading.Event | None = None,
    recorder: EpisodeRecorder | None = None,
) -> EpisodeRecord:
    """Play ``job`` to the end and return its record.

    ``llm`` is the :class:`sim.llm.client.LLMClient` lent to LLM seats (share one across episodes for
    per-model queues; its ``record`` callback should be :func:`sim.records.record_llm_call`); by
    default a fresh one without a cache. ``recorder`` may carry a live stream; a caller that passes
    one can build the record of an episode that raised with :meth:`EpisodeRecorder.aborted`.
    Exceptions (a failing agent, :class:`sim.engine.Interrupted` when ``stop`` is set) propagate.
    """
    if llm is None:
        from sim.llm.client import LLMClient

        llm = LLMClient(record=record_llm_call)
    recorder = recorder if recorder is not None else EpisodeRecorder(job)
    world_cls = world_class(job.world)
    params = world_params(job)
    players = seat_ids(len(job.seats))
    agents = {p: make_agent(seat) for p, seat in zip(players, job.seats, strict=True)}
    with recording(recorder):
        result = await play_episode(
            world_cls(),
            params,
            agents,
            seed=job.seed,
            settings=job.engine,
            sink=recorder,
            labels={p: seat.label for p, seat in zip(players, job.seats, strict=True)},
            stop=stop,
            llm=llm,
            roles={p: seat.role for p, seat in zip(players, job.seats, strict=True)},
        )
    return recorder.complete(result)


def play_job_here(job: EpisodeJob) -> EpisodeRecord:
    """Play ``job`` in a fresh event loop and return its record, complete or not (never raises for
    the episode's own failure): the entry point of a worker in another process or on another host."""
    recorder = EpisodeRecorder(job)
    try:
        return asyncio.run(play_job(job, recorder=recorder))
    except KeyboardInterrupt as exc:
        return recorder.aborted("interrupted", repr(exc))
    except Exception as exc:
        return recorder.aborted("failed", failure_text(exc))


def failure_text(exc: BaseException) -> str:
    """How a failed episode's error is stored (``episodes.error``)."""
    return f"{type(exc).__name__}: {exc}"
