"""``sim run --resume`` expands the scenario into jobs once and fingerprints it once (it did so up to four
times: twice in the CLI's check, twice in the driver)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

import sim.scenario
from sim.cli_run import run_command

SCENARIO = Path(__file__).parent / "data" / "scenarios" / "tft_vs_defector.yaml"


def test_a_resumed_run_expands_its_jobs_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "resume.db"
    quiet = Console(file=open(tmp_path / "out.txt", "w"), width=80)  # noqa: SIM115 - closed with tmp_path
    assert run_command(SCENARIO, db, [], True, quiet, quiet) == 0
    expansions: list[int] = []
    fingerprints: list[int] = []
    expand, fingerprint = sim.scenario.expand, sim.scenario.run_fingerprint
    monkeypatch.setattr(sim.scenario, "expand", lambda s: expansions.append(1) or expand(s))
    monkeypatch.setattr(
        sim.scenario, "run_fingerprint", lambda jobs: fingerprints.append(1) or fingerprint(jobs)
    )
    assert run_command(SCENARIO, db, [], True, quiet, quiet, resume=True) == 0
    assert (len(expansions), len(fingerprints)) == (1, 1)
