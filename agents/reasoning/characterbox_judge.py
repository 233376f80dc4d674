"""CharacterBox's judge as an evaluator (``characterbox_judge``): characters and narrator scored 1-5.

Wang et al. (2025) score each character of a role-play scene on seven dimensions after a critique,
and the narrator on four (spec 1.6, 5.3; :mod:`worlds.characterbox.rubric`). This
evaluator reads a stored ``roleplay/characterbox-v1`` episode: its ``setup`` event (world,
characters with their profiles, seats, scenes) and the omniscient transcript (every game event in
order, as the world describes it). It asks the judge model once per seated character (purpose
``characterbox.judge``) and once for the narrator seat (``characterbox.judge.narrator``), over the
whole episode, every scene at once. Each answer is a critique first, then one score per dimension
(:mod:`agents.reasoning.characterbox_scores` reads it); an invalid answer is re-asked with its
problems (``model.reasks``); a dimension still without a valid score after that is NULL.

Rows per judged seat: ``judge.<dimension>`` (1-5 or NULL), ``judge.overall`` (the mean of the valid
dimensions; NULL when none is) and ``judge.valid_dimensions``. The critique is stored with its
scores in the ``parsed`` column of the judge's ``llm_calls`` row (:func:`stored_critiques`).

Per scene (config ``per_scene: true``): each scene is judged on its own transcript (from its
``scene_start`` to its ``scene_end``), for the characters taking part in it and the narrator, with
rows ``judge.scene<N>.<dimension>``, ``judge.scene<N>.overall`` and ``judge.scene<N>.valid_dimensions``
(N from 1) instead of the whole-episode rows.

Rubric: the evaluator config's ``rubric``, else the scenario's ``evaluation.rubric`` (in the setup
event or the episode params), else the defaults; a declared rubric is validated before any call.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, ValidationError

from agents.reasoning.characterbox_scores import Judgement, read_judgement, strict_judgement
from sim.evaluators.base import EvaluationError, Evaluator, EvaluatorConfig, MetricRow, StoredEpisode
from sim.llm.settings import ModelSettings
from sim.prompts import PromptPack
from sim.types import Event, PlayerId
from worlds.characterbox.rubric import DEFAULT, Dimension, Rubric, RubricSpec

if TYPE_CHECKING:
    from sim.llm.client import LLMClient
    from sim.store.reader import StoreReader

CHARACTERBOX = "roleplay/characterbox-v1"
PURPOSE = "characterbox.judge"
NARRATOR_PURPOSE = "characterbox.judge.narrator"
NARRATOR = "narrator"


class CharacterBoxJudgeConfig(EvaluatorConfig):
    """The judge model, whom to judge and (optionally) the rubric."""

    model: ModelSettings = Field(description="the judge model")
    characters: tuple[str, ...] | None = Field(
        None, description="characters to judge, by name (default: every seated character)"
    )
    narrator: bool = Field(True, description="whether to judge the narrator seat")
    rubric: RubricSpec | None = Field(None, description="dimensions replacing or extending the defaults")
    per_scene: bool = Field(False, description="judge each scene on its own (rows judge.scene<N>.*)")


class _Templates(PromptPack):
    """The judge's templates (``agents/reasoning/prompts``)."""

    templates: ClassVar[Path] = Path(__file__).resolve().parent / "prompts"


