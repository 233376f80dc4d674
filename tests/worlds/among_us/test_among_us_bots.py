"""The rule bot's policies, each checked on a hand-made state of the small map."""

from __future__ import annotations

from agents.scripted.among_us import AmongUsBot
from sim.rng import derive_seed
from sim.types import Action
from tests.worlds.among_us.helpers import act, new_world, vote
from worlds.among_us.records import Phase
from worlds.among_us.world import AmongUsWorld


def bots(world: AmongUsWorld, seed: int = 0) -> dict[str, AmongUsBot]:
    seated = {}
    for p in world.players:
        seated[p] = AmongUsBot()
        seated[p].reset(p, AmongUsWorld.spec, derive_seed(seed, p))
    return seated


def decide(bot: AmongUsBot, world: AmongUsWorld, seat: str) -> Action:
    return bot.decide(world.observe(seat))


def discuss(world: AmongUsWorld, seated: dict[str, AmongUsBot], scripted: dict[str, str]) -> dict[str, str]:
    """Run the discussion: each speaker's bot speaks, unless ``scripted`` gives its text; what was said."""
    said = {}
    while world.phase is Phase.DISCUSS:
        (speaker,) = world.to_act()
        action = decide(seated[speaker], world, speaker)
        if speaker in scripted:
            action = Action(action.kind, scripted[speaker])
        said[speaker] = action.value
        world.step({speaker: action})
    return said


def test_a_crewmate_walks_the_shortest_path_to_its_task_and_does_it() -> None:
    world = new_world(4, common_tasks=0, long_tasks=1)  # Scan in Lab for everyone
    crew = bots(world)["p1"]
    assert decide(crew, world, "p1").value == {"branch": "move", "value": "Lab"}
    act(world, p1=("move", "Lab"))
    assert decide(crew, world, "p1").value == {"branch": "task", "value": "Scan"}


def test_a_crewmate_reports_a_body_and_votes_for_the_killer_it_saw() -> None:
    world = new_world(5, discussion_rounds=1)
    seated = bots(world)
    act(world, p0=("kill", "p1"))
    assert decide(seated["p2"], world, "p2").value == {"branch": "report", "value": None}
    act(world, p2="report")
    while world.phase is Phase.DISCUSS:
        (speaker,) = world.to_act()
        world.step({speaker: decide(seated[speaker], world, speaker)})
    speeches = [s["text"] for s in world.state.meeting.speeches]
    assert "I saw it: I suspect p0." in speeches
    assert decide(seated["p3"], world, "p3").value == "p0"
    assert decide(seated["p0"], world, "p0").value != "p0"


def test_a_crewmate_without_evidence_votes_skip() -> None:
    world = new_world(5)
    act(world, p1="button")
    assert world.phase is Phase.VOTE
    assert {decide(bots(world)[p], world, p).value for p in ("p1", "p2", "p3")} == {"skip"}


def test_an_impostor_kills_only_when_alone_with_one_crewmate_then_leaves_or_reports() -> None:
    left = set()
    for seed in range(12):
        world = new_world(4, kill_cooldown=5)
        imp = bots(world, seed)["p0"]
        assert decide(imp, world, "p0").value["branch"] != "kill"  # three crewmates watch
        act(world, p0=("move", "Lab"), p1=("move", "Lab"))
        assert decide(imp, world, "p0").value == {"branch": "kill", "value": "p1"}
        act(world, p0=("kill", "p1"))
        left.add(tuple(decide(imp, world, "p0").value.values()))
    assert left == {("vent", "Hall"), ("move", "Hall"), ("move", "Pod"), ("report", None)}


def test_an_impostor_that_reports_its_own_kill_frames_the_crewmate_it_saw_last() -> None:
    for seed in range(40):
        world = new_world(5, kill_cooldown=5, discussion_rounds=1)
        seated = bots(world, seed)
        act(world, p0=("move", "Lab"), p1=("move", "Lab"), p2=("move", "Lab"))
        decide(seated["p0"], world, "p0")  # sees p1 and p2 in Lab
        act(world, p2=("move", "Pod"))
        act(world, p0=("kill", "p1"))
        if decide(seated["p0"], world, "p0").value["branch"] == "report":
            break
    else:
        raise AssertionError("the impostor never reported its own kill")
    act(world, p0="report")
    assert decide(seated["p0"], world, "p0").value == "I was doing Wiring in Hall. I suspect p2."


