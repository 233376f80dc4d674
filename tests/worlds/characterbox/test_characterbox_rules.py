"""The behaviour facts of spec 5.5 for ``roleplay/characterbox-v1``, each on the real world."""

from __future__ import annotations

import pytest

from sim.types import Action, ActionKind, dumps
from tests.worlds.characterbox.helpers import (
    NARRATOR,
    SEATS,
    act,
    influence,
    kinds,
    new_world,
    quiet_round,
    quiet_turn,
    scene,
    summary,
    verdict,
)


def test_a_reaction_uses_up_the_targets_turn_and_the_order_carries() -> None:
    world = new_world()
    events = act(world, "pushes Ben") + influence(world, "Ben")
    assert world.to_act() == (SEATS["Ben"],) and world.phase == "react"
    events += act(world, "stumbles") + verdict(world)
    assert world.to_act() == (SEATS["Cal"],) and world.phase == "act"  # Ben gets no ACT this round
    events += quiet_turn(world)
    assert world.phase == "summary"
    events += summary(world)
    assert world.order == ["Ann", "Ben", "Cal"] and world.to_act() == (SEATS["Ann"],)  # carried
    events += quiet_round(world) + quiet_round(world)
    rows = [
        (e.payload["round"], e.payload["character"], e.payload["reaction"])
        for e in events
        if e.kind == "action"
    ]
    assert rows[:3] == [(1, "Ann", False), (1, "Ben", True), (1, "Cal", False)]
    assert len(rows) == 3 * 3  # rounds x participants = act + react rows
    assert world.is_terminal()


def test_the_order_carries_the_act_and_react_order_of_the_round() -> None:
    world = new_world()
    act(world)
    influence(world, "Cal")
    act(world)  # Cal reacts
    verdict(world)
    quiet_turn(world)  # Ben acts
    summary(world)
    assert world.order == ["Ann", "Cal", "Ben"]


@pytest.mark.parametrize(
    ("target", "error"),
    [("Ann", "the actor itself"), ("Dot", "not in the scene"), ("Ben", "already acted")],
)
def test_an_invalid_target_is_logged_and_nobody_reacts(target: str, error: str) -> None:
    world = new_world()
    if target == "Ben":  # Ben acts first, then Ann names him
        world.order = ["Ben", "Ann", "Cal"]
        world.actor = "Ben"
        quiet_turn(world)
    before = world.snapshot()["states"]
    events = act(world) + influence(world, target)
    (logged,) = [e for e in events if e.kind == "influence"]
    assert logged.payload["valid"] is False and error in logged.payload["error"]
    assert logged.visible_to == (NARRATOR,)  # the impact reaches no character
    assert world.phase == "rule" and world.to_act() == (NARRATOR,)  # no reaction
    assert world.snapshot()["counts"]["invalid_targets"] == 1
    assert world.snapshot()["states"] == before


def test_names_outside_the_cast_fail_the_schema() -> None:
    world = new_world()
    act(world)
    spec = world.legal_actions(NARRATOR)
    assert spec is not None
    for bad in ({"target": "ben", "impact": ""}, {"target": "Zed", "impact": ""}, {"impact": ""}):
        assert spec.check(Action(ActionKind.STRUCTURED, bad)) is not None


def test_only_the_target_receives_the_impact() -> None:
    world = new_world()
    act(world, "throws flour")
    events = influence(world, "Ben", impact="IMPACT-TEXT")
    for seat in ("p0", "p2"):
        obs = world.observe(seat)
        assert "IMPACT-TEXT" not in dumps(obs) + world.render(obs)
    assert "IMPACT-TEXT" in world.render(world.observe("p1"))
    assert events[0].visible_to == (NARRATOR, "p1")


@pytest.mark.parametrize(
    ("changes", "perceived", "problem"),
    [
        ([{"character": "Dot", "state": {"mood": "angry"}}], [], "Dot (changed) is not in the scene"),
        ([], ["Dot"], "Dot (perceiving) is not in the scene"),
        (
            [{"character": "Ann", "state": {"mood": "x"}}, {"character": "Ann", "position": "door"}],
            [],
            "changed twice",
        ),
    ],
)
def test_an_invalid_verdict_is_logged_and_the_state_kept(changes, perceived, problem) -> None:  # type: ignore[no-untyped-def]
    world = new_world()
    act(world)
    influence(world, None)
    before = world.snapshot()
    events = verdict(world, "chaos", changes, perceived)
    (ruling,) = [e for e in events if e.kind == "verdict"]
    assert ruling.payload["valid"] is False and any(problem in p for p in ruling.payload["errors"])
    assert ruling.payload["changes"] == [] and ruling.payload["proposed"] == changes
    after = world.snapshot()
    assert after["positions"] == before["positions"] and after["states"] == before["states"]
    assert after["counts"]["invalid_verdicts"] == 1
    assert "outcome" not in kinds(events) and "state_update" not in kinds(events)


