"""``AvalonWorld.permute_secrets``: swapping the roles of two seats a viewer cannot tell apart gives a
world dealt exactly that way, which the viewer cannot tell from the original until the endgame.

The endgame (the evil conference and the assassination) names the conferring evil seats and the
Assassin to the table by the rules, and the end reveals every role; the comparison stops there.
"""

from __future__ import annotations

import itertools
import random

import pytest

from agents.scripted.avalon import AvalonNaiveAgent
from sim.rng import stream
from sim.types import Action, ActionKind, Event, dumps
from worlds.avalon.params import AvalonParams
from worlds.avalon.records import SUCCESS, Phase
from worlds.avalon.roles import Role
from worlds.avalon.rules import indistinguishable_pairs
from worlds.avalon.world import AvalonWorld

ROLE_SETS = [
    {"roles": ["merlin", "assassin"]},
    {"roles": ["merlin", "percival", "morgana", "assassin"]},
    {"roles": ["merlin", "percival", "morgana", "mordred", "assassin"], "evil_sees_roles": True},
    {"roles": ["merlin", "percival", "morgana", "mordred", "oberon", "assassin"]},
]
ENDGAME = (Phase.CONFER, Phase.ASSASSINATE, Phase.END)


def seats(n: int) -> list[str]:
    return [f"p{i}" for i in range(n)]


def dealt(n: int, params: AvalonParams, seed: int) -> tuple[AvalonWorld, list[Event]]:
    world = AvalonWorld()
    events = world.reset(seats(n), params, stream(seed, "w"))
    return world, events


def as_if_dealt(world: AvalonWorld) -> tuple[AvalonWorld, list[Event]]:
    """A fresh world whose deal is ``world``'s roles in seat order, with the same first leader."""
    full = [world.roles[p].value for p in world.players]
    setting = world.params.model_dump(mode="json")
    params = AvalonParams.model_validate(
        {**setting, "roles": full, "seating": "fixed", "first_leader": world.leader}
    )
    fresh = AvalonWorld()
    events = fresh.reset(list(world.players), params, stream(0, "unused"))
    return fresh, events


def seen(world: AvalonWorld, viewer: str) -> str:
    obs = world.observe(viewer)
    return dumps(obs) + world.render(obs)


def visible(events: list[Event], viewer: str) -> str:
    return dumps([e for e in events if e.visible(viewer)])


def play_side_by_side(original: AvalonWorld, permuted: AvalonWorld, viewer: str, seed: int) -> int:
    """Play both worlds with the same actions; the viewer's observations, text and visible events must
    match at every step before the endgame. Returns the steps compared."""
    bots = {}
    for name in ("original", "permuted"):
        bots[name] = AvalonNaiveAgent()
        bots[name].reset(viewer, AvalonWorld.spec, seed)
    rng = random.Random(seed)
    steps = 0
    while original.phase not in ENDGAME:
        assert permuted.phase is original.phase
        mine = original.observe(viewer), permuted.observe(viewer)
        assert mine[0] == mine[1]  # every field (so the JSON too), the history's records included
        assert original.render(mine[0]) == permuted.render(mine[1])
        actions = {}
        for p in original.to_act():
            spec = original.legal_actions(p)
            assert spec is not None
            if p == viewer:
                actions[p] = bots["original"].decide(original.observe(p))
                assert bots["permuted"].decide(permuted.observe(p)) == actions[p]
            elif spec.kind is ActionKind.MULTI_CHOICE:
                actions[p] = Action(spec.kind, rng.sample(list(spec.options), spec.min_count))
            elif spec.kind is ActionKind.TEXT:
                actions[p] = Action(spec.kind, f"speech {rng.random():.3f}")
            elif original.phase is Phase.QUEST:
                actions[p] = Action(spec.kind, SUCCESS)  # legal for either side, in both worlds
            else:
                actions[p] = Action(spec.kind, rng.choice(spec.options))
        events = [
            [e for e in w.step(actions) if e.kind != "end"] for w in (original, permuted)
        ]  # end: reveal
        assert [e for e in events[0] if e.visible(viewer)] == [e for e in events[1] if e.visible(viewer)]
        assert permuted.phase is original.phase
        steps += 1
    return steps


