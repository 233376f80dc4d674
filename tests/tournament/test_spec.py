"""Tournament files: valid files load; bad ones name the file, every key at fault and the expectation."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.scenario import ScenarioError
from sim.tournament.spec import load_tournament
from tests.tournament.helpers import NARRATOR, avalon, characterbox, load, repeated, write


def test_a_round_robin_file_loads(tmp_path: Path) -> None:
    spec = load(tmp_path, repeated(budget={"usd": 2.5}, concurrency={"matches": 4, "per_model": {"m": 2}}))
    assert spec.players == 2
    assert spec.world_id == "matrix/repeated-v1"
    assert list(spec.file.pool) == ["tft", "alld", "allc"]
    assert spec.file.budget is not None and spec.file.budget.usd == 2.5
    assert spec.file.concurrency.per_model == {"m": 2}
    assert spec.pool_seat("tft").label == "tft"


def test_every_problem_is_reported_at_once_naming_file_and_key(tmp_path: Path) -> None:
    data = repeated(
        seed=-1,
        colour="blue",
        params={"rounds": 0},
        pool={
            "tft": {"agent": "no_such_agent"},
            "bad name": {"agent": "defector"},
            "x": {"agent": "cooperator", "config": {"zz": 1}},
        },
        schedule={"format": "round_robin", "players": 3},
        budget={},
    )
    path = write(tmp_path, data)
    with pytest.raises(ScenarioError) as caught:
        load_tournament(path)
    keys = {key for key, _ in caught.value.problems}
    assert {"seed", "colour", "pool", "schedule", "budget", "params.rounds", "pool.tft.agent"} <= keys, keys
    assert "pool.x.config.zz" in keys, keys
    text = str(caught.value)
    assert all(line.startswith(f"{path}: ") for line in text.splitlines())
    assert f"{path}: colour: unknown key" in text
    assert "players go(es) with format: seatings" in text


def test_round_robin_needs_a_two_seat_world(tmp_path: Path) -> None:
    data = avalon()
    data["schedule"] = {"format": "round_robin"}
    with pytest.raises(
        ScenarioError, match=r"schedule.format: round_robin pairs two agents; social/avalon-v1"
    ):
        load(tmp_path, data)


def test_seatings_need_a_seat_count_for_worlds_of_several(tmp_path: Path) -> None:
    data = avalon()
    del data["schedule"]["players"]
    with pytest.raises(ScenarioError, match=r"schedule.players: social/avalon-v1 seats 5-10 players"):
        load(tmp_path, data)


def test_role_balance_needs_a_world_whose_deal_can_be_fixed(tmp_path: Path) -> None:
    data = characterbox(balance="roles", fixed=[NARRATOR, {"seat": 7, "agent": "x"}])
    with pytest.raises(ScenarioError) as caught:
        load(tmp_path, data)
    keys = dict(caught.value.problems)
    assert keys["schedule.fixed[1].seat"] == "seat 7 of a 4-seat table"
    assert "schedule.fixed[1].agent" in keys  # the unknown agent too, in the same report
    data["schedule"]["fixed"].pop()
    with pytest.raises(ScenarioError, match=r"schedule.balance: roleplay/characterbox-v1 deals no roles"):
        load(tmp_path, data)


def test_a_missing_narrator_is_a_seat_role_problem(tmp_path: Path) -> None:
    data = characterbox()
    with pytest.raises(
        ScenarioError, match=r"schedule: roleplay/characterbox-v1 needs 1 seat\(s\) of role 'narrator'"
    ):
        load(tmp_path, data)


def test_sample_needs_samples_and_round_robin_keys_stay_there(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load(tmp_path, avalon(seatings="sample", self_play=False))
    (problem,) = caught.value.problems
    assert problem[0] == "schedule"
    assert "self_play go(es) with format: round_robin" in problem[1]
    with pytest.raises(ScenarioError, match=r"'samples' \(how many groups to draw\)"):
        load(tmp_path, avalon(seatings="sample"))


def test_overrides_apply_before_validation(tmp_path: Path) -> None:
    path = write(tmp_path, repeated())
    assert load_tournament(path, ["repetitions=7"]).file.repetitions == 7
    with pytest.raises(ScenarioError, match=r"repetitions: Input should be greater than or equal to 1"):
        load_tournament(path, ["repetitions=0"])


def test_a_schedule_too_big_to_play_is_refused(tmp_path: Path) -> None:
    pool = {f"n{i}": {"agent": "avalon_naive"} for i in range(40)}
    with pytest.raises(ScenarioError, match=r"\(top level\): plans 6,580,080 matches; at most 100,000"):
        load(tmp_path, {**avalon(), "pool": pool})  # C(40, 5) groups x 5 rotations x 2 repetitions


def test_agents_are_checked_even_when_the_file_does_not_parse(tmp_path: Path) -> None:
    data = avalon(fixed=[{"seat": 0, "agent": "no_such_bot"}])
    data["pool"]["naive1"] = {"agent": "cooperator"}  # plays matrix/repeated-v1 only
    data["repetitions"] = "many"
    with pytest.raises(ScenarioError) as caught:
        load(tmp_path, data)
    keys = {key for key, _ in caught.value.problems}
    assert {"repetitions", "pool.naive1.agent", "schedule.fixed[0].agent"} <= keys, keys
