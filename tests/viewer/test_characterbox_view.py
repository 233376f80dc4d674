"""The CharacterBox viewer: its data read from a real stored bots run of the glasshouse scene (Corvin
dies in round 2) judged by ``sim evaluate`` against the test server, and the page under AppTest."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from apptest import app, charts, layers
from viewer_stores import (
    JUDGE_BASE,
    NULL_DIMENSION,
    characterbox_episode,
    judge_critique,
    judge_score,
)

from sim.store.reader import StoreReader
from sim.types import Event
from sim.viewer.renderers import PLAYER_COLOURS
from worlds.characterbox.rubric import CHARACTERBOX7, NARRATOR4
from worlds.characterbox.view import screenplay_html
from worlds.characterbox.view_data import (
    NARRATOR,
    Cast,
    judge_critiques,
    judge_scores,
    screenplay,
    screenplay_table,
    state_table,
    stored_profiles,
)

CHARACTERS = ("Ilse", "Corvin", "Marta")  # the glasshouse file's order: seats p0, p1, p2; p3 narrates


@pytest.fixture(scope="module")
def stored(stores: dict[str, Path]) -> tuple[Path, int, list[Event], Cast]:
    """The combined store, its CharacterBox episode, the episode's events and cast."""
    db = stores["combined"]
    episode = characterbox_episode(db)
    reader = StoreReader(db)
    try:
        events = list(reader.event_objects(episode))
        cast = Cast.of(reader.seats(episode), events)
    finally:
        reader.engine.dispose()
    return db, episode, events, cast


def seen(events: Sequence[Event], seat: str) -> list[Event]:
    return [e for e in events if e.visible(seat)]


# the cast and the screenplay -------------------------------------------------------------------------
def test_one_colour_per_character_in_seat_order_in_every_view(
    stored: tuple[Path, int, list[Event], Cast],
) -> None:
    db, episode, events, cast = stored
    assert cast.characters == CHARACTERS and cast.narrator == "p3"
    assert cast.seat_of == {"Ilse": "p0", "Corvin": "p1", "Marta": "p2"}
    colours = cast.colours()
    assert [colours[n] for n in CHARACTERS] == list(PLAYER_COLOURS[:3])
    assert len(set(colours.values())) == 4  # the narrator's apart
    reader = StoreReader(db)
    seats = reader.seats(episode)
    reader.engine.dispose()
    for seat in ("p0", "p1", "p3"):  # a seat's view, and the actions alone (a running game): the same
        assert Cast.of(seats, seen(events, seat)).colours() == colours
        assert Cast.of(seats.drop(columns="game_role"), events).colours() == colours
    lines = screenplay(events)
    html = screenplay_html(lines, colours)
    for name, colour in zip(CHARACTERS, PLAYER_COLOURS, strict=False):
        assert html.count(f"border-left:6px solid {colour}") == sum(line.who == name for line in lines) > 0


def test_the_screenplay_has_every_scene_round_action_ruling_and_the_death(
    stored: tuple[Path, int, list[Event], Cast],
) -> None:
    _, _, events, _ = stored
    table = screenplay_table(screenplay(events))
    heading = table[table["kind"] == "heading"].iloc[0]
    assert heading["text"] == "The reading of the will · four o'clock · the glasshouse"
    acted = table[table["kind"].isin(["action", "reaction"])]
    actions = [e for e in events if e.kind == "action"]
    assert list(zip(acted["round"], acted["who"], acted["text"], strict=True)) == [
        (e.payload["round"], e.payload["character"], e.payload["action"]) for e in actions
    ]
    verdicts = table[table["kind"] == "verdict"]
    assert len(verdicts) == sum(e.kind == "verdict" for e in events) and verdicts["valid"].all()
    assert any("collapsed beside the wicker chair" in t for t in verdicts["text"])
    [death] = table[table["kind"] == "death"].itertuples()
    assert (death.who, death.round, death.text) == ("Corvin", 2, "dies")
    summaries = table[table["kind"] == "summary"]
    assert list(summaries["round"]) == [1, 2, 3] and set(summaries["who"]) == {NARRATOR}
    assert table["kind"].iloc[-1] == "scene_end" and table["text"].iloc[-1].endswith("3 round(s): rounds")
    influence = table[table["kind"] == "influence"]
    assert len(influence) == sum(e.kind == "influence" for e in events)
    assert influence["text"].iloc[0] == "Corvin's action affects Ilse: Corvin's action reaches Ilse."


