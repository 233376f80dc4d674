"""One bots-only Among Us game stepped directly on the world (no engine, no store): the bench's bare
reference and the balance test's game."""

from __future__ import annotations

from agents.scripted.among_us import AmongUsBot
from sim.engine import seat_ids
from sim.rng import derive_seed, stream
from worlds.among_us.params import AmongUsParams
from worlds.among_us.world import AmongUsWorld


def bots_game(params: AmongUsParams, n_players: int, seed: int) -> tuple[AmongUsWorld, int]:
    """A game of ``among_us_bot`` in every seat; the world at its end and how many events it made."""
    players = seat_ids(n_players)
    world = AmongUsWorld()
    events = len(world.reset(players, params, stream(seed, "world")))
    bots = {p: AmongUsBot() for p in players}
    for p, bot in bots.items():
        bot.reset(p, AmongUsWorld.spec, derive_seed(seed, p))
    while not world.is_terminal():
        events += len(world.step({p: bots[p].decide(world.observe(p)) for p in world.to_act()}))
    return world, events
