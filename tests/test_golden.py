"""Golden traces: each scenario in tests/golden reproduces its committed event log exactly.

Regenerate after an intended change with ``UPDATE_GOLDEN=1 make test`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sim.runner import run_scenario
from sim.scenario import load_scenario
from sim.store.reader import StoreReader
from sim.types import dumps, to_jsonable

GOLDEN = Path(__file__).parent / "golden"


def trace_lines(db: Path) -> list[str]:
    """Every event of every episode of the store, one canonical JSON line each."""
    reader = StoreReader(db)
    lines = []
    for episode in reader.episodes().itertuples():
        for seq, event in enumerate(reader.event_objects(int(episode.id))):
            lines.append(dumps({"episode": int(episode.index), "seq": seq, **to_jsonable(event)}))
    return lines


@pytest.mark.parametrize("scenario", sorted(GOLDEN.glob("*.yaml")), ids=lambda p: p.stem)
def test_golden_trace(scenario: Path, tmp_path: Path) -> None:
    db = tmp_path / "golden.db"
    run_scenario(load_scenario(scenario), db)
    lines = trace_lines(db)
    expected_file = scenario.with_suffix(".events.jsonl")
    if os.environ.get("UPDATE_GOLDEN"):
        expected_file.write_text("\n".join(lines) + "\n")
    expected = expected_file.read_text().splitlines()
    assert len(lines) == len(expected)
    for got, want in zip(lines, expected, strict=True):
        assert got == want
