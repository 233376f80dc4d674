"""The rule facts of the Among Us spec (section 6), one or more tests each, on the small test map."""

from __future__ import annotations

import pytest

from sim.testing import drive, random_chooser
from sim.types import Action, ActionKind, IllegalActionError, dumps
from tests.worlds.among_us.helpers import act, branches, kinds, new_world, vote
from worlds.among_us import rules
from worlds.among_us.params import AmongUsParams
from worlds.among_us.records import Phase


def test_1_a_kill_into_parity_ends_the_game_before_any_report_or_button() -> None:
    world = new_world(3)
    events = act(world, p0=("kill", "p1"), p2="button")
    assert world.is_terminal() and world.outcome().reason == "imp_parity"
    assert world.outcome().winners == ("p0",)
    assert "meeting" not in kinds(events) and kinds(events)[-1] == "end"


def test_2_ejecting_the_last_impostor_wins_for_the_crew() -> None:
    world = new_world(4)
    act(world, p2="button")
    assert world.phase is Phase.VOTE
    vote(world, p1="p0", p2="p0", p3="p0")
    assert world.outcome().reason == "crew_vote_out" and world.outcome().winners == ("p1", "p2", "p3")


def test_2_ejecting_a_crewmate_into_parity_wins_for_the_impostors() -> None:
    world = new_world(4)
    act(world, p0=("kill", "p1"))
    assert not world.is_terminal()
    act(world, p2="report")
    events = vote(world, p0="p3", p2="p3")
    assert [e.payload["player"] for e in events if e.kind == "eject"] == ["p3"]
    assert world.outcome().reason == "imp_parity" and world.outcome().winners == ("p0",)


@pytest.mark.parametrize(
    ("votes", "ejected"),
    [
        ({"a": "p4", "b": "skip", "c": "skip"}, None),  # P4:1, SKIP:2 (the fork's rule would eject p4)
        ({"a": "p4", "b": "p4", "c": "skip", "d": "skip"}, None),  # tied with skip
        ({"a": "p1", "b": "p1", "c": "p2", "d": "p2"}, None),  # tie at the max
        ({"a": "p1", "b": "p1", "c": "p2", "d": "skip"}, "p1"),  # strict plurality
        ({"a": "skip", "b": "skip"}, None),
        ({"a": "p3"}, "p3"),
    ],
)
def test_3_the_tally_ejects_only_a_strict_plurality_with_skip_competing(
    votes: dict[str, str], ejected: str | None
) -> None:
    counts, out = rules.tally(votes)
    assert out == ejected
    assert sum(counts.values()) == len(votes)


def test_3_votes_p4_one_skip_two_eject_nobody_in_the_world() -> None:
    world = new_world(5)
    act(world, p1="button")
    events = vote(world, p1="p4", p2="skip", p3="skip")  # p0 and p4 skip too
    (tally,) = [e for e in events if e.kind == "vote"]
    assert tally.payload["ejected"] is None and tally.payload["tally"] == {"skip": 4, "p4": 1}
    assert world.phase is Phase.TASKS and all(world.state.alive.values())


def test_4_kill_is_offered_only_to_impostors_off_cooldown_against_colocated_living_crewmates() -> None:
    world = new_world(6, impostors=2, impostor_seats=[0, 1])
    assert branches(world, "p0")["kill"] == ("p2", "p3", "p4", "p5")  # never the fellow impostor p1
    assert "kill" not in branches(world, "p2")
    act(world, p2=("move", "Lab"), p0=("kill", "p3"))
    assert branches(world, "p1")["kill"] == ("p4", "p5")  # p2 left, p3 is dead
    assert "kill" not in branches(world, "p0")  # p0's cooldown
    cold = new_world(5, initial_kill_cooldown=1)
    assert "kill" not in branches(cold, "p0")


def test_5_a_kill_in_round_t_blocks_kill_in_t_plus_1_to_t_plus_k() -> None:
    world = new_world(6, kill_cooldown=2)
    act(world, p0=("kill", "p1"))  # round 1
    assert "kill" not in branches(world, "p0")  # round 2
    act(world)
    assert "kill" not in branches(world, "p0")  # round 3
    act(world)
    assert "kill" in branches(world, "p0")  # round 4 = t + K + 1


