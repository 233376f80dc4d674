"""sim.executor.hand_back: how the process and Ray executors give a worker's record to the driver."""

from __future__ import annotations

from typing import Any

from sim.executor import hand_back
from sim.jobs import EpisodeJob, SeatConfig
from sim.llm.activity import Activity, watching
from sim.llm.cache import CachedAnswer, ResponseCache
from sim.records import EpisodeRecord, EpisodeStream
from sim.settings import EngineSettings


class _Handler:
    """Records what the driver's handler is given, and what the cache and live line held by then."""

    def __init__(self, cache: ResponseCache | None = None, live: Activity | None = None):
        self.cache, self.live = cache, live
        self.records: list[EpisodeRecord] = []
        self.seen: list[tuple[bool, int]] = []

    def started(self, job: EpisodeJob) -> EpisodeStream | None:
        return None

    def finished(self, record: EpisodeRecord) -> None:
        self.records.append(record)
        cached = self.cache is not None and self.cache.get("new") is not None
        self.seen.append((cached, self.live.calls if self.live is not None else -1))


def _record(calls: list[dict[str, Any]]) -> EpisodeRecord:
    seats = (SeatConfig("llm", "a", "player", {"model": "m"}), SeatConfig("random", "b", "player", {}))
    job = EpisodeJob(
        None, 0, "matrix/repeated-v1", "matrix/repeated-v1", {}, seats, 1, "a vs b", EngineSettings()
    )
    return EpisodeRecord(job, "complete", 3, llm_calls=calls)


def _answer(text: str) -> CachedAnswer:
    return CachedAnswer(text, prompt_tokens=10, completion_tokens=5, cost_usd=0.25)


def test_entries_reach_the_cache_and_calls_the_live_line_before_the_handler_gets_the_record() -> None:
    written: list[dict[str, Any]] = []
    cache = ResponseCache(None, write=written.append)
    cache.put("known", "m", _answer("kept"))
    written.clear()
    live = Activity()
    handler = _Handler(cache, live)
    record = _record(
        [
            {"cache_hit": False, "prompt_tokens": 10, "completion_tokens": 5, "cost_usd": 0.25},
            {"cache_hit": True, "prompt_tokens": 10, "completion_tokens": 5, "cost_usd": 0.25},
        ]
    )
    entries = [("new", "m", _answer("fresh")), ("known", "m", _answer("other"))]

    with watching(live):
        hand_back(record, entries, cache, handler)

    assert handler.records == [record]
    assert handler.seen == [(True, 2)]  # the entries and the calls were in before the handler ran
    assert cache.get("new") == _answer("fresh")
    assert cache.get("known") == _answer("kept")  # an entry the driver has is not written again
    assert [row["key"] for row in written] == ["new"]
    assert (live.calls, live.cached, live.tokens, live.cost_usd) == (2, 1, 15, 0.25)


def test_without_a_cache_or_a_live_line_the_record_still_reaches_the_handler() -> None:
    handler = _Handler()
    record = _record([{"cache_hit": False, "prompt_tokens": 1, "completion_tokens": 1}])
    hand_back(record, [("new", "m", _answer("fresh"))], None, handler)
    assert handler.records == [record]
    assert handler.seen == [(False, -1)]
