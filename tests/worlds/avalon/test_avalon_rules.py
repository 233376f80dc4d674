"""The official rules of ``social/avalon-v1``: each fact of the spec's rule list (5.1) as a test."""

from __future__ import annotations

import itertools

import pytest
from pydantic import ValidationError

from sim.rng import stream
from sim.types import Action, ActionKind, IllegalActionError
from worlds.avalon.params import AvalonParams
from worlds.avalon.roles import Role, deal, evil_count, fails_required, night_knowledge, quest_size
from worlds.avalon.world import AvalonWorld, Phase

SEATS = {n: [f"p{i}" for i in range(n)] for n in range(5, 11)}


def new_world(n: int = 5, **params: object) -> AvalonWorld:
    world = AvalonWorld()
    world.reset(SEATS[n], AvalonParams(**{"seating": "fixed", "discussion": False, **params}), stream(1, "w"))
    return world


def team(*seats: str) -> Action:
    return Action(ActionKind.MULTI_CHOICE, list(seats))


def choice(value: str) -> Action:
    return Action(ActionKind.CHOICE, value)


def vote(world: AvalonWorld, approvers: set[str]) -> None:
    world.step({p: choice("approve" if p in approvers else "reject") for p in world.players})


def propose(world: AvalonWorld, *seats: str) -> None:
    world.step({world.to_act()[0]: team(*seats)})


