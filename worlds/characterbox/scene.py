"""Scene files of ``roleplay/characterbox-v1``: the world, its characters and their relationships, and
the scenes to play (YAML, validated strictly: unknown keys, undeclared names and inconsistent state are
errors naming the file, the key and what was expected).

A character's ``state`` is a flat mapping of keys to text or true/false (``mood: tense``); ``alive``
(default true) is always there. A scene may declare scripted state changes (``changes``) that the
rule-based narrator applies in the round they name (``alive: false`` there is a death mid-scene).
An optional ``evaluation:`` block declares the rubric the judge scores (:mod:`worlds.characterbox.rubric`).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.safe_yaml import YamlProblem, load_text, read_limited
from worlds.characterbox.rubric import Evaluation

#: Built-in scene files, by bare name (``scene: lighthouse``).
SCENES_DIR = Path(__file__).parent / "scenes"
StateValue = bool | str
Name = str


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Character(_Strict):
    """One character: who it is, what it wants and hides, and where and how it starts."""

    name: Name = Field(min_length=1, max_length=40, pattern=r"^\S(.*\S)?$")
    gender: str | None = None
    profile: str = Field(min_length=1, description="who the character is (CharacterBox's description)")
    personality: str = ""
    speech_style: str = ""
    knowledge: tuple[str, ...] = ()
    goal: str = Field("", description="private to the character (and the omniscient narrator)")
    secret: str = Field("", description="private to the character (and the omniscient narrator)")
    position: str = Field(min_length=1, max_length=120)
    state: dict[str, StateValue] = Field(default_factory=dict)
    controller: Literal["llm", "scripted", "human"] = Field(
        "llm", description="the kind of seat the scene expects (the scenario's seat agent decides)"
    )

    @model_validator(mode="after")
    def _alive(self) -> Character:
        if not isinstance(self.state.setdefault("alive", True), bool):
            raise ValueError("state.alive must be true or false")
        return self


class Relationship(_Strict):
    """How two characters stand to each other (SOTOPIA-style)."""

    a: Name
    b: Name
    type: str = Field(min_length=1)
    note: str = ""


class ScriptedChange(_Strict):
    """A state change the rule-based narrator applies in ``round`` of its scene."""

    round: int = Field(ge=1)
    character: Name
    position: str | None = Field(None, max_length=120)
    state: dict[str, StateValue] = Field(default_factory=dict)
    outcome: str = ""


class Scene(_Strict):
    """One scene: when and where, who takes part (in acting order), how many rounds, and the premise."""

    title: str = Field(min_length=1)
    time: str = Field(min_length=1)
    location: str = Field(min_length=1)
    description: str = Field(min_length=1)
    participants: tuple[Name, ...] = Field(min_length=1)
    rounds: int = Field(3, ge=1, le=20)
    premise: dict[Name, str] = Field(default_factory=dict, description="per participant, private to it")
    changes: tuple[ScriptedChange, ...] = ()


class SceneFile(_Strict):
    """A whole scene file."""

    id: str = Field(min_length=1, max_length=80)
    title: str = Field(min_length=1)
    source: Literal["original"] = Field(description="scenes are written for this project: no book text")
    world: str = Field(min_length=1, description="the world description every seat reads")
    rules: tuple[str, ...] = Field((), description="hard constraints the narrator keeps")
    characters: tuple[Character, ...] = Field(min_length=1, max_length=8)
    relationships: tuple[Relationship, ...] = ()
    scenes: tuple[Scene, ...] = Field(min_length=1, max_length=10)
    evaluation: Evaluation | None = Field(
        None, description="the rubric the judge scores (default: characterbox7)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> SceneFile:
        names = [c.name for c in self.characters]
        if len(set(names)) != len(names):
            raise ValueError(f"characters: names must be unique, got {names}")
        declared = set(names)
        kinds: dict[str, type] = {}
        for c in self.characters:
            for key, value in c.state.items():
                if kinds.setdefault(key, type(value)) is not type(value):
                    raise ValueError(
                        f"characters: state key {key!r} is true/false for one character, text for another"
                    )
        for r in self.relationships:
            for end in (r.a, r.b):
                if end not in declared:
                    raise ValueError(f"relationships: {end!r} is not a declared character")
        for i, scene in enumerate(self.scenes):
            where = f"scenes.{i}"
            _check_names(scene.participants, declared, f"{where}.participants")
            if len(set(scene.participants)) != len(scene.participants):
                raise ValueError(f"{where}.participants: a character is listed twice")
            _check_names(scene.premise, set(scene.participants), f"{where}.premise (a participant)")
            for change in scene.changes:
                _check_names([change.character], set(scene.participants), f"{where}.changes (a participant)")
                if change.round > scene.rounds:
                    raise ValueError(
                        f"{where}.changes: round {change.round} is after the last ({scene.rounds})"
                    )
                for key, value in change.state.items():
                    if key not in kinds or type(value) is not kinds[key]:
                        raise ValueError(
                            f"{where}.changes: {key}={value!r} is not a declared state key and type"
                        )
        return self

    def character(self, name: str) -> Character:
        """The character called ``name``."""
        return next(c for c in self.characters if c.name == name)

    def state_keys(self) -> dict[str, type]:
        """Every state key any character has, with its type (bool or str)."""
        kinds: dict[str, type] = {}
        for c in self.characters:
            for key, value in c.state.items():
                kinds.setdefault(key, type(value))
        return kinds


def _check_names(names: object, declared: set[str], where: str) -> None:
    unknown = [n for n in names if n not in declared]  # type: ignore[attr-defined]
    if unknown:
        raise ValueError(f"{where}: {', '.join(map(repr, unknown))} not declared (known: {sorted(declared)})")


class SceneFileError(ValueError):
    """A scene file that cannot be played, phrased as ``file: key: expectation`` lines."""


def scene_path(spec: str) -> Path:
    """The file a scene spec names: a bare built-in name, or a path to a ``.yaml`` file."""
    if spec.endswith((".yaml", ".yml")):
        return Path(spec)
    return SCENES_DIR / f"{spec}.yaml"


def load_scene(spec: str) -> SceneFile:
    """Read and validate the scene file ``spec`` names (raises :class:`SceneFileError`)."""
    path = scene_path(spec)
    if not path.is_file():
        built_in = ", ".join(sorted(p.stem for p in SCENES_DIR.glob("*.yaml")))
        raise SceneFileError(f"{spec}: no such scene file (a .yaml path, or a built-in scene: {built_in})")
    return _load(path.resolve())


@functools.lru_cache(maxsize=64)
def _load(path: Path) -> SceneFile:
    try:
        raw = load_text(read_limited(path))
    except (OSError, UnicodeDecodeError, YamlProblem) as exc:
        raise SceneFileError(f"{path}: {exc}") from None
    try:
        return SceneFile.model_validate(raw)
    except ValidationError as exc:
        lines = (f"{path}: {where}: {msg}" if where else f"{path}: {msg}" for where, msg in problems(exc))
        raise SceneFileError("\n".join(lines)) from None


def problems(exc: ValidationError) -> list[tuple[str, str]]:
    """``(key.path, expectation)`` for each error of a scene file (an empty path: the file as a whole)."""
    found = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif err["type"] == "missing":
            message = "required key is missing"
        found.append((where, message))
    return found
