"""Schedules: stable match ids, round-robin counts, role and seat balance, fixed seats, jobs."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.play import play_job_here
from sim.rng import derive_seed
from sim.tournament.schedule import matches
from sim.tournament.spec import match_count
from tests.tournament.helpers import NARRATOR, avalon, characterbox, load, repeated
from worlds.among_us.params import AmongUsParams


def test_the_same_spec_gives_the_same_ids_and_seeds(tmp_path: Path) -> None:
    first = matches(load(tmp_path, repeated()))
    again = matches(load(tmp_path, repeated()))
    assert [(m.id, m.seed) for m in first] == [(m.id, m.seed) for m in again]
    assert len({m.id for m in first}) == len(first)
    assert all(m.seed == derive_seed(11, "repetition", m.repetition) for m in first)


def test_a_changed_param_or_seed_changes_every_id(tmp_path: Path) -> None:
    ids = {m.id for m in matches(load(tmp_path, repeated()))}
    assert ids.isdisjoint(m.id for m in matches(load(tmp_path, repeated(params={"rounds": 6}))))
    assert ids.isdisjoint(m.id for m in matches(load(tmp_path, repeated(seed=12))))


def test_a_changed_agent_config_changes_only_its_matches(tmp_path: Path) -> None:
    before = {(*m.lineup, m.repetition): m.id for m in matches(load(tmp_path, repeated()))}
    data = repeated()
    data["pool"]["allc"] = {"agent": "cooperator", "config": {}}  # same config: same ids
    assert {(*m.lineup, m.repetition): m.id for m in matches(load(tmp_path, data))} == before
    data["pool"]["alld"] = {"agent": "grudger"}
    after = {(*m.lineup, m.repetition): m.id for m in matches(load(tmp_path, data))}
    for key, match_id in after.items():
        assert (match_id == before[key]) == ("alld" not in key), key


@pytest.mark.parametrize(
    ("schedule", "pairings"),
    [
        ({"self_play": True}, 6),  # 3 + C(3, 2)
        ({"self_play": False}, 3),
        ({"self_play": False, "both_orders": True}, 6),
        ({"self_play": True, "both_orders": True}, 9),
    ],
)
def test_round_robin_counts(tmp_path: Path, schedule: dict[str, bool], pairings: int) -> None:
    played = matches(load(tmp_path, repeated(schedule=schedule)))
    assert len(played) == pairings * 2  # two repetitions
    assert [m.repetition for m in played] == [0] * pairings + [1] * pairings
    pairs = Counter(m.lineup for m in played)
    assert set(pairs.values()) == {2}
    assert (("tft", "tft") in pairs) == schedule["self_play"]
    assert (("alld", "tft") in pairs) == schedule.get("both_orders", False)


def test_avalon_role_balance(tmp_path: Path) -> None:
    played = matches(load(tmp_path, avalon()))
    assert len(played) == 2 * 3  # a group of 3 agents shifted through 5 seats, 3 ways, twice
    counts: Counter[tuple[str, str]] = Counter()
    for m in played:
        assert m.game_roles is not None and m.params["seating"] == "fixed"
        counts.update(zip(m.lineup, m.game_roles, strict=True))
    roles = {role for _, role in counts}
    assert roles == {"merlin", "assassin", "servant", "minion"}
    for role in roles:
        per_agent = {counts[agent, role] for agent in ("naive1", "naive2", "rnd")}
        assert len(per_agent) == 1, (role, counts)


def test_avalon_plays_the_roles_the_schedule_dealt(tmp_path: Path) -> None:
    match = matches(load(tmp_path, avalon()))[1]
    spec = load(tmp_path, avalon())
    record = play_job_here(match.to_job(spec))
    assert record.result is not None, record.error
    dealt = [record.result.game_roles[f"p{i}"].role for i in range(5)]
    assert tuple(dealt) == match.game_roles


def test_among_us_side_balance(tmp_path: Path) -> None:
    data = {
        "name": "au",
        "world": "social/among_us-v1",
        "pool": {f"bot{i}": {"agent": "among_us_bot"} for i in range(6)},
        "schedule": {"format": "seatings", "players": 5, "balance": "roles"},
    }
    played = matches(load(tmp_path, data))
    assert len(played) == 6 * 5  # C(6, 5) groups, each in 5 rotations
    impostor = Counter(
        a for m in played for a, r in zip(m.lineup, m.game_roles or (), strict=True) if r == "impostor"
    )
    seats = Counter(a for m in played for a in m.lineup)
    assert set(impostor.values()) == {5} and set(seats.values()) == {25}
    assert all(m.params["impostor_seats"] == [0] for m in played)
    AmongUsParams.model_validate(played[0].params)  # the dealt params are valid params


def test_characterbox_narrator_seat_stays_fixed(tmp_path: Path) -> None:
    data = characterbox(("a", "b"), fixed=[{**NARRATOR, "label": "narr"}])
    played = matches(load(tmp_path, data))
    assert [m.lineup for m in played] == [("a", "b", "a", "narr"), ("b", "a", "b", "narr")]
    assert all(m.seats[3].role == "narrator" and m.seats[0].role == "character" for m in played)


def test_sampled_seatings_are_seeded_and_even(tmp_path: Path) -> None:
    pool = {f"n{i}": {"agent": "avalon_naive"} for i in range(8)}
    data = {**avalon(seatings="sample", samples=8), "pool": pool}
    first = matches(load(tmp_path, data))
    assert [m.id for m in first] == [m.id for m in matches(load(tmp_path, data))]
    assert len(first) == 2 * 8 * 5
    groups = Counter(a for m in first if m.repetition == 0 for a in set(m.lineup))
    assert max(groups.values()) - min(groups.values()) <= 5  # each group counts 5 rotations
    other = matches(load(tmp_path, {**data, "seed": 6}))
    assert [m.lineup for m in other] != [m.lineup for m in first]


def test_a_match_becomes_an_episode_job(tmp_path: Path) -> None:
    spec = load(tmp_path, repeated())
    match = matches(spec)[4]
    job = match.to_job(spec, run_id=3)
    assert (job.run_id, job.index, job.seed, job.world_id) == (3, 4, match.seed, "matrix/repeated-v1")
    assert job.params == {"rounds": 5} and job.matchup == match.matchup
    assert [s.label for s in job.seats] == list(match.lineup)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pool_size=st.integers(1, 7), players=st.integers(5, 10))
def test_every_agent_holds_every_seat_equally_often(tmp_path: Path, pool_size: int, players: int) -> None:
    pool = {f"n{i}": {"agent": "avalon_naive"} for i in range(pool_size)}
    played = matches(
        load(tmp_path, {**avalon(balance="seats", players=players), "pool": pool, "repetitions": 1})
    )
    for seat in range(players):
        holders = Counter(m.lineup[seat] for m in played)
        assert set(holders) == set(pool) and len(set(holders.values())) == 1, (seat, holders)
    assert len({m.id for m in played}) == len(played)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    pool_size=st.integers(1, 5),
    balance=st.sampled_from(["none", "seats"]),
    samples=st.none() | st.integers(1, 4),
)
def test_match_count_agrees_with_the_schedule(
    tmp_path: Path, pool_size: int, balance: str, samples: int | None
) -> None:
    pool = {f"n{i}": {"agent": "avalon_naive"} for i in range(pool_size)}
    extra = {"seatings": "sample", "samples": samples} if samples else {}
    spec = load(tmp_path, {**avalon(balance=balance, **extra), "pool": pool})
    assert len(matches(spec)) == match_count(spec.file, spec.players)
    for schedule in ({"self_play": True}, {"self_play": False, "both_orders": True}):
        rr = load(tmp_path, repeated(schedule=schedule))
        assert len(matches(rr)) == match_count(rr.file, 2)
