"""The evaluator contract and driver: planning, tagging, replacing rows, what a seat had seen."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

import pytest
from judge_store import ROLES, copy_store, rows, sim_run, write_scenario

from agents.reasoning.recon_judge import ReConJudge, ReConJudgeConfig
from sim import registry
from sim.evaluators import EvaluationError, Evaluator, EvaluatorConfig, MetricRow, StoredEpisode, StoredSeat
from sim.evaluators.driver import (
    Choice,
    evaluator_class,
    make_config,
    plan,
    plan_episodes,
    run_plans,
    write_rows,
)
from sim.evaluators.stored import episode_rows
from sim.llm.client import LLMClient
from sim.llm.settings import ModelSettings
from sim.store.engine import open_engine
from sim.store.reader import StoreReader
from sim.store.writer import StoreWriter
from sim.types import Event, Outcome

AVALON = "social/avalon-v1"


class SeenEventsConfig(EvaluatorConfig):
    tag: str | None = None


class SeenEvents(Evaluator):
    """Counts the game events each seat could see, and the episode's events (a test evaluator)."""

    name: ClassVar[str] = "seen_events"
    Config: ClassVar[type[EvaluatorConfig]] = SeenEventsConfig
    worlds: ClassVar[tuple[str, ...] | None] = (AVALON,)

    @property
    def model(self) -> str | None:
        assert isinstance(self.config, SeenEventsConfig)
        return self.config.tag

    async def evaluate(self, episode: StoredEpisode, llm: LLMClient) -> list[MetricRow]:
        seen = [
            MetricRow(s.player_id, "seen", float(len(list(episode.seen_by(s.player_id)))))
            for s in episode.seats
        ]
        return [*seen, MetricRow(None, "events", float(len(episode.events)))]


@pytest.fixture(scope="module")
def bots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("driver")
    return sim_run(
        write_scenario(folder / "bots.yaml", [{"agent": "avalon_naive"}] * 6, episodes=2), folder / "b.db"
    )


def run(db: Path, choices: list[Choice] | None) -> list[tuple[Any, ...]]:
    reader = StoreReader(db)
    writer = StoreWriter(open_engine(db, create=False))
    try:
        plans = plan_episodes(reader, episode_rows(reader, run_id=1), choices)
        asyncio.run(run_plans(reader, plans, writer=writer, llm=LLMClient()))
    finally:
        writer.close()
    return rows(
        db,
        "SELECT episode_id, player_id, name, value, evaluator, evaluator_model FROM metrics"
        " WHERE evaluator IS NOT NULL ORDER BY id",
    )


def test_every_registered_evaluator_keeps_the_contract() -> None:
    assert "recon_judge" in registry.evaluators()
    for name in registry.evaluators():
        cls = evaluator_class(name)
        assert cls.name == name  # rows are tagged with the name the evaluator is registered under
        assert cls.Config.model_config.get("extra") == "forbid"
        with pytest.raises(EvaluationError, match="surely_not_a_key: unknown key"):
            make_config(cls, {"surely_not_a_key": 1})


def test_rows_are_tagged_and_replace_the_evaluators_earlier_rows(bots: Path, tmp_path: Path) -> None:
    db = copy_store(bots, tmp_path / "tagged.db")
    engine_rows = rows(db, "SELECT count(*) FROM metrics")
    target = f"{__name__}:SeenEvents"
    first = run(db, [Choice(SeenEvents, SeenEventsConfig(tag="m1"))])
    assert len(first) == 2 * 7 and {r[4:] for r in first} == {("seen_events", "m1")}
    events = dict(rows(db, "SELECT episode_id, count(*) FROM events GROUP BY episode_id"))
    assert {(r[0], r[3]) for r in first if r[1] is None} == {(e, float(n)) for e, n in events.items()}
    assert all(0 < r[3] < events[r[0]] for r in first if r[1] is not None)  # each seat saw part of it
    assert evaluator_class(target) is SeenEvents  # a module:attr works like a registered name
    again = run(db, [Choice(SeenEvents, SeenEventsConfig(tag="m2")), Choice(SeenEvents, SeenEventsConfig())])
    assert len(again) == 2 * 2 * 7  # both instances' rows, each with its own model; the m1 rows are gone
    assert {r[5] for r in again} == {"m2", None}
    assert rows(db, "SELECT count(*) FROM metrics WHERE evaluator IS NULL") == engine_rows  # untouched


