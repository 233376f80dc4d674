"""Hidden information, for every registered world that declares it (parametrised over the registry).

World A and world B are reset identically, then B deals the secrets ``viewer`` cannot know otherwise
(``WorldBase.permute_secrets``). Both are driven with the same actions; the viewer's observation, its
rendered text and the events it may see must be identical in A and B until either game is over or
the two worlds ask different seats to act (who acts is public, so the deals may be told apart from then).
"""

from __future__ import annotations

import random

import pytest

from sim import registry
from sim.engine import seat_ids
from sim.rng import stream
from sim.testing import example_params
from sim.types import Action, ActionKind, ActionSpec, Event, PlayerId, dumps
from sim.world import WorldBase

HIDDEN_INFO_WORLDS = sorted(w for w, e in registry.worlds().items() if e.load().spec.hidden_info)
SEEDS = range(4)


def _common_action(a: ActionSpec | None, b: ActionSpec | None, rng: random.Random) -> Action | None:
    """A random action legal in both worlds, or None when there is none (the comparison then stops)."""
    if a is None or b is None:
        return None
    if a == b:
        return a.sample(rng)
    if a.kind is b.kind is ActionKind.CHOICE:
        common = [o for o in a.options if o in b.options]
        return Action(ActionKind.CHOICE, rng.choice(common)) if common else None
    for _ in range(50):
        action = a.sample(rng)
        if b.check(action) is None:
            return action
    return None


def _seen(events: list[Event], viewer: PlayerId) -> str:
    """The events ``viewer`` may see, without the list of who else sees them."""
    return dumps([(e.turn, e.phase, e.kind, e.actor, e.payload) for e in events if e.visible(viewer)])


def _compare(cls: type[WorldBase], params, n: int, seed: int, viewer: PlayerId) -> tuple[bool, bool]:  # type: ignore[no-untyped-def]
    """Play A and a permuted B side by side; returns (B was permuted, anything differed outside the viewer's
    sight). Asserts that the viewer sees the same game."""
    players = seat_ids(n)
    a, b = cls(), cls()
    a.reset(players, params, stream(seed, "world"))
    b.reset(players, params, stream(seed, "world"))
    if not b.permute_secrets(viewer, random.Random(f"permute-{seed}-{viewer}")):
        return False, False
    chooser = random.Random(seed)
    differed = False
    news_a: list[Event] = []
    news_b: list[Event] = []
    for turn in range(cls.spec.max_turns):
        if a.is_terminal() or b.is_terminal():
            break
        actors = a.to_act()
        if actors != b.to_act():  # who acts is public: from here on the deals may be told apart
            return True, True
        where = f"seed {seed}, viewer {viewer}, step {turn}"
        assert _seen(news_a, viewer) == _seen(news_b, viewer), f"{where}: the events it sees differ"
        seen_a, seen_b = a.observe(viewer), b.observe(viewer)
        assert dumps(seen_a) == dumps(seen_b), f"{where}: the observation depends on a secret"
        assert a.render(seen_a) == b.render(seen_b), f"{where}: the rendered text depends on a secret"
        differed = differed or dumps(a.snapshot()) != dumps(b.snapshot())
        differed = differed or any(dumps(a.observe(p)) != dumps(b.observe(p)) for p in players if p != viewer)
        actions = {p: _common_action(a.legal_actions(p), b.legal_actions(p), chooser) for p in actors}
        if any(action is None for action in actions.values()):
            return True, True
        news_a, news_b = a.step(actions), b.step(actions)
        differed = differed or dumps(news_a) != dumps(news_b)
    return True, differed or a.is_terminal() != b.is_terminal()


@pytest.mark.parametrize("world_id", HIDDEN_INFO_WORLDS)
def test_a_seat_sees_the_same_game_whatever_the_secrets_it_cannot_know(world_id: str) -> None:
    cls = registry.world_entry(world_id).load()
    permuted = differed = 0
    for params in example_params(cls):
        for n in sorted({cls.spec.min_players, cls.spec.max_players}):
            if cls.check_players(params, n) is not None:
                continue
            for seed in SEEDS:
                for viewer in seat_ids(n):
                    was_permuted, did_differ = _compare(cls, params, n, seed, viewer)
                    permuted += was_permuted
                    differed += did_differ
    assert permuted, f"{world_id} declares hidden information but permute_secrets never dealt another secret"
    assert differed, (
        f"{world_id}: permute_secrets returned True but changed nothing that any seat or log shows"
    )
