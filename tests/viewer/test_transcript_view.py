"""The episode page's transcript under AppTest: readable entries (no raw dicts), each seat's reasoning
in an expander right under the action it explains, a chat coloured by seat (by side when omniscient),
and a seat's view without other seats' reasoning. Stores come from real preset runs (test server)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apptest import app
from streamlit.testing.v1 import AppTest
from transcript_stores import build

RAW = re.compile(r"\{'|'\w+': |\bNone\b")


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build(tmp_path_factory.getbasetemp() / "transcript-stores")


def walk(node: Any) -> Iterator[Any]:
    """Every element under ``node``, in page order."""
    for child in getattr(node, "children", {}).values():
        yield child
        yield from walk(child)


def section(at: AppTest, title: str) -> list[Any]:
    """The elements of the Game tab's section under the subheader ``title``, up to the next subheader."""
    nodes = list(walk(at.tabs[0]))
    start = next(i for i, n in enumerate(nodes) if n.type == "subheader" and n.value == title)
    end = next((i for i, n in enumerate(nodes) if i > start and n.type == "subheader"), len(nodes))
    return nodes[start + 1 : end]


def texts(nodes: list[Any]) -> str:
    return "\n".join(str(n.value) for n in nodes if n.type in ("markdown", "caption", "code"))


def test_the_transcript_shows_no_raw_dicts(stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    for db in stores.values():
        at = app(db, monkeypatch, episode="1")
        everything = texts(list(walk(at.tabs[0])))  # the reasoning in the expanders too
        assert "-- turn 1" in everything and not RAW.search(everything), RAW.search(everything)
        assert [n for n in section(at, "Transcript") if n.type == "expander"]


def test_reasoning_sits_right_under_the_action_it_explains(
    stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    nodes = section(app(stores["avalon"], monkeypatch, episode="1"), "Transcript")
    top = [n for n in nodes if n.type in ("markdown", "expander") and not _inside_expander(n, nodes)]
    reasoning = [i for i, n in enumerate(top) if n.type == "expander"]
    assert reasoning
    first = top[reasoning[0] - 1].value.splitlines()[-1]
    assert first == ":blue[p0 proposes p0 and p1 for quest 1]", first  # in its turn, not the one before
    for i in reasoning:
        before = top[i - 1]
        if before.type == "markdown":
            assert not before.value.splitlines()[-1].startswith("**-- turn"), before.value
    stages = next(n.value for n in walk(top[reasoning[1]]) if n.type == "markdown")
    assert "**belief**" in stages and "| seat | role | P(evil) | certain |" in stages
    assert "**THINK**: FORMULATE-THINK" in stages and "**revised THINK**: REFINE-THINK" in stages
    assert "**second-order analysis**:" in stages and "**SPEAK**: I trust \\*p1\\*" in stages


def test_chat_is_coloured_by_side_when_omniscient_and_by_seat_for_a_seat(
    stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = texts(section(app(stores["avalon"], monkeypatch, episode="1"), "Chat"))
    assert ":blue-badge[p0] I trust \\*p1\\* \\[really\\] and bet \\$5" in chat  # escaped: shown literally
    assert ":red-badge[p4]" in chat and ":red-badge[p5] :gray[(to evil)]" in chat
    seat = app(stores["avalon"], monkeypatch, episode="1", seat="p2")
    chat = texts(section(seat, "Chat"))
    assert ":blue-badge[p0]" in chat and "red-badge" not in chat  # no side colours for a seat
    labels = [n.label for n in section(seat, "Transcript") if n.type == "expander"]
    assert labels and set(labels) == {"p2's reasoning (private)"}
    assert "Roles:" not in texts(section(seat, "Transcript"))


def test_scot_predictions_are_shown(stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    nodes = section(app(stores["scot"], monkeypatch, episode="1"), "Transcript")
    inside = "\n".join(
        n.value for e in nodes if e.type == "expander" for n in walk(e) if n.type == "markdown"
    )
    assert re.search(r"\*\*prediction\*\*: the other plays \w \(it played \w: (right|wrong)\)", inside)


def _inside_expander(node: Any, nodes: list[Any]) -> bool:
    return any(node is child for e in nodes if e.type == "expander" for child in walk(e))
