"""CharacterBox's judge: score parsing, rubric validation and ``sim evaluate`` over a real store.

The store holds hand-made events of the characterbox-v1 contract (``characterbox_store``); the judge
talks to the offline test server over HTTP; every attempt must be an ``llm_calls`` row.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from characterbox_store import (
    SPEECH,
    answer,
    attempt,
    characterbox_store,
    judge_reply,
    rows,
    scores_of,
    subject,
)
from pydantic import ValidationError
from rich.console import Console
from sim_cli import run_sim

from agents.reasoning.characterbox_judge import stored_critiques
from agents.reasoning.characterbox_scores import read_judgement, score_value, strict_judgement
from sim.cli_evaluate import evaluate_command
from sim.llm.testserver import Request, TestServer
from sim.store.reader import StoreReader
from worlds.characterbox.rubric import CHARACTERBOX7, NARRATOR4, Rubric, RubricSpec
from worlds.characterbox.scene import SCENES_DIR

CHARACTERBOX_SCENARIOS = SCENES_DIR.parent / "scenarios"
KEYS = [d.key for d in CHARACTERBOX7]
NAMES = [d.name for d in CHARACTERBOX7]
ALL_FOURS = dict.fromkeys(NAMES, 4)


def with_(**changes: Any) -> dict[str, Any]:
    """ALL_FOURS with some dimensions (by key) changed; None removes one."""
    out: dict[str, Any] = {}
    for d in CHARACTERBOX7:
        value = changes.get(d.key, 4)
        if value is not None:
            out[d.name] = value
    return out


# parsing -------------------------------------------------------------------------------------
def test_a_valid_answer_parses_with_its_critique() -> None:
    scores = dict(zip(NAMES, [1, 2, 3, 4, 5, 4, 3], strict=True))
    judgement = strict_judgement(
        "```json\n" + answer(scores, "Too polite for a dock-master.") + "\n```", CHARACTERBOX7
    )
    assert judgement.critique == "Too polite for a dock-master."
    assert judgement.scores == dict(zip(KEYS, [1, 2, 3, 4, 5, 4, 3], strict=True))
    assert judgement.problems == ()


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"immersion": None}, "'Immersion' has no score"),
        ({"immersion": 6}, "'Immersion': 6 is out of range"),
        ({"immersion": 0}, "'Immersion': 0 is out of range"),
        ({"immersion": "4.5"}, "'Immersion': '4.5' is not an integer"),
        ({"immersion": 4.5}, "'Immersion': 4.5 is not an integer"),
        ({"immersion": "four"}, "'Immersion': 'four' is not an integer"),
        ({"immersion": True}, "'Immersion': True is not an integer"),
        ({"immersion": None, "charisma": 4}, "'Charisma' is not a dimension of this rubric"),
    ],
)
def test_a_bad_score_is_a_problem_and_only_that_dimension_is_lost(
    changes: dict[str, Any], problem: str
) -> None:
    scores = with_(**{k: v for k, v in changes.items() if k in KEYS})
    scores.update({k.capitalize(): v for k, v in changes.items() if k not in KEYS})
    text = answer(scores)
    judgement = read_judgement(text, CHARACTERBOX7)
    assert any(p.startswith(problem) for p in judgement.problems), judgement.problems
    assert judgement.scores["immersion"] is None
    assert [judgement.scores[k] for k in KEYS if k != "immersion"] == [4] * 6
    with pytest.raises(ValueError, match="Immersion"):
        strict_judgement(text, CHARACTERBOX7)


@pytest.mark.parametrize(
    ("written", "score"), [(4, 4), ("4", 4), ("[4]", 4), ("4/5", 4), (" 2 ", 2), (5.0, 5)]
)
def test_written_forms_of_an_integer_score_are_pinned(written: Any, score: int) -> None:
    assert score_value(written) == score


@pytest.mark.parametrize("written", ["4/10", "4 out of 5", "", None, [4], "-1", "+4", "[4", "4]", "[4]/5"])
def test_other_forms_are_not_scores(written: Any) -> None:
    with pytest.raises(ValueError):
        score_value(written)


def test_the_critique_comes_first_and_is_required() -> None:
    late = json.dumps({"scores": ALL_FOURS, "critique": "fine"})
    assert read_judgement(late, CHARACTERBOX7).problems == (
        'write the critique first: "critique" must come before "scores"',
    )
    for missing in (json.dumps({"scores": ALL_FOURS}), answer(ALL_FOURS, critique="  ")):
        judgement = read_judgement(missing, CHARACTERBOX7)
        assert judgement.critique is None and judgement.problems[0].startswith("write the critique first")
        assert set(judgement.scores.values()) == {4}  # the scores themselves were fine


def test_an_answer_that_is_not_json_has_no_score() -> None:
    for text in ("Knowledge Accuracy: 4", "[4, 4]", ""):
        judgement = read_judgement(text, CHARACTERBOX7)
        assert judgement.problems == ("the answer is not one JSON object",)
        assert set(judgement.scores.values()) == {None} and judgement.critique is None


def test_dimension_names_match_whatever_their_case_and_separators() -> None:
    scores = {d.key.upper() if i % 2 else d.key: 3 for i, d in enumerate(CHARACTERBOX7)}
    assert set(strict_judgement(answer(scores), CHARACTERBOX7).scores.values()) == {3}
    twice = {**ALL_FOURS, "immersion": 2}
    assert "'Immersion' is scored twice" in read_judgement(answer(twice), CHARACTERBOX7).problems


# rubrics -------------------------------------------------------------------------------------
ANCHORS: dict[Any, str] = {1: "never keeps it", 3: "keeps it mostly", 5: "always keeps it"}
SECRECY = {"name": "Secret Keeping", "description": "Does the character keep its secret?", "anchors": ANCHORS}


def test_the_default_rubrics_are_characterbox7_and_narrator4_anchored_at_1_3_5() -> None:
    rubric = Rubric.of(None)
    assert [d.name for d in rubric.character] == [
        "Knowledge Accuracy",
        "Emotional Expression",
        "Personality Traits",
        "Behavioral Accuracy",
        "Immersion",
        "Adaptability",
        "Behavioral Coherence",
    ]
    assert [d.name for d in rubric.narrator] == [
        "Quantity Appropriateness",
        "Quality Accuracy",
        "Relevance to Context",
        "Clarity and Order",
    ]
    assert all(list(d.anchors) == [1, 3, 5] for d in (*CHARACTERBOX7, *NARRATOR4))


def test_a_declared_rubric_replaces_or_extends_the_defaults() -> None:
    replaced = Rubric.of(RubricSpec.model_validate({"character": [SECRECY]}))
    assert [d.key for d in replaced.character] == ["secret_keeping"] and replaced.narrator == NARRATOR4
    extended = Rubric.of(RubricSpec.model_validate({"mode": "extend", "narrator": [SECRECY]}))
    assert extended.character == CHARACTERBOX7
    assert [d.key for d in extended.narrator][-1] == "secret_keeping" and len(extended.narrator) == 5


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        ({"character": [{**SECRECY, "anchors": {1: "a", 5: "b"}}]}, "anchors must be given for exactly"),
        ({"character": [{**SECRECY, "anchors": {**ANCHORS, 3: " "}}]}, "an anchor's text is empty"),
        ({"character": [SECRECY, {**SECRECY, "name": "secret-keeping"}]}, "named twice: secret_keeping"),
        ({"mode": "extend", "character": [{**SECRECY, "name": "immersion"}]}, "named twice: immersion"),
        ({"character": [{**SECRECY, "name": "Overall"}]}, "is reserved"),
        ({"character": [{**SECRECY, "name": "!!"}]}, "has no letters or digits"),
        ({"character": []}, "needs at least one dimension"),
        ({"mode": "merge"}, "Input should be 'replace' or 'extend'"),
        ({"character": [{**SECRECY, "weight": 2}]}, "Extra inputs are not permitted"),
    ],
)
def test_a_bad_rubric_is_rejected(declared: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RubricSpec.model_validate(declared)


# end to end ----------------------------------------------------------------------------------
FIXED = with_(immersion=6, adaptability="four")  # Tomas's first answer: re-asked, then fixed
NARRATED = {d.name: 3 for d in NARRATOR4} | {"Clarity and Order": "4.5"}  # stays invalid every time
REPLIES = {
    "Mara": lambda n: answer(with_(knowledge_accuracy=5, immersion=2), "Mara is blunt, as written."),
    "Tomas": lambda n: answer(FIXED if n == 1 else ALL_FOURS, "Tomas speaks after drowning."),
    "narrator": lambda n: answer(NARRATED, "The narrator is terse."),
}


@pytest.fixture(scope="module")
def server() -> Iterator[TestServer]:
    with TestServer(judge_reply(REPLIES)) as s:
        yield s


def evaluate_in_process(db: Path, *sets: str) -> tuple[int, str]:
    """``sim evaluate --db db episode:1 --evaluator characterbox_judge --set ...`` in this process."""
    console, errors = Console(record=True, width=200), Console(record=True, width=200)
    messages: list[str] = []
    code = evaluate_command(
        db,
        "episode:1",
        ["characterbox_judge"],
        sets,
        None,
        console,
        errors,
        lambda e: messages.append(str(e)),
    )
    return code, console.export_text() + errors.export_text() + "\n".join(messages)


def model_sets(server: TestServer, model: str = "openai/judge") -> list[str]:
    """The judge model's ``key=value`` settings (``--set`` values)."""
    return [f"model.model={model}", f"model.api_base={server.openai_base}"]


