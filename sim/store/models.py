"""SQLAlchemy 2 typed ORM models of the trajectory store (documented column by column in docs/schema.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA_VERSION = 4
"""2: seats.role, metrics.evaluator and metrics.evaluator_model. 3: runs.fingerprint, pid, host and
heartbeat_at (resume, dead-run detection); episodes.key; llm_calls.http_attempt and cache_key.
4: seats.game_role and seats.side (each seat's role and side in play, told at the episode's end)."""


class Base(DeclarativeBase):
    """Declarative base; dict and list annotations become JSON columns."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Meta(Base):
    """Key/value facts about the store itself (``schema_version``)."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Run(Base):
    """One invocation of a scenario (``sim run``)."""

    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_name: Mapped[str] = mapped_column(String(200))
    scenario_path: Mapped[str | None] = mapped_column(Text)
    scenario: Mapped[dict[str, Any]]
    world_id: Mapped[str] = mapped_column(String(100))
    seed: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    sim_version: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    fingerprint: Mapped[str | None] = mapped_column(String(64), index=True)
    pid: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(String(200))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)


class Episode(Base):
    """One game from reset to terminal (or interruption)."""

    __tablename__ = "episodes"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    matchup: Mapped[str] = mapped_column(String(400))
    world_id: Mapped[str] = mapped_column(String(100))
    params: Mapped[dict[str, Any]]
    seed: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    turns: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    key: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (UniqueConstraint("run_id", "index"),)


class Seat(Base):
    """Who sat where in an episode, in which role (``player`` or another the world declares), how they did.

    ``game_role`` and ``side`` are the seat's role and side in play (Avalon's ``merlin`` and ``good``),
    as the world tells them once the episode is over; NULL for worlds without them and unfinished
    episodes. ``role`` is the declared seat role of the scenario (``player``, ``narrator``).
    """

    __tablename__ = "seats"
    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id"), index=True)
    player_id: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(40), default="player")
    agent: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(200))
    config: Mapped[dict[str, Any]]
    score: Mapped[float | None] = mapped_column(Float)
    invalid_actions: Mapped[int] = mapped_column(Integer, default=0)
    game_role: Mapped[str | None] = mapped_column(String(40))
    side: Mapped[str | None] = mapped_column(String(40))
    __table_args__ = (UniqueConstraint("episode_id", "player_id"),)


class EventRow(Base):
    """Everything that happened, in order. ``id`` is monotonic so a viewer can tail ``id > last``."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id"))
    seq: Mapped[int] = mapped_column(Integer)
    turn: Mapped[int] = mapped_column(Integer)
    phase: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str | None] = mapped_column(String(32))
    visible_to: Mapped[Any] = mapped_column(JSON)
    payload: Mapped[dict[str, Any]]
    __table_args__ = (UniqueConstraint("episode_id", "seq"),)


class Metric(Base):
    """An end-of-episode number about a seat (``player_id`` NULL is reserved for whole-episode numbers).

    ``evaluator`` is NULL for numbers from the engine, the world and the agents; an evaluator scoring
    stored episodes after a run (an LLM judge, say) tags its rows with its name and model.
    """

    __tablename__ = "metrics"
    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id"), index=True)
    player_id: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(80))
    value: Mapped[float | None] = mapped_column(Float)
    evaluator: Mapped[str | None] = mapped_column(String(80))
    evaluator_model: Mapped[str | None] = mapped_column(String(200))


class TurnMetric(Base):
    """A per-turn series from the Mesa DataCollector: ``values[i]`` was measured after ``turns[i]``."""

    __tablename__ = "turn_metrics"
    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id"), index=True)
    player_id: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(80))
    turns: Mapped[list[Any]]
    values: Mapped[list[Any]]


class LLMCall(Base):
    """One request to a language model and its answer (filled by LLM agents)."""

    __tablename__ = "llm_calls"
    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int | None] = mapped_column(ForeignKey("episodes.id"), index=True)
    player_id: Mapped[str | None] = mapped_column(String(32))
    turn: Mapped[int | None] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(80))
    model: Mapped[str] = mapped_column(String(200))
    messages: Mapped[list[Any]]
    params: Mapped[dict[str, Any]]
    response: Mapped[str | None] = mapped_column(Text)
    parsed: Mapped[Any] = mapped_column(JSON)
    valid: Mapped[bool] = mapped_column(Boolean)
    error_class: Mapped[str | None] = mapped_column(String(120))
    error: Mapped[str | None] = mapped_column(Text)
    attempt: Mapped[int] = mapped_column(Integer)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    cost_usd: Mapped[float | None] = mapped_column(Float)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    cache_hit: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    http_attempt: Mapped[int | None] = mapped_column(Integer)
    cache_key: Mapped[str | None] = mapped_column(String(64))


class LLMCacheEntry(Base):
    """A cached model answer, keyed by the hash of (model, messages, parameters, schema)."""

    __tablename__ = "llm_cache"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(200))
    response: Mapped[str] = mapped_column(Text)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    cost_usd: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime)