def test_an_impostor_fakes_its_fake_list_in_its_room_while_its_cooldown_runs() -> None:
    world = new_world(4, kill_cooldown=5, initial_kill_cooldown=5)
    imp = bots(world)["p0"]
    act(world, p0=("move", "Lab"))
    assert decide(imp, world, "p0").value == {"branch": "move", "value": "Hall"}  # Wiring is in Hall
    act(world, p0=("move", "Hall"))
    assert decide(imp, world, "p0").value == {"branch": "fake_task", "value": None}


def test_a_hunting_impostor_follows_the_crewmate_who_walks_away() -> None:
    world = new_world(5, kill_cooldown=5, initial_kill_cooldown=1)
    imp = bots(world)["p0"]
    assert decide(imp, world, "p0").value["branch"] == "fake_task"  # waits with the crew
    act(world, p1=("move", "Vault"))
    assert decide(imp, world, "p0").value == {"branch": "move", "value": "Vault"}


def test_a_hunting_impostor_walks_to_where_it_last_saw_a_crewmate() -> None:
    world = new_world(4, kill_cooldown=5, initial_kill_cooldown=2)
    imp = bots(world)["p0"]
    act(world, p0=("move", "Lab"), p1=("move", "Lab"), p2=("move", "Vault"), p3=("move", "Vault"))
    decide(imp, world, "p0")
    act(world, p0=("move", "Hall"), p1=("move", "Pod"))  # it saw p1 leave Lab for Pod
    assert decide(imp, world, "p0").value == {"branch": "move", "value": "Lab"}
    act(world, p0=("move", "Lab"))
    assert decide(imp, world, "p0").value == {"branch": "move", "value": "Pod"}
    act(world, p0=("move", "Pod"))
    assert decide(imp, world, "p0").value == {"branch": "kill", "value": "p1"}


def test_an_impostor_votes_with_the_most_accused_crewmate_rather_than_its_accuser() -> None:
    world = new_world(6, discussion_rounds=1)
    seated = bots(world)
    act(world, p1="button")
    discuss(world, seated, {"p1": "I suspect p4.", "p2": "I suspect p4.", "p3": "I suspect p0."})
    assert decide(seated["p0"], world, "p0").value == "p4"  # rather than its own accuser, p3


def test_a_falsely_accused_crewmate_names_and_votes_its_accuser() -> None:
    world = new_world(5, discussion_rounds=1)
    seated = bots(world)
    act(world, p1="button")
    said = discuss(world, seated, {"p1": "I suspect p3."})
    assert said["p3"] == "I am innocent: I suspect p1."
    assert decide(seated["p3"], world, "p3").value == "p1"
    assert decide(seated["p4"], world, "p4").value == "skip"  # one accusation each: no leader


def test_a_crewmate_suspects_the_last_seat_it_saw_walk_into_the_room_of_a_body() -> None:
    world = new_world(5, discussion_rounds=1)
    seated = bots(world)
    act(world, p3=("move", "Lab"))
    act(world, p3=("move", "Pod"))
    act(world, p1=("move", "Lab"), p0=("move", "Lab"))  # p2, in Hall, sees both walk into Lab
    decide(seated["p2"], world, "p2")
    act(world, p0=("kill", "p1"))
    act(world, p0=("move", "Pod"))
    act(world, p3=("move", "Lab"))  # unseen from Hall
    act(world, p3="report")
    while world.to_act() != ("p2",):
        (speaker,) = world.to_act()
        world.step({speaker: decide(seated[speaker], world, speaker)})
    assert decide(seated["p2"], world, "p2").value == "I was near a body with them: I suspect p0."


def test_an_impostor_deflects_onto_its_accuser_and_never_votes_a_partner() -> None:
    world = new_world(6, impostors=2, impostor_seats=[0, 1], discussion_rounds=1)
    seated = bots(world)
    act(world, p2="button")
    said = discuss(world, seated, {"p3": "I suspect p0."})
    assert said["p0"] == "I was doing Wiring in Hall. I suspect p3."
    assert decide(seated["p0"], world, "p0").value == "p3"
    assert decide(seated["p1"], world, "p1").value not in ("p0", "p1")
    vote(world)