@pytest.mark.parametrize("n", range(5, 11))
def test_a_permuted_deal_looks_the_same_to_the_viewer_until_the_endgame(n: int) -> None:
    permutations = 0
    steps = 0
    for setting, seed in itertools.product(ROLE_SETS, range(2 if n < 8 else 1)):
        params = AvalonParams.model_validate(setting)
        if AvalonWorld.check_players(params, n):
            continue
        deal = dealt(n, params, seed)[0].roles
        for viewer in {role: seat for seat, role in deal.items()}.values():  # one seat of each role
            original, _ = dealt(n, params, seed)
            permuted, _ = dealt(n, params, seed)
            pairs = indistinguishable_pairs(original.deal, viewer)
            if not permuted.permute_secrets(viewer, random.Random(seed)):
                assert not pairs  # nothing to swap: every other seat is told apart or holds the same role
                continue
            permutations += 1
            changed = [p for p in original.players if original.roles[p] is not permuted.roles[p]]
            assert len(changed) == 2 and viewer not in changed and tuple(changed) in pairs
            assert sorted(original.roles.values()) == sorted(permuted.roles.values())

            # exactly as if dealt that way: the same state, every seat's view and the opening events
            fresh, opening = as_if_dealt(permuted)
            assert fresh.snapshot() == permuted.snapshot()
            assert fresh.deal == permuted.deal
            for p in permuted.players:
                assert seen(fresh, p) == seen(permuted, p)
            original_opening = dealt(n, params, seed)[1]
            assert visible(opening[1:], viewer) == visible(original_opening[1:], viewer)  # night
            assert dumps(opening[1]) != dumps(original_opening[1])  # the hidden setup: another deal
            for p in changed:  # positive control: the swapped seats see their new roles
                assert seen(original, p) != seen(permuted, p)

            steps += play_side_by_side(original, permuted, viewer, seed * 100 + int(viewer[1:]))
    assert permutations >= 6 and steps > 20 * permutations


def test_no_indistinguishable_pair_means_no_permutation() -> None:
    world, _ = dealt(5, AvalonParams(roles=["merlin", "assassin"], seating="fixed"), 0)
    # p0 Merlin, p1 Assassin, p2 p3 servants, p4 minion: Merlin tells the evil seats from the servants,
    # and the two evil seats (tagged alike) hold different roles
    assert indistinguishable_pairs(world.deal, "p0") == [("p1", "p4")]
    plain = AvalonParams(roles=[], seating="fixed")  # p0-p2 servants, p3 p4 minions
    for viewer in seats(5):
        world, _ = dealt(5, plain, 0)
        evil = world.sides[viewer].value == "evil"
        assert world.permute_secrets(viewer, random.Random(0)) is not evil  # evil knows every seat
    minion, _ = dealt(5, plain, 0)
    before = minion.snapshot()
    assert not minion.permute_secrets("p3", random.Random(0)) and minion.snapshot() == before


def test_permute_secrets_is_only_for_a_fresh_world() -> None:
    world, _ = dealt(5, AvalonParams(roles=["merlin", "assassin"]), 1)
    world.step({world.to_act()[0]: Action(ActionKind.MULTI_CHOICE, list(world.players[:2]))})
    with pytest.raises(RuntimeError, match="fresh from reset"):
        world.permute_secrets("p0", random.Random(0))


def test_merlin_morgana_swap_keeps_percival_in_the_dark() -> None:
    params = AvalonParams(roles=["merlin", "percival", "morgana", "assassin"], seating="fixed")
    world, _ = dealt(6, params, 0)  # p0 Merlin, p1 Percival, p2 Morgana, p3 Assassin, p4 p5 servants
    candidates = indistinguishable_pairs(world.deal, "p1")
    assert ("p0", "p2") in candidates and all(a != "p1" and b != "p1" for a, b in candidates)
    for seed in range(20):
        w, _ = dealt(6, params, 0)
        assert w.permute_secrets("p1", random.Random(seed))
        if w.roles["p0"] is Role.MORGANA:
            assert w.roles["p2"] is Role.MERLIN
            assert dict(w.known["p0"]) == {"p3": "evil"}  # Morgana now sees her partner
            assert dict(w.known["p2"]) == {"p0": "evil", "p3": "evil"}  # Merlin sees Morgana and Assassin
            assert w.known["p1"] == world.known["p1"]
            assert w.conferring == ("p0", "p3")
            return
    pytest.fail("no seed swapped Merlin and Morgana")