class CharacterBoxJudge(Evaluator):
    """CharacterBox's judge: a critique, then 1-5 per dimension for each character and the narrator."""

    name: ClassVar[str] = "characterbox_judge"
    Config: ClassVar[type[EvaluatorConfig]] = CharacterBoxJudgeConfig
    worlds: ClassVar[tuple[str, ...] | None] = (CHARACTERBOX,)

    def __init__(self, config: EvaluatorConfig | None = None):
        super().__init__(config)
        assert isinstance(self.config, CharacterBoxJudgeConfig)
        self.settings: CharacterBoxJudgeConfig = self.config

    @property
    def model(self) -> str | None:
        """The judge's litellm model string."""
        return self.settings.model.model

    async def evaluate(self, episode: StoredEpisode, llm: LLMClient) -> list[MetricRow]:
        """Per judged seat: a row per dimension, the overall mean and the number of valid dimensions."""
        from sim.evaluators.stored import omniscient_text

        setup = setup_payload(episode)
        rubric = self.rubric(episode, setup)
        seats: dict[str, str] = {str(k): str(v) for k, v in setup.get("seats", {}).items()}
        characters: Mapping[str, Mapping[str, Any]] = setup.get("characters", {})
        wanted = self.settings.characters
        unknown = sorted(set(wanted or ()) - set(characters))
        if unknown:
            raise EvaluationError(f"episode {episode.id}: no character {', '.join(unknown)} to judge")
        parts = scene_parts(episode, setup) if self.settings.per_scene else [(None, episode, None)]
        jobs: list[tuple[PlayerId, str, tuple[Dimension, ...], int | None, str]] = []
        for number, part, cast in parts:
            transcript = omniscient_text(part, leave_out={"setup"})
            for seat, who in seats.items():
                if who == NARRATOR:
                    if self.settings.narrator:
                        jobs.append((seat, NARRATOR, rubric.narrator, number, transcript))
                elif (
                    who in characters and (wanted is None or who in wanted) and (cast is None or who in cast)
                ):
                    jobs.append((seat, who, rubric.character, number, transcript))
        judged = await asyncio.gather(
            *(
                self._judge(llm, episode, seat, who, dims, setup, transcript, number)
                for seat, who, dims, number, transcript in jobs
            )
        )
        rows: list[MetricRow] = []
        for (seat, _, dims, number, _), judgement in zip(jobs, judged, strict=True):
            rows += score_rows(seat, dims, judgement, "judge" if number is None else f"judge.scene{number}")
        return rows

    def rubric(self, episode: StoredEpisode, setup: Mapping[str, Any]) -> Rubric:
        """The rubric: the config's, else the scenario's ``evaluation.rubric``, else the defaults."""
        if self.settings.rubric is not None:
            return Rubric.of(self.settings.rubric)
        declared = _scenario_rubric(setup) or _scenario_rubric(episode.params)
        if declared is None or declared == DEFAULT:
            return Rubric.of(None)
        try:
            return Rubric.of(RubricSpec.model_validate(declared))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise EvaluationError(
                f"episode {episode.id}: the scenario's rubric is invalid: {problems}"
            ) from None

    async def _judge(
        self,
        llm: LLMClient,
        episode: StoredEpisode,
        seat: PlayerId,
        who: str,
        dimensions: tuple[Dimension, ...],
        setup: Mapping[str, Any],
        transcript: str,
        scene: int | None = None,
    ) -> Judgement:
        """The judge's answer about ``who`` (the narrator or a character) on ``seat``, over the whole
        episode or its ``scene``: its valid scores (the last answer's valid ones, others None, when no
        answer was valid after the re-asks)."""
        prompt = judge_prompt(who, dimensions, setup, transcript)
        names = [d.name for d in dimensions]
        answer = await llm.ask(
            self.settings.model,
            [{"role": "user", "content": prompt}],
            lambda text: strict_judgement(text, dimensions),
            purpose=NARRATOR_PURPOSE if who == NARRATOR else PURPOSE,
            context=self.call_context(episode, seat, scene),
            correction=lambda error: _Templates().render(
                "characterbox_judge_correction.j2", error=error, names=names
            ),
        )
        if answer.valid:
            judgement: Judgement = answer.value
            return judgement
        return read_judgement(answer.text or "", dimensions)


