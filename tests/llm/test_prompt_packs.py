"""Prompt packs: every registered pack renders for its world, the LLM agent asks the pack (no world
branch), styles a pack does not offer are scenario problems, the test server reads schema-less
prompts through the packs, and the repeated world's text and its LLM prompt share one template."""

from __future__ import annotations

import http.client
import json
import random
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import pytest

import sim.prompts
from agents.reasoning.recon import ReConAgent, ReConConfig
from sim import registry
from sim.llm.settings import ModelSettings
from sim.llm.testserver import DEFAULT_REPLY, TestServer
from sim.prompts import PromptPack, PromptSettings, prompt_pack
from sim.rng import stream
from sim.runner import run_scenario
from sim.scenario import ScenarioError, validate_scenario
from sim.types import Action, ActionKind, ActionSpec, Observation
from worlds.avalon.prompt_pack import AvalonPromptPack
from worlds.repeated.params import RepeatedParams
from worlds.repeated.prompt_pack import RepeatedPromptPack
from worlds.repeated.world import RepeatedGameWorld

ROOT = Path(__file__).resolve().parents[2]
REPEATED = RepeatedGameWorld.spec.id


def first_observation(world_id: str, seed: int = 3) -> Observation:
    """A real observation of a seat that is to act, in the world's default game, with its text."""
    world = registry.world_entry(world_id).load()()
    spec = world.spec
    players = [f"p{i}" for i in range(max(spec.min_players, min(5, spec.max_players)))]
    world.reset(players, spec.params_model(), stream(seed))
    obs = world.observe(world.to_act()[0])
    return obs.with_text(world.render(obs))


class RecordingLoader(jinja2.BaseLoader):
    """A loader that remembers every template name it was asked for."""

    def __init__(self, inner: jinja2.BaseLoader) -> None:
        self.inner, self.names = inner, set[str]()

    def get_source(self, environment: jinja2.Environment, template: str) -> Any:
        self.names.add(template)
        return self.inner.get_source(environment, template)


def fresh_recording_pack(pack: PromptPack) -> tuple[PromptPack, RecordingLoader]:
    """A new instance of the pack's class with its own template environment, recording loads."""
    fresh = type(f"Fresh{type(pack).__name__}", (type(pack),), {})()
    env = fresh.environment()
    assert env.loader is not None
    recorder = RecordingLoader(env.loader)
    env.loader = recorder
    return fresh, recorder


def render_recon_stages(pack: PromptPack, obs: Observation) -> list[str]:
    """Every ReCon stage and the judge, rendered through ``pack`` for ``obs``."""
    agent = ReConAgent(ReConConfig(model=ModelSettings(model="openai/none")))
    agent.reset(obs.player, registry.world_entry("social/avalon-v1").load().spec, 0)
    agent.pack = pack
    context = {**agent.prompts(obs, analysis="analysis"), "schema": "{}"}
    texts = [
        m["content"]
        for s in ("belief", "act", "formulate", "second_order", "refine")
        for m in agent.messages(s, context)
    ]
    texts.append(
        pack.render(
            "judge.j2", role="Merlin", side="good", status=obs.text, speech="I trust p1.", answer_format="{}"
        )
    )
    return texts


def render_repeated_extras(pack: PromptPack, obs: Observation) -> list[str]:
    """The world's text and the re-ask after an invalid answer."""
    assert isinstance(pack, RepeatedPromptPack)
    prompt = pack.act_prompt(pack.decision(obs, PromptSettings("akata"), random.Random(0)))
    assert prompt.correction is not None
    return [pack.world_text(obs), prompt.correction("'Z' is not an option")]


def render_among_us_phases(pack: PromptPack, obs: Observation) -> list[str]:
    """The speech, vote and survey prompts, for the seat's observation in those phases."""
    others = tuple(p for p in obs.public.players if p != obs.player)
    legal = {
        "discuss": ActionSpec(ActionKind.TEXT, max_chars=500, fallback=""),
        "vote": ActionSpec(ActionKind.CHOICE, (*others, "skip"), fallback="skip"),
        "survey": ActionSpec(ActionKind.CHOICE, (*others, "skip"), fallback="skip"),
    }
    settings = PromptSettings("json")
    asked = [obs._replace(phase=phase, legal=spec) for phase, spec in legal.items()]
    return [pack.act_prompt(pack.decision(o, settings, random.Random(0))).text for o in asked]


