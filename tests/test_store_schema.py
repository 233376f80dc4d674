"""One schema: the writer's inserts and the reader's columns come from the models; schema version 2
(seat roles, evaluator-tagged metrics) round trips through StoreWriter and StoreReader."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import JSON, event

from sim.store import writer_process
from sim.store.engine import StoreError, open_engine
from sim.store.models import SCHEMA_VERSION, Base
from sim.store.reader import JSON_COLUMNS, TABLES, StoreReader
from sim.store.writer import INSERTS, SchemaMismatch, StoreWriter, TableInsert
from sim.types import Event

ROOT = Path(__file__).parent.parent
SEATS = [
    {"player_id": "p0", "agent": "cooperator", "label": "c", "config": {}},
    {"player_id": "p1", "agent": "defector", "label": "d", "config": {"x": 1}, "role": "player"},
    {"player_id": "p2", "agent": "narrator", "label": "n", "config": {}, "role": "narrator"},
]


def _model_columns(table: str) -> tuple[str, ...]:
    """The columns an insert must write: all but the integer ``id`` SQLite assigns."""
    t = Base.metadata.tables[table]
    return tuple(c.name for c in t.columns if not (c.primary_key and c.name == "id"))


def _insert_columns(sql: str) -> tuple[str, tuple[str, ...]]:
    """(table, columns) of an ``INSERT [OR IGNORE] INTO t (a, "b") VALUES ...`` statement."""
    match = re.match(r"INSERT(?: OR IGNORE)? INTO (\w+) \(([^)]*)\) VALUES", sql)
    assert match, sql
    return match[1], tuple(c.strip().strip('"') for c in match[2].split(","))


def _rows(df: pd.DataFrame, *columns: str) -> list[tuple[Any, ...]]:
    """The rows' ``columns`` as sorted tuples, NULL (NaN, NA) as None."""
    plain = df[list(columns)].astype(object)
    plain = plain.where(plain.notna(), None)
    return sorted(plain.itertuples(index=False, name=None), key=repr)


def _episode(writer: StoreWriter, run_id: int, index: int, seats: list[dict[str, Any]] = SEATS) -> int:
    return writer.begin_episode(
        run_id=run_id,
        index=index,
        matchup=f"m{index}",
        world_id="x",
        params={"a": index},
        seed=index,
        seats=seats,
    )


def _run_with_everything(writer: StoreWriter) -> tuple[int, int]:
    """A run that writes a row to every table the writer has (run id, episode id)."""
    run_id = writer.begin_run(name="s", path="s.yaml", scenario={"k": 1}, world_id="x", seed=3, version="t")
    (reserved,) = writer.reserve_episodes(
        run_id, [{"index": 0, "matchup": "m0", "world_id": "x", "params": {"a": 0}, "seed": 0}]
    )
    episode_id = writer.begin_episode(
        run_id=run_id,
        index=0,
        matchup="m0",
        world_id="x",
        params={"a": 0},
        seed=0,
        seats=SEATS,
        episode_id=reserved,
    )
    writer.add_events(
        episode_id, [Event(0, "play", "start", {"n": 1}), Event(1, "play", "round", {}, "p0", ("p0",))]
    )
    writer.add_turn_metrics(episode_id, [("p0", "score", [1], [2.0])])
    writer.add_metrics(episode_id, [("p0", "score", 2.0), (None, "rounds", 1.0)])
    writer.add_metrics(episode_id, [("p1", "judge.honesty", 0.5)], evaluator="judge", evaluator_model="m/1")
    writer.add_llm_call(
        {
            "episode_id": episode_id,
            "player_id": "p0",
            "turn": 1,
            "purpose": "x.act",
            "model": "m/1",
            "messages": [{"role": "user", "content": "hi"}],
            "params": {"temperature": 0},
            "response": "C",
            "parsed": None,
            "valid": True,
            "error_class": None,
            "error": None,
            "attempt": 1,
            "prompt_tokens": 3,
            "completion_tokens": 1,
            "cost_usd": None,
            "latency_ms": 1.5,
        }
    )
    writer.add_cache_entry({"key": "k" * 64, "model": "m/1", "response": "C", "prompt_tokens": 3})
    writer.finish_episode(
        episode_id,
        status="complete",
        turns=1,
        outcome={"w": "p0"},
        scores={"p0": 2.0, "p1": 1.0, "p2": 0.0},
        invalid={"p1": 1},
    )
    writer.finish_run(run_id, "complete")
    return run_id, episode_id


