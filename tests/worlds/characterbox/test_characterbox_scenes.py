"""Scene files and presets of ``roleplay/characterbox-v1``: validation errors that name the file, the key and
the expectation; the original presets; seeded runs; a narrator whose verdict fails the schema falls back to
no change through the engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from agents.scripted.base import ScriptedAgent
from agents.scripted.characterbox import CharacterBoxCharacterBot, CharacterBoxNarratorBot
from sim.engine import seat_ids
from sim.rng import stream
from sim.runner import run_scenario
from sim.scenario import ScenarioError, load_scenario, validate_scenario
from sim.store.reader import StoreReader
from sim.testing import play
from sim.types import Action, ActionKind, Observation, dumps
from tests.test_scenario_errors import assert_clean_failure, run_sim
from tests.worlds.characterbox.helpers import SCENE, scene
from worlds.characterbox.params import CharacterBoxParams
from worlds.characterbox.rubric import Rubric, RubricSpec
from worlds.characterbox.scene import SCENES_DIR, SceneFileError, load_scene
from worlds.characterbox.world import CharacterBoxWorld

ROOT = Path(__file__).parents[3]
PRESETS = sorted((ROOT / "worlds/characterbox/scenarios").glob("*.yaml"))


def _scenario(params: dict[str, Any], seats: int = 5) -> dict[str, Any]:
    lineup = [{"agent": "characterbox_character_bot"}] * (seats - 1)
    return {
        "name": "cb",
        "world": "roleplay/characterbox-v1",
        "params": params,
        "seats": [*lineup, {"agent": "characterbox_narrator_bot", "role": "narrator"}],
    }


def _write(tmp_path: Path, data: Any) -> str:
    path = tmp_path / "scene.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return str(path)


def _with(**changes: Any) -> dict[str, Any]:
    data = scene()
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("data", "key", "expectation"),
    [
        (_with(colour="red"), "colour", "unknown key"),
        (_with(source="a novel"), "source", "'original'"),
        ({k: v for k, v in SCENE.items() if k != "world"}, "world", "required key is missing"),
        (scene(participants=["Ann", "Zed"]), "scenes.0.participants", "'Zed' not declared"),
        (scene(premise={"Dot": "x"}), "scenes.0.premise", "'Dot' not declared"),
        (scene(rounds=0), "scenes.0.rounds", "greater than or equal to 1"),
        (scene(changes=[{"round": 9, "character": "Ann"}]), "scenes.0.changes", "after the last"),
        (scene(changes=[{"round": 1, "character": "Ann", "state": {"hunger": "x"}}]), "changes", "state key"),
        (
            _with(relationships=[{"a": "Ann", "b": "Zed", "type": "friend"}]),
            "relationships",
            "'Zed' is not a declared character",
        ),
    ],
)
def test_a_bad_scene_file_names_the_file_the_key_and_the_expectation(
    tmp_path: Path, data: dict[str, Any], key: str, expectation: str
) -> None:
    path = _write(tmp_path, data)
    with pytest.raises(SceneFileError) as raised:
        load_scene(path)
    message = str(raised.value)
    assert message.startswith(str(Path(path).resolve())) and key in message and expectation in message


def test_duplicate_names_and_mixed_state_types_are_rejected(tmp_path: Path) -> None:
    twice = _with(characters=[SCENE["characters"][0], SCENE["characters"][0]])
    with pytest.raises(SceneFileError, match="characters: names must be unique"):
        load_scene(_write(tmp_path, twice))
    mixed = scene()
    mixed["characters"][1]["state"] = {"mood": True}
    with pytest.raises(
        SceneFileError, match="characters: state key 'mood' is true/false for one character, text"
    ):
        load_scene(_write(tmp_path, mixed))


def test_missing_files_and_bad_yaml_are_errors(tmp_path: Path) -> None:
    with pytest.raises(SceneFileError, match=r"no such scene file.*glasshouse"):
        load_scene("nowhere")
    with pytest.raises(SceneFileError, match="not valid YAML"):
        load_scene(_write(tmp_path, "id: [unclosed"))


def test_the_scenario_loader_reports_scene_errors_with_the_scenario_key(tmp_path: Path) -> None:
    path = _write(tmp_path, scene(participants=["Ann", "Zed"]))
    with pytest.raises(ScenarioError) as raised:
        validate_scenario(_scenario({"scene": path}), "cb.yaml")
    assert "cb.yaml: params" in str(raised.value) and "scenes.0.participants" in str(raised.value)
    inline = scene(participants=["Ann", "Zed"])
    with pytest.raises(
        ScenarioError, match=r"cb\.yaml: params: inline scene: scenes\.0\.participants: 'Zed'"
    ):
        validate_scenario(_scenario({"scene": inline}), "cb.yaml")
    missing = scene()
    del missing["characters"][0]["profile"]
    with pytest.raises(ScenarioError, match=r"inline scene: characters\.0\.profile: required key is missing"):
        validate_scenario(_scenario({"scene": missing}), "cb.yaml")
    with pytest.raises(ScenarioError, match=r"cb\.yaml: params\.scene: expected a scene name"):
        validate_scenario(_scenario({"scene": 5}), "cb.yaml")
    with pytest.raises(ScenarioError, match="needs 5 seats"):
        validate_scenario(_scenario({"scene": scene()}, seats=4), "cb.yaml")


def test_the_presets_are_original_scenes_of_two_to_four_characters_one_with_a_death() -> None:
    assert len(PRESETS) >= 3
    deaths = 0
    for preset in PRESETS:
        loaded = load_scenario(preset)
        assert isinstance(loaded.params, CharacterBoxParams)
        file = loaded.params.scene_file()
        assert file.source == "original" and 2 <= len(file.characters) <= 4
        assert all(2 <= len(s.participants) <= 4 for s in file.scenes)
        deaths += any(c.state.get("alive") is False for s in file.scenes for c in s.changes)
    assert deaths >= 1
    assert {p.stem for p in SCENES_DIR.glob("*.yaml")} >= {"glasshouse", "lighthouse", "market_fire"}


@pytest.mark.parametrize("preset", [p for p in PRESETS if not p.stem.endswith("_llm")], ids=lambda p: p.stem)
def test_each_preset_runs_offline(preset: Path, tmp_path: Path) -> None:
    data = yaml.safe_load(preset.read_text())
    data.update(episodes=1, db=str(tmp_path / "p.db"))
    db = run_scenario(validate_scenario(data, preset.name)).db
    store = StoreReader(db)
    (episode,) = store.episodes().itertuples()
    assert episode.status == "complete" and episode.outcome["scene_reasons"]
    metrics = store.metrics()
    assert not metrics[metrics.name == "dead_as_alive"].empty


def test_the_death_scene_kills_mid_scene_and_records_dead_as_alive(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "worlds/characterbox/scenarios/glasshouse_bots.yaml").read_text())
    data.update(episodes=1, db=str(tmp_path / "g.db"))
    store = StoreReader(run_scenario(validate_scenario(data, "g.yaml")).db)
    episode = int(store.episodes().id.iloc[0])
    events = list(store.event_objects(episode))
    (death,) = [e for e in events if e.kind == "death"]
    assert death.payload == {"character": "Corvin"}
    later = events[events.index(death) :]
    assert not [e for e in later if e.kind == "action" and e.payload["character"] == "Corvin"]
    assert store.episodes().outcome.iloc[0]["alive"]["Corvin"] is False
    metrics = store.metrics()
    assert metrics[metrics.name == "dead_as_alive"].value.tolist() == [0.0]


def _bots(n: int) -> dict[str, Any]:
    return {
        **{f"p{i}": CharacterBoxCharacterBot() for i in range(n - 1)},
        f"p{n - 1}": CharacterBoxNarratorBot(),
    }


def test_same_seed_same_log_and_another_seed_differs() -> None:
    params = CharacterBoxParams(scene="lighthouse")
    runs = [dumps(play(CharacterBoxWorld, params, _bots(4), seed=s)[1]) for s in (3, 3, 4)]
    assert runs[0] == runs[1] and runs[0] != runs[2]


class _BadNarrator(ScriptedAgent):
    """Rules with a state key no character has, every time; otherwise like the narrator bot."""

    worlds: ClassVar[tuple[str, ...] | None] = ("roleplay/characterbox-v1",)

    def __init__(self) -> None:
        super().__init__()
        self.bot = CharacterBoxNarratorBot()

    def decide(self, observation: Observation) -> Action:
        if observation.phase == "rule":
            bad = {"character": "Ann", "state": {"hunger": "high"}}
            return Action(ActionKind.STRUCTURED, {"outcome": "x", "changes": [bad], "perceived_by": []})
        return self.bot.decide(observation)


def test_a_verdict_failing_the_schema_is_re_asked_then_replaced_by_no_change() -> None:
    params = CharacterBoxParams.model_validate({"scene": scene(rounds=1), "stale_rounds": 5})
    agents = {**_bots(5), "p4": _BadNarrator()}
    agents["p4"].bot.reset("p4", CharacterBoxWorld.spec, 0)
    result, events, world = play(CharacterBoxWorld, params, agents, seed=1)
    invalid = [e for e in events if e.kind == "invalid" and e.actor == "p4"]
    assert invalid and all(e.payload["fallback"]["changes"] == [] for e in invalid)
    assert [e for e in events if e.kind == "rejected" and "hunger" in e.payload["error"]]
    verdicts = [e for e in events if e.kind == "verdict"]
    assert verdicts and all(v.payload["changes"] == [] for v in verdicts)
    assert world.states["Ann"] == {"mood": "calm", "alive": True}
    assert result.invalid["p4"] == len(verdicts)


# the evaluation block ------------------------------------------------------------------------
SECRECY = {"name": "Secret Keeping", "anchors": {1: "tells it", 3: "hints at it", 5: "keeps it"}}


def _setup(params: dict[str, Any]) -> dict[str, Any]:
    """The payload of the setup event of a world reset with ``params``."""
    world = CharacterBoxWorld()
    events = world.reset(seat_ids(5), CharacterBoxParams.model_validate(params), stream(0, "world"))
    assert events[0].kind == "setup"
    return dict(events[0].payload)


def test_the_setup_carries_the_effective_evaluation_params_over_the_scene_file() -> None:
    assert "evaluation" not in _setup({"scene": SCENE})  # nothing declared: the judge's defaults
    declared = {**scene(), "evaluation": {"rubric": {"mode": "extend", "character": [SECRECY]}}}
    carried = _setup({"scene": declared})["evaluation"]
    rubric = Rubric.of(RubricSpec.model_validate(carried["rubric"]))  # as the judge reads it back
    assert [d.key for d in rubric.character][-1] == "secret_keeping" and len(rubric.character) == 8
    overridden = _setup({"scene": declared, "evaluation": {"rubric": "characterbox7"}})
    assert overridden["evaluation"] == {"rubric": "characterbox7"}
    narrator_only = {"rubric": {"narrator": [SECRECY]}}
    carried = _setup({"scene": SCENE, "evaluation": narrator_only})["evaluation"]
    assert Rubric.of(RubricSpec.model_validate(carried["rubric"])).narrator[0].name == "Secret Keeping"
    preset = CharacterBoxParams(scene="orchard_bargain").effective_evaluation()
    assert preset is not None and preset.rubric is not None and preset.rubric.mode == "extend"


BAD_RUBRICS = [
    (
        {"character": [{**SECRECY, "anchors": {1: "a", 5: "b"}}]},
        "character[0].anchors",
        "anchors must be given for exactly (1, 3, 5), got [1, 5]",
    ),
    ({"mode": "extend", "character": [{**SECRECY, "name": "Immersion"}]}, "", "named twice: immersion"),
    ({"character": [{**SECRECY, "weight": 2}]}, "character[0].weight", "unknown key"),
    ("sotopia7", "", "expected 'characterbox7' or a rubric"),
]


def _bad_scenario(tmp_path: Path, params: dict[str, Any]) -> Path:
    path = tmp_path / "cb.yaml"
    data = {**_scenario(params, seats=4), "episodes": 1}
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(("rubric", "key", "expect"), BAD_RUBRICS, ids=["anchors", "twice", "extra", "name"])
def test_a_bad_rubric_in_the_params_is_a_scenario_error_and_writes_no_db(
    rubric: Any, key: str, expect: str, tmp_path: Path
) -> None:
    path = _bad_scenario(tmp_path, {"scene": "glasshouse", "evaluation": {"rubric": rubric}})
    result = run_sim("run", path, "--db", tmp_path / "x.db")
    assert_clean_failure(result, str(path), f"params.evaluation.rubric{'.' * bool(key)}{key}", expect)
    assert not (tmp_path / "x.db").exists()


def test_a_bad_rubric_in_the_scene_file_names_the_scene_file_and_the_key(tmp_path: Path) -> None:
    data = yaml.safe_load((SCENES_DIR / "glasshouse.yaml").read_text())
    data["evaluation"] = {"rubric": {"character": [{**SECRECY, "anchors": {1: "a", 3: "b"}}]}}
    scene_file = tmp_path / "scene.yaml"
    scene_file.write_text(yaml.safe_dump(data))
    path = _bad_scenario(tmp_path, {"scene": str(scene_file)})
    result = run_sim("run", path, "--db", tmp_path / "x.db")
    key = f"{scene_file}: evaluation.rubric.character.0.anchors"
    assert_clean_failure(result, str(path), "params", f"{key}: anchors must be given for exactly (1, 3, 5)")
    assert not (tmp_path / "x.db").exists()