def test_planning_uses_what_the_scenario_configured(bots: Path) -> None:
    reader = StoreReader(bots)
    episodes = episode_rows(reader, run_id=1)
    assert [p.evaluators for p in plan_episodes(reader, episodes, None)] == [[], []]  # bots: no judge
    with pytest.raises(EvaluationError, match="recon_judge config: model: Field required"):
        plan_episodes(reader, episodes, [Choice(ReConJudge)])
    with pytest.raises(EvaluationError, match="scores social/avalon-v1, not matrix/repeated-v1"):
        plan("matrix/repeated-v1", (), [Choice(SeenEvents)])


def test_recon_seats_configure_one_judge_per_model() -> None:
    a, b = ModelSettings(model="openai/a"), ModelSettings(model="openai/b")
    base = {"model": {"model": "openai/seat"}}

    def seat(p: str, agent: str, judge: ModelSettings | None, **extra: object) -> StoredSeat:
        config = {**base, **extra, **({"judge": judge.model_dump()} if judge else {})}
        return StoredSeat(p, agent, agent, config)

    seats = [
        seat("p0", "recon", a),
        seat("p1", "avalon_cot", b),
        seat("p2", "recon", a, refinement=False),
        seat("p3", "recon", None),
        StoredSeat("p4", "avalon_naive", "naive", {}),
        seat("p5", "recon", b, no_such_key=1),  # a config this version rejects: not judged
    ]
    configs = ReConJudge.configured(seats)
    assert configs == [
        ReConJudgeConfig(model=a, seats=("p0", "p2")),
        ReConJudgeConfig(model=b, seats=("p1",)),
    ]
    assert [e.model for e in plan(AVALON, seats, None)] == ["openai/a", "openai/b"]


def test_a_seat_sees_its_own_and_public_game_events_only() -> None:
    events = (
        Event(0, "propose", "start", {}),
        Event(0, "propose", "night", {"role": "merlin"}, "p0", ("p0",)),
        Event(0, "propose", "night", {"role": "assassin"}, "p1", ("p1",)),
        Event(1, "discuss", "rationale", {"text": "secret"}, "p0", ("p0",)),
        Event(1, "discuss", "speech", {"text": "hi"}, "p0"),
        Event(2, "vote", "vote", {}),
    )
    seats = (StoredSeat("p0", "x", "x", {}), StoredSeat("p1", "y", "y", {}))
    episode = StoredEpisode(1, 1, 0, AVALON, {"roles": ROLES}, 0, "complete", Outcome(), seats, events)
    assert [e.kind for e in episode.seen_by("p0")] == ["start", "night", "speech", "vote"]
    assert list(episode.seen_by("p0", before=4)) == [events[0], events[1]]
    assert [e.payload.get("role") for e in episode.seen_by("p1") if e.kind == "night"] == ["assassin"]
    with pytest.raises(LookupError):
        episode.seat("p9")


def test_write_rows_deletes_once_per_evaluator_name(bots: Path, tmp_path: Path) -> None:
    db = copy_store(bots, tmp_path / "once.db")
    writer = StoreWriter(open_engine(db, create=False))
    one, two = SeenEvents(SeenEventsConfig(tag="x")), SeenEvents(SeenEventsConfig(tag="y"))
    written = write_rows(writer, 1, [(one, [MetricRow("p0", "a", 1.0)]), (two, [MetricRow(None, "b", None)])])
    writer.close()
    assert [(w.evaluator, w.model, w.row) for w in written] == [
        ("seen_events", "x", MetricRow("p0", "a", 1.0)),
        ("seen_events", "y", MetricRow(None, "b", None)),
    ]
    got = rows(
        db, "SELECT player_id, name, value, evaluator_model FROM metrics WHERE evaluator = 'seen_events'"
    )
    assert got == [("p0", "a", 1.0, "x"), (None, "b", None, "y")]
