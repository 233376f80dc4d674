"""The process backend: several matches at once inside each worker, and a worker killed mid-run."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from sim.jobs import EpisodeJob
from sim.llm.testserver import TestServer
from sim.process_executor import ProcessExecutor
from sim.records import EpisodeRecord
from sim.tournament import run as tournament_run
from sim.tournament.run import run_tournament
from sim.tournament.schedule import matches
from sim.tournament.spec import load_tournament
from tests.tournament.helpers import write
from tests.tournament.run_helpers import llm_tournament, stored_matches


class _Collect:
    """A handler keeping every record."""

    def __init__(self) -> None:
        self.records: list[EpisodeRecord] = []

    def started(self, job: EpisodeJob) -> None:
        return None

    def finished(self, record: EpisodeRecord) -> None:
        self.records.append(record)


@pytest.mark.slow
def test_two_workers_play_several_matches_each_and_store_what_the_local_backend_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tournament_run.os, "cpu_count", lambda: 2)  # two workers, two slots each
    with TestServer("tit_for_tat", latency=0.15) as server:
        path = write(tmp_path, llm_tournament(server.openai_base, concurrency={"matches": 4}))
        run_tournament(path, tmp_path / "local.db")
        server.reset()
        summary = run_tournament(path, tmp_path / "process.db", backend="process")
        in_flight = server.max_in_flight
    assert summary.played == 12 and summary.stopped is None
    assert in_flight > 2  # more requests at once than workers: matches overlap inside a worker
    local, process = stored_matches(tmp_path / "local.db"), stored_matches(tmp_path / "process.db")
    assert len(local) == 12 and all(m["status"] == "complete" for m in local.values())
    assert process == local


@pytest.mark.slow
def test_a_killed_worker_fails_only_its_matches_in_flight_and_the_run_ends(tmp_path: Path) -> None:
    with TestServer("tit_for_tat", latency=0.2) as server:
        spec = load_tournament(write(tmp_path, llm_tournament(server.openai_base)))
        jobs = [m.to_job(spec) for m in matches(spec) if "llm" in m.lineup]
        executor = ProcessExecutor(workers=2, slots=2)
        handler = _Collect()
        killed: list[EpisodeJob] = []

        async def kill_a_busy_worker() -> None:
            while not killed:
                await asyncio.sleep(0.05)
                for pid, playing in executor.in_flight().items():
                    if len(playing) == 2:
                        killed.extend(playing)
                        os.kill(pid, signal.SIGKILL)
                        return

        async def play() -> None:
            killer = asyncio.create_task(kill_a_busy_worker())
            await asyncio.wait_for(executor.run(jobs, handler), timeout=120)
            await killer

        asyncio.run(play())
    assert len(jobs) == 8 and len(killed) == 2
    by_status: dict[str, list[EpisodeJob]] = {}
    for record in handler.records:
        by_status.setdefault(record.status, []).append(record.job)
    assert sorted(by_status) == ["complete", "failed"]
    assert sorted(map(id, by_status["failed"])) == sorted(map(id, killed))
    assert "worker process died" in next(r.error or "" for r in handler.records if r.status == "failed")
    assert len(by_status["complete"]) == 6  # the others, the rest of them on a new worker