@pytest.mark.parametrize(
    "change",
    [
        {"character": "Ann", "state": {"hunger": "high"}},  # an undeclared state key
        {"character": "Ann", "state": {"alive": "maybe"}},  # a value of the wrong type
        {"character": "Ann", "state": {"mood": 3}},
        {"character": "Zed"},  # not in the cast
    ],
)
def test_an_invalid_state_change_fails_the_schema_and_changes_nothing(change) -> None:  # type: ignore[no-untyped-def]
    world = new_world()
    act(world)
    influence(world, None)
    spec = world.legal_actions(NARRATOR)
    assert spec is not None
    bad = Action(ActionKind.STRUCTURED, {"outcome": "x", "changes": [change], "perceived_by": []})
    assert spec.check(bad) is not None
    before = world.snapshot()
    with pytest.raises(ValueError):
        world.step({NARRATOR: bad})
    assert world.snapshot() == before
    assert spec.fallback == {"outcome": "", "changes": [], "perceived_by": []}  # the no-change fallback


def test_a_valid_verdict_applies_and_only_perceivers_see_the_outcome() -> None:
    world = new_world()
    act(world, "stirs the pot")
    influence(world, None)
    changes = [{"character": "Ann", "position": "at the door", "state": {"mood": "proud"}}]
    events = verdict(world, "OUTCOME-TEXT", changes, ["Ann"])
    assert world.positions["Ann"] == "at the door" and world.states["Ann"]["mood"] == "proud"
    (outcome,) = [e for e in events if e.kind == "outcome"]
    assert outcome.visible_to == ("p0", NARRATOR)
    assert "OUTCOME-TEXT" not in world.render(world.observe("p1"))
    (update,) = [e for e in events if e.kind == "state_update"]
    assert update.visible_to == ("p0", NARRATOR)
    assert "proud" not in dumps(world.observe("p1"))  # another character's state is private


def test_a_partial_change_keeps_every_other_key() -> None:
    world = new_world()
    act(world)
    influence(world, None)
    verdict(world, changes=[{"character": "Ben", "position": None, "state": {"mood": None, "alive": None}}])
    assert world.positions["Ben"] == "by the stove" and world.states["Ben"] == {"mood": "calm", "alive": True}
    assert not world.changed  # nothing actually changed


def test_the_dead_are_never_asked_again_and_naming_them_counts() -> None:
    world = new_world()
    act(world, "strikes Ben")
    influence(world, None)
    events = verdict(
        world, "Ben dies.", [{"character": "Ben", "state": {"alive": False}}], ["Ann", "Ben", "Cal"]
    )
    assert "death" in kinds(events) and world.states["Ben"]["alive"] is False
    assert world.to_act() == (SEATS["Cal"],)  # Ben's turn is skipped
    quiet_turn(world)
    summary(world)
    act(world)  # Ann, round 2; Cal may still react
    influence(world, "Ben")  # the narrator treats the dead as alive
    verdict(world, changes=[{"character": "Ben", "position": "up again"}], perceived_by=["Ben"])
    assert world.snapshot()["counts"]["dead_as_alive"] == 3
    assert world.positions["Ben"] == "by the stove" and world.states["Ben"]["alive"] is False
    while not world.is_terminal():
        assert SEATS["Ben"] not in world.to_act()
        if world.phase == "summary":
            summary(world)
        else:
            quiet_turn(world)
    assert world.episode_metrics()[NARRATOR]["dead_as_alive"] == 3.0
    assert world.outcome()["alive"] == {"Ann": True, "Ben": False, "Cal": True, "Dot": True}


def test_a_scene_ends_after_exactly_its_rounds() -> None:
    world = new_world(scene(rounds=2))
    events = quiet_round(world)
    assert not world.is_terminal()
    events += quiet_round(world)
    (end,) = [e for e in events if e.kind == "scene_end"]
    assert end.payload == {"scene": 1, "reason": "rounds", "rounds_played": 2}
    assert world.is_terminal() and world.to_act() == ()


def test_a_scene_ends_early_when_it_goes_stale() -> None:
    world = new_world(scene(rounds=5), stale_rounds=2)
    events = quiet_round(world) + quiet_round(world)
    assert [e.payload["reason"] for e in events if e.kind == "scene_end"] == ["stale"]
    assert world.is_terminal()


