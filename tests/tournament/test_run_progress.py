"""A tournament's live display: matches done/total, running, failed, LLM calls, tokens, estimated cost
and ETA, in two lines that fit 80 columns."""

from __future__ import annotations

import io
from pathlib import Path

from rich.cells import cell_len
from rich.console import Console, Group

from sim.llm.activity import Activity
from sim.progress import ActivityLine, ProgressLine, TournamentProgress
from sim.records import EpisodeRecord
from sim.tournament.schedule import matches
from tests.tournament.helpers import avalon, load


def lines(progress: TournamentProgress, width: int) -> list[str]:
    console = Console(width=width, record=True, file=io.StringIO(), force_terminal=True)
    console.print(Group(*progress.get_renderables()))
    return console.export_text().splitlines()


def test_the_display_counts_matches_and_llm_use_within_80_columns(tmp_path: Path) -> None:
    spec = load(tmp_path, avalon() | {"name": "recon-good-vs-cot-evil-role-balanced-avalon"})
    jobs = [m.to_job(spec, 1) for m in matches(spec)]
    console = Console(width=80, file=io.StringIO())
    progress = TournamentProgress(console, disable=True)
    progress.add_run(spec.file.name, total=200, completed=10)
    watch = progress.watcher
    for job in jobs[:6]:
        watch.started(job)
    watch.finished(EpisodeRecord(jobs[0], "complete", 30))
    watch.finished(EpisodeRecord(jobs[1], "complete", 30))
    watch.finished(EpisodeRecord(jobs[2], "failed", 3, error="boom"))
    progress.activity.add({"prompt_tokens": 45_000, "completion_tokens": 123, "cost_usd": 0.0123})
    progress.activity.add({"cache_hit": True, "prompt_tokens": 10, "completion_tokens": 1})

    shown = lines(progress, 80)
    assert len(shown) == 2 and all(cell_len(line) <= 80 for line in shown)
    top, llm = shown
    for piece in ("12/200", "3 running", "1 failed", "eta "):
        assert piece in top
    assert llm == "LLM: 2 calls (1 cached) · 45.1k tokens · $0.0123 estimated"
    narrow = lines(progress, 40)  # narrower still: pieces drop, the count and failures stay
    assert all(cell_len(line) <= 40 for line in narrow)
    assert "12/200" in narrow[0] and "1 failed" in narrow[0]


def test_a_scenario_line_has_no_running_or_failed_counts() -> None:
    line = ProgressLine("rr", 3, 10, elapsed=2.0, activity=Activity())
    assert not any("running" in text or "failed" in text for _, text in line.pieces())
    assert ActivityLine(Activity(loading=True)).text() == "LLM: loading LLM client…"