def evaluate_with_sim(db: Path, server: TestServer) -> subprocess.CompletedProcess[str]:
    """``sim evaluate --db db run:1 --evaluator characterbox_judge`` with the test server's judge model."""
    sets = (f"--set={s}" for s in model_sets(server))
    return run_sim("evaluate", "--db", db, "run:1", "--evaluator", "characterbox_judge", *sets)


def test_sim_evaluate_scores_a_stored_scene_with_its_own_model(server: TestServer, tmp_path: Path) -> None:
    db = characterbox_store(tmp_path / "scene.db")
    server.reset()
    result = evaluate_with_sim(db, server)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "wrote 24 metric rows for 1 of 1 episodes" in result.stdout  # (7 + 2) * 2 characters + 4 + 2
    mara = scores_of(db, "p0")
    assert mara == {
        **{f"judge.{k}": 4.0 for k in KEYS},
        "judge.knowledge_accuracy": 5.0,
        "judge.immersion": 2.0,
        "judge.overall": (5 + 2 + 4 * 5) / 7,
        "judge.valid_dimensions": 7.0,
    }
    assert scores_of(db, "p1") == {
        **{f"judge.{k}": 4.0 for k in KEYS},
        "judge.overall": 4.0,
        "judge.valid_dimensions": 7.0,
    }
    narrator = scores_of(db, "p2")
    assert narrator["judge.clarity_and_order"] is None  # never 0, never a default
    assert narrator["judge.quantity_appropriateness"] == 3.0
    assert narrator["judge.overall"] == 3.0 and narrator["judge.valid_dimensions"] == 3.0
    tagged = rows(db, "SELECT DISTINCT evaluator, evaluator_model FROM metrics WHERE evaluator IS NOT NULL")
    assert tagged == [("characterbox_judge", "openai/judge")]

    calls = rows(
        db,
        "SELECT player_id, purpose, attempt, valid, error_class FROM llm_calls"
        " WHERE episode_id = 1 ORDER BY id",
    )
    by_seat = {seat: [(p, a, v) for s, p, a, v, _ in calls if s == seat] for seat in ("p0", "p1", "p2")}
    assert by_seat["p0"] == [("characterbox.judge", 1, 1)]
    assert by_seat["p1"] == [("characterbox.judge", 1, 0), ("characterbox.judge", 2, 1)]  # re-asked, fixed
    assert by_seat["p2"] == [("characterbox.judge.narrator", n, 0) for n in (1, 2, 3)]  # reasks: 2
    assert len(calls) == server.count == 6  # every attempt a row, every row an attempt
    assert {subject(r): attempt(r) for r in server.requests} == {"Mara": 1, "Tomas": 2, "narrator": 3}
    critiques = stored_critiques(StoreReader(db), 1)
    assert critiques == {
        "p0": "Mara is blunt, as written.",
        "p1": "Tomas speaks after drowning.",
        "p2": "The narrator is terse.",
    }

    before = rows(db, "SELECT player_id, name, value FROM metrics ORDER BY player_id, name")
    code, out = evaluate_in_process(db, *model_sets(server))
    assert code == 0, out
    assert (
        rows(db, "SELECT player_id, name, value FROM metrics ORDER BY player_id, name") == before
    )  # replaced
    # accepted answers come from the cache; refused ones are never cached, so they are asked again
    assert server.count == 6 + 1 + 3
    hits = rows(db, "SELECT player_id, attempt FROM llm_calls WHERE cache_hit ORDER BY id")
    assert hits == [("p0", 1), ("p1", 2)]


