"""The stores the viewer's tests read, written by real ``sim run`` calls, and what they hold; where the
browser tests' screenshots go."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from sim_cli import ROOT, run_sim

from sim.llm.testserver import Request, TestServer
from sim.store.reader import StoreReader
from tests.tournament.stores import avalon_models, play_tournament
from worlds.characterbox.rubric import CHARACTERBOX7, NARRATOR4

ROLES = ("merlin", "percival", "servant", "morgana", "assassin")
LABELS = [f"naive-{role}" for role in ROLES]
"""Labels that name their seat's (fixed) role, as the ReCon presets' labels do."""
LABELLED_AVALON = {
    "name": "labelled-avalon",
    "world": "social/avalon-v1",
    "params": {"roles": list(ROLES), "seating": "fixed"},
    "seats": [{"agent": "avalon_naive", "label": label} for label in LABELS],
    "episodes": 2,
    "seed": 7,
}
SCREENSHOTS = pytest.StashKey[Path]()
"""Set by the browser tests: the directory their screenshots were saved to (named in the summary)."""
AVALON_RUN = 2
"""The labelled Avalon run of the combined store (run 1 is the demo tournament)."""
AMONG_US_RUN = 3
"""The Among Us bots' run of the combined store."""
CHARACTERBOX_RUN = 4
"""The CharacterBox bots' run of the combined store (glasshouse: Corvin dies in round 2), judged."""
TOURNAMENT_RUN = 5
"""The combined store's role-balanced Avalon tournament (:func:`tests.tournament.stores.avalon_models`)."""
CHARACTERBOX_SCENARIO = ROOT / "worlds/characterbox/scenarios/glasshouse_bots.yaml"
JUDGE_BASE = {"Ilse": 5, "Corvin": 2, "Marta": 4, "narrator": 3}
"""The test judge's first score per subject; each next dimension one lower, wrapping from 1 to 5."""
NULL_DIMENSION = "Clarity and Order"
"""The narrator dimension the test judge never scores validly (stored NULL)."""
AMONG_US_SETS = (  # classic5 with more tasks and an early first kill: the bots kill, meet and vote
    "episodes=2",
    "params.short_tasks=3",
    "params.long_tasks=2",
    "params.initial_kill_cooldown=0",
    "params.confirm_ejects=true",
    "params.discussion_rounds=1",
)


def _run(*args: object) -> None:
    result = run_sim("run", *args, "--quiet")
    assert result.returncode == 0, f"sim run failed:\n{result.stdout}\n{result.stderr}"


def write_stores(tmp: Path) -> dict[str, Path]:
    """``demo``: a repeated-games tournament; ``avalon``: ten players with discussion; ``llm``: an Akata run
    against the test server; ``combined``: the demo tournament (run 1), labelled Avalon bots (run 2),
    Among Us bots (run 3), a CharacterBox scene (run 4) scored by the judge against the test server and
    a role-balanced Avalon tournament (run 5)."""
    out = {name: tmp / f"{name}.db" for name in ("demo", "avalon", "llm", "combined")}
    demo = ROOT / "worlds/repeated/scenarios/demo.yaml"
    _run(demo, "--db", out["demo"])
    avalon = ROOT / "worlds/avalon/scenarios/avalon_10p_all_roles.yaml"
    _run(avalon, "--db", out["avalon"], "--set", "episodes=2")
    with TestServer("tit_for_tat") as server:
        base = f"tournament.focal.config.model.api_base={server.openai_base}"
        _run(ROOT / "worlds/repeated/scenarios/llm_akata_pd.yaml", "--db", out["llm"], "--set", base)
    labelled = tmp / "labelled-avalon.yaml"
    labelled.write_text(yaml.safe_dump(LABELLED_AVALON))
    _run(demo, "--db", out["combined"])
    _run(labelled, "--db", out["combined"])
    among_us = ROOT / "worlds/among_us/scenarios/classic5.yaml"
    _run(among_us, "--db", out["combined"], *(arg for s in AMONG_US_SETS for arg in ("--set", s)))
    _run(CHARACTERBOX_SCENARIO, "--db", out["combined"], "--set", "episodes=1")
    judge(out["combined"], f"run:{CHARACTERBOX_RUN}")
    play_tournament(avalon_models(), out["combined"])
    return out


def judge_score(subject: str, index: int) -> int:
    """The test judge's score of ``subject`` on the rubric's ``index``-th dimension."""
    return (JUDGE_BASE[subject] - 1 - index) % 5 + 1


def judge_critique(subject: str) -> str:
    """The test judge's critique of ``subject``."""
    return f"Critique of {subject}: keeps to the part, mostly."


def judge_answer(request: Request) -> str:
    """The test judge: a critique, then a score per dimension of the prompt's rubric (the narrator's
    :data:`NULL_DIMENSION` scored 9, out of range, at every ask)."""
    prompt = str(request.messages[0]["content"])
    subject = (
        "narrator"
        if "Judge the NARRATOR" in prompt
        else prompt.split("Judge the character ", 1)[1].split(":", 1)[0]
    )
    dimensions = NARRATOR4 if subject == "narrator" else CHARACTERBOX7
    scores = {d.name: judge_score(subject, i) for i, d in enumerate(dimensions)}
    if NULL_DIMENSION in scores:
        scores[NULL_DIMENSION] = 9
    return json.dumps({"critique": judge_critique(subject), "scores": scores})


def judge(db: Path, selector: str) -> None:
    """``sim evaluate --evaluator characterbox_judge`` on ``selector`` with the test judge."""
    with TestServer(judge_answer) as server:
        sets = ["model.model=openai/judge", f"model.api_base={server.openai_base}", "model.reasks=0"]
        result = run_sim(
            "evaluate",
            "--db",
            db,
            selector,
            "--evaluator",
            "characterbox_judge",
            *(f"--set={s}" for s in sets),
        )
    assert result.returncode == 0, f"sim evaluate failed:\n{result.stdout}\n{result.stderr}"


def characterbox_episode(db: Path) -> int:
    """The combined store's CharacterBox episode."""
    episodes = StoreReader(db).episodes()
    return int(episodes[episodes.run_id == CHARACTERBOX_RUN].id.iloc[0])


def avalon_episode(db: Path) -> int:
    """The first episode of the combined store's Avalon run."""
    episodes = StoreReader(db).episodes()
    return int(episodes[episodes.run_id == AVALON_RUN].id.iloc[0])


def among_us_episode(db: Path) -> int:
    """The combined store's first Among Us game with a meeting (a kill, speeches, a vote)."""
    reader = StoreReader(db)
    try:
        episodes = reader.episodes()
        for episode in episodes[episodes.run_id == AMONG_US_RUN].id:
            if any(e.kind == "meeting" for e in reader.event_objects(int(episode))):
                return int(episode)
    finally:
        reader.engine.dispose()
    raise AssertionError("the Among Us run has no game with a meeting")


def among_us_kill_turn(db: Path) -> int:
    """The turn of the first kill of :func:`among_us_episode`'s game."""
    reader = StoreReader(db)
    try:
        return next(e.turn for e in reader.event_objects(among_us_episode(db)) if e.kind == "kill")
    finally:
        reader.engine.dispose()