def test_a_rejected_ruling_shows_its_errors_and_the_state_kept() -> None:
    events = [
        Event(
            0,
            "act",
            "scene_start",
            {"scene": 1, "title": "T", "time": "dawn", "location": "pier"} | {"description": "d"},
        ),
        Event(
            1,
            "act",
            "action",
            {"character": "Ada", "action": "waves", "speech": "<b>hi</b>"}
            | {"leave": True, "reaction": False, "round": 1},
            "p0",
        ),
        Event(
            2,
            "rule",
            "verdict",
            {"outcome": "Bo falls", "changes": [], "perceived_by": ["Bo"], "valid": False, "round": 1}
            | {
                "errors": ["Bo (changed) is not in the scene"],
                "proposed": [{"character": "Bo", "state": {"alive": False}}],
            },
            "p2",
        ),
        Event(2, "rule", "leave", {"character": "Ada"}),
        Event(
            3,
            "act",
            "influence",
            {
                "actor": "Ada",
                "target": "Zed",
                "impact": "x",
                "valid": False,
                "error": "Zed is not in the scene",
            },
            "p2",
        ),
    ]
    lines = screenplay(events)
    verdict = next(line for line in lines if line.kind == "verdict")
    assert not verdict.valid
    assert verdict.text == (
        "REJECTED ruling: Bo falls (Bo (changed) is not in the scene); proposed Bo: alive False; state kept"
    )
    assert [line.kind for line in lines] == ["heading", "action", "verdict", "leave", "influence"]
    assert lines[1].text == "waves (leaves)" and "rejected (Zed is not in the scene)" in lines[-1].text
    html = screenplay_html(lines, Cast(("Ada", "Bo"), {"Ada": "p0", "Bo": "p1"}, "p2").colours())
    assert "&lt;b&gt;hi&lt;/b&gt;" in html and "<b>hi</b>" not in html  # a model's words, literally
    assert html.count("#D55E00") == 2  # the rejected ruling and the rejected influence


# state over rounds -----------------------------------------------------------------------------------
def test_the_state_table_per_round_equals_the_worlds_state_updates(
    stored: tuple[Path, int, list[Event], Cast],
) -> None:
    _, _, events, cast = stored
    table = state_table(events, cast, None)
    setup = next(e.payload for e in events if e.kind == "setup")
    start = table[table["round"] == 0].set_index("character")
    for name, c in setup["characters"].items():
        assert start.loc[name, "position"] == c["position"] and start.loc[name, "mood"] == c["state"]["mood"]
    assert list(dict.fromkeys(table["round"])) == [0, 1, 2, 3]
    rnd, last = 0, {}
    for e in events:  # the last update of each character in each round is the table's row
        if e.kind in ("action", "verdict"):
            rnd = e.payload["round"]
        if e.kind == "state_update":
            last[rnd, e.payload["character"]] = e.payload
    assert {(1, "Corvin"), (2, "Corvin")} <= set(last)
    for (r, name), update in last.items():
        row = table[(table["round"] == r) & (table["character"] == name)].iloc[0]
        assert row["position"] == update["position"] and bool(row["alive"]) == update["state"]["alive"]
        assert all(row[k] == v for k, v in update["state"].items() if k != "alive")
    end = next(e.payload for e in events if e.kind == "end")
    final = table[table["round"] == 3].set_index("character")
    assert final["alive"].to_dict() == end["alive"] == {"Ilse": True, "Corvin": False, "Marta": True}


