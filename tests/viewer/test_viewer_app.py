"""The viewer's pages under Streamlit's AppTest, against stores written by real ``sim run`` calls."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from apptest import app
from live_store import round_event, running_episode
from streamlit.testing.v1 import AppTest
from viewer_stores import among_us_episode

from sim.store.engine import open_engine
from sim.store.reader import StoreReader
from worlds.among_us.view_data import Game, positions
from worlds.avalon.world import AvalonWorld
from worlds.repeated.world import RepeatedGameWorld

ROOT = Path(__file__).resolve().parents[2]


def markdown(at: AppTest) -> str:
    """Every text block of the page (markdown and code, where the transcript is)."""
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.code])


def transcript_lines(
    db: Path, episode: int, world: object, seat: str | None = None, last_turn: int | None = None
) -> list[str]:
    events = StoreReader(db).event_objects(episode)
    return [
        world.describe_event(e)  # type: ignore[attr-defined]
        for e in events
        if (seat is None or e.visible(seat)) and (last_turn is None or e.turn <= last_turn)
    ]


def test_runs_page_lists_runs_and_filters_episodes(
    stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(stores["demo"], monkeypatch)
    assert at.title[0].value == "Runs"
    episodes = StoreReader(stores["demo"]).episodes()
    assert f"{len(episodes)} of {len(episodes)} episodes" in at.main.caption[-1].value
    agent = next(w for w in at.multiselect if w.label == "agent")
    agent.select("tit_for_tat").run()
    shown = int(at.main.caption[-1].value.split(" of ")[0])
    assert 0 < shown < len(episodes)
    assert at.dataframe[1].value["episode"].str.startswith("?episode=").all()


def test_episode_page_replays_turn_by_turn(stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    db = stores["demo"]
    at = app(db, monkeypatch, episode="2")
    assert at.title[0].value == "Episode 2" and "Transcript" in [s.value for s in at.subheader]
    text = markdown(at)
    assert all(line in text for line in transcript_lines(db, 2, RepeatedGameWorld()))
    at.slider(key="turn-2").set_value(3).run()
    text = markdown(at)
    assert all(line in text for line in transcript_lines(db, 2, RepeatedGameWorld(), last_turn=3))
    later = set(transcript_lines(db, 2, RepeatedGameWorld())) - set(
        transcript_lines(db, 2, RepeatedGameWorld(), last_turn=3)
    )
    assert later and not any(line in text for line in later)
    at.button(key="next-2").click().run()
    assert at.query_params["turn"] == ["4"] or at.query_params["turn"] == "4"
    at.button(key="first-2").click().run()
    assert at.slider(key="turn-2").value == 0


def test_view_as_a_seat_shows_only_what_it_saw(
    stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = stores["avalon"]
    omniscient = markdown(app(db, monkeypatch, episode="1"))
    assert "(visible to: nobody)" in omniscient  # the deal, for researchers
    for seat in ("p0", "p7"):
        text = markdown(app(db, monkeypatch, episode="1", seat=seat))
        assert "(visible to: nobody)" not in text
        hidden = set(transcript_lines(db, 1, AvalonWorld())) - set(
            transcript_lines(db, 1, AvalonWorld(), seat=seat)
        )
        assert hidden and not any(line in text for line in hidden)


def test_avalon_renderer_tracks_and_reveal(stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(stores["avalon"], monkeypatch, episode="1", seat="p3")
    headers = [s.value for s in at.subheader]
    assert {"Quests", "Proposals and votes", "Roles", "Transcript"} <= set(headers)  # at the end: revealed
    assert any("wins" in s.value for s in at.success)
    at.slider(key="turn-1").set_value(5).run()
    headers = [s.value for s in at.subheader]
    assert "Roles" not in headers and not any("hidden from the seats" in h for h in headers)
    assert any(" is " in i.value and "knows" in i.value for i in at.info)  # p3's own night knowledge
    omniscient = app(stores["avalon"], monkeypatch, episode="1", turn="5")
    assert "Roles (hidden from the seats)" in [s.value for s in omniscient.subheader]


def test_llm_call_inspector(stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    db = stores["llm"]
    calls = StoreReader(db).llm_calls()
    episode = int(calls.episode_id.iloc[0])
    at = app(db, monkeypatch, episode=str(episode))
    mine = calls[calls.episode_id == episode]
    assert len(at.expander) >= min(len(mine), 20)
    assert f"{len(mine)} calls" in " ".join(c.value for c in at.caption)
    assert any("Option" in c.value for c in at.code)  # the prompt text is shown
    purpose = next(w for w in at.multiselect if w.label == "purpose")
    purpose.select("repeated.act").run()
    assert f"{len(mine[mine.purpose == 'repeated.act'])} calls" in " ".join(c.value for c in at.caption)


def test_compare_page(stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(stores["demo"], monkeypatch, page="compare", run="1")
    table = at.dataframe[0].value
    assert set(table.columns) >= {"agent", "score", "score_low", "score_high", "win_rate"}
    assert (table.score_low <= table.score).all() and (table.score <= table.score_high).all()
    assert "Pairwise mean score (row agent against column agent)" in [s.value for s in at.subheader]
    llm = app(stores["llm"], monkeypatch, page="compare", run="1")
    assert "LLM cost and tokens per agent" in [s.value for s in llm.subheader]


def test_clear_messages_for_missing_empty_old_and_eventless_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = app(tmp_path / "nope.db", monkeypatch)
    assert "No database at" in missing.error[0].value
    empty = tmp_path / "empty.db"
    open_engine(empty).dispose()
    assert "no runs yet" in app(empty, monkeypatch).info[0].value
    old = tmp_path / "old.db"
    open_engine(old).dispose()
    with sqlite3.connect(old) as conn:
        conn.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    assert "schema version 0" in app(old, monkeypatch).error[0].value
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    assert "Cannot open this store" in app(junk, monkeypatch).error[0].value
    eventless = tmp_path / "eventless.db"
    writer, episode = running_episode(eventless)
    writer.finish_episode(episode, status="failed", turns=0, outcome=None)
    writer.close()
    assert any("has no events" in i.value for i in app(eventless, monkeypatch, episode=str(episode)).info)


def test_live_episode_tails_new_events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "live.db"
    writer, episode = running_episode(db)
    start = RepeatedGameWorld()
    from sim.rng import stream
    from worlds.repeated.params import RepeatedParams

    writer.add_events(episode, start.reset(["p0", "p1"], RepeatedParams(rounds=5), stream(0, "w")))
    writer.add_events(episode, [round_event(1)])
    writer.commit()
    writer.sync()
    at = app(db, monkeypatch, episode=str(episode))
    assert any("new events appear" in c.value for c in at.caption)
    before = markdown(at)
    assert "-- turn 1" in before and "-- turn 3" not in before
    writer.add_events(episode, [round_event(2), round_event(3)])
    writer.commit()
    writer.sync()
    at.run()  # what the 1-second fragment timer does in the browser
    after = markdown(at)
    assert "-- turn 2" in after and "-- turn 3" in after
    writer.finish_episode(episode, status="complete", turns=3, outcome={"winner": "p1"})
    writer.finish_run(1, "complete")
    writer.close()
    at.run()
    assert not any("new events appear" in c.value for c in at.caption)


def _digests(db: Path) -> dict[str, str]:
    """The store's files and their digests; not the shared-memory index (-shm) nor an empty -wal, which
    SQLite creates when a read-only reader opens a WAL store that has none (it holds no data)."""
    files = [p for p in db.parent.glob(db.name + "*") if not p.name.endswith("-shm")]
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in files
        if not (p.name.endswith("-wal") and p.stat().st_size == 0)
    }


def test_the_viewer_never_writes_to_the_store(
    stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    for db in stores.values():
        before = _digests(db)
        for query in (
            {},
            {"episode": "1"},
            {"episode": "1", "seat": "p1", "turn": "2"},
            {"page": "compare", "run": "1"},
        ):
            app(db, monkeypatch, **query)
        after = _digests(db)
        assert after == before, db


def test_a_world_without_a_renderer_gets_the_generic_event_table(
    stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sim.viewer.pages

    monkeypatch.setattr(sim.viewer.pages, "renderer_for", lambda world_id: None)
    at = app(stores["demo"], monkeypatch, episode="1")
    headers = [s.value for s in at.subheader]
    assert "Events" in headers and "Transcript" in headers
    table = at.dataframe[0].value
    assert list(table.columns) == ["turn", "phase", "kind", "actor", "visible_to", "payload"]
    assert len(table) == len(list(StoreReader(stores["demo"]).event_objects(1)))


def _chart_frames(at: AppTest) -> list[pd.DataFrame]:
    """The data of every layer of every chart of the page."""
    return [
        pa.ipc.open_stream(d.data.data).read_pandas()
        for chart in at.get("vega_lite_chart")
        for d in chart.proto.datasets
    ]


def _drawn_players(at: AppTest) -> set[tuple[str, str, str]]:
    """(player, room, status) of the map's player layer."""
    frame = next(f for f in _chart_frames(at) if "marker" in f.columns)
    return set(zip(frame["player"], frame["room"], frame["status"], strict=True))


