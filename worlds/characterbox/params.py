"""Parameters of ``roleplay/characterbox-v1``: the scene file (a built-in name, a ``.yaml`` path, or the
scene inline), the SOTOPIA-style stale rule, and the ``evaluation`` block (overriding the scene file's)."""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from worlds.characterbox.rubric import Evaluation
from worlds.characterbox.scene import SceneFile, SceneFileError, load_scene, problems


class CharacterBoxParams(BaseModel):
    """Which scene file to play, and when a scene without change ends early."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scene: str | dict[str, Any] = Field(
        "lighthouse", description="a built-in scene name, the path of a scene .yaml file, or the scene inline"
    )
    stale_rounds: int = Field(
        2, ge=1, le=20, description="end a scene after this many rounds in a row with no state change"
    )
    evaluation: Evaluation | None = Field(
        None, description="the rubric the judge scores (overrides the scene file's evaluation block)"
    )
    _file: SceneFile | None = PrivateAttr(None)

    @field_validator("scene", mode="before")
    @classmethod
    def _shape(cls, value: Any) -> Any:
        if not isinstance(value, str | dict):
            raise ValueError(
                "expected a scene name, the path of a .yaml scene file, or the scene inline (a mapping)"
            )
        return value

    @model_validator(mode="after")
    def _loads(self) -> CharacterBoxParams:
        """A bad scene is a parameter error naming the file (or inline scene), the key and the expectation."""
        if isinstance(self.scene, str):
            self._file = load_scene(self.scene)
            return self
        try:
            self._file = SceneFile.model_validate(self.scene)
        except ValidationError as exc:
            found = (f"{w}: {m}" if w else m for w, m in problems(exc))
            raise SceneFileError("; ".join(f"inline scene: {line}" for line in found)) from None
        return self

    def scene_file(self) -> SceneFile:
        """The validated scene file."""
        assert self._file is not None
        return self._file

    def effective_evaluation(self) -> Evaluation | None:
        """The params' ``evaluation`` block, else the scene file's (None: neither declares one)."""
        return self.evaluation or self.scene_file().evaluation
