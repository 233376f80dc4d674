"""LLM cost in the summary: cached calls show as saved cost, an unpriced model is ``?`` on the first
run and on its cached re-run alike (real HTTP to the local test server)."""

from __future__ import annotations

from pathlib import Path

import yaml

from sim.llm.testserver import TestServer
from sim.runner import run_scenario
from sim.scenario import validate_scenario
from sim.summaries.build import build_summary


def _run(tmp_path: Path, base: str) -> None:
    data = {
        "name": "cost",
        "world": "matrix/repeated-v1",
        "params": {"game": "akata_prisoners_dilemma", "rounds": 2},
        "seats": [
            {"agent": "llm", "label": "llm", "config": {"model": {"model": "openai/stub", "api_base": base}}},
            {"agent": "tit_for_tat"},
        ],
        "episodes": 1,
        "seed": 3,
        "db": str(tmp_path / "cost.db"),
    }
    (tmp_path / "cost.yaml").write_text(yaml.safe_dump(data))
    run_scenario(validate_scenario(data, "cost.yaml"))


def _llm_row(tmp_path: Path, run_id: int) -> dict[str, str]:
    section = next(s for s in build_summary(tmp_path / "cost.db", run_id).sections if s.key == "llm")
    return dict(zip(section.columns, [c.text for c in section.rows[0]], strict=True))


def test_cached_rerun_shows_saved_cost_and_the_same_unknown_price(tmp_path: Path) -> None:
    with TestServer("first_option") as server:
        _run(tmp_path, server.openai_base)
        _run(tmp_path, server.openai_base)  # a new run on the same store: every answer is cached
    first, rerun = _llm_row(tmp_path, 1), _llm_row(tmp_path, 2)
    assert first["cached"] == "0" and first["cost $"] == "?" and first["saved $"] == ""
    assert rerun["cached"] == rerun["calls"] == first["calls"]
    assert rerun["cost $"] == "" and rerun["saved $"] == "?"  # nothing spent; what it saved is unpriced
    assert "0.0000" not in rerun.values()


def test_seats_with_one_long_label_stay_apart_in_the_llm_table_at_80_columns(tmp_path: Path) -> None:
    from rich.console import Console

    from sim.cli_summary import print_summary

    label = "recon-loyal-servant-of-arthur-with-a-long-label"
    model = {"model": "openai/stub"}
    data = {
        "name": "twins",
        "world": "matrix/repeated-v1",
        "params": {"game": "akata_prisoners_dilemma", "rounds": 2},
        "seats": [{"agent": "llm", "label": label, "config": {"model": model}} for _ in range(2)],
        "episodes": 1,
        "seed": 3,
        "db": str(tmp_path / "twins.db"),
    }
    with TestServer("first_option") as server:
        model["api_base"] = server.openai_base
        run_scenario(validate_scenario(data, "twins.yaml"))
    console = Console(width=80, record=True, force_terminal=False)
    print_summary(tmp_path / "twins.db", 1, console, "table")
    lines = console.export_text().splitlines()
    at = next(i for i, line in enumerate(lines) if "calls" in line)
    rows = [line.split("│")[1].strip() for line in lines[at + 2 :] if line.startswith("│")][:2]
    assert max(len(line) for line in lines if line[:1] in "┏┃┡│└") <= 80  # tables; the path line may wrap
    assert rows[0].startswith("p0 ") and rows[1].startswith("p1 ")  # the seat survives the cut label
