"""The conformance suite every registered world passes (parametrised over the registry)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.scripted.random_legal import RandomLegalAgent
from sim import registry
from sim.engine import EventSink, play_episode, seat_ids
from sim.rng import derive_seed
from sim.scenario import EngineSettings
from sim.store.engine import open_engine
from sim.store.reader import StoreReader
from sim.store.writer import StoreWriter
from sim.testing import drive, example_params, play, random_chooser
from sim.types import Action, ActionKind, ActionSpec, IllegalActionError, dumps, to_jsonable

WORLDS = sorted(registry.worlds())
CASES = [
    pytest.param(world_id, i, n, id=f"{world_id}-ex{i}-{n}p")
    for world_id in WORLDS
    for i in range(len(example_params(registry.world_entry(world_id).load())))
    for n in sorted(
        {
            registry.world_entry(world_id).load().spec.min_players,
            registry.world_entry(world_id).load().spec.max_players,
        }
    )
]
GOLDEN = Path(__file__).parent.parent / "golden"


def _world(world_id: str, example: int):
    cls = registry.world_entry(world_id).load()
    return cls, example_params(cls)[example]


def _agents(n: int) -> dict:
    return {p: RandomLegalAgent() for p in seat_ids(n)}


@pytest.mark.parametrize(("world_id", "example", "n"), CASES)
def test_random_play_terminates_and_to_act_empty_iff_terminal(world_id: str, example: int, n: int) -> None:
    cls, params = _world(world_id, example)
    for seed in range(25):
        world = cls()
        checks = []
        drive(
            world,
            params,
            n,
            seed,
            random_chooser(seed),
            on_turn=lambda w, checks=checks: checks.append(bool(w.to_act()) != w.is_terminal()),
        )
        assert world.is_terminal(), f"seed {seed}: not terminal after max_turns"
        assert world.to_act() == ()
        assert all(checks) and len(checks) <= cls.spec.max_turns + 1


@pytest.mark.parametrize(("world_id", "example", "n"), CASES)
def test_observe_is_idempotent_and_changes_nothing(world_id: str, example: int, n: int) -> None:
    """Observations are stable and typed as declared: phase enum, public/private types, legal iff to act."""
    cls, params = _world(world_id, example)
    spec = cls.spec
    world = cls()

    def check(w) -> None:  # type: ignore[no-untyped-def]
        before = w.snapshot()
        actors = w.to_act()
        for p in seat_ids(n):
            first = w.observe(p)
            w.observe(seat_ids(n)[-1])
            assert w.observe(p) == first
            assert dumps(first) == dumps(w.observe(p))
            assert first.player == p
            assert isinstance(first.phase, spec.phases), f"phase {first.phase!r} is not a {spec.phases}"
            assert isinstance(first.public, spec.public_type), type(first.public)
            assert isinstance(first.private, spec.private_type), type(first.private)
            assert (first.legal is None) == (p not in actors), f"{p}: legal {first.legal} but to_act {actors}"
        assert w.snapshot() == before

    drive(world, params, n, 3, random_chooser(3), on_turn=check)


@pytest.mark.parametrize(("world_id", "example", "n"), CASES)
def test_rationales_never_reach_other_seats(world_id: str, example: int, n: int) -> None:
    """A secret written in a seat's rationale never appears in another seat's observation or prompt text."""
    cls, params = _world(world_id, example)
    world = cls()
    chooser = random_chooser(5)
    secrets: dict[str, list[str]] = {p: [] for p in seat_ids(n)}

    def choose(w, player, spec):  # type: ignore[no-untyped-def]
        action = chooser(w, player, spec)
        secret = f"SECRET-{player}-{len(secrets[player])}-7f3a"
        secrets[player].append(secret)
        return Action(action.kind, action.value, rationale=secret)

    def check(w) -> None:  # type: ignore[no-untyped-def]
        for viewer in seat_ids(n):
            obs = w.observe(viewer)
            blob = dumps(obs) + w.render(obs)
            for owner, owned in secrets.items():
                for s in owned:
                    assert s not in blob or owner == viewer, f"{viewer} sees {owner}'s rationale"

    events = drive(world, params, n, 5, choose, on_turn=check)
    assert all("SECRET-" not in dumps(e.payload) or e.visible_to != "all" for e in events)


def _illegal_variants(spec: ActionSpec) -> list[object]:
    wrong_kind = ActionKind.TEXT if spec.kind is not ActionKind.TEXT else ActionKind.NUMBER
    variants: list[object] = [Action(wrong_kind, "x"), "not an action", None]
    if spec.kind is ActionKind.CHOICE:
        variants.append(Action(spec.kind, "definitely-not-an-option"))
    elif spec.kind is ActionKind.MULTI_CHOICE:
        variants.append(Action(spec.kind, ["definitely-not-an-option"]))
    elif spec.kind is ActionKind.TEXT and spec.max_chars is not None:
        variants.append(Action(spec.kind, "x" * (spec.max_chars + 1)))
    elif spec.kind is ActionKind.NUMBER and spec.maximum is not None:
        variants.append(Action(spec.kind, spec.maximum + 1))
    return variants


@pytest.mark.parametrize(("world_id", "example", "n"), CASES)
def test_illegal_actions_are_rejected_and_change_nothing(world_id: str, example: int, n: int) -> None:
    cls, params = _world(world_id, example)
    world = cls()
    chooser = random_chooser(11)
    rejected = 0

    def check(w) -> None:  # type: ignore[no-untyped-def]
        nonlocal rejected
        actors = w.to_act()
        if not actors:
            return
        good = {p: chooser(w, p, w.legal_actions(p)) for p in actors}
        before = (w.snapshot(), [dumps(w.observe(p)) for p in seat_ids(n)])
        for p in actors:
            for bad in _illegal_variants(w.legal_actions(p)):
                assert w.legal_actions(p).check(bad) is not None
                with pytest.raises(IllegalActionError):
                    w.step({**good, p: bad})
                rejected += 1
        if len(actors) > 1:
            with pytest.raises(IllegalActionError):
                w.step({q: a for q, a in good.items() if q != actors[0]})
        assert (w.snapshot(), [dumps(w.observe(p)) for p in seat_ids(n)]) == before

    drive(world, params, n, 11, chooser, on_turn=check)
    assert rejected > 0


@pytest.mark.parametrize(("world_id", "example", "n"), CASES)
def test_same_seed_same_events_without_global_rng(world_id: str, example: int, n: int, no_global_rng) -> None:
    cls, params = _world(world_id, example)
    runs = [play(cls, params, _agents(n), seed=seed)[1] for seed in (42, 42, 43)]
    assert dumps(runs[0]) == dumps(runs[1])
    assert runs[0], "a world must emit events"


@pytest.mark.parametrize(("world_id", "example", "n"), CASES)
def test_events_round_trip_json_and_sqlite(world_id: str, example: int, n: int, tmp_path: Path) -> None:
    import asyncio

    cls, params = _world(world_id, example)
    writer = StoreWriter(open_engine(tmp_path / "t.db"))
    run_id = writer.begin_run(name="rt", path=None, scenario={}, world_id=world_id, seed=0, version="test")
    episode_id = writer.begin_episode(
        run_id=run_id,
        index=0,
        matchup="m",
        world_id=world_id,
        params={},
        seed=1,
        seats=[{"player_id": p, "agent": "random_legal", "label": p, "config": {}} for p in seat_ids(n)],
    )
    sink = EventSink(writer, episode_id, keep=True)
    seed = derive_seed(9, example)
    result = asyncio.run(
        play_episode(cls(), params, _agents(n), seed=seed, settings=EngineSettings(), sink=sink)
    )
    writer.finish_episode(episode_id, status="complete", turns=result.turns, outcome=result.outcome)
    writer.finish_run(run_id, "complete")
    kept = to_jsonable(sink.kept)
    assert json.loads(dumps(sink.kept)) == kept
    stored = to_jsonable(list(StoreReader(tmp_path / "t.db").event_objects(episode_id)))
    assert stored == kept


@pytest.mark.parametrize(("world_id", "example", "n"), CASES)
def test_returns_within_declared_bounds(world_id: str, example: int, n: int) -> None:
    cls, params = _world(world_id, example)
    for seed in range(10):
        result, _, world = play(cls, params, _agents(n), seed=seed)
        lo, hi = world.return_bounds()
        assert set(result.returns) == set(seat_ids(n))
        assert all(lo <= r <= hi for r in result.returns.values()), (result.returns, lo, hi)


def test_every_world_has_a_golden_trace() -> None:
    import yaml

    covered = {yaml.safe_load(p.read_text())["world"] for p in GOLDEN.glob("*.yaml")}
    assert set(WORLDS) <= covered, f"worlds without a golden scenario: {set(WORLDS) - covered}"
