"""Parameters of ``social/among_us-v1`` (defaults: AmongAgents' 5-player game on the Skeld, 1 common + 1
short task; the ``classic5`` preset deals more tasks and a shorter cooldown so bot games are contested)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from worlds.among_us.maps import load_map, map_problem
from worlds.among_us.records import TaskKind

MIN_PLAYERS, MAX_PLAYERS = 3, 10


class AmongUsParams(BaseModel):
    """Map, deal, tasks, kill cooldown, meetings and the variant rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    map: str = Field(
        "skeld", description="skeld, skeld_amongagents, grid:WxH, or the path of a YAML map file"
    )
    impostors: int | Literal["auto"] = Field(
        1,
        description="impostors (fewer than the crewmates), or auto: 1 up to 6 players, 2 for 7-8, 3",
    )
    common_tasks: int = Field(1, ge=0, le=5, description="common tasks (the same for every crewmate)")
    short_tasks: int = Field(1, ge=0, le=10, description="short tasks per crewmate (1 turn each)")
    long_tasks: int = Field(0, ge=0, le=10, description="long tasks per crewmate (2 turns each)")
    random_tasks: int = Field(
        0,
        ge=0,
        le=10,
        description="tasks per crewmate at uniformly random rooms (Sarkar's grid), named Task k",
    )
    random_task_turns: int = Field(1, ge=1, le=10, description="DO_TASK turns each random-room task needs")
    kill_cooldown: int = Field(3, ge=0, le=50, description="K: a kill in round t blocks KILL in t+1..t+K")
    initial_kill_cooldown: int | None = Field(
        None,
        ge=0,
        le=50,
        description="the cooldown at game start (default K): KILL first offered in round this+1",
    )
    discussion_rounds: int = Field(3, ge=0, le=5, description="each living player speaks once per round")
    discussion_order: Literal["caller_first", "shuffled"] = Field(
        "caller_first", description="seat order starting with the caller, or a seeded shuffle per meeting"
    )
    message_max_chars: int = Field(500, ge=1, le=5000)
    buttons: int = Field(2, ge=0, le=10, description="emergency meetings that may be called")
    button_scope: Literal["game", "player"] = Field("game", description="buttons per game or per player")
    max_turns: int = Field(50, ge=1, le=1000, description="game time limit (task rounds + meetings)")
    timeout_winner: Literal["impostors", "nobody"] = Field(
        "impostors", description="who wins at the time limit (nobody: Sarkar's truncation, a draw)"
    )
    confirm_ejects: bool = Field(False, description="announce the ejected player's role")
    dead_tasks: Literal["excluded", "ghosts"] = Field(
        "excluded",
        description="excluded: the task win counts alive crewmates only; ghosts: dead crewmates' tasks count "
        "too and their ghosts keep moving and doing them, unseen",
    )
    busy_blind: bool = Field(False, description="a player doing a task does not witness a kill (Sarkar)")
    survey: bool = Field(
        False,
        description="ask every living seat 'who is most suspicious?' before a meeting's first speech and "
        "after each speech (answers seen by nobody; Sarkar's listening and speaking signals)",
    )
    impostor_seats: list[int] | None = Field(
        None, description="seat indices (0 = p0) dealt the impostors (scripted games); default: a seeded deal"
    )

    @model_validator(mode="after")
    def _consistent(self) -> AmongUsParams:
        problem = map_problem(self.map)
        if problem:
            raise ValueError(problem)
        game_map = load_map(self.map)
        slots = [s for room in game_map.rooms for s in game_map.tasks[room]]
        for kind, wanted in (
            (TaskKind.COMMON, self.common_tasks),
            (TaskKind.SHORT, self.short_tasks),
            (TaskKind.LONG, self.long_tasks),
        ):
            have = sum(s.kind is kind for s in slots)
            if wanted > have:
                raise ValueError(f"{kind}_tasks={wanted} but map {self.map} has only {have} {kind} tasks")
        if self.common_tasks + self.short_tasks + self.long_tasks + self.random_tasks == 0:
            raise ValueError("every crewmate needs at least one task (else the crew wins at the first check)")
        if isinstance(self.impostors, int) and not 1 <= self.impostors <= 4:
            raise ValueError("impostors must be 1-4 or auto")
        if self.impostor_seats is not None:
            if self.impostors == "auto" or len(set(self.impostor_seats)) != len(self.impostor_seats):
                raise ValueError(
                    "impostor_seats must list distinct seats, as many as a fixed impostors count"
                )
            if len(self.impostor_seats) != self.impostors:
                raise ValueError(f"impostor_seats must list {self.impostors} distinct seats")
            if any(s < 0 for s in self.impostor_seats):
                raise ValueError("impostor_seats are seat indices from 0")
        return self

    def n_impostors(self, n_players: int) -> int:
        """Impostors at a table of ``n_players``."""
        if self.impostors == "auto":
            return 1 if n_players <= 6 else 2 if n_players <= 8 else 3
        return self.impostors

    @property
    def first_kill_cooldown(self) -> int:
        """The cooldown every impostor starts with."""
        return self.kill_cooldown if self.initial_kill_cooldown is None else self.initial_kill_cooldown

    def players_problem(self, n_players: int) -> str | None:
        """Why this setup cannot seat ``n_players``, or None."""
        if not MIN_PLAYERS <= n_players <= MAX_PLAYERS:
            return f"Among Us is played by {MIN_PLAYERS}-{MAX_PLAYERS} players, got {n_players}"
        k = self.n_impostors(n_players)
        if k >= n_players - k:
            return (
                f"{k} impostors need more crewmates than that, but {n_players} players leave "
                f"{n_players - k} (the impostors would win at once)"
            )
        if self.impostor_seats is not None and max(self.impostor_seats) >= n_players:
            return f"impostor_seats {self.impostor_seats} name a seat beyond p{n_players - 1}"
        return None
