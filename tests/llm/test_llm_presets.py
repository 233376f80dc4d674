"""The LLM presets run offline against the test server (only the api_base is pointed at it)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sim.llm.testserver import TestServer
from sim.runner import run_scenario
from sim.scenario import load_scenario

PRESETS = sorted((Path(__file__).parent.parent.parent / "worlds/repeated/scenarios").glob("llm_*.yaml"))


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.stem)
def test_llm_preset_runs_offline(preset: Path, tmp_path: Path) -> None:
    with TestServer("tit_for_tat") as server:
        loaded = load_scenario(preset, [f"tournament.focal.config.model.api_base={server.openai_base}"])
        summary = run_scenario(loaded, tmp_path / "preset.db")
        requests = server.count
    rounds = sum(r.turns for _, r in summary.episodes)
    calls_per_round = 2 if "scot" in preset.stem else 1
    with sqlite3.connect(summary.db) as conn:
        counts = "SELECT count(*), sum(valid), sum(cache_hit) FROM llm_calls"
        calls, valid, hits = conn.execute(counts).fetchone()
        assert conn.execute("SELECT DISTINCT status FROM episodes").fetchall() == [("complete",)]
    # every call answered and valid; a prompt two episodes share (the first round against different
    # opponents) is one request when the second is asked after the first answer is cached, two when
    # they are in flight at once: so requests + cache hits, not requests alone, is the call count
    assert calls == valid == rounds * calls_per_round
    assert requests + hits == calls


def test_the_presets_point_at_the_documented_test_server_port() -> None:
    for preset in PRESETS:
        assert 'api_base: "http://127.0.0.1:8765/v1"' in preset.read_text()


def test_sim_run_summary_shows_calls_retries_faults_tokens_and_cost_per_seat(tmp_path: Path) -> None:
    from sim_cli import run_sim

    preset = next(p for p in PRESETS if p.stem == "llm_akata_pd")
    with TestServer("first_option", faults=["429", "500"]) as server:
        result = run_sim(
            "run",
            preset,
            "--db",
            tmp_path / "cli.db",
            "--quiet",
            "--set",
            f"tournament.focal.config.model.api_base={server.openai_base}",
        )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if "agent" in line and "calls" in line)
    assert all(name in lines[at] for name in ("retries", "faults", "tokens", "cost $"))
    row = next(line for line in lines[at:] if line.strip("│┃ ").startswith("llm "))
    cells = [c.strip() for c in row.strip("│").split("│")]
    # 3 x 10 answers and the first ask's two failed tries (429, 500), both retried; a local model has no price
    # columns: agent, calls, cached, retries, faults, tokens, cost $, saved $
    assert cells[1:5] == ["32", "0", "2", "2"] and int(cells[5]) > 0 and cells[6] == "?"


CHARACTERBOX_PRESETS = sorted(
    (Path(__file__).parent.parent.parent / "worlds/characterbox/scenarios").glob("*_llm.yaml")
)


@pytest.mark.parametrize("preset", CHARACTERBOX_PRESETS, ids=lambda p: p.stem)
def test_characterbox_llm_presets_run_offline_with_every_call_valid(preset: Path, tmp_path: Path) -> None:
    import yaml

    assert 'api_base: "http://127.0.0.1:8765/v1"' in preset.read_text()
    seats = yaml.safe_load(preset.read_text())["seats"]
    with TestServer("first_option") as server:
        urls = [f"seats.{i}.config.model.api_base={server.openai_base}" for i in range(len(seats))]
        summary = run_scenario(load_scenario(preset, [*urls, "episodes=1"]), tmp_path / "preset.db")
        requests = server.count
    with sqlite3.connect(summary.db) as conn:
        assert (
            requests
            and conn.execute("SELECT count(*), sum(valid) FROM llm_calls").fetchone() == (requests,) * 2
        )
        assert conn.execute("SELECT DISTINCT status FROM episodes").fetchall() == [("complete",)]
        purposes = {p for (p,) in conn.execute("SELECT DISTINCT purpose FROM llm_calls")}
    assert {"characterbox.bdi", "characterbox.act", "characterbox.rule", "characterbox.summary"} <= purposes