def test_5_initial_kill_cooldown_is_respected_at_round_1() -> None:
    world = new_world(5, initial_kill_cooldown=2, kill_cooldown=7)
    assert "kill" not in branches(world, "p0")
    act(world)
    assert "kill" not in branches(world, "p0")
    act(world)
    assert "kill" in branches(world, "p0")


def test_5_a_meeting_resets_the_cooldown_to_k_and_does_not_tick_it() -> None:
    world = new_world(5, kill_cooldown=2, initial_kill_cooldown=5, discussion_rounds=2)
    act(world, p2="button")  # round 1 ticks 5 -> 4
    assert world.phase is Phase.DISCUSS
    while world.phase is Phase.DISCUSS:
        assert world.state.kill_cd["p0"] == 4
        (speaker,) = world.to_act()
        world.step({speaker: Action(ActionKind.TEXT, "hello")})
    vote(world)
    assert world.state.kill_cd["p0"] == 2
    assert "kill" not in branches(world, "p0")
    act(world)
    assert "kill" not in branches(world, "p0")
    act(world)
    assert "kill" in branches(world, "p0")


def test_6_vents_only_for_impostors_along_vent_edges_and_a_corridor_vent_pair_gives_both() -> None:
    world = new_world(4)
    imp, crew = branches(world, "p0"), branches(world, "p1")
    assert imp["move"] == ("Lab", "Vault") and imp["vent"] == ("Lab",)  # Hall-Lab is both
    assert crew["move"] == ("Lab", "Vault") and "vent" not in crew
    act(world, p0=("move", "Vault"))
    assert branches(world, "p0")["move"] == ("Hall",) and branches(world, "p0")["vent"] == ("Pod",)
    with pytest.raises(IllegalActionError):
        act(world, p0=("move", "Pod"))
    act(world, p0=("vent", "Pod"))
    assert world.state.room["p0"] == "Pod"


def test_6_a_vent_is_seen_by_the_room_left_and_only_an_appearance_by_the_room_entered() -> None:
    world = new_world(4)
    act(world, p3=("move", "Lab"))
    events = act(world, p0=("vent", "Lab"))
    (vent,) = [e for e in events if e.kind == "vent"]
    (appear,) = [e for e in events if e.kind == "appear"]
    assert vent.visible_to == ("p0", "p1", "p2") and appear.visible_to == ("p3",)
    assert "from" not in appear.payload


def test_7_report_needs_an_unreported_body_and_a_meeting_clears_old_bodies() -> None:
    world = new_world(5)
    assert "report" not in branches(world, "p2")
    act(world, p0=("kill", "p1"))
    assert "report" in branches(world, "p2") and world.state.bodies == {"p1": "Hall"}
    events = act(world, p2="report")
    (meeting,) = [e for e in events if e.kind == "meeting"]
    assert meeting.payload["body"] == "p1" and meeting.payload["dead"] == ["p1"]
    vote(world)
    assert "report" not in branches(world, "p2") and world.state.bodies == {}


def test_8_the_button_is_only_in_the_button_room_counts_down_and_disappears() -> None:
    world = new_world(5, buttons=1)
    assert "button" in branches(world, "p1")
    act(world, p1=("move", "Lab"))
    assert "button" not in branches(world, "p1")
    events = act(world, p2="button")
    assert [e.payload["buttons_left"] for e in events if e.kind == "meeting"] == [0]
    vote(world)
    assert "button" not in branches(world, "p2")


def test_8_the_dead_cannot_press_the_button() -> None:
    world = new_world(5)
    act(world, p0=("kill", "p1"))
    assert "p1" not in world.to_act() and world.legal_actions("p1") is None
    with pytest.raises(IllegalActionError):
        world.step({p: Action(ActionKind.ONE_OF, {"branch": "button", "value": None}) for p in ("p1",)})


def test_9_a_long_task_needs_two_rounds_and_progress_survives_a_meeting() -> None:
    world = new_world(4, common_tasks=0, long_tasks=1)
    act(world, p1=("move", "Lab"))
    act(world, p1=("task", "Scan"))
    assert world.observe("p1").private.tasks[0].done == 1
    act(world, p2="button")
    vote(world)
    act(world, p1=("move", "Lab"))
    assert branches(world, "p1")["task"] == ("Scan",)
    act(world, p1=("task", "Scan"))
    assert world.observe("p1").private.tasks[0].done == 2
    assert "task" not in branches(world, "p1")