def score_rows(
    seat: PlayerId, dimensions: Sequence[Dimension], judgement: Judgement, prefix: str = "judge"
) -> list[MetricRow]:
    """A seat's rows: each dimension's score (None: NULL), the overall mean of the valid ones, their count
    (named ``<prefix>.<dimension>``, ``<prefix>.overall``, ``<prefix>.valid_dimensions``)."""
    scores = [judgement.scores.get(d.key) for d in dimensions]
    valid = [s for s in scores if s is not None]
    rows = [
        MetricRow(seat, f"{prefix}.{d.key}", None if s is None else float(s))
        for d, s in zip(dimensions, scores, strict=True)
    ]
    rows.append(MetricRow(seat, f"{prefix}.overall", sum(valid) / len(valid) if valid else None))
    rows.append(MetricRow(seat, f"{prefix}.valid_dimensions", float(len(valid))))
    return rows


def scene_parts(
    episode: StoredEpisode, setup: Mapping[str, Any]
) -> list[tuple[int, StoredEpisode, frozenset[str]]]:
    """Each scene played: its number (from 1), the episode cut to its events (``scene_start`` to
    ``scene_end``) and its participants (from the setup's scenes)."""
    scenes: Sequence[Mapping[str, Any]] = setup.get("scenes", [])
    parts: list[tuple[int, StoredEpisode, frozenset[str]]] = []
    current: list[Event] | None = None
    for event in episode.events:
        if event.kind == "scene_start":
            current, number = [], int(event.payload.get("scene", len(parts) + 1))
        if current is None:
            continue
        current.append(event)
        if event.kind == "scene_end":
            cast = scenes[number - 1].get("participants", ()) if 0 < number <= len(scenes) else ()
            parts.append((number, dataclasses.replace(episode, events=tuple(current)), frozenset(cast)))
            current = None
    return parts


def judge_prompt(who: str, dimensions: Sequence[Dimension], setup: Mapping[str, Any], transcript: str) -> str:
    """The judge's prompt about the narrator or one character (the one place that reads the template)."""
    characters: Mapping[str, Mapping[str, Any]] = setup.get("characters", {})
    example = {
        "critique": "One paragraph on the problems you see.",
        "scores": {d.name: 3 for d in dimensions},
    }
    return _Templates().render(
        "characterbox_judge.j2",
        subject=NARRATOR if who == NARRATOR else "character",
        name=who,
        world=_text(setup.get("world", "")),
        characters=characters,
        profile={k: _text(v) for k, v in characters.get(who, {}).items()},
        scenes=setup.get("scenes", []),
        transcript=transcript or "(nothing happened)",
        dimensions=dimensions,
        example=json.dumps(example, indent=1),
    )


def setup_payload(episode: StoredEpisode) -> Mapping[str, Any]:
    """The payload of the episode's ``setup`` event."""
    setup: Event | None = next((e for e in episode.events if e.kind == "setup"), None)
    if setup is None:
        raise EvaluationError(f"episode {episode.id}: no setup event (is it a {CHARACTERBOX} episode?)")
    return setup.payload


def stored_critiques(reader: StoreReader, episode_id: int) -> dict[PlayerId, str | None]:
    """Each judged seat's critique from its last judge answer of the episode (its ``llm_calls`` row:
    the accepted answer, or the last refused one; None if that answer had no critique)."""
    sql = (
        "SELECT player_id, response FROM llm_calls WHERE episode_id = ? "
        "AND purpose IN (?, ?) AND response IS NOT NULL ORDER BY id"
    )
    with reader.engine.connect() as conn:
        found = conn.exec_driver_sql(sql, (episode_id, PURPOSE, NARRATOR_PURPOSE)).all()
    return {player: read_judgement(response, ()).critique for player, response in found}


def _scenario_rubric(holder: Mapping[str, Any]) -> Any:
    evaluation = holder.get("evaluation")
    return evaluation.get("rubric") if isinstance(evaluation, Mapping) else None


def _text(value: Any) -> str:
    """A profile field as prompt text (lists joined, mappings as ``key: value``)."""
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "; ".join(_text(v) for v in value)
    return str(value)