@pytest.mark.parametrize("seat", ["p0", "p1", "p2"])
def test_a_character_seat_sees_only_its_own_state_and_no_other_goal_or_secret(
    stored: tuple[Path, int, list[Event], Cast], seat: str
) -> None:
    db, episode, events, cast = stored
    mine = seen(events, seat)
    own = cast.character_of[seat]
    reader = StoreReader(db)
    profiles = stored_profiles(reader, episode)
    reader.engine.dispose()
    table = state_table(mine, cast, seat, profiles)
    others = table[table["character"] != own]
    assert others.drop(columns=["scene", "round", "character", "alive"]).isna().all().all()
    ours = table[table["character"] == own].set_index("round")
    assert ours.loc[0, "position"] == profiles[own]["position"]  # its own profile, as observed
    assert ours.loc[0, "mood"] == profiles[own]["state"]["mood"]
    final = table[table["round"] == table["round"].max()].set_index("character")
    assert not final.loc["Corvin", "alive"] and final.loc["Ilse", "alive"]  # the death it saw
    text = screenplay_table(screenplay(mine)).to_string() + table.to_string()
    for name, c in profiles.items():
        if name != own:
            assert c["goal"] not in text and c["secret"] not in text
    assert not any(line.kind in ("verdict", "summary") for line in screenplay(mine))  # the narrator's alone
    narrator = state_table(seen(events, "p3"), cast, "p3", profiles)
    assert narrator.equals(state_table(events, cast, None))  # the narrator's view is the full one


# the judge -------------------------------------------------------------------------------------------
def test_scores_and_critiques_read_back_from_the_judges_run(
    stored: tuple[Path, int, list[Event], Cast],
) -> None:
    db, episode, _, cast = stored
    reader = StoreReader(db)
    try:
        scores = judge_scores(reader, episode, cast)
        critiques = judge_critiques(reader, episode)
    finally:
        reader.engine.dispose()
    assert list(dict.fromkeys(scores["who"])) == [*CHARACTERS, NARRATOR]
    for who in JUDGE_BASE:
        dims = NARRATOR4 if who == NARRATOR else CHARACTERBOX7
        mine = scores[scores["who"] == who]
        assert mine["dimension"].tolist() == [d.name for d in dims]
        expected = [
            None if d.name == NULL_DIMENSION else float(judge_score(who, i)) for i, d in enumerate(dims)
        ]
        assert [None if s is None or s != s else s for s in mine["score"]] == expected
    assert critiques == {
        seat: judge_critique(cast.character_of.get(seat, NARRATOR)) for seat in ("p0", "p1", "p2", "p3")
    }


# the page --------------------------------------------------------------------------------------------
def test_the_page_draws_the_screenplay_states_and_scores(
    stored: tuple[Path, int, list[Event], Cast], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, episode, _, _ = stored
    at = app(db, monkeypatch, episode=str(episode))
    headers = [s.value for s in at.subheader]
    assert {"Screenplay", "Characters over rounds", "Evaluation", "Transcript"} <= set(headers)
    page = " ".join(m.value for m in at.markdown)
    assert "SCENE 1: The reading of the will" in page and "✝ dies" in page
    assert judge_critique("Corvin") in page and judge_critique(NARRATOR) in page
    drawn = charts(at)
    bars = next(
        frame
        for spec, frame in drawn
        if any(layer.get("mark", {}) in ("bar", {"type": "bar"}) for layer in layers(spec))
    )
    assert set(bars["who"]) == {*CHARACTERS, NARRATOR} and len(bars) == 3 * 7 + 3  # the NULL is no bar
    assert NULL_DIMENSION not in set(bars[bars["who"] == NARRATOR]["dimension"])

    at = app(db, monkeypatch, episode=str(episode), seat="p1")
    page = " ".join(m.value for m in at.markdown)
    assert judge_critique("Corvin") in page and judge_critique("Ilse") not in page
    bars = next(frame for spec, frame in charts(at) if "dimension" in frame.columns)
    assert set(bars["who"]) == {"Corvin"}


def test_an_unjudged_episode_says_how_to_judge_it(
    stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from viewer_stores import CHARACTERBOX_SCENARIO, _run

    db = tmp_path / "unjudged.db"
    _run(CHARACTERBOX_SCENARIO, "--db", db, "--set", "episodes=1")
    at = app(db, monkeypatch, episode="1")
    assert any("No judge scores" in i.value for i in at.info)
    assert any("sim evaluate --db" in c.value and "characterbox_judge" in c.value for c in at.code)
