"""The viewer's fixes and pictures (issue 12, item 5, and the compare page's statistics, item 2), under
AppTest against stores written by real ``sim run`` calls (``conftest.py``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from apptest import app, charts, layers
from streamlit.testing.v1 import AppTest
from viewer_stores import LABELS, avalon_episode

from sim import stats
from sim.store.reader import StoreReader
from sim.viewer.renderers import MOVE_COLOURS, RESULT_COLOURS, SEAT_COLOURS, luminance
from sim.viewer.tables import agent_table


def shown_text(at: AppTest) -> str:
    """Every text of the page a reader sees: headings, captions, messages, widget labels and options,
    markdown, code, table cells and chart data."""
    parts = [
        str(e.value)
        for kind in (
            "title",
            "subheader",
            "caption",
            "markdown",
            "code",
            "info",
            "warning",
            "success",
            "error",
        )
        for e in getattr(at, kind)
    ]
    parts += [f"{w.label} {' '.join(map(str, w.options))}" for w in [*at.selectbox, *at.multiselect]]
    parts += [frame.value.astype(str).to_string() for frame in at.dataframe]
    parts += [json.dumps(spec) + data.astype(str).to_string() for spec, data in charts(at)]
    return "\n".join(parts)


def chart_with(at: AppTest, field: str) -> tuple[dict[str, Any], pd.DataFrame]:
    """The first chart whose data has ``field``."""
    return next((spec, data) for spec, data in charts(at) if field in data.columns)


def colour_scale(spec: dict[str, Any], field: str) -> dict[str, Any]:
    """The colour scale of the first layer that colours by ``field``."""
    return next(
        layer["encoding"]["color"]["scale"]
        for layer in layers(spec)
        if layer["encoding"].get("color", {}).get("field") == field
    )


# LLM tab --------------------------------------------------------------------------------------
def test_a_plain_text_answer_is_shown_as_text_not_as_broken_json(
    stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Akata's answers parse to a bare option (``J``): st.json on it showed `Unexpected token 'J'`."""
    calls = StoreReader(stores["llm"]).llm_calls()
    episode = int(calls.episode_id.iloc[0])
    at = app(stores["llm"], monkeypatch, episode=str(episode))
    for element in at.json:  # whatever is shown as JSON is JSON
        json.loads(element.value)
    parsed = set(calls[calls.episode_id == episode].parsed.astype(str))
    assert parsed and parsed <= {"F", "J"}
    codes = [c.value for c in at.code]
    assert all(p in codes for p in parsed), "the parsed option is shown as text"