def test_among_us_page_map_tasks_and_meetings(
    stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = stores["combined"]
    episode = among_us_episode(db)
    events = list(StoreReader(db).event_objects(episode))
    game = Game.of(events)
    assert game is not None
    at = app(db, monkeypatch, episode=str(episode))
    headers = [s.value for s in at.subheader]
    assert {"Tasks", "Meetings", "Transcript"} <= set(headers) and any(
        h.startswith("Map (turn") for h in headers
    )
    assert any("all crew tasks" in p.proto.text for p in at.get("progress"))  # omniscient only
    ballots = next(d.value for d in at.dataframe if list(d.value.columns) == ["voter", "vote"])
    vote = next(e.payload for e in events if e.kind == "vote")
    assert ballots.to_dict("records") == [{"voter": v, "vote": t} for v, t in vote["votes"].items()]
    expected = positions(events, None, game)
    assert _drawn_players(at) == set(
        zip(expected["player"], expected["room"], expected["status"], strict=True)
    )

    crew = [
        p
        for p, role in next(e.payload for e in events if e.kind == "setup")["roles"].items()
        if role == "crewmate"
    ]
    seat = crew[0]
    turn = next(e.turn for e in events if e.kind == "meeting") - 1  # a task round before the meeting
    seen = [e for e in events if e.visible(seat) and e.turn <= turn]
    at = app(db, monkeypatch, episode=str(episode), seat=seat, turn=str(turn))
    headers = [s.value for s in at.subheader]
    assert f"Map as {seat} saw it (turn {turn})" in headers and f"{seat}'s tasks" in headers
    assert not any("all crew tasks" in p.proto.text for p in at.get("progress"))
    expected = positions(seen, seat, game)
    drawn = _drawn_players(at)
    assert drawn == set(zip(expected["player"], expected["room"], expected["status"], strict=True))
    truth = positions([e for e in events if e.turn <= turn], None, game)
    assert drawn <= set(zip(truth["player"], truth["room"], truth["status"], strict=True))
    assert not any("◆ impostor" in c.value for c in at.caption)  # mid-game, a seat knows no roles