def test_the_judge_sees_the_profile_the_omniscient_transcript_and_the_anchored_rubric(
    server: TestServer, tmp_path: Path
) -> None:
    db = characterbox_store(tmp_path / "prompt.db")
    server.reset()
    code, out = evaluate_in_process(db, *model_sets(server), "narrator=false", "characters=[Mara]")
    assert code == 0, out
    [request] = server.requests
    prompt = str(request.messages[0]["content"])
    assert "Judge the character Mara" in prompt and "says 'Tide waits for no one'" in prompt
    assert "MARA-OWES-THE-SMUGGLERS" in prompt  # its own profile, secret included
    assert SPEECH in prompt and "drowns" in prompt and "Tomas is dead." in prompt  # every event, in order
    assert prompt.index(SPEECH) < prompt.index("drowns")
    assert "TOMAS-TOOK-A-BRIBE" not in prompt  # the setup event is not replayed as a transcript line
    for d in CHARACTERBOX7:
        assert f"{d.name}: {d.description}" in prompt and all(
            f"  {s}: {t}" in prompt for s, t in d.anchors.items()
        )
    assert prompt.index("First write a critique") < prompt.index("Answer with one JSON object")
    assert set(scores_of(db, "p1")) == set() and set(scores_of(db, "p2")) == set()