def test_a_change_resets_the_stale_count() -> None:
    world = new_world(scene(rounds=5), stale_rounds=2)
    quiet_round(world)
    act(world)
    influence(world, None)
    verdict(world, changes=[{"character": "Ann", "state": {"mood": "cross"}}])
    while world.phase != "summary":
        quiet_turn(world)
    summary(world)
    quiet_round(world)
    assert not world.is_terminal()
    quiet_round(world)
    assert world.is_terminal() and world.scene_reasons == ["stale"]


def test_a_scene_ends_early_when_everyone_has_left() -> None:
    world = new_world(scene(rounds=5))
    events = []
    for _ in range(3):
        events += act(world, "walks out", leave=True)
        if world.phase == "influence":
            events += influence(world, None)
        events += verdict(world)
    assert kinds(events).count("leave") == 3
    events = summary(world)
    assert [e.payload["reason"] for e in events if e.kind == "scene_end"] == ["everyone_left"]
    assert world.is_terminal()


def test_scenes_play_in_order_and_state_carries_over() -> None:
    data = scene(rounds=1)
    data["scenes"].append({**data["scenes"][0], "title": "Later", "participants": ["Dot", "Ann"]})
    world = new_world(data)
    act(world)
    influence(world, None)
    verdict(world, changes=[{"character": "Ann", "position": "on the porch"}])
    while not world.is_terminal() and world.scene_index == 0:
        quiet_turn(world) if world.phase != "summary" else summary(world)
    assert world.scene.title == "Later" and world.to_act() == (SEATS["Dot"],)
    assert world.positions["Ann"] == "on the porch"


def test_no_character_sees_another_ones_goal_or_secret() -> None:
    world = new_world()
    for _ in range(40):
        if world.is_terminal():
            break
        for name, seat in SEATS.items():
            obs = world.observe(seat)
            blob = dumps(obs) + world.render(obs)
            for other in SEATS:
                hidden = other != name
                assert (f"GOAL-OF-{other.upper()}" in blob) is not hidden
                assert (f"SECRET-OF-{other.upper()}" in blob) is not hidden
        narrator = dumps(world.observe(NARRATOR))
        assert all(f"SECRET-OF-{n.upper()}" in narrator for n in SEATS)
        quiet_turn(world) if world.phase != "summary" else summary(world)


def test_the_setup_event_follows_the_contract_and_is_seen_by_nobody() -> None:
    from sim.engine import seat_ids
    from sim.rng import stream
    from worlds.characterbox.params import CharacterBoxParams
    from worlds.characterbox.world import CharacterBoxWorld

    events = CharacterBoxWorld().reset(
        seat_ids(5), CharacterBoxParams.model_validate({"scene": scene()}), stream(0, "world")
    )
    setup = events[0]
    assert setup.kind == "setup" and setup.visible_to == ()
    assert set(setup.payload) >= {"world", "characters", "seats", "scenes"}
    ann = setup.payload["characters"]["Ann"]
    for key in ("profile", "personality", "speech_style", "knowledge", "goal", "secret", "position", "state"):
        assert key in ann
    assert setup.payload["seats"] == {"p0": "Ann", "p1": "Ben", "p2": "Cal", "p3": "Dot", "p4": "narrator"}
    assert set(setup.payload["scenes"][0]) >= {"title", "time", "location", "description", "participants"}
    assert {"rounds", "premise"} <= set(setup.payload["scenes"][0])


def test_declared_seat_roles_place_the_narrator() -> None:
    from sim.engine import seat_ids
    from sim.rng import stream
    from worlds.characterbox.params import CharacterBoxParams
    from worlds.characterbox.world import CharacterBoxWorld

    world = CharacterBoxWorld()
    roles = {"p0": "narrator", "p1": "character", "p2": "character", "p3": "character", "p4": "character"}
    world.reset(seat_ids(5), CharacterBoxParams.model_validate({"scene": scene()}), stream(0, "world"), roles)
    assert world.narrator == "p0" and world.seat_of == {"Ann": "p1", "Ben": "p2", "Cal": "p3", "Dot": "p4"}
    assert world.game_roles()["p0"].role == "narrator" and world.game_roles()["p1"].role == "Ann"
    assert not CharacterBoxWorld.spec.rated("narrator") and CharacterBoxWorld.spec.role("narrator").omniscient


def test_every_event_reads_as_one_line() -> None:
    world = new_world()
    events = act(world, "grins", "Hello") + influence(world, "Ben") + act(world, "frowns")
    events += verdict(world, "fine", [{"character": "Ben", "state": {"alive": False}}], ["Ann"])
    for event in events:
        line = world.describe_event(event)
        assert line and "\n" not in line