def test_the_writer_writes_exactly_the_models_columns_to_every_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # declared: one insert per table but meta, each naming exactly the model's columns, in model order
    assert sorted(INSERTS) == sorted(set(Base.metadata.tables) - {"meta"})
    for table, insert in INSERTS.items():
        assert insert.names == _model_columns(table), table
        assert _insert_columns(insert.sql) == (table, _model_columns(table))
    # used: every INSERT the writer runs, in this process or in the writer process, is one of those,
    # with rows of the right length, and a whole run reaches every table
    statements: list[tuple[str, Any, bool]] = []
    send = writer_process.send

    def record(stream: Any, message: tuple[Any, ...]) -> None:
        if message[0] == "batch":
            statements.extend(message[1])
        send(stream, message)

    monkeypatch.setattr(writer_process, "send", record)
    engine = open_engine(tmp_path / "s.db")
    traced: list[str] = []
    event.listen(engine, "connect", lambda conn, _record: conn.set_trace_callback(traced.append))
    engine.dispose()  # new connections get the trace
    _run_with_everything(StoreWriter(engine, flush_seconds=10**9))
    written: set[str] = set()
    for sql, params, many in statements:
        if sql.startswith("INSERT"):
            table, columns = _insert_columns(sql)
            assert sql == INSERTS[table].sql and columns == _model_columns(table)
            assert all(len(row) == len(columns) for row in (params if many else [params]))
            written.add(table)
    for sql in traced:
        if sql.startswith("INSERT"):
            table, columns = _insert_columns(sql)
            assert columns == _model_columns(table)
            written.add(table)
    assert written == set(Base.metadata.tables) - {"meta"}
    with sqlite3.connect(tmp_path / "s.db") as conn:
        for table in written:  # and the rows landed, with no column left NULL that the model forbids
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] >= 1, table
            for column in Base.metadata.tables[table].columns:
                if not column.nullable:
                    nulls = conn.execute(
                        f'SELECT count(*) FROM {table} WHERE "{column.name}" IS NULL'
                    ).fetchone()
                    assert nulls == (0,), f"{table}.{column.name}"


def test_a_positional_row_that_misses_a_model_column_fails_at_import() -> None:
    with pytest.raises(SchemaMismatch, match=r"not written: \['evaluator_model'\]"):
        TableInsert("metrics", row=("episode_id", "player_id", "name", "value", "evaluator"))
    with pytest.raises(SchemaMismatch, match="not in the model"):
        TableInsert("seats", row=(*INSERTS["seats"].names, "colour"))


def test_reader_tables_and_json_columns_come_from_the_models() -> None:
    assert TABLES == ("runs", "episodes", "seats", "events", "metrics", "turn_metrics", "llm_calls")
    for table in TABLES:
        json_columns = [c.name for c in Base.metadata.tables[table].columns if isinstance(c.type, JSON)]
        assert list(JSON_COLUMNS.get(table, ())) == json_columns
    assert JSON_COLUMNS["events"] == ("visible_to", "payload") and "metrics" not in JSON_COLUMNS


