"""Prompt packs: each world's prompt templates, answer schemas and readers of its own prose.

A world registers a :class:`PromptPack` subclass in the entry point group ``sim.prompts`` under its
world id (next to ``sim.worlds``); :func:`prompt_pack` finds it, and gives worlds without one the
generic pack (this base class): the world's own text of the observation plus a filled-in example of a
legal answer and its allowed values in words (``templates/generic.j2``, :mod:`sim.answer_examples`;
never the raw JSON Schema, which small models echo back; the schema goes to the provider as structured
output where available, and every answer is validated against it). An LLM agent asks the pack for
every prompt, so the agent itself knows no world.

A pack says which prompt styles it offers (the first is the default), whether its prompts are built
from ``Observation.text`` (the engine then renders the text for the seat), whether it offers social
chain-of-thought (SCoT: predict the other player's move, then choose; two-player games), and how an
answer is read (:class:`Prompt`: JSON against the answer schema, or a bare label in completion
style; the reading itself happens in ``agents.llm.parsing``). The test server asks the registered
packs to read their own prose back (the options offered, the other player's last move), so no
world's phrasing is parsed outside its pack.

Templates are jinja2 files in the pack's folder, rendered with ``StrictUndefined`` (an undefined
name is an error); the generic templates are found after the pack's own. This module is light to
import (jinja2 and pydantic are imported when first used): the test server loads packs to read text.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    import jinja2
    from pydantic import BaseModel

    from sim.types import Observation

GENERIC_TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class PromptSettings:
    """How a seat asks to be prompted (an LLM agent's config). A pack reads the settings it uses."""

    style: str
    framing: str = "game"
    unit: str | None = None
    shuffle_options: bool = True
    opponent_note: str | None = None


@dataclass(frozen=True)
class Prompt:
    """One request to a model: its user message, how the answer is read, and the re-ask text.

    ``answer`` is ``"json"`` (the schema of ``model`` is sent as ``response_format`` and the answer
    must validate against it) or ``"label"`` (completion style: a bare label naming one of
    ``options``; a JSON answer is still read against ``model``). ``stage`` ends the logged purpose.
    """

    text: str
    model: type[BaseModel]
    answer: Literal["json", "label"] = "json"
    options: tuple[str, ...] = ()
    stage: str = "act"
    correction: Callable[[str], str] | None = None


@dataclass
class Decision:
    """One decision of a seat: the observation, its settings, and the pack's context for its prompts
    (built once, so that every prompt of the decision sees the same shuffles)."""

    observation: Observation
    settings: PromptSettings
    context: dict[str, Any] = field(default_factory=dict)
    #: What the pack wants logged with the action (``Action.notes``), e.g. the option order shown.
    notes: dict[str, Any] = field(default_factory=dict)


def _points(x: float) -> str:
    return f"{x:g}"


class PromptPack:
    """The generic prompt pack: the world's text, an example answer and the allowed values."""

    #: The folder of the pack's templates (the generic templates are found after it).
    templates: ClassVar[Path] = GENERIC_TEMPLATES
    #: Prompt styles offered; the first is the default.
    styles: ClassVar[tuple[str, ...]] = ("json",)
    #: Whether SCoT prompts (:meth:`predict_prompt`, then :meth:`act_prompt` with the prediction)
    #: are offered.
    scot: ClassVar[bool] = False
    #: Whether the prompts are built from ``Observation.text``.
    from_text: ClassVar[bool] = True
    #: The first part of logged ``llm_calls`` purposes (None: the world id).
    purpose_prefix: ClassVar[str | None] = None
    #: Jinja2 filters the templates use.
    filters: ClassVar[Mapping[str, Callable[..., Any]]] = {"points": _points}

    # templates -------------------------------------------------------------------------------
    def environment(self) -> jinja2.Environment:
        """The pack's template environment (built once per pack class)."""
        pack = type(self)
        if pack not in _ENVIRONMENTS:
            _ENVIRONMENTS[pack] = _environment(pack)
        return _ENVIRONMENTS[pack]

    def render(self, template: str, **context: Any) -> str:
        """Render ``template`` (a file name in the pack's folder) with ``context``, stripped."""
        return self.environment().get_template(template).render(**context).strip()

    def template_names(self) -> list[str]:
        """The pack's own template files."""
        return sorted(p.name for p in self.templates.glob("*.j2"))

    # prompts ---------------------------------------------------------------------------------
    def purpose(self, world_id: str, stage: str) -> str:
        """The ``llm_calls`` purpose of a prompt of ``stage`` in world ``world_id``."""
        return f"{self.purpose_prefix or world_id}.{stage}"

    def answer_model(self, obs: Observation) -> type[BaseModel]:
        """The pydantic model of a legal answer (sent as structured output; prompts show an example of it)."""
        from sim.actions import answer_model

        if obs.legal is None:
            raise ValueError(f"{obs.player} is not to act")
        return answer_model(obs.legal)

    def decision(self, obs: Observation, settings: PromptSettings, rng: random.Random) -> Decision:
        """Start a decision: the context every prompt of it shares (``rng``: the seat's own)."""
        return Decision(obs, settings)

    def act_prompt(self, decision: Decision, prediction: str | None = None) -> Prompt:
        """The prompt asking for the action (after a SCoT ``prediction`` when given)."""
        from sim.answer_examples import answer_format

        obs = decision.observation
        model = self.answer_model(obs)
        text = self.render(
            "generic.j2", observation_text=obs.text, feedback=obs.feedback, answer_format=answer_format(model)
        )
        return Prompt(text, model)

    def predict_prompt(self, decision: Decision) -> Prompt:
        """SCoT: the prompt asking which option the other player will choose."""
        raise NotImplementedError(f"{type(self).__name__} offers no SCoT prompts")

    def other_moves(self, final: Observation) -> Mapping[int, str]:
        """SCoT: the other player's actual move per turn, to score predictions against."""
        return {}

    # reading the pack's own prose back (the test server) -----------------------------------------
    def read_options(self, text: str) -> list[str]:
        """The labels offered by the last question in ``text`` written in this pack's phrasing."""
        return []

    def read_last_other_move(self, text: str) -> str | None:
        """The other player's most recent move as this pack's history lines state it in ``text``."""
        return None


class PhasePromptPack(PromptPack):
    """A pack with one template per phase, built from the typed observation.

    ``stages`` maps a phase to its stage (the template ``<stage>.j2`` and the end of the logged
    purpose); a subclass says what the templates show (:meth:`context`) and the example text of
    free-text answer fields (:meth:`placeholders`)."""

    from_text: ClassVar[bool] = False
    #: The stage of each phase a seat may be asked about.
    stages: ClassVar[Mapping[str, str]] = {}

    def stage_of(self, obs: Observation) -> str:
        """The prompt stage of the phase ``obs`` asks about."""
        phase = str(obs.phase)
        if phase not in self.stages:
            raise ValueError(f"{type(self).__name__} has no prompt for phase {phase!r}")
        return self.stages[phase]

    def act_prompt(self, decision: Decision, prediction: str | None = None) -> Prompt:
        """The prompt of the phase the seat is asked about."""
        from sim.answer_examples import answer_format

        obs = decision.observation
        stage = self.stage_of(obs)
        model = self.answer_model(obs)
        context = self.context(decision, stage)
        example = answer_format(model, self.placeholders(stage))
        text = self.render(f"{stage}.j2", **context, answer_format=example)
        return Prompt(text, model, stage=stage)

    def context(self, decision: Decision, stage: str) -> dict[str, Any]:
        """What the stage's template shows."""
        raise NotImplementedError

    def placeholders(self, stage: str) -> Mapping[str, str] | None:
        """Example text of the answer's free-text fields at ``stage`` (None: the generic examples)."""
        return None


_ENVIRONMENTS: dict[type[PromptPack], jinja2.Environment] = {}


def _environment(pack: type[PromptPack]) -> jinja2.Environment:
    import jinja2

    folders = [str(pack.templates), str(GENERIC_TEMPLATES)]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(list(dict.fromkeys(folders))),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        autoescape=False,
        auto_reload=False,
    )
    env.filters.update(pack.filters)
    return env


@cache
def prompt_pack(world_id: str) -> PromptPack:
    """The prompt pack registered for ``world_id`` (group ``sim.prompts``), else the generic pack."""
    from sim import registry

    entry = registry.prompt_packs().get(world_id)
    if entry is None:
        return PromptPack()
    pack = entry.load()
    if not (isinstance(pack, type) and issubclass(pack, PromptPack)):
        raise registry.RegistryError(f"prompt pack {entry.target!r} is not a sim.prompts.PromptPack subclass")
    return pack()


def registered_packs() -> list[PromptPack]:
    """Every registered prompt pack, in world id order."""
    from sim import registry

    return [prompt_pack(world_id) for world_id in registry.prompt_packs()]