# seat views -----------------------------------------------------------------------------------
def test_a_seat_view_never_shows_role_bearing_labels(
    stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, episode = stores["combined"], avalon_episode(stores["combined"])
    omniscient = app(db, monkeypatch, episode=str(episode))
    heading = next(c.value for c in omniscient.caption if "social/avalon-v1" in c.value)
    assert "naive-merlin vs" in heading  # the researcher's view keeps the labels
    for seat in ("p0", "p3"):
        text = shown_text(app(db, monkeypatch, episode=str(episode), seat=seat))
        leaked = [label for label in LABELS if label in text]
        assert not leaked, f"{seat}'s view shows {leaked}"
        assert "p0 avalon_naive vs p1 avalon_naive" in text  # seat ids and agent types instead


def test_switching_to_a_seat_drops_the_labels_at_once(
    stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, episode = stores["combined"], avalon_episode(stores["combined"])
    at = app(db, monkeypatch, episode=str(episode))
    next(w for w in at.selectbox if w.label == "view as").set_value("p2").run()
    assert not at.exception
    assert not [label for label in LABELS if label in shown_text(at)]


# runs page ------------------------------------------------------------------------------------
def test_runs_table_leads_with_the_episode_link_outcome_and_scores(
    stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(stores["demo"], monkeypatch)
    table = at.dataframe[1].value
    assert list(table.columns[:3]) == ["episode", "outcome", "scores"]
    assert (table["episode"] == [f"?episode={i}" for i in StoreReader(stores["demo"]).episodes().id]).all()
    config = json.loads(at.dataframe[1].proto.columns)
    assert config["episode"]["type_config"]["type"] == "link"  # clickable, its number shown
    seats = StoreReader(stores["demo"]).seats(1)
    assert table["scores"].iloc[0] == " · ".join(f"{r.player_id} {r.score:g}" for r in seats.itertuples())
    runs = json.loads(at.dataframe[0].proto.columns)
    assert runs["compare"]["type_config"]["type"] == "link"


# repeated games -------------------------------------------------------------------------------
def test_repeated_episode_colours_and_charts(
    stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = stores["demo"]
    at = app(db, monkeypatch, episode="1")
    headers = [s.value for s in at.subheader]
    assert {"Moves", "Cumulative score", "Cooperation over rounds"} <= set(headers)
    strip, _ = chart_with(at, "move")
    moves = colour_scale(strip, "move")
    assert moves["range"] == list(MOVE_COLOURS)
    _, progress = chart_with(at, "cooperation")
    seats = next(
        layer["encoding"]["color"]["scale"]["range"]
        for spec, data in charts(at)
        for layer in layers(spec)
        if layer["encoding"].get("color", {}).get("field") == "player"
    )
    assert seats == list(SEAT_COLOURS[:2])
    assert not set(seats) & set(moves["range"]), "moves and seats share a colour"
    # the last round's cooperation and cumulative score are the stored end-of-episode metrics
    metrics = StoreReader(db).metrics(1)
    last = progress[progress["round"] == progress["round"].max()].set_index("player")
    for name, column in (("cooperation_rate", "cooperation"), ("score", "score")):
        stored = metrics[metrics.name == name].set_index("player_id")["value"]
        assert last[column].to_dict() == pytest.approx(stored.to_dict()), name


# Avalon ---------------------------------------------------------------------------------------
def test_the_quest_track_is_coloured_by_result(
    stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, episode = stores["combined"], avalon_episode(stores["combined"])
    at = app(db, monkeypatch, episode=str(episode), seat="p1")
    spec, quests = chart_with(at, "result")
    scale = colour_scale(spec, "result")
    assert dict(zip(scale["domain"], scale["range"], strict=True)) == RESULT_COLOURS
    played = [e.payload for e in StoreReader(db).event_objects(episode) if e.kind == "quest"]
    expected = ["success" if q["success"] else "fail" for q in played]
    assert list(quests["result"]) == expected + ["not played"] * (5 - len(expected))


def test_compare_page_gives_per_role_win_rates(
    stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(stores["avalon"], monkeypatch, page="compare", run="1")
    assert "Win rate per role" in [s.value for s in at.subheader]
    roles = next(f.value for f in at.dataframe if "role" in f.value.columns)
    assert roles["n"].sum() == 2 * 10  # every seat of both episodes was dealt a role
    assert {"merlin", "assassin", "servant"} <= set(roles["role"])
    assert ((roles.win_low >= 0) & (roles.win_low <= roles.win_rate) & (roles.win_high <= 1)).all()
    assert any(data.get("role") is not None for _, data in charts(at)), "a per-role chart"


def test_compare_page_gives_per_side_win_rates(
    stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(stores["avalon"], monkeypatch, page="compare", run="1")
    assert "Win rate per side" in [s.value for s in at.subheader]
    sides = next(f.value for f in at.dataframe if "side" in f.value.columns)
    assert set(sides["side"]) == {"good", "evil"} and sides["n"].sum() == 2 * 10
    good, evil = (sides.set_index("side").loc[side] for side in ("good", "evil"))
    assert (good.n, evil.n) == (2 * 6, 2 * 4)  # 6 good and 4 evil seats a game
    assert good.wins / 6 + evil.wins / 4 == 2  # one side wins each of the 2 games, every seat of it
    assert any(data.get("side") is not None for _, data in charts(at)), "a per-side chart"


# compare page statistics ----------------------------------------------------------------------
def test_compare_page_uses_wilson_and_bootstrap_intervals_with_draws_shown(
    stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(stores["demo"], monkeypatch, page="compare", run="1")
    table = at.dataframe[0].value
    assert {"n", "wins", "draws", "losses"} <= set(table.columns)
    assert (table.wins + table.draws + table.losses == table.n).all()
    assert table.draws.sum() > 0, "the demo tournament has draws"
    assert any("draw counts as half a win" in c.value for c in at.caption)
    results = StoreReader(stores["demo"]).seats()
    for row in table.itertuples():
        rate = stats.rate(row.wins, row.n, draws=row.draws, draws_as_half=True)
        assert (row.win_rate, row.win_low, row.win_high) == pytest.approx((rate.value, rate.low, rate.high))
        assert 0 <= row.win_low <= row.win_rate <= row.win_high <= 1
        score = stats.mean(results[results.label == row.agent].score)
        assert (row.score, row.score_low, row.score_high) == pytest.approx(
            (score.value, score.low, score.high)
        )


def test_one_game_has_an_interval_with_width_and_none_leaves_the_unit_interval() -> None:
    """The normal approximation gave a zero-width interval at n = 1 and [0.013, 1.32] for 1 win of few."""
    results = pd.DataFrame(
        {
            "label": ["once", "twice", "twice", "draws", "draws"],
            "score": [3.0, 5.0, 1.0, 2.0, 2.0],
            "win": [1.0, 1.0, 0.0, 0.5, 0.5],
        }
    )
    table = agent_table(results).set_index("agent")
    once = table.loc["once"]
    assert once.win_rate == 1 and once.win_high == 1 and once.win_low == pytest.approx(0.2065, abs=1e-4)
    assert pd.isna(once.score_low)  # one value: no bootstrap interval, not a point passed off as one
    assert ((table.win_low >= 0) & (table.win_high <= 1) & (table.win_high > table.win_low)).all()
    assert table.loc["draws", "draws"] == 2 and table.loc["draws", "win_rate"] == 0.5


def test_the_heatmap_writes_each_number_in_a_readable_colour(
    stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(stores["demo"], monkeypatch, page="compare", run="1")
    spec, pairs = chart_with(at, "opponent")
    heat = next(layer for layer in layers(spec) if layer["mark"]["type"] == "rect")
    stops = heat["encoding"]["color"]["scale"]["range"]
    assert luminance(stops[0]) < 0.05 < 0.5 < luminance(stops[-1])  # dark to light
    lowest, highest = pairs.loc[pairs.score.idxmin()], pairs.loc[pairs.score.idxmax()]
    assert lowest.text_colour == "white" and highest.text_colour == "black"
    text = next(layer for layer in layers(spec) if layer["mark"]["type"] == "text")
    assert text["encoding"]["color"] == {"field": "text_colour", "scale": None, "type": "nominal"}
