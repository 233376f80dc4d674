"""Parameters of the repeated-games world (validated from the scenario's ``params``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from worlds.repeated.games import LIBRARY, MatrixGame

Row = tuple[float, float]


class CustomGame(BaseModel):
    """A game given inline: two payoff matrices (``row[i][j]`` to p0, ``col[i][j]`` to p1) and two labels."""

    model_config = ConfigDict(extra="forbid")
    name: str = "custom"
    labels: tuple[str, str] = ("C", "D")
    row: tuple[Row, Row]
    col: tuple[Row, Row]

    def build(self) -> MatrixGame:
        """The stage game."""
        return MatrixGame(self.name, self.labels, self.row, self.col, "custom")


class RepeatedParams(BaseModel):
    """How the repeated game is played."""

    model_config = ConfigDict(extra="forbid")
    game: str | CustomGame = Field(
        "prisoners_dilemma", description="library name, 'rg_<row>_<col>', or inline"
    )
    labels: tuple[str, str] | None = Field(None, description="relabel the two options")
    rounds: int = Field(10, ge=1, le=100_000, description="fixed horizon: number of rounds")
    stop_probability: float | None = Field(
        None, gt=0, le=1, description="geometric horizon: P(end) after a round"
    )
    max_rounds: int = Field(10_000, ge=1, le=100_000, description="cap on a geometric horizon")
    horizon_known: bool = Field(True, description="whether players are told the horizon")
    noise: float = Field(0.0, ge=0, lt=1, description="probability that a played move is flipped")
    fallback: Literal[0, 1] = Field(0, description="option index played when a seat gives no legal answer")

    @model_validator(mode="after")
    def _check(self) -> RepeatedParams:
        if self.stop_probability is not None and "rounds" in self.model_fields_set:
            raise ValueError(
                "give either 'rounds' (fixed horizon) or 'stop_probability' (geometric), not both"
            )
        if isinstance(self.game, str):
            resolve_game(self.game)
        if self.labels is not None and self.labels[0] == self.labels[1]:
            raise ValueError("'labels' must be two different strings")
        return self

    def stage_game(self) -> MatrixGame:
        """The stage game, relabelled if asked."""
        game = self.game.build() if isinstance(self.game, CustomGame) else resolve_game(self.game)
        return game.relabelled(self.labels) if self.labels else game

    @property
    def geometric(self) -> bool:
        """Whether the horizon is a geometric stop."""
        return self.stop_probability is not None

    @property
    def round_cap(self) -> int:
        """The most rounds the game can last."""
        return self.max_rounds if self.geometric else self.rounds


def resolve_game(name: str) -> MatrixGame:
    """A library game by name, or an ordinal Robinson–Goforth game ``rg_<row>_<col>``."""
    if name in LIBRARY:
        return LIBRARY[name]
    if name.startswith("rg_"):
        from worlds.repeated.topology import ordinal_games

        for game in ordinal_games():
            if game.name == name:
                return game
    raise ValueError(f"unknown game {name!r}; library: {', '.join(LIBRARY)}, or rg_<row>_<col> with 1..12")
