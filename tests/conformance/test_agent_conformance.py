"""Agent conformance: every registered agent plays a seeded episode of each world it declares, twice, with
identical event logs (parametrised over the agent and world registries).

The agent sits in p0 and ``random_legal`` in the other seats, at the world's ``min_players``, for every
example parameter set that seats that many (agents that wait on I/O, the LLM ones, play the first fitting
example of each world only). The same instances play both episodes, so an agent that carries state
from one episode into the next fails too. LLM agents talk to the local test server (real HTTP, policy
``random_option``, no cache), restarted at request 0 before each episode.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from agents.scripted.random_legal import RandomLegalAgent
from sim import registry
from sim.agent import AgentBase
from sim.engine import seat_ids
from sim.llm.testserver import TestServer
from sim.testing import example_params, play
from sim.types import dumps

SEED = 2024
MODEL = "<the test server>"  # stands for the test server's model settings in the table below


@dataclass(frozen=True)
class ExampleConfig:
    """A config for an agent with required config fields, and the one game it fits (None: every game)."""

    config: dict[str, Any]
    only: tuple[str, int] | None = None  # (world id, example index)


#: Every registered agent with required config fields needs an entry here (a test enforces it).
EXAMPLE_CONFIGS: dict[str, ExampleConfig] = {
    "llm": ExampleConfig({"model": MODEL}),
    "recon": ExampleConfig({"model": MODEL}),
    "avalon_cot": ExampleConfig({"model": MODEL}),
    "among_us_llm": ExampleConfig({"model": MODEL}),
    "characterbox_llm": ExampleConfig({"model": MODEL}),
    # a replay list fits one exact game: ten rounds of the default prisoner's dilemma (example 0)
    "replay": ExampleConfig({"actions": ["C"] * 10}, only=("matrix/repeated-v1", 0)),
}


def _agent_class(name: str) -> type[AgentBase]:
    cls: type[AgentBase] = registry.agent_entry(name).load()
    return cls


def _required_fields(name: str) -> list[str]:
    return [f for f, info in _agent_class(name).Config.model_fields.items() if info.is_required()]


def _cases() -> Iterator[Any]:
    for name in sorted(registry.agents()):
        cls = _agent_class(name)
        fits = EXAMPLE_CONFIGS[name].only if name in EXAMPLE_CONFIGS else None
        for world_id in sorted(registry.worlds()):
            if not cls.plays(world_id):
                continue
            world = registry.world_entry(world_id).load()
            n = world.spec.min_players
            examples = [
                i
                for i, params in enumerate(example_params(world))
                if world.check_players(params, n) is None and fits in (None, (world_id, i))
            ]
            for i in examples[:1] if cls.concurrent else examples:
                yield pytest.param(name, world_id, i, id=f"{name}-{world_id}-ex{i}")


@pytest.fixture(scope="session")
def llm_server() -> Iterator[TestServer]:
    with TestServer("random_option") as server:
        yield server


def _config(name: str, server: TestServer) -> dict[str, Any]:
    if name not in EXAMPLE_CONFIGS:
        return {}
    model = {
        "model": "openai/stub",
        "api_base": server.openai_base,
        "cache": "off",
        "backoff": 0.0,
        "max_tokens": 512,
    }
    return {k: model if v == MODEL else v for k, v in EXAMPLE_CONFIGS[name].config.items()}


def test_every_agent_with_required_config_has_an_example_config() -> None:
    missing = {name: _required_fields(name) for name in registry.agents() if _required_fields(name)}
    missing = {name: fields for name, fields in missing.items() if name not in EXAMPLE_CONFIGS}
    assert not missing, f"add these agents to EXAMPLE_CONFIGS (required config fields): {missing}"
    assert set(EXAMPLE_CONFIGS) <= set(registry.agents()), "EXAMPLE_CONFIGS names an unregistered agent"


@pytest.mark.parametrize(("name", "world_id", "example"), list(_cases()))
def test_agent_plays_the_same_seeded_episode_twice(
    name: str, world_id: str, example: int, llm_server: TestServer
) -> None:
    if _required_fields(name) and name not in EXAMPLE_CONFIGS:
        pytest.fail(
            f"{name} has required config fields {_required_fields(name)} and no EXAMPLE_CONFIGS entry"
        )
    cls = _agent_class(name)
    world = registry.world_entry(world_id).load()
    params = example_params(world)[example]
    seats = seat_ids(world.spec.min_players)
    agents: dict[str, AgentBase] = {
        seats[0]: cls(cls.Config.model_validate(_config(name, llm_server))),
        **{p: RandomLegalAgent() for p in seats[1:]},
    }
    logs, asked = [], []
    for _ in range(2):
        llm_server.reset()
        result, events, played = play(world, params, agents, seed=SEED)
        assert played.is_terminal(), f"{name} did not finish {world_id}"
        assert any(e.actor == seats[0] for e in events) or result.turns > 0
        logs.append([dumps(e) for e in events])
        asked.append(llm_server.count)
    assert logs[0] == logs[1], f"{name} on {world_id} example {example}: the second episode differs"
    assert asked[0] == asked[1]
    if cls.concurrent:
        assert asked[0] > 0, f"{name} never asked the test server"
        assert not result.invalid.get(seats[0]), f"{name} gave invalid answers: {result.invalid}"
