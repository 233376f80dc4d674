"""Overrides on tournament presets, every problem of a file at once, one ``--help`` style for every
command, ``sim agents``/``sim worlds`` with config keys and params, and plurals in CLI messages."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sim_cli
import typer
from typer.testing import CliRunner

from sim.cli import app
from sim.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "worlds" / "repeated" / "scenarios" / "demo.yaml"  # a round robin of 6 agents: 21 pairings
FOCAL = ROOT / "worlds" / "repeated" / "scenarios" / "akata_pd_hand_coded.yaml"  # focal vs 3: 3 episodes
AVALON = ROOT / "worlds" / "avalon" / "scenarios" / "avalonbench_5p_bots.yaml"
VALID = ROOT / "tests" / "data" / "scenarios" / "tft_vs_defector.yaml"


def _problems(path: Path, *overrides: str) -> list[tuple[str, str]]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, overrides)
    return caught.value.problems


# ---------------------------------------------------------------------------------------------
# Overrides on tournament presets
def test_episodes_on_a_tournament_sets_its_repetitions() -> None:
    loaded = load_scenario(DEMO, ["episodes=3"])
    assert loaded.scenario.tournament is not None and loaded.scenario.tournament.repetitions == 3
    assert len(loaded.plans) == 21 * 3


def test_episodes_option_on_a_tournament_preset_runs(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    result = sim_cli.run_sim("run", FOCAL, "--db", db, "--episodes", "2", "--quiet")
    assert result.returncode == 0, result.stderr + result.stdout
    con = sqlite3.connect(db)
    try:
        (episodes,) = con.execute("SELECT COUNT(*) FROM episodes WHERE status = 'complete'").fetchone()
        (repetitions,) = con.execute(
            "SELECT json_extract(scenario, '$.tournament.repetitions') FROM runs"
        ).fetchone()
    finally:
        con.close()
    assert (episodes, repetitions) == (3 * 2, 2)


def test_a_files_own_episodes_beside_a_tournament_is_still_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "t.yaml"
    bad.write_text(DEMO.read_text(encoding="utf-8") + "episodes: 2\n", encoding="utf-8")
    assert any("'episodes' goes with 'seats'" in message for _, message in _problems(bad))


def test_set_a_tournament_pool_agent() -> None:
    loaded = load_scenario(DEMO, ["tournament.pool.0.agent=grudger", "tournament.focal=null"])
    assert loaded.scenario.tournament is not None
    assert loaded.scenario.tournament.pool[0].agent == "grudger"
    assert loaded.plans[0].matchup == "grudger vs grudger"


def test_set_a_seat_of_a_seats_scenario_by_index() -> None:
    loaded = load_scenario(AVALON, ["seats.1.agent=random_legal", "episodes=1"])
    assert loaded.scenario.seats is not None and loaded.scenario.seats[1].agent == "random_legal"


def test_set_seats_on_a_tournament_names_the_problem() -> None:
    [(path, message)] = _problems(DEMO, "seats.1.agent=grudger")
    assert path == "seats.1.agent"
    assert "there is no 'seats' list to index" in message and "tournament" in message
    assert "valid list" not in message


@pytest.mark.parametrize(
    ("override", "path", "expect"),
    [
        (
            "tournament.pool.9.agent=grudger",
            "tournament.pool.9.agent",
            "'9' is not an index of a 6-item list",
        ),
        ("tournament.pool.0.agnet=grudger", "tournament.pool[0].agnet", "unknown key"),
        ("nosuch.0.x=1", "nosuch.0.x", "there is no 'nosuch' list to index"),
        ("params.roundz=5", "params.roundz", "unknown key"),
    ],
)
def test_unknown_override_paths_give_a_clear_error(override: str, path: str, expect: str) -> None:
    problems = _problems(DEMO, override)
    assert any(p == path and expect in m for p, m in problems), problems


# ---------------------------------------------------------------------------------------------
# Every problem of a file at once
FOUR_PROBLEMS = """\
name: four
world: matrix/repeated-v1
params: {rounds: 10, noise: 2}
seats:
  - agent: nobody
  - agent: random
    config: {p: 7}