def render_characterbox_phases(pack: PromptPack, obs: Observation) -> list[str]:
    """A character's BDI and reaction, and the narrator's influence, verdict and summary prompts, played
    through one round of the default scene (every character acts; the first action affects the next)."""
    from worlds.characterbox.prompt_pack import CharacterBoxPromptPack

    assert isinstance(pack, CharacterBoxPromptPack)
    world = registry.world_entry("roleplay/characterbox-v1").load()()
    world.reset([f"p{i}" for i in range(5)], world.spec.params_model(), stream(3))
    settings = PromptSettings("json")
    texts = [pack.bdi_prompt(pack.decision(obs, settings, random.Random(0))).text]
    answers = {
        "act": {"action": "waits", "speech": "", "leave": False},
        "react": {"action": "steps back", "speech": "Careful.", "leave": False},
        "rule": {"outcome": "Nothing changes.", "changes": [], "perceived_by": []},
        "summary": "A quiet round.",
    }
    while world.phase != "end" and world.round == 1:
        (seat,) = world.to_act()
        seen = world.observe(seat)
        texts.append(pack.act_prompt(pack.decision(seen, settings, random.Random(0))).text)
        if seen.phase == "influence":  # the first character not yet acted, so that it reacts
            free = [p.name for p in seen.public.present if p.name not in seen.private.acted]
            value: Any = {"target": free[0] if free else None, "impact": "a push"}
        else:
            value = answers[str(seen.phase)]
        world.step({seat: Action(seen.legal.kind, value)})
    return texts


#: The templates of a pack beyond the LLM agent's prompts, rendered as their users render them.
EXTRA_RENDERS: dict[str, Callable[[PromptPack, Observation], list[str]]] = {
    "social/avalon-v1": render_recon_stages,
    REPEATED: render_repeated_extras,
    "social/among_us-v1": render_among_us_phases,
    "roleplay/characterbox-v1": render_characterbox_phases,
}


@pytest.mark.parametrize("world_id", sorted(registry.prompt_packs()))
def test_every_registered_pack_renders_each_of_its_templates_for_a_real_observation(world_id: str) -> None:
    pack, recorder = fresh_recording_pack(prompt_pack(world_id))
    obs = first_observation(world_id)
    assert obs.legal is not None
    texts = []
    for style in pack.styles:
        decision = pack.decision(obs, PromptSettings(style), random.Random(0))
        texts.append(pack.act_prompt(decision).text)
        if pack.scot:
            texts.append(pack.predict_prompt(decision).text)
            texts.append(pack.act_prompt(decision, prediction=obs.legal.options[0]).text)
    assert world_id in EXTRA_RENDERS, f"render {world_id}'s other templates here"
    texts += EXTRA_RENDERS[world_id](pack, obs)
    assert all(text.strip() for text in texts)
    assert all(option in texts[0] for option in obs.legal.options)
    assert set(pack.template_names()) <= recorder.names, "a template of the pack was never rendered"
    assert len(pack.template_names()) >= 5


def test_the_registered_packs_and_the_generic_fallback() -> None:
    assert isinstance(prompt_pack(REPEATED), RepeatedPromptPack)
    assert isinstance(prompt_pack("social/avalon-v1"), AvalonPromptPack)
    generic = prompt_pack("toy/colours-v1")
    assert type(generic) is PromptPack and generic.styles == ("json",) and not generic.scot
    assert generic.from_text and generic.purpose("toy/colours-v1", "act") == "toy/colours-v1.act"
    assert prompt_pack(REPEATED).purpose(REPEATED, "scot.predict") == "repeated.scot.predict"


