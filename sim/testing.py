"""Helpers for testing worlds and agents: drive a world directly, or play an episode in memory."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel

from sim.agent import Agent
from sim.engine import EpisodeResult, EventSink, play_episode, seat_ids
from sim.rng import stream
from sim.settings import EngineSettings
from sim.types import Action, ActionSpec, Event, PlayerId
from sim.world import World

ActionChooser = Callable[[World, PlayerId, ActionSpec | None], Action]


def example_params(world_cls: type[World]) -> list[BaseModel]:
    """The world's declared example parameter sets (``examples``), or its defaults."""
    return [world_cls.spec.params_model.model_validate(e) for e in world_cls.examples]


def drive(
    world: World,
    params: BaseModel,
    n_players: int,
    seed: int,
    choose: ActionChooser,
    on_turn: Callable[[World], None] | None = None,
) -> list[Event]:
    """Play the world directly (no engine) with ``choose`` picking each action; returns all events."""
    events = world.reset(seat_ids(n_players), params, stream(seed, "world"))
    for _ in range(type(world).spec.max_turns):
        if on_turn is not None:
            on_turn(world)
        actors = world.to_act()
        if not actors:
            break
        events += world.step({p: choose(world, p, world.legal_actions(p)) for p in actors})
    return events


def play(
    world_cls: type[World],
    params: BaseModel,
    agents: Mapping[PlayerId, Agent],
    seed: int = 0,
    settings: EngineSettings | None = None,
    llm: Any = None,
) -> tuple[EpisodeResult, list[Event], World]:
    """Play one episode through the engine without a store; returns the result, the events and the world.

    ``llm`` is an :class:`sim.llm.client.LLMClient` for LLM seats (default: one with no cache or recorder).
    """
    if llm is None:
        from sim.llm.client import LLMClient

        llm = LLMClient()
    world = world_cls()
    sink = EventSink(None, None, keep=True)
    result = asyncio.run(
        play_episode(
            world, params, agents, seed=seed, settings=settings or EngineSettings(), sink=sink, llm=llm
        )
    )
    assert sink.kept is not None
    return result, sink.kept, world


def random_chooser(seed: int) -> ActionChooser:
    """A chooser that samples uniformly random legal actions from its own RNG."""
    rng = random.Random(seed)

    def choose(world: World, player: PlayerId, spec: ActionSpec | None) -> Action:
        if spec is None:
            raise AssertionError(f"{player} is to act but has no legal actions")
        return spec.sample(rng)

    return choose