def test_9_a_crewmate_killed_this_round_gets_no_progress() -> None:
    world = new_world(4)
    events = act(world, p0=("kill", "p1"), p1=("task", "Wiring"))
    assert world.state.tasks["p1"] == {next(iter(world.state.tasks["p1"])): 0}
    assert not [e for e in events if e.kind == "task" and e.actor == "p1"]


def test_10_the_task_win_counts_only_living_crewmates_by_default() -> None:
    world = new_world(4)
    act(world, p0=("kill", "p1"), p2=("task", "Wiring"), p3=("task", "Wiring"))
    assert world.outcome().reason == "crew_tasks"


def test_10_with_ghosts_the_same_state_continues_until_the_ghost_finishes() -> None:
    world = new_world(4, dead_tasks="ghosts")
    act(world, p0=("kill", "p1"), p2=("task", "Wiring"), p3=("task", "Wiring"))
    assert not world.is_terminal() and "p1" in world.to_act()
    assert set(branches(world, "p1")) == {"move", "task", "wait"}
    events = act(world, p1=("task", "Wiring"))
    assert world.outcome().reason == "crew_tasks"
    assert all(e.visible_to == ("p1",) for e in events if e.actor == "p1")


def test_11_parity_is_checked_before_the_task_win() -> None:
    world = new_world(3)
    act(world, p0=("kill", "p1"), p2=("task", "Wiring"))
    assert world.outcome().reason == "imp_parity"


def test_11_the_timeout_fires_only_when_nothing_else_does() -> None:
    done = new_world(4, max_turns=1)
    act(done, p1=("task", "Wiring"), p2=("task", "Wiring"), p3=("task", "Wiring"))
    assert done.outcome().reason == "crew_tasks"
    late = new_world(4, max_turns=1)
    act(late)
    assert late.outcome().reason == "imp_timeout" and late.outcome().winners == ("p0",)
    draw = new_world(4, max_turns=1, timeout_winner="nobody")
    act(draw)
    assert draw.outcome().draw and draw.outcome().winners == ()


def test_12_the_dead_get_no_speaking_slot_or_vote_and_votes_for_the_dead_are_illegal() -> None:
    world = new_world(5, discussion_rounds=1)
    act(world, p0=("kill", "p1"))
    act(world, p2="report")
    assert [s for _, s in world.state.meeting.queue] == ["p2", "p3", "p4", "p0"]  # caller first
    while world.phase is Phase.DISCUSS:
        (speaker,) = world.to_act()
        world.step({speaker: Action(ActionKind.TEXT, "hi")})
    assert world.to_act() == ("p0", "p2", "p3", "p4")
    spec = world.legal_actions("p2")
    assert spec is not None and spec.options == ("p0", "p3", "p4", "skip") and spec.fallback == "skip"
    with pytest.raises(IllegalActionError):
        vote(world, p2="p1")
    assert world.phase is Phase.VOTE


def test_12_same_seed_and_actions_give_a_byte_identical_event_log() -> None:
    params = AmongUsParams.model_validate({"impostors": "auto", "long_tasks": 1})
    logs = []
    for _ in range(2):
        from worlds.among_us.world import AmongUsWorld

        logs.append(dumps(drive(AmongUsWorld(), params, 8, 7, random_chooser(3))))
    assert logs[0] == logs[1]
    other = dumps(drive(AmongUsWorld(), params, 8, 8, random_chooser(3)))
    assert other != logs[0]


def test_a_kill_fails_when_the_victim_walks_away_and_witnesses_are_the_room() -> None:
    world = new_world(5, busy_blind=True)
    events = act(world, p0=("kill", "p1"), p1=("move", "Lab"))
    assert kinds(events).count("kill_failed") == 1 and world.state.alive["p1"]
    assert world.state.kill_cd["p0"] == 0
    events = act(world, p0=("kill", "p2"), p3=("task", "Wiring"))
    (kill,) = [e for e in events if e.kind == "kill"]
    assert kill.payload["witnesses"] == ["p4"]  # p3 was busy (busy_blind); p1 is in Lab
    assert kill.visible_to == ("p0", "p2", "p4")


def test_confirmed_ejections_announce_the_role() -> None:
    world = new_world(5, confirm_ejects=True)
    act(world, p1="button")
    events = vote(world, p0="p4", p1="p4", p2="p4")
    assert [e.payload for e in events if e.kind == "eject"] == [{"player": "p4", "role": "crewmate"}]