def test_a_judge_that_never_answers_validly_leaves_every_score_null(tmp_path: Path) -> None:
    db = characterbox_store(tmp_path / "refused.db")
    with TestServer(lambda req: "I would rather not score anyone.") as server:
        code, out = evaluate_in_process(db, *model_sets(server), "model.reasks=1")
        assert code == 0, out
        assert server.count == 3 * 2  # two characters and the narrator, each asked twice
    for seat in ("p0", "p1", "p2"):
        got = scores_of(db, seat)
        assert got.pop("judge.valid_dimensions") == 0.0
        assert set(got.values()) == {None}
    reasked = [r for r in server.requests if attempt(r) == 2]
    assert len(reasked) == 3
    for request in reasked:  # the correction names the problem and the subject's own dimensions
        correction = str(request.messages[-1]["content"])
        assert "the answer is not one JSON object" in correction
        expected = NARRATOR4 if subject(request) == "narrator" else CHARACTERBOX7
        assert correction.rstrip(".").endswith(", ".join(d.name for d in expected))
    assert rows(db, "SELECT count(*), sum(valid) FROM llm_calls") == [(6, 0)]


def test_a_rubric_declared_by_the_scenario_is_scored(tmp_path: Path) -> None:
    evaluation = {"rubric": {"mode": "extend", "character": [SECRECY]}}
    db = characterbox_store(tmp_path / "custom.db", evaluation)

    def reply(req: Request) -> str:
        if subject(req) == "narrator":
            return answer({d.name: 5 for d in NARRATOR4})
        return answer({**ALL_FOURS, "Secret Keeping": "[2]"})

    with TestServer(reply) as server:
        code, out = evaluate_in_process(db, *model_sets(server))
        assert code == 0, out
        asked = {subject(r): str(r.messages[0]["content"]) for r in server.requests}
        assert all(("Secret Keeping" in text) == (who != "narrator") for who, text in asked.items())
    assert (
        scores_of(db, "p0")["judge.secret_keeping"] == 2.0
        and scores_of(db, "p0")["judge.valid_dimensions"] == 8
    )
    assert scores_of(db, "p2")["judge.overall"] == 5.0


def test_a_bad_rubric_or_a_missing_model_fails_before_any_call(tmp_path: Path) -> None:
    db = characterbox_store(
        tmp_path / "bad.db", {"rubric": {"character": [{"name": "Wit", "anchors": {1: "dull"}}]}}
    )
    with TestServer(lambda req: "never asked") as server:
        code, out = evaluate_in_process(db, *model_sets(server))
        assert (code, server.count) == (2, 0)
        assert "the scenario's rubric is invalid: character.0.anchors: " in out
        assert "anchors must be given for exactly (1, 3, 5), got [1]" in out
        code, out = evaluate_in_process(db)
        assert code == 2 and "model: Field required" in out
        good = characterbox_store(tmp_path / "good.db")
        code, out = evaluate_in_process(good, *model_sets(server), "characters=[Nobody]")
        assert code == 2 and "no character Nobody to judge" in out
        assert server.count == 0


# a scenario's own rubric, through a real run -------------------------------------------------
WIT = {"name": "Wit", "description": "Is the character quick?", "anchors": {1: "slow", 3: "able", 5: "quick"}}
CANDOUR = {"name": "Candour", "anchors": {1: "hides rulings", 3: "mostly plain", 5: "plain"}}
CHARACTER_DIMENSIONS = ["Secret Keeping", "Wit"]
#: Glasshouse seats: p0 Ilse, p1 Corvin (dies in scene 1), p2 Marta, p3 the narrator.
GLASSHOUSE = {"p0": "Ilse", "p1": "Corvin", "p2": "Marta"}


