"""The repeated games' prompt pack: Akata et al.'s (2023) prompt, in one place.

Templates (``prompts/``): ``base.j2`` states the game from the seat's own perspective (setting,
horizon, rules, one line per past round); ``text.j2`` adds the question and is the world's own text
of an observation (``world.render``); ``akata.j2`` is that text plus Akata's completion cue
(``A: Option``), answered with a bare label; ``json.j2`` asks for ``{"choice": ...}`` instead;
``scot_predict.j2`` and ``scot_choose.j2`` are social chain-of-thought (predict the other player's
option, then choose given the prediction); ``correction.j2`` is the re-ask after an invalid answer.
Framings (Akata's robustness checks) dress the game as a game, a cooking competition or a project.

The readers at the bottom read that phrasing back (the options offered, the other player's last
move) for the test server; they sit next to the templates whose sentences they match.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sim.prompts import Decision, Prompt, PromptPack, PromptSettings

if TYPE_CHECKING:
    from sim.types import Observation


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


class RepeatedPromptPack(PromptPack):
    """Akata's completion prompt (default) or a JSON variant, with optional SCoT, in three framings."""

    templates: ClassVar[Path] = Path(__file__).parent / "prompts"
    styles: ClassVar[tuple[str, ...]] = ("akata", "json")
    scot: ClassVar[bool] = True
    from_text: ClassVar[bool] = False  # built from the observation's fields, in the seat's framing
    purpose_prefix: ClassVar[str | None] = "repeated"

    def context(
        self,
        obs: Observation,
        rng: random.Random | None = None,
        *,
        framing: str = "game",
        unit: str | None = None,
        opponent_note: str | None = None,
    ) -> dict[str, Any]:
        """Template context for an observation; option and outcome order shuffled with ``rng`` if given."""
        pub = obs.public
        options = list(pub["options"])
        outcomes = list(pub["outcomes"])
        if rng is not None:
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

    def world_text(self, obs: Observation) -> str:
        """The world's text of an observation: the game framing, the world's option order, and the
        engine's feedback on a rejected answer."""
        return self.render("text.j2", **self.context(obs), feedback=obs.feedback)

    # the LLM seat's prompts --------------------------------------------------------------------
    def decision(self, obs: Observation, settings: PromptSettings, rng: random.Random) -> Decision:
        """One round's context: options and rules shuffled once (seeded), shared by SCoT's two calls."""
        context = self.context(
            obs,
            rng if settings.shuffle_options else None,
            framing=settings.framing,
            unit=settings.unit,
            opponent_note=settings.opponent_note,
        )
        return Decision(obs, settings, context, notes={"order": list(context["order"])})

    def act_prompt(self, decision: Decision, prediction: str | None = None) -> Prompt:
        """Akata's question (or the JSON one); after a SCoT prediction, the choice given it."""
        if prediction is not None:
            return self._prompt(decision, "scot_choose.j2", "act", prediction=prediction)
        if decision.settings.style == "json":
            return self._prompt(decision, "json.j2", "act", json_answer=True)
        return self._prompt(decision, "akata.j2", "act")

    def predict_prompt(self, decision: Decision) -> Prompt:
        """SCoT's first call: which option will the other player choose?"""
        return self._prompt(decision, "scot_predict.j2", "scot.predict")

    def other_moves(self, final: Observation) -> Mapping[int, str]:
        """The other player's move in each round."""
        return {r.round: r.other for r in final.history}

    def _prompt(
        self, decision: Decision, template: str, stage: str, *, json_answer: bool = False, **extra: Any
    ) -> Prompt:
        obs, context = decision.observation, decision.context
        assert obs.legal is not None
        return Prompt(
            self.render(template, **context, **extra),
            self.answer_model(obs),
            "json" if json_answer else "label",
            obs.legal.options,
            stage,
            lambda error: self.render("correction.j2", **context, error=error),
        )

    # reading the phrasing back -----------------------------------------------------------------
    def read_options(self, text: str) -> list[str]:
        """Labels of the last "Option X or Option Y" question (any framing's noun)."""
        questions = [m.group(0) for m in _QUESTION.finditer(text)]
        return _OPTION.findall(questions[-1]) if questions else []

    def read_last_other_move(self, text: str) -> str | None:
        """The other player's move in the last "In round N, you chose ..." line."""
        moves = _HISTORY.findall(text)
        return str(moves[-1][1]) if moves else None


_NOUN = "|".join(sorted({re.escape(f.noun) for f in FRAMINGS.values()}))
_LABEL = r"[^\s,;:?!.\"'()]+"
_QUESTION = re.compile(
    rf"(?P<noun>{_NOUN}) {_LABEL}(?:\s*,\s*(?P=noun) {_LABEL})*\s*,?\s+or\s+(?P=noun) {_LABEL}"
)
_OPTION = re.compile(rf"(?:{_NOUN}) ({_LABEL})")
_HISTORY = re.compile(
    rf"In round \d+, you chose (?:{_NOUN}) ({_LABEL}) and the other player chose (?:{_NOUN}) ({_LABEL})"
)
