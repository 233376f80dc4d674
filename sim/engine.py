"""The engine: one async loop for sequential and simultaneous worlds.

Per turn: observe each seat in ``to_act()`` -> ask the agents (concurrently when more than one of
them waits on I/O) -> validate -> ``world.step`` -> events to the sink -> Mesa step. An illegal,
malformed or late answer is re-asked up to ``max_retries`` times with the reason as feedback, then
replaced by the world's declared fallback. Every rejected answer is a ``rejected`` event and every
fallback an ``invalid`` event, both visible only to that seat: nothing is silent.

The engine knows no store and no scenario: it emits into an :class:`EpisodeSink` (an in-memory
recorder of the episode's record, see :mod:`sim.records`, or :class:`EventSink` for tests and tools).
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sim.agent import Agent, AgentError, AgentServices, NoAnswer
from sim.episode import EpisodeModel
from sim.rng import derive_seed, stream
from sim.settings import EngineSettings
from sim.types import Action, ActionSpec, Event, IllegalActionError, Observation, Outcome, PlayerId
from sim.world import GameRole, World

#: Per-turn metric series: ``(player, name, turns, values)``.
MetricSeries = tuple[PlayerId | None, str, list[int], list[float]]
#: Per-episode metrics: ``{player: {name: value}}``.
EpisodeMetrics = dict[PlayerId, dict[str, float | None]]


@dataclass
class EpisodeResult:
    """What one episode produced."""

    episode_id: int | None
    turns: int
    returns: dict[PlayerId, float]
    outcome: Outcome
    invalid: dict[PlayerId, int] = field(default_factory=dict)
    metrics: EpisodeMetrics = field(default_factory=dict)
    #: Each seat's role and side in play, told by the world at the end (:meth:`World.game_roles`).
    game_roles: dict[PlayerId, GameRole] = field(default_factory=dict)


class Interrupted(KeyboardInterrupt):
    """A stop was requested (SIGINT/SIGTERM); raised between turns so the episode closes cleanly."""


class EpisodeSink(Protocol):
    """Where the engine puts what an episode produces, as it happens."""

    #: The store's id of the episode when one is known (lent to agents), else None.
    episode_id: int | None
    #: Turns played so far (the engine updates it every turn, so it is known when an episode ends early).
    turns: int

    def emit(self, events: Sequence[Event]) -> None:
        """Record events in order (the sequence must not be changed afterwards)."""

    def add_metrics(self, series: Iterable[MetricSeries], summary: EpisodeMetrics) -> None:
        """Record the per-turn series and the per-episode metrics (once, when the episode is over)."""


class RowWriter(Protocol):
    """The part of :class:`sim.store.writer.StoreWriter` an :class:`EventSink` writes through."""

    def add_events(self, episode_id: int, events: Sequence[Event]) -> None: ...

    def add_metrics(
        self, episode_id: int, rows: Iterable[tuple[PlayerId | None, str, float | None]]
    ) -> None: ...

    def add_turn_metrics(self, episode_id: int, series: Iterable[MetricSeries]) -> None: ...


class EventSink:
    """A sink straight into a store writer, and optionally an in-memory list (tests, tools)."""

    def __init__(self, writer: RowWriter | None, episode_id: int | None, keep: bool = False):
        self.writer = writer
        self.episode_id = episode_id
        self.kept: list[Event] | None = [] if keep else None
        self.turns = 0

    def emit(self, events: Sequence[Event]) -> None:
        """Record events in order (the sequence must not be changed afterwards)."""
        if not events:
            return
        if self.writer is not None and self.episode_id is not None:
            self.writer.add_events(self.episode_id, events)
        if self.kept is not None:
            self.kept.extend(events)

    def add_metrics(self, series: Iterable[MetricSeries], summary: EpisodeMetrics) -> None:
        """Write the metrics (kept nowhere without a writer)."""
        if self.writer is not None and self.episode_id is not None:
            self.writer.add_turn_metrics(self.episode_id, series)
            self.writer.add_metrics(self.episode_id, metric_rows(summary))


def metric_rows(summary: EpisodeMetrics) -> Iterator[tuple[PlayerId | None, str, float | None]]:
    """Per-episode metrics as ``(player, name, value)`` rows."""
    return ((p, n, v) for p, vals in summary.items() for n, v in vals.items())


def seat_ids(n: int) -> list[PlayerId]:
    """Stable player ids ``p0 .. p{n-1}``."""
    return [f"p{i}" for i in range(n)]


async def play_episode(
    world: World,
    params: Any,
    agents: Mapping[PlayerId, Agent],
    *,
    seed: int,
    settings: EngineSettings,
    sink: EpisodeSink,
    labels: Mapping[PlayerId, str] | None = None,
    stop: threading.Event | None = None,
    llm: Any = None,
    roles: Mapping[PlayerId, str] | None = None,
) -> EpisodeResult:
    """Play one episode to the end and return its result (events went to ``sink``).

    ``llm`` is the run's LLM client, lent to every agent through ``attach``; ``roles`` gives each
    seat its declared seat role (None: the world's default role for every seat).
    """
    players = list(agents)
    spec = type(world).spec
    for player, agent in agents.items():
        agent.attach(AgentServices(sink.episode_id, llm))
        agent.reset(player, spec, derive_seed(seed, "seat", player))
    model = EpisodeModel(
        world,
        [(p, a, (labels or {}).get(p, p)) for p, a in agents.items()],
        derive_seed(seed, "mesa"),
        settings.metrics_every,
    )
    sink.emit(world.reset(players, params, stream(seed, "world"), roles))
    seats = model.seats
    # Seats whose agents never wait on I/O are asked inline, without a coroutine per seat and turn.
    inline = {p: a.decide for p, a in agents.items() if a.answers_inline()}
    all_inline = len(inline) == len(agents)
    plain = {p: decide for p, decide in inline.items() if not agents[p].needs_text}  # no text to render
    turns = 0
    truncated = False
    asked: dict[tuple[PlayerId, ...], int] = {}  # how many turns each group of seats was asked
    # The loop runs once a turn: bound methods are looked up once, and ``notes`` is replaced only
    # after it was emitted (most turns add none).
    to_act, step, emit, advance = world.to_act, world.step, sink.emit, model.advance
    max_turns = spec.max_turns
    notes: list[Event] = []
    while True:
        actors = to_act()
        if not actors:
            break
        if turns >= max_turns:
            truncated = True
            break
        if stop is not None and stop.is_set():
            raise Interrupted(f"stop requested at turn {turns}")
        if all_inline:
            actions = _collect_inline(world, actors, agents, inline, plain, settings, notes)
        else:
            actions = await _collect(world, actors, agents, settings, notes)
        try:
            events = step(actions)
        except IllegalActionError as exc:
            events = await _repair(world, actions, agents, settings, exc, notes)
        if notes:
            emit(notes)
            for note in notes:
                if note.kind == "invalid" and note.actor is not None:
                    model.seats[note.actor].invalid_actions += 1
            notes = []
        emit(events)
        asked[actors] = asked.get(actors, 0) + 1  # one dict update a turn; per seat after the loop
        turns += 1
        sink.turns = turns
        advance()
    outcome = world.outcome()
    if truncated:
        outcome = outcome.with_details(truncated=True)
    for group, count in asked.items():
        for p in group:
            seats[p].decisions += count
    summary: EpisodeMetrics = {p: dict(v) for p, v in world.episode_metrics().items()}
    for p, seat in seats.items():  # the engine's own numbers, for every world
        engine_numbers: dict[str, float | None] = {"engine.decisions": float(seat.decisions)}
        if seat.decisions:
            engine_numbers["engine.invalid_rate"] = seat.invalid_actions / seat.decisions
        summary.setdefault(p, {}).update(engine_numbers)
    for p, agent in agents.items():  # agents may add their own numbers (an LLM's prediction accuracy, ...)
        numbers = agent.episode_metrics(world.observe(p))
        if inspect.isawaitable(numbers):  # an LLM agent asking something at the end, for example
            numbers = await numbers
        if numbers:
            summary.setdefault(p, {}).update({f"agent.{k}": v for k, v in numbers.items()})
    sink.add_metrics(model.metric_series(), summary)
    return EpisodeResult(
        sink.episode_id,
        turns,
        dict(world.returns()),
        outcome,
        {p: s.invalid_actions for p, s in model.seats.items()},
        summary,
        dict(world.game_roles()),
    )


class _Attempts:
    """One seat's tries at a legal action this turn: feedback on each failure, then the fallback."""

    __slots__ = ("errors", "legal", "notes", "obs", "player")

    def __init__(
        self,
        world: World,
        player: PlayerId,
        agent: Agent,
        notes: list[Event],
        feedback: str | None,
        observation: Observation | None = None,
    ):
        obs = world.observe(player) if observation is None else observation
        if agent.needs_text and observation is None:
            obs = obs.with_text(world.render(obs))
        self.obs = obs if feedback is None else obs.with_feedback(feedback)
        if obs.legal is None:
            raise _not_actionable(player)
        self.legal: ActionSpec = obs.legal
        self.player = player
        self.notes = notes
        self.errors: list[str] = [] if feedback is None else [feedback]

    def accept(self, action: Action) -> bool:
        """Whether ``action`` is legal; logs its rationale privately if so, records the reason if not."""
        error = self.legal.check(action)
        if error is None:
            if action.rationale or action.notes:
                payload: dict[str, Any] = {"text": action.rationale}
                if action.notes:
                    payload["notes"] = dict(action.notes)
                self.notes.append(
                    Event(
                        self.obs.turn,
                        self.obs.phase,
                        "rationale",
                        payload,
                        actor=self.player,
                        visible_to=(self.player,),
                    )
                )
            return True
        self.reject(error, action)
        return False

    def reject(self, error: str, action: object = None) -> None:
        """Log a failed try as a ``rejected`` event (visible to the seat); show its reason to the next."""
        self.errors.append(error)
        given = action.value if isinstance(action, Action) else None if action is None else repr(action)
        self.notes.append(
            Event(
                self.obs.turn,
                self.obs.phase,
                "rejected",
                {"attempt": len(self.errors), "error": error, "value": given},
                actor=self.player,
                visible_to=(self.player,),
            )
        )
        self.obs = self.obs.with_feedback(error)

    def fallback(self) -> Action:
        """The world's declared fallback, logged as an ``invalid`` event visible to the seat."""
        return _fallback(self.obs, self.legal, self.player, self.errors, self.notes)


def _collect_inline(
    world: World,
    actors: Sequence[PlayerId],
    agents: Mapping[PlayerId, Agent],
    inline: Mapping[PlayerId, Any],
    plain: Mapping[PlayerId, Any],
    settings: EngineSettings,
    notes: list[Event],
) -> dict[PlayerId, Action]:
    """Ask scripted seats synchronously; ``plain`` ones (no text to render) on the hot path."""
    actions = {}
    for p in actors:
        decide = plain.get(p)
        if decide is None:
            actions[p] = _ask_inline(world, p, agents[p], inline[p], settings, notes)
            continue
        obs = world.observe(p)  # the hot path: one legal answer without a rationale
        legal = obs.legal
        if legal is None:
            raise _not_actionable(p)
        action = decide(obs)
        if action.rationale or action.notes or legal.check(action) is not None:
            action = _ask_inline(world, p, agents[p], decide, settings, notes, (obs, action))
        actions[p] = action
    return actions


def _ask_inline(
    world: World,
    player: PlayerId,
    agent: Agent,
    decide: Any,
    settings: EngineSettings,
    notes: list[Event],
    first: tuple[Observation, Action] | None = None,
) -> Action:
    """Ask a scripted seat synchronously (its ``decide`` is the body of its ``act``), continuing from
    a ``first`` attempt the engine already made."""
    if first is not None:
        obs, action = first
        attempts = _Attempts(world, player, agent, notes, None, obs)
        if attempts.accept(action):
            return action
        tries = settings.max_retries
    else:
        attempts = _Attempts(world, player, agent, notes, None)
        tries = settings.max_retries + 1
    for _ in range(tries):
        action = decide(attempts.obs)
        if attempts.accept(action):
            return action
    return attempts.fallback()


async def _collect(
    world: World,
    actors: Sequence[PlayerId],
    agents: Mapping[PlayerId, Agent],
    settings: EngineSettings,
    notes: list[Event],
) -> dict[PlayerId, Action]:
    if len(actors) > 1 and any(agents[p].concurrent for p in actors):
        results = await asyncio.gather(*(_ask(world, p, agents[p], settings, notes) for p in actors))
        return dict(zip(actors, results, strict=True))
    return {p: await _ask(world, p, agents[p], settings, notes) for p in actors}


async def _ask(
    world: World,
    player: PlayerId,
    agent: Agent,
    settings: EngineSettings,
    notes: list[Event],
    feedback: str | None = None,
) -> Action:
    """Ask one seat until it gives a legal action, or fall back (logging an ``invalid`` event)."""
    attempts = _Attempts(world, player, agent, notes, feedback)
    limit = settings.action_limit(agent)
    for _ in range(settings.max_retries + 1):
        try:
            if agent.concurrent:
                async with asyncio.timeout(limit):
                    action = await agent.act(attempts.obs)
            else:
                action = await agent.act(attempts.obs)
        except TimeoutError:
            attempts.reject(f"no answer within {limit:g} s")
            continue
        except NoAnswer as exc:
            attempts.reject(f"no legal answer: {exc}")
            break
        if attempts.accept(action):
            return action
    return attempts.fallback()


def _not_actionable(player: PlayerId) -> RuntimeError:
    return RuntimeError(f"the world asks {player} to act but gives it no legal actions (legal is None)")


def _fallback(
    obs: Observation, legal: ActionSpec, player: PlayerId, errors: list[str], notes: list[Event]
) -> Action:
    if legal.fallback is None:
        raise AgentError(f"{player} gave no legal action ({errors[-1]}) and the world declares no fallback")
    fallback = legal.fallback_action()
    notes.append(
        Event(
            obs.turn,
            obs.phase,
            "invalid",
            {"errors": errors, "attempts": len(errors), "fallback": fallback.value},
            actor=player,
            visible_to=(player,),
        )
    )
    return fallback


async def _repair(
    world: World,
    actions: dict[PlayerId, Action],
    agents: Mapping[PlayerId, Agent],
    settings: EngineSettings,
    exc: IllegalActionError,
    notes: list[Event],
) -> list[Event]:
    """The world rejected an action that passed its spec: re-ask that seat with the reason, then fall back."""
    for _ in range(settings.max_retries + 1):
        actions[exc.player] = await _ask(world, exc.player, agents[exc.player], settings, notes, exc.reason)
        try:
            return world.step(actions)
        except IllegalActionError as again:
            exc = again
    obs = world.observe(exc.player)
    if obs.legal is None:
        raise _not_actionable(exc.player)
    actions[exc.player] = _fallback(obs, obs.legal, exc.player, [exc.reason], notes)
    return world.step(actions)
