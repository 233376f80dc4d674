"""Avalon's declared contract: typed observation parts that also read as mappings, the phase enum,
mixed dynamics, and modules without an import cycle."""

from __future__ import annotations

import ast
import inspect
import json
from pathlib import Path

from agents.scripted.avalon import AvalonNaiveAgent
from sim.rng import stream
from sim.types import Dynamics, dumps
from worlds.avalon.observations import AvalonPrivate, AvalonPublic
from worlds.avalon.params import AvalonParams
from worlds.avalon.records import Phase
from worlds.avalon.roles import Role, Side
from worlds.avalon.world import AvalonWorld

ALWAYS = {
    "players",
    "n_players",
    "role_set",
    "quest_sizes",
    "fails_required",
    "rules",
    "phase",
    "quest",
    "attempt",
    "rejections",
    "leader",
    "team",
    "results",
}
RULES = {"hammer", "forced_after_rejections", "tie_approves", "discussion", "evil_confer"}


def test_the_spec_declares_phases_observation_types_and_mixed_dynamics() -> None:
    spec = AvalonWorld.spec
    assert spec.phases is Phase and spec.public_type is AvalonPublic and spec.private_type is AvalonPrivate
    assert spec.dynamics is Dynamics.MIXED


def test_observations_are_typed_read_as_mappings_and_keep_their_json_keys() -> None:
    params = AvalonParams(roles=["merlin", "percival", "morgana", "assassin"])
    phases = set()
    for seed in range(6):
        world = AvalonWorld()
        world.reset([f"p{i}" for i in range(6)], params, stream(seed, "w"))
        bots = {p: AvalonNaiveAgent() for p in world.players}
        for p, bot in bots.items():
            bot.reset(p, AvalonWorld.spec, seed)
        while True:
            for p in world.players:
                obs = world.observe(p)
                pub, me = obs.public, obs.private
                assert isinstance(pub, AvalonPublic) and isinstance(me, AvalonPrivate)
                assert type(obs.phase) is Phase and pub.phase is obs.phase is world.phase
                assert isinstance(me.role, Role) and me.side is me.role.side is world.sides[p]
                assert (
                    pub["team"] == pub.team and me["known"] == me.known and pub.get("speaker") == pub.speaker
                )
                talking = obs.phase in (Phase.DISCUSS, Phase.CONFER)
                over = obs.phase is Phase.END
                keys = (
                    ALWAYS
                    | ({"speaker"} if talking else set())
                    | ({"winner", "reason", "roles"} if over else set())
                )
                public_json = json.loads(dumps(pub))
                assert set(pub) == set(public_json) == keys
                assert set(public_json["rules"]) == RULES
                confers = p in world.conferring  # evil but Oberon, with evil_confer
                assert set(json.loads(dumps(me))) == {"role", "side", "known", "cards"} | (
                    {"conference"} if confers else set()
                )
                assert json.loads(dumps(obs))["phase"] == obs.phase.value
                phases.add(obs.phase)
            if world.is_terminal():
                break
            world.step({p: bots[p].decide(world.observe(p)) for p in world.to_act()})
        assert pub.roles == {p: r.value for p, r in world.roles.items()} and pub.winner in set(Side)
    assert phases >= {Phase.PROPOSE, Phase.DISCUSS, Phase.VOTE, Phase.QUEST, Phase.END}


def _imports(path: Path) -> set[str]:
    """Every ``worlds.avalon`` module ``path`` imports anywhere (top level, functions, TYPE_CHECKING)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n.removeprefix("worlds.avalon.") for n in names if n.startswith("worlds.avalon.")}
    return found & {p.stem for p in path.parent.glob("*.py")}


def test_the_avalon_modules_import_each_other_without_a_cycle() -> None:
    package = Path(inspect.getfile(AvalonWorld)).parent
    graph = {p.stem: _imports(p) for p in package.glob("*.py")}
    assert "world" not in graph["metrics"] and "world" in graph  # metrics reads records, not the world
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import cycle: {' -> '.join((*path, module))}"
        if module not in done:
            for imported in graph[module]:
                visit(imported, (*path, module))
            done.add(module)

    for module in graph:
        visit(module, ())