def test_a_registered_target_that_is_not_a_pack_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        registry, "prompt_packs", lambda: {"toy/odd-v1": registry.Entry("toy/odd-v1", "json:dumps")}
    )
    with pytest.raises(registry.RegistryError, match=r"not a sim\.prompts\.PromptPack subclass"):
        prompt_pack("toy/odd-v1")


# --------------------------------------------------------------------------------- the LLM agent


def test_the_llm_agent_source_names_no_world() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "agents/llm").glob("*.py"))
    for world_id in registry.worlds():
        assert world_id not in source
    assert "REPEATED" not in source and "AVALON" not in source


def test_a_world_without_a_pack_gets_the_generic_prompt_over_http(tmp_path: Path) -> None:
    with TestServer("first_option") as server:
        model = {"model": "openai/stub", "api_base": server.openai_base, "cache": "off", "backoff": 0.0}
        data = {
            "name": "toy",
            "world": "toy_world:ColourWorld",
            "params": {"rounds": 2},
            "seats": [{"agent": "llm", "config": {"model": model}}],
            "db": str(tmp_path / "toy.db"),
        }
        summary = run_scenario(validate_scenario(data, "toy.yaml"))
        requests = server.requests
    with sqlite3.connect(summary.db) as conn:
        calls = conn.execute("SELECT purpose, turn, valid, messages FROM llm_calls ORDER BY id").fetchall()
        said = [
            json.loads(p)["colour"] for (p,) in conn.execute("SELECT payload FROM events WHERE kind='said'")
        ]
    assert [(purpose, turn, valid) for purpose, turn, valid, _ in calls] == [
        ("toy/colours-v1.act", 1, 1),
        ("toy/colours-v1.act", 2, 1),
    ]
    prompt = json.loads(calls[1][3])[-1]["content"]
    assert prompt.startswith("Round 2 of the colour game. You said: teal. Name a colour.")
    assert 'like this example:\n{"choice": "teal"}\n' in prompt  # an example answer, not the schema
    assert prompt.endswith('- "choice": one of "teal", "amber", "plum"')
    assert said == ["teal", "teal"]  # the first enum value of the schema sent as response_format
    assert requests[0].schema is not None and requests[0].schema["properties"]["choice"]["enum"][0] == "teal"


def _llm_seat(**config: Any) -> dict[str, Any]:
    return {"agent": "llm", "config": {"model": {"model": "openai/stub"}, **config}}


@pytest.mark.parametrize(
    ("world", "config", "key", "message"),
    [
        (
            "social/avalon-v1",
            {"prompt": "akata"},
            "seats[0].config.prompt",
            "offers the prompt styles json, not 'akata'",
        ),
        ("social/avalon-v1", {"scot": True}, "seats[0].config.scot", "offers no social chain-of-thought"),
        (
            "toy_world:ColourWorld",
            {"prompt": "akata"},
            "seats[0].config.prompt",
            "toy/colours-v1 offers the prompt",
        ),
    ],
)
def test_check_config_rejects_what_the_worlds_pack_does_not_offer(
    world: str, config: dict[str, Any], key: str, message: str
) -> None:
    avalon = world == "social/avalon-v1"
    others = [{"agent": "avalon_naive"}] * 4 if avalon else []
    params = {"roles": ["merlin", "assassin"]} if avalon else {}
    data = {"name": "x", "world": world, "params": params, "seats": [_llm_seat(**config), *others]}
    with pytest.raises(ScenarioError) as raised:
        validate_scenario(data, "x.yaml")
    assert [(k, m) for k, m in raised.value.problems if k == key and message in m], raised.value.problems
    data["seats"] = [_llm_seat(), *others]
    validate_scenario(data, "x.yaml")  # the pack's default style


def test_repeated_games_accept_every_style_and_scot() -> None:
    for config in ({"prompt": "akata"}, {"prompt": "json", "scot": True}, {}):
        data = {"name": "x", "world": REPEATED, "seats": [_llm_seat(**config), {"agent": "defector"}]}
        validate_scenario(data, "x.yaml")


# ------------------------------------------------------------------------------------ test server


