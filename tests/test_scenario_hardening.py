"""Hardened scenario loading: pathological files, ``--set`` through the same checks, YAML 1.2 scalars,
the error-line cap, and values of secret-like keys never echoed.

The committed corpus (``tests/data/bad_scenarios/``, run by ``test_scenario_errors.py``) holds the small
bad files; the huge ones (an endless stream, a 10,000-deep nesting, bombs, 300k keys) are generated
here and run as real ``sim`` subprocesses under a memory and time limit.
"""

from __future__ import annotations

import resource
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sim_cli
from pydantic import BaseModel, ConfigDict, ValidationError

from sim import safe_yaml
from sim.scenario import MAX_EPISODES, MAX_PROBLEMS, ScenarioError, _problems, load_scenario

ROOT = Path(__file__).resolve().parent.parent
VALID = ROOT / "tests" / "data" / "scenarios" / "tft_vs_defector.yaml"
HEAD = "name: x\nworld: matrix/repeated-v1\n"
SEATS = "seats:\n  - agent: tit_for_tat\n  - agent: defector\n"
MEMORY_LIMIT = 1536 * 1024 * 1024  # address space of each `sim` process: a bomb would exceed it
SECRET = "sk-live-0123456789abcdefFAKE"
Result = tuple[str, Path, subprocess.CompletedProcess[str]]


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_guarded(scenario: str | Path, db: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """``sim run SCENARIO --db DB`` in a subprocess with at most 1.5 GiB of memory and 60 s."""
    return subprocess.run(
        [*sim_cli.sim_command(), "run", str(scenario), "--db", str(db), *extra],
        cwd=ROOT,
        env=sim_cli.sim_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        preexec_fn=_limited,
    )


def laughs(levels: int = 9) -> str:
    """The classic billion laughs, inside a replay agent's ``actions``."""
    lines = ["x-lol:", "  - &l0 [C, C, C, C, C, C, C, C, C, C]"]
    lines += [f"  - &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, levels + 1)]
    seats = f"seats:\n  - agent: replay\n    config:\n      actions: *l{levels}\n  - agent: defector\n"
    return HEAD + "\n".join(lines) + "\n" + seats


def unknown_keys(n: int) -> str:
    return HEAD + SEATS + "".join(f"k{i}: 0\n" for i in range(n))


# name -> (what to write, or None for /dev/zero; a phrase the one error line must hold)
PATHOLOGICAL: dict[str, tuple[Callable[[], str] | None, str]] = {
    "dev_zero": (None, "larger than 1,048,576 bytes"),
    "two_mebibytes": (lambda: HEAD + SEATS + "# padding\n" * 200_000, "larger than 1,048,576 bytes"),
    "nesting_10000_flow": (lambda: HEAD + "params: " + "[" * 10_000 + "]" * 10_000 + "\n" + SEATS, "deeper"),
    "nesting_10000_in_actions": (
        lambda: HEAD + "seats:\n  - agent: replay\n    config:\n      actions: " + "[" * 10_000 + "\n",
        "nested deeper than 64 levels",
    ),
    "billion_laughs_in_actions": (laughs, "an alias bomb"),
    "long_string_repeated": (
        lambda: HEAD + SEATS + 'x-a: &a "' + "y" * 500_000 + '"\nx-b: [' + ", ".join(["*a"] * 20) + "]\n",
        "an alias bomb",
    ),
    "unknown_keys_300k": (lambda: unknown_keys(300_000), "larger than 1,048,576 bytes"),
    "unknown_keys_60k": (lambda: unknown_keys(60_000), f"… and {60_000 - MAX_PROBLEMS} more"),
    "episodes_1e30": (lambda: HEAD + SEATS + "episodes: 1e30\n", "episodes: "),
    "seed_2_pow_70": (lambda: HEAD + SEATS + f"seed: {2**70}\n", "seed: integers must fit in 64 bits"),
}


@pytest.fixture(scope="module")
def pathological(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Result]:
    """Each pathological file run once (concurrently): name -> (source as given, its db folder, result)."""
    jobs = {}
    for name, (make, _) in PATHOLOGICAL.items():
        folder = tmp_path_factory.mktemp(name)
        if make is None:
            source = "/dev/zero"
        else:
            (folder / "in").mkdir()
            path = folder / "in" / f"{name}.yaml"
            path.write_text(make(), encoding="utf-8")
            source = str(path)
        (folder / "db").mkdir()
        jobs[name] = (source, folder / "db")
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(run_guarded, source, db / "x.db") for name, (source, db) in jobs.items()}
        return {name: (*jobs[name], futures[name].result()) for name in jobs}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_pathological_file_fails_cleanly(name: str, pathological: dict[str, Result]) -> None:
    source, db_folder, result = pathological[name]
    output = result.stderr + result.stdout
    assert result.returncode == 2, f"exit {result.returncode}:\n{output[-3000:]}"
    assert "Traceback" not in output and "MemoryError" not in output, output[-3000:]
    lines = result.stderr.splitlines()
    assert len(lines) <= MAX_PROBLEMS + 2, f"{len(lines)} lines on stderr"
    assert lines[0] == "invalid scenario"
    assert all(line.startswith(f"{source}: ") for line in lines[1:]), lines[:3]
    assert any(PATHOLOGICAL[name][1] in line for line in lines), lines[:3]
    assert list(db_folder.iterdir()) == [], "a DB (or journal) was created"


# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("override", "key_path", "expect"),
    [
        (f"seed={2**70}", "seed", "integers must fit in 64 bits"),
        ("episodes=1e12", "episodes", f"less than or equal to {MAX_EPISODES}"),
        ("episodes=1e30", "episodes", "exceeded maximum size"),
        ("params.extra=" + "[" * 10_000, "params.extra", "nested deeper than 64 levels"),
        ("params" + ".a" * 10_000 + "=1", "--set", "a key path of more than 64 parts"),
        ("params.extra={a: 1, a: 2}", "params.extra", "duplicate key 'a'"),
        ("params.extra=*nowhere", "params.extra", "alias *nowhere is not defined"),
        ("params.extra=!!python/name:os.system", "params.extra", "unknown tag"),
        ("world=.foo:Bar", "world", "is not a registered name or a 'module.path:Class' import path"),
        ("seats.0.agent=..x:Y", "seats[0].agent", "import path"),
        (
            f"seats.0.config={{model: {{model: m, api_key_env: {SECRET}}}}}",
            "seats[0].config.model",
            "unknown",
        ),
    ],
)
def test_set_values_go_through_the_same_checks(override: str, key_path: str, expect: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(VALID, [override])
    lines = str(caught.value).splitlines()
    assert any(line.startswith(f"{VALID}: {key_path}: ") and expect in line for line in lines), lines
    assert all(len(line) < 400 for line in lines)
    assert SECRET not in str(caught.value)


def test_set_api_key_env_holding_a_key_is_refused_without_echoing_it(tmp_path: Path) -> None:
    scenario = tmp_path / "llm.yaml"
    scenario.write_text(
        HEAD
        + "seats:\n  - agent: llm\n    config:\n      model: {model: openai/stub}\n  - agent: defector\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(scenario, [f"seats.0.config.model.api_key_env={SECRET}"])
    text = str(caught.value)
    assert "seats[0].config.model.api_key_env: must name an environment variable" in text
    assert SECRET not in text and "0123456789abcdef" not in text


def test_bad_file_with_the_key_in_api_key_env_does_not_print_it(tmp_path: Path) -> None:
    bad = ROOT / "tests" / "data" / "bad_scenarios" / "api_key_env_holds_the_key.yaml"
    assert SECRET in bad.read_text(encoding="utf-8")
    result = run_guarded(bad.relative_to(ROOT), tmp_path / "x.db")
    assert result.returncode == 2
    assert SECRET not in result.stdout + result.stderr
    assert not (tmp_path / "x.db").exists()


def test_errors_under_secret_like_keys_never_show_the_value() -> None:
    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        api_token: int = 0
        password: int = 0
        rounds: int = 0

    with pytest.raises(ValidationError) as caught:
        Config.model_validate({"api_token": SECRET, "password": SECRET + "2", "rounds": "ten"})
    problems = dict(_problems(caught.value, "seats[0].config"))
    assert problems["seats[0].config.api_token"].endswith("(value not shown)")
    assert problems["seats[0].config.password"].endswith("(value not shown)")
    assert problems["seats[0].config.rounds"].endswith("(got 'ten')")
    assert SECRET not in repr(problems)


# ---------------------------------------------------------------------------------------------
def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_documented_cache_off_unquoted_is_accepted(tmp_path: Path) -> None:
    model = "{model: openai/stub, api_key_env: SIM_TEST_KEY, cache: off}"
    path = _write(
        tmp_path, HEAD + f"seats:\n  - agent: llm\n    config:\n      model: {model}\n  - agent: defector\n"
    )
    loaded = load_scenario(path)
    assert loaded.scenario.seats is not None
    assert loaded.scenario.seats[0].config["model"]["cache"] == "off"


@pytest.mark.parametrize(
    ("scalar", "value"),
    [
        ("off", "off"),
        ("on", "on"),
        ("yes", "yes"),
        ("no", "no"),
        ("y", "y"),
        ("true", True),
        ("False", False),
        ("null", None),
        ("~", None),
        ("0o17", 15),
        ("0x1F", 31),
        ("012", 12),
        ("1_000", "1_000"),
        ("1:20", "1:20"),
        ("1e3", 1000.0),
        ("2024-01-01", "2024-01-01"),
        ("-.inf", float("-inf")),
    ],
)
def test_yaml_1_2_core_scalars(scalar: str, value: object) -> None:
    loaded = safe_yaml.load_text(f"v: {scalar}\n")["v"]
    assert loaded == value and type(loaded) is type(value)


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("v: !!int abc", "'abc' is not a valid !!int"),
        ("v: !!float x", "'x' is not a valid !!float"),
        ("v: !!bool on", "'on' is not a valid !!bool"),
        ("v: !!null x", "'x' is not a valid !!null"),
        ("v: !!map [1]", "expected a mapping, found a sequence"),
        ("v: !!binary aGk=", "unknown tag"),
    ],
)
def test_explicit_tags_are_checked_too(text: str, expect: str) -> None:
    with pytest.raises(safe_yaml.YamlProblem, match=expect):
        safe_yaml.load_text(text)


