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


def test_an_impostor_kills_only_when_alone_with_one_crewmate_then_vents_away() -> None:
    world = new_world(4, kill_cooldown=5)
    imp = bots(world)["p0"]
    assert decide(imp, world, "p0").value["branch"] != "kill"  # three crewmates watch
    act(world, p0=("move", "Lab"), p1=("move", "Lab"))
    assert decide(imp, world, "p0").value == {"branch": "kill", "value": "p1"}
    act(world, p0=("kill", "p1"))
    assert decide(imp, world, "p0").value == {"branch": "vent", "value": "Hall"}


def test_an_impostor_deflects_onto_its_accuser_and_never_votes_a_partner() -> None:
    world = new_world(6, impostors=2, impostor_seats=[0, 1], discussion_rounds=1)
    seated = bots(world)
    act(world, p2="button")
    said = {}
    while world.phase is Phase.DISCUSS:
        (speaker,) = world.to_act()
        action = decide(seated[speaker], world, speaker)
        if speaker == "p3":
            action = Action(action.kind, "I suspect p0.")
        said[speaker] = action.value
        world.step({speaker: action})
    assert said["p0"] == "I was doing Wiring in Hall. I suspect p3."
    assert decide(seated["p0"], world, "p0").value == "p3"
    assert decide(seated["p1"], world, "p1").value not in ("p0", "p1")
    vote(world)
