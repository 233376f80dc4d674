"""ReCon's judge as an evaluator (``recon_judge``): each speech of a seat scored on six dimensions.

Wang et al. (2023) rate speeches 1-10 on concealment, logic, contribution, persuasiveness,
information and creativity. This evaluator reads a stored Avalon episode and asks the judge model
once per speech (``speech`` and evil ``confer`` events of the seat; purpose ``avalon.judge``), with:

- the speaker's role and side, from its own ``night`` event;
- the game status when it spoke, rebuilt from the stored events that seat could see before the
  speech, one transcript line each (``sim replay --seat``; its private rationales are left out).
  This is the whole game so far, not the seat's prompt text of that moment (which the store does
  not keep);
- the speech as the world recorded it.

Rows per judged seat: ``agent.judge.<dimension>`` (the mean over the speeches whose scores parsed;
NULL, never 0, when none did) and ``agent.judged_speeches`` (how many parsed). The names are those
the judge wrote when it ran inside the ReCon agent, so earlier queries keep working; the rows now
carry ``evaluator = 'recon_judge'`` and the judge's model.

A ReCon seat configured with ``judge: {model: ...}`` asks for this evaluator on that seat with that
model (:meth:`ReConJudge.configured`): runs apply it after their episodes, ``sim evaluate`` by default.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from sim.evaluators.base import (
    EvaluationError,
    Evaluator,
    EvaluatorConfig,
    MetricRow,
    StoredEpisode,
    StoredSeat,
)
from sim.llm.settings import ModelSettings
from sim.types import Event, PlayerId
from worlds.avalon.world import AvalonWorld

if TYPE_CHECKING:
    from agents.reasoning.recon import ReConConfig
    from sim.llm.client import LLMClient

AVALON = AvalonWorld.spec.id
PURPOSE = "avalon.judge"


class ReConJudgeConfig(EvaluatorConfig):
    """The judge model, which seats to judge and which events are speeches."""

    model: ModelSettings = Field(description="the judge model")
    seats: tuple[PlayerId, ...] | None = Field(
        None, description="seats to judge (default: every seat that spoke)"
    )
    kinds: tuple[str, ...] = Field(("speech", "confer"), description="event kinds that are a seat's speeches")


class ReConJudge(Evaluator):
    """ReCon's judge: each speech of a seat scored 1-10 on six dimensions; per-seat means."""

    name: ClassVar[str] = "recon_judge"
    Config: ClassVar[type[EvaluatorConfig]] = ReConJudgeConfig
    worlds: ClassVar[tuple[str, ...] | None] = (AVALON,)

    def __init__(self, config: EvaluatorConfig | None = None):
        super().__init__(config)
        assert isinstance(self.config, ReConJudgeConfig)
        self.settings: ReConJudgeConfig = self.config

    @property
    def model(self) -> str | None:
        """The judge's litellm model string."""
        return self.settings.model.model

    @classmethod
    def configured(cls, seats: Sequence[StoredSeat]) -> list[EvaluatorConfig]:
        """One config per judge model named by the seats' ReCon ``judge`` key, judging those seats."""
        by_model: dict[str, tuple[ModelSettings, list[PlayerId]]] = {}
        for seat in seats:
            judge = _seat_judge(seat)
            if judge is not None:
                by_model.setdefault(judge.model_dump_json(), (judge, []))[1].append(seat.player_id)
        return [ReConJudgeConfig(model=model, seats=tuple(players)) for model, players in by_model.values()]

    async def evaluate(self, episode: StoredEpisode, llm: LLMClient) -> list[MetricRow]:
        """Per judged seat: the six dimension means and the number of speeches whose scores parsed."""
        from agents.llm.parsing import JUDGE_DIMENSIONS

        speeches: dict[PlayerId, list[int]] = {}
        for i, event in enumerate(episode.events):
            if event.kind in self.settings.kinds and event.actor is not None:
                speeches.setdefault(event.actor, []).append(i)
        players = self.settings.seats if self.settings.seats is not None else tuple(speeches)
        rows: list[MetricRow] = []
        for player in players:
            if not speeches.get(player):
                continue  # nothing said, nothing judged (as before: no rows)
            role, side = _role_of(episode, player)
            scored = await asyncio.gather(
                *(self._score(llm, episode, player, role, side, i) for i in speeches[player])
            )
            parsed = [s for s in scored if s is not None]
            rows.append(MetricRow(player, "agent.judged_speeches", float(len(parsed))))
            for d in JUDGE_DIMENSIONS:
                mean = sum(s[d] for s in parsed) / len(parsed) if parsed else None
                rows.append(MetricRow(player, f"agent.judge.{d}", mean))
        return rows

    async def _score(
        self, llm: LLMClient, episode: StoredEpisode, player: PlayerId, role: str, side: str, index: int
    ) -> dict[str, int] | None:
        """The judge's scores of ``events[index]`` (None when no answer parsed after the re-asks)."""
        from agents.llm import parsing
        from sim.evaluators.stored import seen_text

        speech: Event = episode.events[index]
        prompt = judge_prompt(
            role, side, seen_text(episode, player, index), str(speech.payload.get("text", ""))
        )
        answer = await llm.ask(
            self.settings.model,
            [{"role": "user", "content": prompt}],
            lambda text: parsing.parse_json_answer(text, parsing.JudgeScores),
            schema=parsing.JudgeScores,
            purpose=PURPOSE,
            context=self.call_context(episode, player, speech.turn),
        )
        scores: dict[str, int] | None = answer.value.model_dump() if answer.valid else None
        return scores


def judge_prompt(role: str, side: str, status: str, speech: str) -> str:
    """The judge's prompt for one speech (the one place that reads the judge's template)."""
    from agents.llm.parsing import JudgeScores
    from sim.answer_examples import answer_format
    from sim.prompts import prompt_pack

    return prompt_pack(AvalonWorld.spec.id).render(
        "judge.j2",
        role=role,
        side=side,
        status=status,
        speech=speech,
        answer_format=answer_format(JudgeScores),
    )


def _role_of(episode: StoredEpisode, player: PlayerId) -> tuple[str, str]:
    """The seat's role title and side, from the ``night`` event that told it."""
    from worlds.avalon.text import role_title

    for event in episode.events:
        if event.kind == "night" and event.actor == player:
            return role_title(event.payload["role"]), str(event.payload["side"])
    raise EvaluationError(f"episode {episode.id}: no night event tells {player} its role")


def _seat_judge(seat: StoredSeat) -> ModelSettings | None:
    """The ``judge`` model of a ReCon seat's stored config (None: not a ReCon seat, or no judge)."""
    config_class = _recon_config_class(seat.agent)
    if config_class is None:
        return None
    try:
        judge: ModelSettings | None = config_class.model_validate(dict(seat.config)).judge
    except ValueError:  # pydantic's ValidationError: a config this version no longer accepts
        return None
    return judge


@cache
def _recon_config_class(agent: str) -> type[ReConConfig] | None:
    """The config class of the agent named ``agent`` if it is a ReCon config (it has ``judge``)."""
    from sim import registry
    from sim.agent import AgentBase

    try:
        cls = registry.agent_entry(agent).load()
    except registry.RegistryError:
        return None
    if not (isinstance(cls, type) and issubclass(cls, AgentBase)) or "judge" not in cls.Config.model_fields:
        return None  # decided without importing ReCon (a bots-only run never loads it)
    from agents.reasoning.recon import ReConConfig

    return cls.Config if issubclass(cls.Config, ReConConfig) else None