def test_an_older_store_is_refused_read_only_and_upgraded_by_a_writer(tmp_path: Path) -> None:
    assert SCHEMA_VERSION == 4
    path = tmp_path / "v2.db"
    with sqlite3.connect(path) as conn:  # a version-2 store as that version created it
        conn.executescript(
            """
            CREATE TABLE meta (key VARCHAR(64) PRIMARY KEY, value TEXT NOT NULL);
            INSERT INTO meta VALUES ('schema_version', '2');
            CREATE TABLE runs (id INTEGER PRIMARY KEY, scenario_name VARCHAR(200) NOT NULL,
                scenario_path TEXT, scenario JSON NOT NULL, world_id VARCHAR(100) NOT NULL,
                seed INTEGER NOT NULL, status VARCHAR(20) NOT NULL, sim_version VARCHAR(40) NOT NULL,
                started_at DATETIME NOT NULL, finished_at DATETIME);
            INSERT INTO runs VALUES (1, 'old', NULL, '{}', 'w', 1, 'complete', '0.1', '2026-01-01', NULL);
            CREATE TABLE episodes (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, "index" INTEGER NOT NULL,
                matchup VARCHAR(400) NOT NULL, world_id VARCHAR(100) NOT NULL, params JSON NOT NULL,
                seed INTEGER NOT NULL, status VARCHAR(20) NOT NULL, turns INTEGER, outcome JSON,
                error TEXT, started_at DATETIME, finished_at DATETIME);
            CREATE TABLE seats (id INTEGER PRIMARY KEY, episode_id INTEGER NOT NULL,
                player_id VARCHAR(32) NOT NULL, role VARCHAR(40) NOT NULL DEFAULT 'player',
                agent VARCHAR(200) NOT NULL, label VARCHAR(200) NOT NULL, config JSON NOT NULL,
                score FLOAT, invalid_actions INTEGER NOT NULL);
            CREATE TABLE llm_calls (id INTEGER PRIMARY KEY, episode_id INTEGER, player_id VARCHAR(32),
                turn INTEGER, purpose VARCHAR(80) NOT NULL, model VARCHAR(200) NOT NULL,
                messages JSON NOT NULL, params JSON NOT NULL, response TEXT, parsed JSON,
                valid BOOLEAN NOT NULL, error_class VARCHAR(120), error TEXT, attempt INTEGER NOT NULL,
                prompt_tokens INTEGER, completion_tokens INTEGER, cost_usd FLOAT, latency_ms FLOAT,
                cache_hit BOOLEAN NOT NULL, created_at DATETIME NOT NULL);
            """
        )
    with pytest.raises(StoreError, match=r"schema version 2, this sim needs 4 .*sim migrate"):
        StoreReader(path)
    open_engine(path).dispose()  # a writer upgrades it in place
    runs = StoreReader(path).runs()
    assert list(runs.scenario_name) == ["old"] and runs.fingerprint.isna().all()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM meta").fetchone() == ("4",)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(llm_calls)")}
    assert {"http_attempt", "cache_key"} <= columns


def test_seat_roles_round_trip(tmp_path: Path) -> None:
    _, episode_id = _run_with_everything(StoreWriter(open_engine(tmp_path / "r.db")))
    seats = StoreReader(tmp_path / "r.db").seats(episode_id)
    assert list(seats.player_id) == ["p0", "p1", "p2"]
    assert list(seats.role) == ["player", "player", "narrator"]  # no role given: the default, player
    assert list(seats.score) == [2.0, 1.0, 0.0] and list(seats.invalid_actions) == [0, 1, 0]
    assert list(seats.config) == [{}, {"x": 1}, {}]