def play_quest(world: AvalonWorld, fails: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    world.step({p: choice("fail" if p in fails else "success") for p in world.to_act()})


def test_1_evil_count_by_player_count() -> None:
    assert [evil_count(n) for n in range(5, 11)] == [2, 2, 3, 3, 3, 4]
    for n in range(5, 11):
        roles = deal([Role.MERLIN, Role.ASSASSIN], n)
        assert sum(r.side.value == "good" for r in roles) == n - evil_count(n)
    for n in (4, 11):
        with pytest.raises(ValueError, match="5-10 players"):
            evil_count(n)


def test_2_quest_sizes() -> None:
    table = {n: [quest_size(n, q) for q in range(5)] for n in range(5, 11)}
    assert table[5] == [2, 3, 2, 3, 3]
    assert table[6] == [2, 3, 4, 3, 4]
    assert table[7] == [2, 3, 3, 4, 4]
    assert table[8] == table[9] == table[10] == [3, 4, 4, 5, 5]


def test_3_fails_required() -> None:
    for n in range(5, 11):
        assert [fails_required(n, q) for q in range(5)] == ([1, 1, 1, 2, 1] if n >= 7 else [1] * 5)


def _to_quest_4(world: AvalonWorld, members: list[str], fourth: list[str]) -> None:
    """Three quests go success, fail, success (all approved), then quest 4's team is approved."""
    size = world.sizes
    for q, fail in enumerate([False, True, False]):
        picked = members[: size[q]] if not fail else ["p1", *members[: size[q] - 1]]  # p1 is the assassin
        propose(world, *picked)
        vote(world, set(world.players))
        play_quest(world, {"p1"} if fail else set())
    propose(world, *fourth)
    vote(world, set(world.players))


def test_3_one_fail_on_quest_4_succeeds_at_7_and_fails_at_6() -> None:
    seven = new_world(7)  # fixed: p0 Merlin, p1 Assassin, p2-p4 servants, p5-p6 minions
    _to_quest_4(seven, ["p0", "p2", "p3", "p4"], ["p1", "p5", "p2", "p3"])
    assert seven.phase is Phase.QUEST and seven.team == ("p1", "p2", "p3", "p5")
    play_quest(seven, {"p1"})
    assert seven.results[-1].success and seven.results[-1].fails == 1
    assert seven.phase is Phase.CONFER  # three successes: the assassination comes next

    six = new_world(6)  # p0 Merlin, p1 Assassin, p2-p4 servants, p5 minion
    _to_quest_4(six, ["p0", "p2", "p3", "p4"], ["p1", "p2", "p3"])
    play_quest(six, {"p1"})
    assert not six.results[-1].success
    assert six.is_terminal() is False and six.phase is Phase.PROPOSE  # 2 fails, 2 successes: quest 5


def test_4_proposal_is_exactly_the_team_size_of_distinct_seats_by_the_leader() -> None:
    world = new_world(5)
    assert world.to_act() == ("p0",)
    spec = world.legal_actions("p0")
    assert spec.min_count == spec.max_count == 2
    for bad in (team("p0"), team("p0", "p1", "p2"), team("p1", "p1"), team("p0", "p9")):
        with pytest.raises(IllegalActionError):
            world.step({"p0": bad})
    with pytest.raises(IllegalActionError):
        world.step({"p1": team("p1", "p2")})  # not the leader
    propose(world, "p2", "p3")  # the leader may leave itself out
    assert world.team == ("p2", "p3")


@pytest.mark.parametrize(
    ("n", "approvals", "passes"), [(6, 3, False), (10, 5, False), (6, 4, True), (5, 3, True)]
)
def test_5_strict_majority_and_ties_reject(n: int, approvals: int, passes: bool) -> None:
    for tie_approves in (False, True):
        world = new_world(n, tie_approves=tie_approves)
        propose(world, *world.players[: world.sizes[0]])
        assert world.to_act() == world.players  # everyone votes, the leader too
        vote(world, set(world.players[:approvals]))
        tie = approvals * 2 == n
        assert (world.phase is Phase.QUEST) == (passes or (tie and tie_approves))
        record = world.log[-1]
        assert record.kind == "vote" and record.votes["p0"] == "approve"  # individual votes are public


def test_6_leader_passes_after_every_vote() -> None:
    world = new_world(5)
    leaders = []
    for _ in range(3):
        leaders.append(world.to_act()[0])
        propose(world, "p0", "p1")
        vote(world, set())
    leaders.append(world.to_act()[0])
    propose(world, "p2", "p3")
    vote(world, set(world.players))
    play_quest(world)
    leaders.append(world.to_act()[0])  # approved: the next leader proposes the next quest
    assert leaders == ["p0", "p1", "p2", "p3", "p4"]


def test_7_fifth_rejection_gives_evil_the_win_and_the_counter_resets() -> None:
    world = new_world(5)
    for _ in range(4):
        propose(world, "p2", "p3")
        vote(world, set())
    propose(world, "p2", "p3")
    vote(world, set(world.players))  # approved after four rejections: counter resets
    play_quest(world)
    for _ in range(4):
        propose(world, "p2", "p3", "p4")
        vote(world, set())
    assert not world.is_terminal() and world.rejections == 4
    propose(world, "p2", "p3", "p4")
    vote(world, set())
    assert world.is_terminal() and world.outcome()["winner"] == "evil"
    assert world.outcome()["reason"] == "hammer" and len(world.results) == 1


def test_7_variants_auto_approve_and_forced_team() -> None:
    auto = new_world(5, hammer="auto_approve")
    for _ in range(4):
        propose(auto, "p2", "p3")
        vote(auto, set())
    propose(auto, "p2", "p3")
    vote(auto, set())
    assert auto.phase is Phase.QUEST and auto.log[-1].auto
    forced = new_world(6, forced_after_rejections=3, discussion=True)
    for _ in range(3):
        propose(forced, "p2", "p3")
        while forced.phase is Phase.DISCUSS:
            forced.step({forced.to_act()[0]: Action(ActionKind.TEXT, "hm")})
        vote(forced, set())
    propose(forced, "p2", "p3")
    assert forced.phase is Phase.QUEST and forced.log[-1].forced  # no discussion, no vote


def test_8_good_players_cannot_play_fail() -> None:
    world = new_world(5)
    propose(world, "p0", "p1")  # Merlin and the Assassin
    vote(world, set(world.players))
    assert world.legal_actions("p0").options == ("success",)
    assert world.legal_actions("p1").options == ("success", "fail")
    with pytest.raises(IllegalActionError):
        world.step({"p0": choice("fail"), "p1": choice("fail")})
    play_quest(world, {"p1"})
    assert world.results[-1].fails == 1


def test_9_quest_result_shows_only_the_number_of_fails() -> None:
    world = new_world(7)
    propose(world, "p1", "p5")  # two evil players
    vote(world, set(world.players))
    play_quest(world, {"p5"})
    for viewer in world.players:
        obs = world.observe(viewer)
        record = obs.history[-1]
        assert record.kind == "quest" and record.fails == 1 and not hasattr(record, "cards")
        own = dict(obs.private["cards"]) if obs.private["cards"] else {}
        assert own == ({1: "fail"} if viewer == "p5" else {1: "success"} if viewer == "p1" else {})


def test_10_three_fails_end_the_game_without_assassination() -> None:
    world = new_world(5)
    for q in range(3):
        propose(world, *["p1", "p4", "p2"][: world.sizes[q]])
        vote(world, set(world.players))
        play_quest(world, {"p1"})
    assert world.is_terminal()
    assert world.outcome()["winner"] == "evil" and world.outcome()["reason"] == "quests_failed"
    assert world.assassination is None and len(world.results) == 3


@pytest.mark.parametrize(("target", "winner"), [("p0", "evil"), ("p2", "good"), ("p4", "good")])
def test_11_assassination_after_three_successes(target: str, winner: str) -> None:
    world = new_world(5, evil_confer=False)
    for q in range(3):
        assert world.phase is Phase.PROPOSE
        propose(world, *["p2", "p3", "p0"][: world.sizes[q]])
        vote(world, set(world.players))
        play_quest(world)
    assert world.phase is Phase.ASSASSINATE and world.to_act() == ("p1",)
    assert world.legal_actions("p1").options == ("p0", "p2", "p3", "p4")
    world.step({"p1": choice(target)})  # p4 is the evil minion: a wrong guess all the same
    assert world.is_terminal() and world.outcome()["winner"] == winner
    assert world.returns() == {p: float(world.sides[p].value == winner) for p in world.players}


def test_evil_confer_before_the_assassination() -> None:
    world = new_world(7)
    for q in range(3):
        propose(world, *["p0", "p2", "p3", "p4"][: world.sizes[q]])
        vote(world, set(world.players))
        play_quest(world)
    assert world.phase is Phase.CONFER
    spoken = []
    while world.phase is Phase.CONFER:
        speaker = world.to_act()[0]
        spoken.append(speaker)
        world.step({speaker: Action(ActionKind.TEXT, f"{speaker} thinks p0")})
    assert spoken == ["p5", "p6", "p1"]  # the Assassin last
    assert [r.text for r in world.observe("p1").private["conference"]] == [f"{p} thinks p0" for p in spoken]
    assert "conference" not in world.observe("p0").private


def _deal(roles: list[Role]) -> dict[str, Role]:
    return {f"p{i}": r for i, r in enumerate(roles)}


def test_12_to_14_night_knowledge() -> None:
    roles = _deal(
        [
            Role.MERLIN,
            Role.PERCIVAL,
            Role.SERVANT,
            Role.SERVANT,
            Role.ASSASSIN,
            Role.MORGANA,
            Role.MORDRED,
            Role.OBERON,
            Role.SERVANT,
            Role.SERVANT,
        ]
    )
    assert night_knowledge(roles, "p0") == {
        "p4": "evil",
        "p5": "evil",
        "p7": "evil",
    }  # no Mordred, Oberon seen
    assert night_knowledge(roles, "p1") == {"p0": "merlin_or_morgana", "p5": "merlin_or_morgana"}
    assert night_knowledge(roles, "p2") == {}
    for evil in ("p4", "p5", "p6"):
        assert set(night_knowledge(roles, evil)) == {"p4", "p5", "p6"} - {evil}  # not Oberon
    assert night_knowledge(roles, "p7") == {}
    assert night_knowledge(roles, "p4", evil_sees_roles=True) == {"p5": "morgana", "p6": "mordred"}
    no_morgana = _deal([Role.MERLIN, Role.PERCIVAL, Role.SERVANT, Role.ASSASSIN, Role.MINION])
    assert night_knowledge(no_morgana, "p1") == {"p0": "merlin_or_morgana"}


ROLE_SETS = [
    [Role.MERLIN, Role.ASSASSIN],
    [Role.MERLIN, Role.PERCIVAL, Role.MORGANA, Role.ASSASSIN],
    [Role.MERLIN, Role.PERCIVAL, Role.ASSASSIN, Role.MORDRED],
    [Role.MERLIN, Role.ASSASSIN, Role.OBERON],
    [Role.MERLIN, Role.PERCIVAL, Role.MORGANA, Role.MORDRED, Role.ASSASSIN],
    [Role.MERLIN, Role.PERCIVAL, Role.MORGANA, Role.MORDRED, Role.OBERON, Role.ASSASSIN],
]


@pytest.mark.parametrize("n", range(5, 11))
def test_every_role_knows_exactly_what_the_table_says_at_every_count(n: int) -> None:
    for specials in ROLE_SETS:
        try:
            cards = deal(specials, n)
        except ValueError:
            continue  # too many evil specials for this table (tested below)
        for order in itertools.islice(itertools.permutations(range(n)), 0, 40, 7):
            roles = {f"p{i}": cards[j] for i, j in enumerate(order)}
            evil = {p for p, r in roles.items() if r.side.value == "evil"}
            for p, r in roles.items():
                seen = night_knowledge(roles, p)
                if r is Role.MERLIN:
                    expected = {q for q in evil if roles[q] is not Role.MORDRED}
                elif r is Role.PERCIVAL:
                    expected = {q for q, s in roles.items() if s in (Role.MERLIN, Role.MORGANA)}
                elif r in (Role.SERVANT, Role.OBERON):
                    expected = set()
                else:
                    expected = {q for q in evil if q != p and roles[q] is not Role.OBERON}
                assert set(seen) == expected, (n, p, r)
                assert set(seen.values()) <= {"evil", "merlin_or_morgana"}


def test_15_role_set_validation() -> None:
    with pytest.raises(ValidationError, match="at most once"):
        AvalonParams(roles=["merlin", "merlin", "assassin"])
    with pytest.raises(ValidationError, match="come together"):
        AvalonParams(roles=["merlin"])
    with pytest.raises(ValidationError, match="percival needs merlin"):
        AvalonParams(roles=["percival"])
    with pytest.raises(ValidationError, match="Input should be"):
        AvalonParams(roles=["merlin", "assassin", "lunatic"])
    params = AvalonParams(roles=["merlin", "assassin", "morgana", "mordred"])
    assert AvalonWorld.check_players(params, 5) == "3 evil roles but 5 players have only 2 evil seats"
    assert AvalonWorld.check_players(params, 7) is None
    too_good = AvalonParams(roles=["merlin", "percival", "assassin", "servant", "servant"])
    assert "good roles" in (AvalonWorld.check_players(too_good, 5) or "")
    assert deal([Role.MERLIN, Role.ASSASSIN], 6).count(Role.SERVANT) == 3
    assert AvalonParams(roles=[]).roles == []  # plain Resistance: no Merlin, no assassination


def test_without_assassin_three_successes_win_for_good() -> None:
    world = new_world(5, roles=[])
    for q in range(3):
        propose(world, *world.players[: world.sizes[q]])
        vote(world, set(world.players))
        play_quest(world)
    assert world.is_terminal() and world.outcome()["reason"] == "quests_succeeded"


def test_discussion_order_and_one_speech_each() -> None:
    for order, expected in (
        ("leader_first", ["p0", "p1", "p2", "p3", "p4"]),
        ("after_leader", ["p1", "p2", "p3", "p4", "p0"]),
    ):
        world = new_world(5, discussion=True, discussion_order=order)
        propose(world, "p0", "p1")
        spoken = []
        while world.phase is Phase.DISCUSS:
            speaker = world.to_act()[0]
            spoken.append(speaker)
            world.step({speaker: Action(ActionKind.TEXT, "hello")})
        assert spoken == expected and world.phase is Phase.VOTE


def test_shuffled_seating_is_seeded() -> None:
    deals = set()
    for seed in range(20):
        w1, w2 = AvalonWorld(), AvalonWorld()
        w1.reset(SEATS[6], AvalonParams(), stream(seed, "w"))
        w2.reset(SEATS[6], AvalonParams(), stream(seed, "w"))
        assert w1.roles == w2.roles and w1.leader == w2.leader
        deals.add(tuple(w1.roles.values()))
    assert len(deals) > 5
