"""Prompt rendering: jinja2 templates (StrictUndefined) in agents/llm/templates, one context per world."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from sim.types import Observation

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Framing:
    """How the repeated game is dressed up (Akata et al.'s robustness checks)."""

    setting: str
    arena: str
    noun: str
    unit: str


FRAMINGS: dict[str, Framing] = {
    "game": Framing("You are playing a game repeatedly with another player.", "game", "Option", "points"),
    "cooking": Framing(
        "You are taking part in a cooking competition against another chef, over several rounds.",
        "competition",
        "Recipe",
        "points",
    ),
    "project": Framing(
        "You are working on a collaborative project with another person, over several rounds.",
        "project",
        "Approach",
        "credits",
    ),
}


@cache
def environment() -> jinja2.Environment:
    """The template environment: undefined names are errors, no HTML escaping, no trailing newline loss."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        autoescape=False,
        auto_reload=False,
    )
    env.filters["points"] = lambda x: f"{x:g}"
    return env


def render(template: str, **context: Any) -> str:
    """Render ``template`` (a path under agents/llm/templates) with ``context``."""
    return environment().get_template(template).render(**context).strip()


def repeated_context(
    obs: Observation,
    rng: random.Random,
    *,
    framing: str,
    unit: str | None,
    shuffle: bool,
    opponent_note: str | None,
) -> dict[str, Any]:
    """Template context for a repeated-game observation; option and outcome order shuffled with ``rng``."""
    pub = obs.public
    options = list(pub["options"])
    outcomes = list(pub["outcomes"])
    if shuffle:
        rng.shuffle(options)
        rng.shuffle(outcomes)
    style = FRAMINGS[framing]
    stop = pub.get("stop_probability")
    return {
        "framing": style,
        "unit": unit or style.unit,
        "order": options,
        "outcomes": outcomes,
        "history": list(obs.history),
        "round": obs.turn,
        "horizon": pub.get("horizon"),
        "rounds": pub.get("rounds"),
        "stop_percent": f"{stop * 100:g}" if stop is not None else None,
        "opponent_note": opponent_note,
    }


def generic_prompt(obs: Observation, schema: dict[str, Any]) -> str:
    """Any world: the world's own text of the observation, plus the answer schema."""
    return render("generic.j2", observation_text=obs.text, feedback=obs.feedback, schema=json.dumps(schema))
