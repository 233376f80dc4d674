"""Episode records: everything one job produced, gathered in memory, with no store access.

An :class:`EpisodeRecorder` is the engine's sink for one job. It keeps the events, the metrics and
the LLM call rows in an :class:`EpisodeRecord` (picklable, so a job played in another process or on
another machine comes back whole), or hands events and LLM call rows to an :class:`EpisodeStream` as
they happen: the local driver streams them to its writer so that the viewer tails a running episode
live. A record says whether it was streamed, so nothing is written twice.

LLM call rows reach the record of the episode being played through :func:`record_llm_call`, the
``record`` callback of an executor's shared :class:`sim.llm.client.LLMClient`: each episode plays in
its own asyncio context, which names its recorder.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sim.engine import EpisodeMetrics, EpisodeResult, MetricSeries
from sim.jobs import EpisodeJob
from sim.types import Event

Status = Literal["complete", "failed", "interrupted"]


@dataclass(frozen=True, slots=True)
class EpisodeStream:
    """Where an episode's rows also go as they happen (``llm_call`` gets each ``llm_calls`` row)."""

    events: Callable[[Sequence[Event]], None]
    llm_call: Callable[[dict[str, Any]], None]


@dataclass
class EpisodeRecord:
    """What playing one job produced: its events, metrics and LLM call rows, and how it ended.

    ``result`` (turns, returns, outcome, invalid counts, per-episode metrics) is set for a complete
    episode; a failed or interrupted one has ``error`` and the rows up to where it stopped.
    ``streamed``: the events and LLM call rows went to a live stream as they happened (the events
    only there). LLM call rows carry no ``episode_id``: the record they are in names their episode.
    """

    job: EpisodeJob
    status: Status
    turns: int
    #: Every event in order, unless ``streamed`` (then they went to the stream only).
    events: list[Event] = field(default_factory=list)
    llm_calls: list[dict[str, Any]] = field(default_factory=list)
    series: list[MetricSeries] = field(default_factory=list)
    result: EpisodeResult | None = None
    error: str | None = None
    streamed: bool = False

    @property
    def metrics(self) -> EpisodeMetrics:
        """The per-episode metrics, ``{player: {name: value}}`` (empty unless complete)."""
        return self.result.metrics if self.result is not None else {}


class EpisodeRecorder:
    """The engine's sink for one job: keeps its record, or streams its events live.

    With a stream, events go straight to it and are not kept (they are the bulk of an episode, and
    keeping them would only add work to every turn); LLM call rows are kept and streamed.
    """

    episode_id: int | None = None  # records know no store; the driver stamps its ids when writing
    #: Record events in order (the engine's per-turn call): the stream's own callable, or a list's.
    emit: Callable[[Sequence[Event]], None]

    def __init__(self, job: EpisodeJob, stream: EpisodeStream | None = None):
        self.job = job
        self.stream = stream
        self.turns = 0
        self.events: list[Event] = []
        self.llm_calls: list[dict[str, Any]] = []
        self.series: list[MetricSeries] = []
        self.emit = stream.events if stream is not None else self.events.extend

    def add_metrics(self, series: Iterable[MetricSeries], summary: EpisodeMetrics) -> None:
        """Keep the per-turn series (the per-episode metrics arrive with the result)."""
        self.series = list(series)

    def add_llm_call(self, row: Mapping[str, Any]) -> None:
        """Keep one ``llm_calls`` row, stamped with the time it was made (and stream it)."""
        stamped = {"created_at": datetime.now(UTC).replace(tzinfo=None), **row}
        self.llm_calls.append(stamped)
        if self.stream is not None:
            self.stream.llm_call(stamped)

    def complete(self, result: EpisodeResult) -> EpisodeRecord:
        """The record of the episode that ended with ``result``."""
        return self._record("complete", result=result)

    def aborted(self, status: Status, error: str) -> EpisodeRecord:
        """The record of an episode that failed or was interrupted, with the rows it had produced."""
        return self._record(status, error=error)

    def _record(
        self, status: Status, result: EpisodeResult | None = None, error: str | None = None
    ) -> EpisodeRecord:
        return EpisodeRecord(
            self.job,
            status,
            result.turns if result is not None else self.turns,
            self.events,
            self.llm_calls,
            self.series,
            result,
            error,
            self.stream is not None,
        )


_RECORDER: contextvars.ContextVar[EpisodeRecorder | None] = contextvars.ContextVar(
    "sim_episode_recorder", default=None
)


def record_llm_call(row: dict[str, Any]) -> None:
    """An :class:`sim.llm.client.LLMClient` ``record`` callback: the row joins the record of the
    episode playing in the caller's context."""
    recorder = _RECORDER.get()
    if recorder is None:
        raise RuntimeError(f"an llm_calls row ({row.get('purpose')}) was made outside any episode")
    recorder.add_llm_call(row)


@contextlib.contextmanager
def recording(recorder: EpisodeRecorder) -> Iterator[None]:
    """LLM call rows made in this context (and in tasks it starts) go to ``recorder``."""
    token = _RECORDER.set(recorder)
    try:
        yield
    finally:
        _RECORDER.reset(token)
