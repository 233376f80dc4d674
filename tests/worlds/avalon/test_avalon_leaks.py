"""Hidden information in Avalon stays hidden: roles, night knowledge and quest cards.

Three kinds of proof: (1) over many seeded bot games, no observation or prompt (the world's text
and every ReCon stage template) names another seat's role unless the rules reveal it; (2)
non-interference: swapping the roles of two seats a viewer cannot tell apart leaves that viewer's
every observation and prompt identical for the whole game; (3) permuting who played the fail
cards on a quest changes nobody's view but the card players' own private records.
"""

from __future__ import annotations

import itertools
import random

import pytest

from agents.reasoning.recon import ReConAgent, ReConConfig
from agents.scripted.avalon import AvalonNaiveAgent
from sim.llm.settings import ModelSettings
from sim.rng import stream
from sim.types import Action, ActionKind, Observation, dumps
from worlds.avalon.params import AvalonParams
from worlds.avalon.roles import TITLES, Role
from worlds.avalon.world import AvalonWorld, Phase

STAGES = ("belief", "act", "formulate", "second_order", "refine")
ROLE_SETS = [
    ["merlin", "assassin"],
    ["merlin", "percival", "morgana", "assassin"],
    ["merlin", "percival", "morgana", "mordred", "assassin"],
    ["merlin", "percival", "morgana", "mordred", "oberon", "assassin"],
]


def prompt_texts(obs: Observation) -> str:
    """Everything a ReCon seat would send for this observation, at every stage."""
    agent = ReConAgent(ReConConfig(model=ModelSettings(model="openai/none")))
    agent.reset(obs.player, AvalonWorld.spec, 0)
    legal = obs.legal  # None when it is not this seat's turn
    model_draft = {"think": "draft", **({"speak": "hi"} if legal and legal.kind is ActionKind.TEXT else {})}
    from agents.llm import parsing

    draft = None
    if legal is not None:
        value = {"choice": obs.legal.fallback, "choices": obs.legal.fallback}
        fields = parsing.staged_answer_model(obs.legal).model_fields
        draft = parsing.staged_answer_model(obs.legal).model_validate(
            {**model_draft, **{k: value[k] for k in fields if k in value}}
        )
    context = agent.prompts(obs, draft=draft, analysis="analysis")
    context["schema"] = "{}"
    return "\n".join(m["content"] for s in STAGES for m in agent.messages(s, context))


def view(world: AvalonWorld, player: str, with_prompts: bool = True) -> str:
    obs = world.observe(player)
    obs = obs.with_text(world.render(obs))
    return dumps(obs) + obs.text + (prompt_texts(obs) if with_prompts else "")


def role_leaks(world: AvalonWorld, viewer: str, blob: str) -> list[str]:
    """Statements of another seat's role in the forms the world and prompts could use."""
    known = world.observe(viewer).private["known"]
    found = []
    for seat, role in world.roles.items():
        if seat == viewer or known.get(seat) == role.value:
            continue
        for form in (f"{seat} ({TITLES[role]})", f'"{seat}": "{role.value}"', f"{seat} {TITLES[role]}"):
            if form in blob:
                found.append(form)
    return found


def bot_chooser(world: AvalonWorld):  # type: ignore[no-untyped-def]
    bots = {p: AvalonNaiveAgent() for p in world.players}
    for p, bot in bots.items():
        bot.reset(p, AvalonWorld.spec, int(p[1:]))
    return lambda w, player, spec: bots[player].decide(w.observe(player))


@pytest.mark.parametrize("n", range(5, 11))
def test_no_observation_or_prompt_names_a_hidden_role(n: int) -> None:
    games = 0
    for roles, seed in itertools.product(ROLE_SETS, range(3 if n < 8 else 1)):
        params = AvalonParams(roles=roles)
        if AvalonWorld.check_players(params, n):
            continue
        world = AvalonWorld()
        world.reset([f"p{i}" for i in range(n)], params, stream(seed, "w"))
        choose = bot_chooser(world)
        while not world.is_terminal():
            for viewer in world.players:
                blob = view(world, viewer, with_prompts=world.steps % 10 == 0 or viewer in world.to_act())
                assert not role_leaks(world, viewer, blob), (viewer, role_leaks(world, viewer, blob))
            world.step({p: choose(world, p, world.legal_actions(p)) for p in world.to_act()})
        games += 1
        # positive control: the same check fires once the rules reveal every role
        assert all(role_leaks(world, v, view(world, v)) for v in world.players)
    assert games >= 3


