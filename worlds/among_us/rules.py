"""Pure rules of Among Us: the deal, task assignment, the vote tally and the win check."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Collection, Mapping, Sequence

from sim.types import PlayerId
from worlds.among_us.maps import GameMap
from worlds.among_us.params import AmongUsParams
from worlds.among_us.records import SKIP, Role, Task, TaskKind

LONG_TURNS = 2


def deal_roles(
    players: Sequence[PlayerId], params: AmongUsParams, rng: random.Random
) -> dict[PlayerId, Role]:
    """Each seat's role: ``impostor_seats`` if given, else a seeded sample of ``params.impostors`` seats."""
    if params.impostor_seats is not None:
        chosen = {players[i] for i in params.impostor_seats}
    else:
        chosen = set(rng.sample(list(players), params.n_impostors(len(players))))
    return {p: Role.IMPOSTOR if p in chosen else Role.CREWMATE for p in players}


def slot_turns(kind: TaskKind) -> int:
    """Long tasks take two DO_TASK rounds, common and short ones one."""
    return LONG_TURNS if kind is TaskKind.LONG else 1


def assign_tasks(
    crew: Sequence[PlayerId], game_map: GameMap, params: AmongUsParams, rng: random.Random
) -> tuple[dict[PlayerId, tuple[Task, ...]], tuple[Task, ...]]:
    """Each crewmate's tasks (the common ones, then its own short, long and random-room ones), and the
    common tasks (the impostors' fake list)."""
    by_kind: dict[TaskKind, list[Task]] = {kind: [] for kind in TaskKind}
    for room in game_map.rooms:
        for slot in game_map.tasks[room]:
            by_kind[slot.kind].append(Task(slot.name, room, slot_turns(slot.kind)))
    common = tuple(rng.sample(by_kind[TaskKind.COMMON], params.common_tasks))
    assigned = {}
    for p in crew:
        own = [
            *rng.sample(by_kind[TaskKind.SHORT], params.short_tasks),
            *rng.sample(by_kind[TaskKind.LONG], params.long_tasks),
            *(
                Task(f"Task {k + 1}", rng.choice(game_map.rooms), params.random_task_turns)
                for k in range(params.random_tasks)
            ),
        ]
        assigned[p] = (*common, *own)
    return assigned, common


def tally(votes: Mapping[PlayerId, str]) -> tuple[dict[str, int], PlayerId | None]:
    """Votes per target (``skip`` included, as a candidate) and the ejected seat: the one non-skip target
    with a strictly larger count than every other target and than skip; nobody on any tie or a skip lead."""
    counts = Counter(votes.values())
    ordered = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    if not counts:
        return ordered, None
    top = max(counts.values())
    leaders = [t for t, c in counts.items() if c == top]
    if len(leaders) == 1 and leaders[0] != SKIP:
        return ordered, leaders[0]
    return ordered, None


def winner(
    impostors_alive: int,
    crew_alive: int,
    tasks_done: bool,
    clock: int,
    max_turns: int,
) -> tuple[Role, str] | None:
    """The win check, first match wins: no impostor left (crew), parity (impostors), every counted task
    done (crew), the time limit (impostors); None while the game goes on."""
    if impostors_alive == 0:
        return Role.CREWMATE, "crew_vote_out"
    if impostors_alive >= crew_alive:
        return Role.IMPOSTOR, "imp_parity"
    if tasks_done:
        return Role.CREWMATE, "crew_tasks"
    if clock >= max_turns:
        return Role.IMPOSTOR, "imp_timeout"
    return None


def all_tasks_done(progress: Mapping[PlayerId, Mapping[Task, int]], counted: Collection[PlayerId]) -> bool:
    """Whether every task of the counted crewmates has all its turns done."""
    return all(done >= task.turns for p in counted for task, done in progress[p].items())


def speaking_order(
    alive: Sequence[PlayerId], caller: PlayerId, order: str, rng: random.Random
) -> list[PlayerId]:
    """One discussion round: seat order from the (living) caller, or shuffled."""
    if order == "shuffled":
        shuffled = list(alive)
        rng.shuffle(shuffled)
        return shuffled
    start = alive.index(caller)
    return [*alive[start:], *alive[:start]]
