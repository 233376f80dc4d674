"""Readable transcripts (``sim replay``): no raw payloads, ReCon's stages as sections, SCoT predictions,
each rationale under the action it explains, a seat's view without others' reasoning or role labels,
and ``--seat`` checked against the episode's seats. Stores come from real preset runs (test server)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sim_cli import run_sim
from transcript_stores import ANALYSIS, SPEECH, build

RAW = re.compile(r"\{'|'\w+': |\bNone\b")  # a Python dict's repr, or a None where a value should be


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build(tmp_path_factory.getbasetemp() / "transcript-stores")


def replay(db: Path, *args: str) -> str:
    result = run_sim("replay", "--db", db, "1", *args)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    return result.stdout


def blocks(out: str) -> list[list[str]]:
    """The transcript cut into turns (each a ``-- turn N`` line and the lines under it)."""
    turns: list[list[str]] = []
    for line in out.splitlines():
        if line.startswith("-- turn"):
            turns.append([])
        if turns:
            turns[-1].append(line)
    return turns


def test_replay_shows_no_raw_python_dicts(stores: dict[str, Path]) -> None:
    for db in stores.values():
        out = replay(db)
        assert "reasoning (private)" in out
        assert not RAW.search(out), RAW.search(out)


def test_scot_predictions_are_shown_with_the_round_they_predict(stores: dict[str, Path]) -> None:
    out = replay(stores["scot"])
    for turn in blocks(out)[1:]:  # every round: the move, then p0's prediction of p1's move
        assert re.match(r"\s+round\s+\d+\s+p0:(\w)\s+p1:(\w)", turn[1]), turn
        played = re.match(r"\s+round\s+\d+\s+p0:\w\s+p1:(\w)", turn[1]).group(1)  # type: ignore[union-attr]
        prediction = next(line for line in turn if "prediction:" in line)
        assert re.search(rf"the other plays \w \(it played {played}: (right|wrong)\)", prediction), prediction


def test_each_rationale_sits_under_the_action_it_explains(stores: dict[str, Path]) -> None:
    turns = blocks(replay(stores["avalon"]))
    proposal = next(t for t in turns if "proposes" in t[1])
    assert proposal[2].strip() == "p0's reasoning (private):", proposal  # same turn, right under it
    assert "team: p0, p1" in "\n".join(proposal)
    speech = next(t for t in turns if t[1].strip().startswith("p0: "))
    assert speech[2].strip() == "p0's reasoning (private):" and f"SPEAK: {SPEECH}" in "\n".join(speech)
    vote = next(t for t in turns if t[1].strip().startswith("vote approved"))
    assert [line.strip() for line in vote if "reasoning" in line] == [
        f"p{i}'s reasoning (private):" for i in range(6)
    ]
    for turn in turns:  # no reasoning ends a turn before its action
        assert "reasoning" not in turn[-1]
        if any("reasoning" in line for line in turn):
            assert "reasoning" not in turn[1]


def test_recon_stages_are_labelled_sections_with_the_belief_as_a_table(stores: dict[str, Path]) -> None:
    speech = next(t for t in blocks(replay(stores["avalon"])) if t[1].strip().startswith("p1: "))
    text = "\n".join(line.strip() for line in speech)
    assert re.search(
        r"^belief:\nseat\s+role\s+P\(evil\)\s+certain\np0\s+\S+\s+\d\.\d\d\s+(yes|no)$", text, re.M
    )
    for line in (
        "THINK: FORMULATE-THINK",
        f"SPEAK: {SPEECH}",
        f"second-order analysis: {ANALYSIS}",
        "revised THINK: REFINE-THINK",
    ):
        assert line in text, text
    cot = next(t for t in blocks(replay(stores["avalon"])) if t[1].strip().startswith("p4: "))
    assert "THINK: ACT-THINK" in "\n".join(cot) and "belief" not in "\n".join(cot)  # CoT: one stage


def test_night_knowledge_is_in_words(stores: dict[str, Path]) -> None:
    out = replay(stores["avalon"])
    assert "p0 is Merlin and sees p4 and p5 as evil." in out
    assert "p1 is Percival and sees p0 and p4 as Merlin or Morgana." in out


def test_a_seat_sees_only_its_own_reasoning_and_no_role_labels(stores: dict[str, Path]) -> None:
    out = replay(stores["avalon"], "--seat", "p2")
    assert "p2's reasoning (private):" in out
    assert not re.search(r"p[013-5]'s reasoning", out)
    assert "recon-servant [recon]" in out  # its own label
    for label in ("recon-merlin", "recon-percival", "cot-morgana", "cot-assassin", "Roles:"):
        assert label not in out
    assert "sees p4 and p5 as evil" not in out and "(visible to: p0)" not in out


def test_replay_of_an_unknown_seat_exits_2_naming_the_seats(stores: dict[str, Path]) -> None:
    result = run_sim("replay", "--db", stores["avalon"], "1", "--seat", "p9")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "no seat 'p9'" in result.stderr and "p0, p1, p2, p3, p4, p5" in result.stderr
    assert "-- turn" not in result.stdout


def test_chat_lists_the_speeches_in_order(stores: dict[str, Path]) -> None:
    from sim.transcript import chat_entries, episode_transcript

    shown = episode_transcript(stores["avalon"], 1)
    chat = chat_entries(shown)
    assert chat and [e.turn for e in chat] == sorted(e.turn for e in chat)
    assert all(e.speech == SPEECH for e in chat if e.kind == "speech")
    assert shown.sides == {"p0": "good", "p1": "good", "p2": "good", "p3": "good", "p4": "evil", "p5": "evil"}
    assert episode_transcript(stores["avalon"], 1, "p0").sides == {}  # a seat is not told the sides
    out = replay(stores["avalon"], "--chat")
    assert out.splitlines()[0] == f"turn 2  p0: {SPEECH}"


def test_no_seat_view_holds_another_seats_private_event_reasoning_or_label(stores: dict[str, Path]) -> None:
    from sim.transcript import episode_transcript

    full = episode_transcript(stores["avalon"], 1)
    labels = [line.split(": ", 1)[1].split(" [")[0] for line in full.header[1:]]
    for i, seat in enumerate(f"p{i}" for i in range(6)):
        shown = episode_transcript(stores["avalon"], 1, seat)
        assert all(e.visible_to == "all" or seat in e.visible_to for e in shown.entries)
        assert {r.seat for e in shown.entries for r in e.reasoning} == {seat}
        assert shown.sides == {}
        header = "\n".join(shown.header)
        assert labels[i] in header
        assert all(label not in header for label in set(labels) - {labels[i]})
