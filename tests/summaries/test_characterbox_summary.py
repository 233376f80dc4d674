"""The CharacterBox run summary (``sim run`` and ``sim summary``): golden text of six seeded bot plays of
the glasshouse scene, judged afterwards by ``characterbox_judge`` against the local test server, at 80
columns; the judge table is the mean of the stored scores.

Regenerate the golden after an intended change (the bots' play, a table):
``UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/summaries/test_characterbox_summary.py``.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sim_cli import ROOT, run_sim
from test_summary_cli import _assert_fits, _golden, _normalised, _numbers_whole, _ok

from sim.llm.testserver import Request, TestServer
from worlds.characterbox.rubric import CHARACTERBOX7, NARRATOR4

pytestmark = pytest.mark.slow  # four sim processes and six judged plays: ~30 s on two cores
GLASSHOUSE = ROOT / "worlds" / "characterbox" / "scenarios" / "glasshouse_bots.yaml"


def judge(req: Request) -> str:
    """Scores that differ between plays and subjects: from the number of actions in the judged
    transcript and the length of the subject's name."""
    prompt = str(req.messages[0]["content"])
    dimensions = NARRATOR4 if "Judge the NARRATOR" in prompt else CHARACTERBOX7
    n = prompt.count(" acts: ") + len(prompt.split(":", 1)[0])
    scores = {d.name: 1 + (n + i) % 5 for i, d in enumerate(dimensions)}
    return json.dumps({"critique": "Plain, in character.", "scores": scores})


@pytest.fixture(scope="module")
def glasshouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """Six seeded bot plays (piped output of ``sim run``), then the judge over them (``sim summary``)."""
    db = tmp_path_factory.mktemp("characterbox") / "c.db"
    run_out = _ok(run_sim("run", GLASSHOUSE, "--db", db, "--episodes", "6"))
    with TestServer(judge) as server:
        sets = ["--set=model.model=openai/judge", f"--set=model.api_base={server.openai_base}"]
        _ok(run_sim("evaluate", "--db", db, "run:1", "--evaluator", "characterbox_judge", *sets))
    return db, run_out, _ok(run_sim("summary", "--db", db))


def test_the_glasshouse_summary_fits_80_columns_and_is_golden(glasshouse: tuple[Path, str, str]) -> None:
    db, run_out, judged = glasshouse
    for out in (run_out, judged):
        _assert_fits(out)
        _numbers_whole(out)
    for title in ("how scenes ended", "characters", "narrator rulings", "narrator per episode"):
        assert title in run_out
    assert "judge scores" not in run_out and "judge scores" in judged
    _golden("characterbox_glasshouse_bots", _normalised(judged, db))


def test_the_tables_are_the_stored_numbers(glasshouse: tuple[Path, str, str]) -> None:
    db = glasshouse[0]
    doc = json.loads(_ok(run_sim("summary", "--db", db, "--format", "json")))
    sections = doc["sections"]
    with sqlite3.connect(db) as conn:
        episodes = conn.execute("SELECT count(*) FROM episodes WHERE status = 'complete'").fetchone()[0]
        corvin = conn.execute(
            "SELECT m.value FROM metrics m JOIN seats s ON s.episode_id = m.episode_id AND "
            "s.player_id = m.player_id WHERE s.game_role = 'Corvin' AND m.name = ? AND m.evaluator IS ?",
            ("judge.immersion", "characterbox_judge"),
        ).fetchall()
        verdicts = conn.execute("SELECT count(*) FROM events WHERE kind = 'verdict'").fetchone()[0]
    rows = {(r["character"], r["dimension"]): r for r in sections["judge"]["rows"]}
    cell = rows["Corvin", "immersion"]["mean [95% CI]"]
    assert cell["n"] == len(corvin) == episodes == 6
    assert cell["value"] == pytest.approx(sum(v for (v,) in corvin) / len(corvin))
    assert cell["low"] < cell["value"] < cell["high"]  # the plays differ: a real interval
    assert {r["character"] for r in sections["judge"]["rows"]} == {"Corvin", "Ilse", "Marta", "narrator"}
    (invalid,) = [r for r in sections["narrator"]["rows"] if r["measure"] == "invalid verdicts"]
    assert invalid["rulings"] == verdicts and invalid["count"] == 0
    (corvin_row,) = [r for r in sections["characters"]["rows"] if r["character"] == "Corvin"]
    assert corvin_row["alive [95% CI]"]["value"] == 0.0  # he dies in every play
    ended = sections["scene_endings"]["rows"]
    assert sum(r["plays"] for r in ended) == episodes