episodes: 0
"""
EXPECTED_FOUR = {
    "episodes": "greater than or equal to 1",
    "params.noise": "less than 1",
    "seats[0].agent": "unknown agent 'nobody'",
    "seats[1].config.p": "less than or equal to 1",
}


def test_a_file_with_four_problems_reports_four() -> None:
    bad = Path("four.yaml")
    with pytest.raises(ScenarioError) as caught:
        from sim.safe_yaml import load_text
        from sim.scenario import validate_scenario

        validate_scenario(load_text(FOUR_PROBLEMS), str(bad))
    problems = dict(caught.value.problems)
    assert set(problems) == set(EXPECTED_FOUR), problems
    for path, expect in EXPECTED_FOUR.items():
        assert expect in problems[path]


def test_four_problems_on_the_command_line(tmp_path: Path) -> None:
    bad = tmp_path / "four.yaml"
    bad.write_text(FOUR_PROBLEMS, encoding="utf-8")
    result = sim_cli.run_sim("run", bad, "--db", tmp_path / "x.db")
    assert result.returncode == 2 and "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.startswith(f"{bad}: ")]
    assert len(lines) == 4, result.stderr
    for path, expect in EXPECTED_FOUR.items():
        assert any(line.startswith(f"{bad}: {path}: ") and expect in line for line in lines), result.stderr
    assert not (tmp_path / "x.db").exists()


def test_a_tournament_with_problems_at_several_levels_reports_each(tmp_path: Path) -> None:
    bad = tmp_path / "t.yaml"
    text = DEMO.read_text(encoding="utf-8").replace("repetitions: 1", "repetitions: 0")
    bad.write_text(text.replace("agent: grudger", "agent: nobody").replace("rounds: 10", "rounds: -1"))
    paths = [path for path, _ in _problems(bad)]
    assert sorted(paths) == ["params.rounds", "tournament.pool[3].agent", "tournament.repetitions"], paths


# ---------------------------------------------------------------------------------------------
# --help: one style, every option documented
def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    ctx = command.make_context(" ".join(("sim", *path)), ["--help"], resilient_parsing=True)
    for name in getattr(command, "commands", {}) or {}:
        yield from _commands(command.get_command(ctx, name), (*path, name))


COMMANDS = [path for path, _ in _commands(typer.main.get_command(app))]
PLACEHOLDER = re.compile(r"<[a-z_]+>|\{[A-Za-z_|]+\}|``|:class:|\[/?(?:red|bold|dim|yellow|green|blue)\]")


def test_every_subcommand_is_walked() -> None:
    assert {("run",), ("agents",), ("worlds",), ("test-server",), ("cache", "prune")} <= set(COMMANDS)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "sim")
def test_help_has_no_placeholders_and_every_option_has_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "100"}, prog_name="sim")
    assert result.exit_code == 0, result.output
    text = result.output
    assert f"Usage: {' '.join(('sim', *path))} " in text
    assert not PLACEHOLDER.search(text), PLACEHOLDER.findall(text)
    command = dict(_commands(typer.main.get_command(app)))[path]
    ctx = command.make_context("sim", ["--help"], resilient_parsing=True)
    for param in command.get_params(ctx):
        assert param.help, f"{' '.join(path)}: {param.name} has no help text"
        for opt in param.opts if param.param_type_name == "option" else ():
            assert opt in text, f"{opt} not listed"


def test_test_server_help_lists_every_option() -> None:
    result = CliRunner().invoke(app, ["test-server", "--help"], env={"COLUMNS": "200"}, prog_name="sim")
    assert result.exit_code == 0
    for option in (
        "--port",
        "--policy",
        "--fault",
        "--fault-rate",
        "--fault-kind",
        "--fault-seed",
        "--hang-seconds",
        "--mimic",
        "--latency",
        "--text",
        "--seed",
        "--host",
        "--verbose",
    ):
        assert re.search(rf"{option}\s+(\S+\s+)?[a-z(]", result.output), f"{option} undocumented"
    assert "usage:" not in result.output  # not argparse's own style


def test_python_m_testserver_has_the_same_style() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sim.llm.testserver", "--help"],
        capture_output=True,
        text=True,
        env=sim_cli.sim_env(100),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert "Usage: python -m sim.llm.testserver [OPTIONS]" in result.stdout
    assert not PLACEHOLDER.search(result.stdout)


# ---------------------------------------------------------------------------------------------
# sim agents / sim worlds
@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            "agents",
            [
                "p: float = 0.5",
                "generosity: float = 0.333333",
                "start: C|D = C",
                "model: ModelSettings (required)",
                "scot: bool = false",
                "actions: list[Any] (required)",
            ],
        ),
        (
            "worlds",
            [
                "rounds: int = 10",
                "noise: float = 0",
                "roles: list[Role] = [merlin, assassin]",
                "hammer: evil_wins|auto_approve = evil_wins",
            ],
        ),
    ],
)
def test_listing_shows_keys_with_types_and_defaults_and_no_markup(command: str, expected: list[str]) -> None:
    result = CliRunner().invoke(app, [command], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "``" not in result.output and ":class:" not in result.output and "2-2" not in result.output
    missing = [key for key in expected if key not in result.output]
    assert not missing, result.output


# ---------------------------------------------------------------------------------------------
def test_one_episode_is_singular(tmp_path: Path) -> None:
    result = sim_cli.run_sim("run", VALID, "--db", tmp_path / "x.db", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "(1 episode)" in result.stdout and "1 episodes" not in result.stdout
    export = sim_cli.run_sim("export", "--db", tmp_path / "x.db", "--format", "csv", "--out", tmp_path / "e")
    assert export.returncode == 0 and "(1 rows)" not in export.stdout and "(1 row)" in export.stdout