def _indistinguishable_pairs(cards: list[Role], viewer: int) -> list[tuple[int, int]]:
    world = AvalonWorld()
    params = AvalonParams(roles=[r.value for r in cards], seating="fixed")  # type: ignore[misc]
    world.reset([f"p{i}" for i in range(len(cards))], params, stream(0, "w"))
    known = world.observe(f"p{viewer}").private["known"]
    pairs = []
    for a, b in itertools.combinations([i for i in range(len(cards)) if i != viewer], 2):
        if cards[a] != cards[b] and known.get(f"p{a}") == known.get(f"p{b}"):
            pairs.append((a, b))
    return pairs


def _success_chooser(seed: int):  # type: ignore[no-untyped-def]
    """Random legal play that always plays success on quests (legal for every role)."""
    rng = random.Random(seed)

    def choose(world, player, spec):  # type: ignore[no-untyped-def]
        if world.phase is Phase.QUEST:
            return Action(ActionKind.CHOICE, "success")
        if spec.kind is ActionKind.MULTI_CHOICE:
            return Action(spec.kind, rng.sample(list(spec.options), spec.min_count))
        if spec.kind is ActionKind.TEXT:
            return Action(spec.kind, f"speech {rng.random():.3f}")
        return Action(spec.kind, rng.choice(spec.options))

    return choose


@pytest.mark.parametrize("n", range(5, 11))
def test_swapping_roles_a_viewer_cannot_tell_apart_changes_nothing_it_sees(n: int) -> None:
    from worlds.avalon.roles import deal

    checked = 0
    for specials in ROLE_SETS:
        try:
            cards = deal([Role(r) for r in specials], n)
        except ValueError:
            continue
        for viewer in sorted({cards.index(r) for r in cards}):  # one viewer of each role
            for a, b in _indistinguishable_pairs(cards, viewer)[:2]:
                swapped = list(cards)
                swapped[a], swapped[b] = swapped[b], swapped[a]
                worlds = []
                for deck in (cards, swapped):
                    w = AvalonWorld()
                    params = AvalonParams(roles=[r.value for r in deck], seating="fixed", evil_confer=False)  # type: ignore[misc]
                    w.reset([f"p{i}" for i in range(n)], params, stream(0, "w"))
                    worlds.append(w)
                chooser = _success_chooser(viewer * 100 + a * 10 + b)
                me = f"p{viewer}"
                while worlds[0].phase not in (Phase.ASSASSINATE, Phase.END):  # the Assassin acts openly
                    assert view(worlds[0], me, False) == view(worlds[1], me, False)
                    actions = {
                        p: chooser(worlds[0], p, worlds[0].legal_actions(p)) for p in worlds[0].to_act()
                    }
                    for w in worlds:
                        w.step(actions)
                assert worlds[1].phase is worlds[0].phase
                checked += 1
    assert checked > 0


def _replayed(n: int, params: AvalonParams, seed: int, steps: list[dict]) -> AvalonWorld:
    world = AvalonWorld()
    world.reset([f"p{i}" for i in range(n)], params, stream(seed, "w"))
    for actions in steps:
        world.step(actions)
    return world


def test_who_played_the_fail_cards_is_seen_by_nobody_else() -> None:
    permuted = 0
    for seed in range(40):
        n = 7 + seed % 4
        params = AvalonParams(roles=["merlin", "assassin", "morgana"])
        world = _replayed(n, params, seed, [])
        choose = bot_chooser(world)
        steps: list[dict] = []
        while not world.is_terminal():
            evil = [p for p in world.team if world.sides[p].value == "evil"]
            if world.phase is Phase.QUEST and len(evil) >= 2:
                cards = {p: ("fail" if p == evil[0] else "success") for p in world.team}
                other = {**cards, evil[0]: "success", evil[1]: "fail"}
                a, b = (_replayed(n, params, seed, steps) for _ in range(2))
                a.step({p: Action(ActionKind.CHOICE, c) for p, c in cards.items()})
                b.step({p: Action(ActionKind.CHOICE, c) for p, c in other.items()})
                for viewer in world.players:
                    oa, ob = a.observe(viewer), b.observe(viewer)
                    if viewer in evil[:2]:
                        assert dumps(oa.public) == dumps(ob.public)
                        assert dumps(oa.history) == dumps(ob.history)
                        assert oa.private["cards"] != ob.private["cards"]
                    else:
                        assert view(a, viewer, False) == view(b, viewer, False)
                permuted += 1
            actions = {p: choose(world, p, world.legal_actions(p)) for p in world.to_act()}
            steps.append(actions)
            world.step(actions)
    assert permuted > 5
