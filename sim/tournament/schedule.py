"""A tournament's matches, generated deterministically from its spec.

Matches come repetition by repetition (all of repetition 0, then 1, ...), so a tournament stopped
early, by a budget say, is still balanced up to its last whole repetition. Every match of one
repetition shares one seed, ``derive_seed(seed, "repetition", r)``: each lineup meets the same world
randomness (common random numbers, as in duplicate bridge), so rotations of a group differ only in who
sits where. A match's id is the sha256 of its world, params, seats (pool name, agent, seat role,
config with secrets redacted), repetition, base seed and, for sampled seatings, its draw number: the
same spec always gives the same ids, and any change to what is played gives new ones.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sim.jobs import EpisodeJob, SeatConfig, _sha256
from sim.redact import redact
from sim.rng import derive_seed, stream
from sim.tournament.balance import role_deal
from sim.tournament.spec import Schedule, TournamentSpec
from sim.types import to_jsonable

#: Hex digits of a match id (64 bits: no collision in any tournament that fits in memory).
ID_LENGTH = 16


@dataclass(frozen=True)
class Match:
    """One match: its place in the schedule, stable id, seats, params (with any role-deal overrides),
    seed, and each seat's game role when the deal is fixed by seat (else None)."""

    index: int
    id: str
    repetition: int
    seats: tuple[SeatConfig, ...]
    params: dict[str, Any]
    seed: int
    game_roles: tuple[str, ...] | None = None

    @property
    def lineup(self) -> tuple[str, ...]:
        """Each seat's label (pool name, or a fixed seat's label)."""
        return tuple(s.label for s in self.seats)

    @property
    def matchup(self) -> str:
        return " vs ".join(self.lineup)

    def to_job(self, spec: TournamentSpec, run_id: int | None = None) -> EpisodeJob:
        """The match as an episode job for the existing executors."""
        return EpisodeJob(
            run_id=run_id,
            index=self.index,
            world=spec.file.world,
            world_id=spec.world_id,
            params=self.params,
            seats=self.seats,
            seed=self.seed,
            matchup=self.matchup,
            engine=spec.file.engine,
        )


def matches(spec: TournamentSpec) -> list[Match]:
    """Every match of the tournament, in playing order."""
    file = spec.file
    world = spec.world_cls.spec
    schedule = file.schedule
    base_params = to_jsonable(spec.params.model_dump(mode="json", exclude_unset=True))
    deals = (
        schedule.balance == "roles"
        and role_deal(spec.world_cls, spec.params, spec.players, file.seed) is not None
    )
    if schedule.format == "seatings" and schedule.balance == "roles" and not deals:
        raise ValueError(f"{spec.world_id} has no seat-fixed role deal (validate the spec first)")
    fixed = {f.seat: f for f in schedule.fixed}
    open_seats = [i for i in range(spec.players) if i not in fixed]
    default_role = world.default_role.name

    def seat_config(i: int, name: str) -> SeatConfig:
        if i in fixed:
            f = fixed[i]
            return SeatConfig(f.agent, f.label or f.agent, f.role or default_role, f.config)
        entry = file.pool[name]
        return SeatConfig(entry.agent, name, default_role, entry.config)

    out: list[Match] = []
    lineups = _lineups(list(file.pool), schedule, len(open_seats), file.seed)
    sampled = schedule.format == "seatings" and schedule.seatings == "sample"
    for repetition in range(file.repetitions):
        seed = derive_seed(file.seed, "repetition", repetition)
        for draw, names in enumerate(lineups):
            by_seat = dict(zip(open_seats, names, strict=True))
            seats = tuple(seat_config(i, by_seat.get(i, "")) for i in range(spec.players))
            params, game_roles = dict(base_params), None
            dealt = role_deal(spec.world_cls, spec.params, spec.players, seed) if deals else None
            if dealt is not None:
                overrides, game_roles = dealt
                params.update(overrides)
            plan = {
                "world": spec.world_id,
                "params": params,
                "seats": [[s.label, s.agent, s.role, redact(s.config)] for s in seats],
                "repetition": repetition,
                "seed": file.seed,
                "draw": draw if sampled else None,
            }
            match_id = _sha256(plan)[:ID_LENGTH]
            out.append(Match(len(out), match_id, repetition, seats, params, seed, game_roles))
    return out


def _lineups(names: Sequence[str], schedule: Schedule, open_seats: int, seed: int) -> list[tuple[str, ...]]:
    """The pool names filling the open seats, one tuple per match of a repetition."""
    if schedule.format == "round_robin":
        pick = itertools.combinations_with_replacement if schedule.self_play else itertools.combinations
        pairs: list[tuple[str, ...]] = list(pick(names, 2))
        if schedule.both_orders:
            pairs += [(b, a) for a, b in pairs if a != b]
        return pairs
    size = min(open_seats, len(names))
    if schedule.seatings == "enumerate":
        groups = list(itertools.combinations(names, size))
    else:
        assert schedule.samples is not None
        groups = _sample_groups(names, size, schedule.samples, stream(seed, "seatings"))
    shifts = 1 if schedule.balance == "none" else size
    return [tuple(g[(i + s) % size] for i in range(open_seats)) for g in groups for s in range(shifts)]


def _sample_groups(names: Sequence[str], size: int, count: int, rng: random.Random) -> list[tuple[str, ...]]:
    """``count`` groups of ``size`` agents, each taking those who have played least so far (ties broken
    at random): every agent's number of groups is within one of every other's."""
    played = dict.fromkeys(names, 0)
    groups = []
    for _ in range(count):
        order = sorted(names, key=lambda n: (played[n], rng.random()))
        group = tuple(sorted(order[:size], key=list(names).index))
        for n in group:
            played[n] += 1
        groups.append(group)
    return groups