def test_evaluator_tagged_metrics_round_trip(tmp_path: Path) -> None:
    _, episode_id = _run_with_everything(StoreWriter(open_engine(tmp_path / "m.db")))
    metrics = StoreReader(tmp_path / "m.db").metrics(episode_id)
    assert list(metrics.columns) == [
        "id",
        "episode_id",
        "player_id",
        "name",
        "value",
        "evaluator",
        "evaluator_model",
    ]
    assert _rows(metrics, "player_id", "name", "value", "evaluator", "evaluator_model") == sorted(
        [
            ("p0", "score", 2.0, None, None),
            (None, "rounds", 1.0, None, None),
            ("p1", "judge.honesty", 0.5, "judge", "m/1"),
        ],
        key=repr,
    )
    writer = StoreWriter(open_engine(tmp_path / "m.db"))
    with pytest.raises(ValueError, match="evaluator_model without an evaluator"):
        writer.add_metrics(episode_id, [("p0", "x", 1.0)], evaluator_model="m/1")
    with pytest.raises(ValueError):
        writer.delete_evaluator_metrics(episode_id, "")
    writer.close()


def _judge(db: Path, episode_id: int, value: float, *, model: str = "m/2") -> None:
    """What an evaluator does after a run: replace its rows of one episode."""
    writer = StoreWriter(open_engine(db))
    writer.delete_evaluator_metrics(episode_id, "judge")
    writer.add_metrics(
        episode_id,
        [("p0", "judge.honesty", value), ("p1", "judge.honesty", value)],
        evaluator="judge",
        evaluator_model=model,
    )
    writer.close()


def test_delete_evaluator_metrics_replaces_rather_than_duplicates(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    writer = StoreWriter(open_engine(db))
    run_id, first = _run_with_everything(writer)
    writer = StoreWriter(open_engine(db))
    second = _episode(writer, run_id, 1)
    writer.add_metrics(second, [("p0", "score", 7.0)])
    writer.add_metrics(second, [("p0", "judge.honesty", 0.1)], evaluator="judge")
    writer.add_metrics(second, [("p0", "style", 0.2)], evaluator="critic", evaluator_model="m/3")
    writer.finish_episode(second, status="complete", turns=1, outcome={}, scores={"p0": 7.0})
    writer.close()

    _judge(db, first, 0.7)
    _judge(db, first, 0.9)  # the re-run replaces the rows of the first
    metrics = StoreReader(db).metrics()

    def judged(episode_id: int) -> list[tuple[Any, ...]]:
        rows = metrics[(metrics.episode_id == episode_id) & (metrics.evaluator == "judge")]
        return _rows(rows, "player_id", "value", "evaluator_model")

    assert judged(first) == [("p0", 0.9, "m/2"), ("p1", 0.9, "m/2")]
    assert judged(second) == [("p0", 0.1, None)]  # the judge's rows of other episodes are kept
    assert _rows(metrics[metrics.evaluator.isna()], "episode_id", "name") == sorted(
        [(first, "rounds"), (first, "score"), (second, "score")], key=repr
    )
    assert _rows(metrics[metrics.evaluator == "critic"], "name", "evaluator_model") == [("style", "m/3")]

    # in one batch: rows queued before the delete go, rows added after it stay
    writer = StoreWriter(open_engine(db), flush_seconds=10**9)
    writer.add_metrics(second, [("p0", "judge.honesty", 0.3)], evaluator="judge")
    writer.delete_evaluator_metrics(second, "judge")
    writer.add_metrics(second, [("p0", "judge.honesty", 0.4)], evaluator="judge")
    writer.close()
    metrics = StoreReader(db).metrics(second)
    assert list(metrics[metrics.evaluator == "judge"].value) == [0.4]
    assert len(metrics) == 3  # score, critic's style, the judge's one row


def test_docs_schema_documents_every_column() -> None:
    text = (ROOT / "docs/schema.md").read_text()
    for table in Base.metadata.tables.values():
        section = re.search(rf"^### `{table.name}`.*?(?=^### |^## |\Z)", text, re.S | re.M)
        assert section, f"docs/schema.md has no section for {table.name}"
        documented = {
            name
            for line in section[0].splitlines()
            if line.startswith("| `")
            for name in re.findall(r"`(\w+)`", line.split("|")[1])
        }
        missing = {c.name for c in table.columns} - documented
        assert not missing, f"docs/schema.md does not document {table.name}: {sorted(missing)}"