def declared_reply(req: Request) -> str:
    """Every declared dimension scored, from which the judge's prompt names (narrator or character)."""
    prompt = str(req.messages[0]["content"])
    names = [d["name"] for d in (CANDOUR, SECRECY, WIT) if f'"{d["name"]}": 3' in prompt]  # the example
    return answer({name: 1 + len(prompt) % 5 for name in names}, "Declared dimensions only.")


def copy_store(source: Path, target: Path) -> Path:
    """A consistent copy of a store (its WAL included), through SQLite's backup."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


@pytest.fixture(scope="module")
def custom_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One bots episode of a two-scene glasshouse whose scene file declares its own rubric, stored by
    ``sim run`` (scene 2: Ilse and Marta only, after Corvin's death)."""
    folder = tmp_path_factory.mktemp("custom_rubric")
    data = yaml.safe_load((SCENES_DIR / "glasshouse.yaml").read_text())
    first = data["scenes"][0]
    second = {**first, "title": "After", "participants": ["Ilse", "Marta"], "rounds": 1, "changes": []}
    second["premise"] = {k: v for k, v in first["premise"].items() if k != "Corvin"}
    data["scenes"].append(second)
    data["evaluation"] = {"rubric": {"character": [SECRECY, WIT], "narrator": [CANDOUR]}}
    (folder / "scene.yaml").write_text(yaml.safe_dump(data))
    scenario = yaml.safe_load((CHARACTERBOX_SCENARIOS / "glasshouse_bots.yaml").read_text())
    scenario.update(params={"scene": str(folder / "scene.yaml")}, episodes=1)
    (folder / "cb.yaml").write_text(yaml.safe_dump(scenario))
    result = run_sim("run", folder / "cb.yaml", "--db", folder / "run.db", "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    return folder / "run.db"


def test_a_rubric_declared_in_the_scene_file_is_exactly_what_sim_evaluate_scores(
    custom_run: Path, tmp_path: Path
) -> None:
    db = copy_store(custom_run, tmp_path / "run.db")
    with TestServer(declared_reply) as server:
        result = evaluate_with_sim(db, server)
        assert result.returncode == 0, result.stdout + result.stderr
        prompts = [str(r.messages[0]["content"]) for r in server.requests]
    assert server.count == 4 and all(r.messages[-1]["role"] == "user" for r in server.requests)
    assert not any(f'"{d.name}"' in p for p in prompts for d in (*CHARACTERBOX7, *NARRATOR4))
    for seat in GLASSHOUSE:
        got = scores_of(db, seat)
        assert set(got) == {"judge.secret_keeping", "judge.wit", "judge.overall", "judge.valid_dimensions"}
        assert got["judge.valid_dimensions"] == 2.0 and 1 <= (got["judge.wit"] or 0) <= 5
    assert set(scores_of(db, "p3")) == {"judge.candour", "judge.overall", "judge.valid_dimensions"}


def test_per_scene_judging_scores_each_scene_of_its_participants_apart(
    custom_run: Path, tmp_path: Path
) -> None:
    db = copy_store(custom_run, tmp_path / "run.db")
    with TestServer(declared_reply) as server:
        code, out = evaluate_in_process(db, *model_sets(server), "per_scene=true")
        assert code == 0, out
        prompts = [str(r.messages[0]["content"]) for r in server.requests]
    assert server.count == 4 + 3  # scene 1: three characters and the narrator; scene 2: two and the narrator
    scene2 = [p for p in prompts if "scene 2: After" in p]
    assert len(scene2) == 3 and not any("scene 1: " in p for p in scene2)  # its own transcript only
    assert not any("Judge the character Corvin" in p for p in scene2)  # he is not in scene 2
    names = {seat: set(scores_of(db, seat)) for seat in ("p0", "p1", "p2", "p3")}
    per_scene = {"judge.scene{n}.secret_keeping", "judge.scene{n}.wit", "judge.scene{n}.overall"}
    per_scene |= {"judge.scene{n}.valid_dimensions"}
    both = {name.format(n=n) for name in per_scene for n in (1, 2)}
    assert names["p0"] == names["p2"] == both
    assert names["p1"] == {name.format(n=1) for name in per_scene}
    narrated = {"judge.scene{n}.candour", "judge.scene{n}.overall", "judge.scene{n}.valid_dimensions"}
    assert names["p3"] == {name.format(n=n) for name in narrated for n in (1, 2)}