def test_labels_yes_and_no_stay_strings(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEAD + "seats:\n  - agent: tit_for_tat\n    label: yes\n  - agent: defector\n    label: no\n",
    )
    loaded = load_scenario(path)
    assert loaded.scenario.seats is not None
    assert [s.label for s in loaded.scenario.seats] == ["yes", "no"]


def test_anchors_and_merge_keys_still_work(tmp_path: Path) -> None:
    text = HEAD + (
        "x-base: &base {agent: tit_for_tat, label: A}\nseats:\n  - <<: *base\n    label: B\n  - *base\n"
    )
    loaded = load_scenario(_write(tmp_path, text))
    assert loaded.scenario.seats is not None
    assert [s.display() for s in loaded.scenario.seats] == ["B", "A"]


def test_duplicate_keys_name_both_lines(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(_write(tmp_path, HEAD + SEATS + "episodes: 2\nseed: 1\nepisodes: 3\n"))
    where = f"{tmp_path / 's.yaml'}: line 8, column 1"
    assert str(caught.value) == f"{where}: duplicate key 'episodes' (first on line 6, again on line 8)"


def test_at_most_twenty_problem_lines_then_a_count() -> None:
    error = ScenarioError("f.yaml", [(f"k{i}", "unknown key") for i in range(300_000)])
    lines = str(error).splitlines()
    assert len(lines) == MAX_PROBLEMS + 1
    assert lines[-1] == f"f.yaml: … and {300_000 - MAX_PROBLEMS} more"
    assert len(error.problems) == 300_000


def test_limits_are_documented() -> None:
    docs = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    for number in (f"{safe_yaml.MAX_BYTES:,}", str(safe_yaml.MAX_DEPTH), f"{MAX_EPISODES:,}", "2**63"):
        assert number in docs, number


def test_run_command_turns_an_unexpected_recursion_error_into_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import io

    from rich.console import Console

    from sim import cli_run

    def overflow(*args: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(cli_run, "load_scenario", overflow)
    out = io.StringIO()
    console = Console(file=out, width=200)
    assert cli_run.run_command(tmp_path / "s.yaml", None, [], True, console, console) == 2
    assert out.getvalue().splitlines() == [
        "invalid scenario",
        f"{tmp_path / 's.yaml'}: too large or too deeply nested (RecursionError)",
    ]