def _played(rounds: list[tuple[str, str]], **params: Any) -> RepeatedGameWorld:
    world = RepeatedGameWorld()
    world.reset(["p0", "p1"], RepeatedParams(**params), stream(1))
    for a, b in rounds:
        world.step({"p0": Action(ActionKind.CHOICE, a), "p1": Action(ActionKind.CHOICE, b)})
    return world


def _ask(server: TestServer, content: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        body = {"model": "stub", "messages": [{"role": "user", "content": content}]}
        conn.request("POST", "/v1/chat/completions", json.dumps(body))
        return str(json.loads(conn.getresponse().read())["choices"][0]["message"]["content"])
    finally:
        conn.close()


@pytest.mark.parametrize("framing", ["game", "cooking"])
def test_the_test_server_reads_an_akata_prompt_through_the_pack(
    framing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pack = RepeatedPromptPack()
    obs = _played([("C", "D"), ("D", "C"), ("C", "D")]).observe("p0")
    decision = pack.decision(obs, PromptSettings("akata", framing=framing), random.Random(5))
    prompt = pack.act_prompt(decision).text
    assert pack.read_options(prompt) == decision.context["order"]
    assert pack.read_last_other_move(prompt) == "D"
    with TestServer("tit_for_tat") as server:
        assert _ask(server, prompt) == "D"  # the other player's last move, read by the pack
        server.set_policy("first_option")
        assert _ask(server, prompt) == decision.context["order"][0]
        monkeypatch.setattr(registry, "prompt_packs", dict)  # no pack registered to read the prose
        assert _ask(server, prompt) == DEFAULT_REPLY
        server.set_policy("tit_for_tat")
        assert _ask(server, prompt) == DEFAULT_REPLY


def test_prose_no_pack_reads_gets_the_default_reply() -> None:
    with TestServer("first_option") as server:
        assert _ask(server, "Pick red or blue, please.") == DEFAULT_REPLY
        assert _ask(server, "Option A or Recipe B?") == DEFAULT_REPLY  # one framing's noun per question


# ------------------------------------------------------------------------- one template, two readers


def _rules(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(("If you choose", "In round", "The rules"))]


def test_the_world_text_is_the_akata_prompt_without_its_answer_cue() -> None:
    world = _played([("C", "D"), ("D", "D")])
    pack = RepeatedPromptPack()
    for seat in ("p0", "p1"):
        obs = world.observe(seat)
        unshuffled = PromptSettings("akata", shuffle_options=False)
        decision = pack.decision(obs, unshuffled, random.Random(0))
        akata = pack.act_prompt(decision).text
        assert akata == world.render(obs) + "\nA: Option"
        json_prompt = pack.act_prompt(
            pack.decision(obs, PromptSettings("json", shuffle_options=False), random.Random(0))
        )
        scot = pack.predict_prompt(decision).text
        assert (
            _rules(world.render(obs)) == _rules(json_prompt.text) == _rules(scot) and len(_rules(scot)) == 7
        )
    rejected = world.render(world.observe("p0").with_feedback("'X' is not an option"))
    assert rejected.endswith(
        "Option C or Option D?\n(Your previous answer was rejected: 'X' is not an option)"
    )


def test_a_change_to_the_template_changes_the_world_text_and_the_prompt_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "prompts"
    shutil.copytree(RepeatedPromptPack.templates, folder)
    text = (folder / "text.j2").read_text()
    assert "The rules of the {{ framing.arena }} are as follows:" in text
    (folder / "text.j2").write_text(
        text.replace("The rules of the {{ framing.arena }} are as follows:", "HOUSE RULES:")
    )
    monkeypatch.setattr(RepeatedPromptPack, "templates", folder)
    monkeypatch.setattr(sim.prompts, "_ENVIRONMENTS", {})
    world = _played([("C", "C")])
    obs = world.observe("p1")
    prompt = prompt_pack(REPEATED).act_prompt(
        prompt_pack(REPEATED).decision(obs, PromptSettings("json"), random.Random(0))
    )
    for text in (world.render(obs), prompt.text):
        assert "HOUSE RULES:" in text and "The rules of the game" not in text
