"""Evaluators over real stores: a run applies ReCon's judge, ``sim evaluate`` re-scores, errors are clean.

Stores come from real ``sim run`` subprocesses; the judge and the LLM seat talk to the offline test
server over HTTP.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from judge_store import (
    DIMENSIONS,
    SCORES,
    SECRET,
    copy_store,
    cot_seat,
    is_judge,
    judge_rows,
    model,
    policy,
    rows,
    sim_run,
    write_scenario,
)
from sim_cli import run_sim

from sim.llm.testserver import Request, TestServer

TESTS = Path(__file__).resolve().parent.parent
REPEATED = TESTS / "data" / "scenarios" / "tft_vs_defector.yaml"
NAIVE = {"agent": "avalon_naive"}


@pytest.fixture(scope="module")
def server() -> Iterator[TestServer]:
    with TestServer(policy()) as s:
        yield s


@pytest.fixture(scope="module")
def judged(server: TestServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two episodes in which p0 (chain of thought) has a ``judge``; the other seats are bots."""
    folder = tmp_path_factory.mktemp("judged")
    scenario = write_scenario(
        folder / "judged.yaml", [cot_seat(server.openai_base), *[NAIVE] * 5], episodes=2
    )
    return sim_run(scenario, folder / "judged.db")


@pytest.fixture(scope="module")
def bots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One bots-only Avalon episode: no evaluator configured."""
    folder = tmp_path_factory.mktemp("bots")
    return sim_run(write_scenario(folder / "bots.yaml", [NAIVE] * 6), folder / "bots.db")


def speeches(db: Path, episode: int, seat: str) -> int:
    sql = "SELECT count(*) FROM events WHERE episode_id = ? AND actor = ? AND kind IN ('speech', 'confer')"
    return int(rows(db, sql, episode, seat)[0][0])


def evaluate(db: Path, *args: str | Path) -> str:
    result = run_sim("evaluate", "--db", db, *args)
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "Traceback" not in output, output
    return result.stdout


def fails(code: int, db: Path, *args: str | Path) -> str:
    result = run_sim("evaluate", "--db", db, *args)
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert "Traceback" not in output, output
    return result.stderr


def expected(
    db: Path, seat: str = "p0", episodes: tuple[int, ...] = (1, 2), model: str = "openai/stub"
) -> list[Any]:
    out = []
    for e in episodes:
        judged = [(e, seat, f"agent.judge.{d}", float(SCORES[d]), "recon_judge", model) for d in DIMENSIONS]
        judged.append((e, seat, "agent.judged_speeches", float(speeches(db, e, seat)), "recon_judge", model))
        out += sorted(judged)
    return out


# ---------------------------------------------------------------------------------------------
def test_a_run_applies_the_judge_its_recon_seat_configures(judged: Path) -> None:
    assert speeches(judged, 1, "p0") > 0
    assert judge_rows(judged) == expected(judged)
    calls = rows(
        judged, "SELECT episode_id, player_id, turn, valid FROM llm_calls WHERE purpose = 'avalon.judge'"
    )
    assert len(calls) == speeches(judged, 1, "p0") + speeches(judged, 2, "p0")
    assert {(e, p, v) for e, p, _, v in calls} == {(1, "p0", 1), (2, "p0", 1)}
    spoken = rows(
        judged, "SELECT episode_id, turn FROM events WHERE actor = 'p0' AND kind IN ('speech', 'confer')"
    )
    assert sorted((e, t) for e, _, t, _ in calls) == sorted(spoken)  # each call belongs to its speech's turn
    own = rows(judged, "SELECT count(*) FROM metrics WHERE evaluator IS NULL AND name LIKE 'agent.judge%'")
    assert own == [(0,)]  # the agent itself no longer judges


def test_the_judge_sees_only_what_the_speaker_could_see_before_it_spoke(judged: Path) -> None:
    prompts = [
        json.loads(m)[0]["content"]
        for (m,) in rows(
            judged, "SELECT messages FROM llm_calls WHERE purpose = 'avalon.judge' AND episode_id = 1"
        )
    ]
    assert prompts
    for prompt in prompts:
        status = prompt.split("Game status when they spoke:\n", 1)[1].split("\n\nTheir speech:", 1)[0]
        assert "p0 is Merlin" in status  # its own night
        assert not any(f"p{i} is " in status for i in range(1, 6))  # nobody else's night
        assert "Roles:" not in status and SECRET not in status  # no deal, no private thinking
    first = min(prompts, key=len)
    assert first.split("Their speech:")[0].rstrip().endswith("for quest 1")  # before its first speech


def test_re_evaluating_a_run_replaces_its_rows_from_the_cache(
    judged: Path, server: TestServer, tmp_path: Path
) -> None:
    db = copy_store(judged, tmp_path / "again.db")
    judge_calls = "SELECT count(*), sum(cache_hit) FROM llm_calls WHERE purpose = 'avalon.judge'"
    before, asked, [(calls, hits)] = judge_rows(db), server.count, rows(db, judge_calls)
    out = evaluate(db, "run:1")
    assert "wrote 14 metric rows for 2 of 2 episodes" in out and "agent.judge.logic" in out
    assert judge_rows(db) == before  # replaced, not duplicated
    assert server.count == asked  # every judge answer came from the store's cache ...
    assert rows(db, judge_calls) == [(2 * calls, hits + calls)]  # ... and each is an llm_calls row
    evaluate(
        db, "episode:2", "--evaluator", "recon_judge", "--evaluator", "recon_judge"
    )  # as configured, once
    assert judge_rows(db) == before


def test_a_named_evaluator_with_a_config_judges_every_seat_that_spoke(
    bots: Path, server: TestServer, tmp_path: Path
) -> None:
    db = copy_store(bots, tmp_path / "bots.db")
    settings = model(server.openai_base)
    evaluate(
        db, "run:1", "--evaluator", "recon_judge", *(f"--set=model.{k}={v}" for k, v in settings.items())
    )
    seats = [f"p{i}" for i in range(6) if speeches(db, 1, f"p{i}")]
    assert len(seats) == 6
    assert judge_rows(db) == sorted(r for s in seats for r in expected(db, s, (1,)))
    config = tmp_path / "judge.yaml"
    config.write_text(json.dumps({"model": {**settings, "model": "openai/other"}, "seats": ["p2"]}))
    out = evaluate(db, "episode:1", "--evaluator", "recon_judge", "--config", config)
    assert "wrote 7 metric rows for 1 of 1 episodes" in out
    assert judge_rows(db) == expected(db, "p2", (1,), "openai/other")  # the evaluator's rows were replaced


def test_a_judge_score_that_never_parses_is_null_never_zero(bots: Path, tmp_path: Path) -> None:
    db = copy_store(bots, tmp_path / "refused.db")
    with TestServer(policy(judge=lambda req: "I refuse to score.")) as server:
        settings = model(server.openai_base)
        evaluate(
            db,
            "episode:1",
            "--evaluator",
            "recon_judge",
            f"--set=model.api_base={settings['api_base']}",
            "--set=model.model=openai/stub",
            "--set=seats=[p3]",
        )
        asked = server.count
    assert asked == 3 * speeches(db, 1, "p3")  # each speech asked, then re-asked twice
    got = {name: value for _, _, name, value, _, _ in judge_rows(db)}
    assert got == {"agent.judged_speeches": 0.0, **{f"agent.judge.{d}": None for d in DIMENSIONS}}


def test_only_scores_that_parse_count_in_the_means(bots: Path, tmp_path: Path) -> None:
    def late_only(req: Request) -> str:
        prompt = str(req.messages[0]["content"])
        return json.dumps({d: 10 for d in DIMENSIONS}) if "vote " in prompt else "no"

    db = copy_store(bots, tmp_path / "late.db")
    with TestServer(policy(judge=late_only)) as server:
        evaluate(
            db,
            "run:1",
            "--evaluator",
            "recon_judge",
            "--set=model.model=openai/stub",
            f"--set=model.api_base={server.openai_base}",
            "--set=seats=[p1]",
        )
        judged = [r for r in server.requests if is_judge(r) and "vote " in str(r.messages[0]["content"])]
    got = {name: value for _, _, name, value, _, _ in judge_rows(db)}
    assert 0 < len(judged) < speeches(db, 1, "p1")  # some speeches came before the first vote
    assert got == {
        "agent.judged_speeches": float(len(judged)),
        **{f"agent.judge.{d}": 10.0 for d in DIMENSIONS},
    }


def test_a_model_that_stays_down_is_a_model_error(bots: Path, tmp_path: Path) -> None:
    db = copy_store(bots, tmp_path / "down.db")
    err = fails(
        1,
        db,
        "episode:1",
        "--evaluator",
        "recon_judge",
        "--set=model.model=openai/stub",
        "--set=model.api_base=http://127.0.0.1:9/v1",
        "--set=model.retries=0",
    )
    assert "model error" in err
    assert judge_rows(db) == []


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["run:1", "--evaluator", "recon_jugde"], "did you mean 'recon_judge'"),
        (["run:7"], "no run 7 (runs: 1)"),
        (["episode:99"], "no episode 99"),
        (["ep:1"], "must be run:N or episode:N"),
        (["run:1", "--set", "model.model=x"], "name it with --evaluator"),
        (["run:1"], "name one with --evaluator (registered: characterbox_judge, recon_judge)"),
        (["run:1", "--evaluator", "recon_judge"], "recon_judge config: model: Field required"),
        (
            ["run:1", "--evaluator", "recon_judge", "--set", "model.model=x", "--set", "colour=red"],
            "colour: unknown key",
        ),
    ],
    ids=[
        "unknown",
        "no-run",
        "no-episode",
        "target",
        "set-alone",
        "none-configured",
        "no-model",
        "unknown-key",
    ],
)
def test_bad_requests_exit_2_with_one_clear_line(bots: Path, args: list[str], phrase: str) -> None:
    err = fails(2, bots, *args)
    assert phrase in err and err.startswith("error:"), err


def test_a_missing_store_and_another_world_exit_2(tmp_path: Path) -> None:
    assert "no such database" in fails(2, tmp_path / "missing.db", "run:1")
    assert not (tmp_path / "missing.db").exists()
    db = sim_run(REPEATED, tmp_path / "repeated.db")
    err = fails(2, db, "run:1", "--evaluator", "recon_judge", "--set", "model.model=x")
    assert "recon_judge scores social/avalon-v1, not matrix/repeated-v1" in err


@pytest.mark.parametrize("args", [["evaluate", "--help"], ["evaluators"]], ids=" ".join)
def test_the_evaluate_commands_do_not_import_litellm(args: list[str]) -> None:
    code = (
        "import sys; from typer.testing import CliRunner; from sim.cli import app; "
        f"r = CliRunner().invoke(app, {args!r}); assert r.exit_code == 0, r.output; "
        "assert 'recon_judge' in r.output or 'RUN|EPISODE' in r.output, r.output; "
        "assert 'litellm' not in sys.modules, 'litellm imported'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=TESTS.parent, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_judge_down_during_the_run_fails_it_and_sim_evaluate_scores_later(
    server: TestServer, tmp_path: Path
) -> None:
    seat = cot_seat(server.openai_base)
    seat["config"]["judge"] = {**model("http://127.0.0.1:9/v1"), "retries": 0}  # nothing listens there
    scenario = write_scenario(tmp_path / "down.yaml", [seat, *[NAIVE] * 5])
    result = run_sim("run", scenario, "--db", tmp_path / "down.db", "--quiet")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("run 1 failed: 1 complete; first cause: LLMUnavailable: openai/stub")
    db = tmp_path / "down.db"
    assert rows(db, "SELECT status FROM episodes") == [("complete",)]  # the game itself is stored
    assert rows(db, "SELECT status FROM runs") == [("failed",)] and judge_rows(db) == []
    evaluate(
        db,
        "run:1",
        "--evaluator",
        "recon_judge",
        "--set=seats=[p0]",
        *(f"--set=model.{k}={v}" for k, v in model(server.openai_base).items()),
    )
    assert judge_rows(db) == expected(db, "p0", (1,))
