"""Parameters of ``roleplay/characterbox-v1``: the scene file (a built-in name, a ``.yaml`` path, or the
scene inline) and the SOTOPIA-style stale rule."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from worlds.characterbox.scene import SceneFile, load_scene


class CharacterBoxParams(BaseModel):
    """Which scene file to play, and when a scene without change ends early."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scene: str | SceneFile = Field(
        "lighthouse", description="a built-in scene name, the path of a scene .yaml file, or the scene inline"
    )
    stale_rounds: int = Field(
        2, ge=1, le=20, description="end a scene after this many rounds in a row with no state change"
    )

    @model_validator(mode="after")
    def _loads(self) -> CharacterBoxParams:
        self.scene_file()  # a bad file is a parameter error naming the file, the key and the expectation
        return self

    def scene_file(self) -> SceneFile:
        """The validated scene file."""
        return self.scene if isinstance(self.scene, SceneFile) else load_scene(self.scene)
