"""Parameters of ``social/avalon-v1``: the role set and the variant rules (official rules by default)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from worlds.avalon.roles import MAX_PLAYERS, Role, role_set_problem


class AvalonParams(BaseModel):
    """Role set and variants. Defaults are the official rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    roles: list[Role] = Field(
        default_factory=lambda: [Role.MERLIN, Role.ASSASSIN],
        description="special roles; the other seats are Loyal Servants and Minions of Mordred",
    )
    hammer: Literal["evil_wins", "auto_approve"] = Field(
        "evil_wins",
        description="the 5th rejected team in a quest: evil wins (official), or the 5th team is approved "
        "whatever the vote (AvalonBench)",
    )
    forced_after_rejections: int | None = Field(
        None,
        ge=1,
        le=4,
        description="after this many rejections in a quest the next team goes on the quest without "
        "discussion or vote (ReCon's house rule: 3)",
    )
    tie_approves: bool = Field(False, description="a tied vote approves (official: a tie rejects)")
    evil_sees_roles: bool = Field(False, description="evil players see each other's roles, not only sides")
    seating: Literal["shuffled", "fixed"] = Field(
        "shuffled",
        description="shuffled: roles dealt at random and a random first leader; fixed: seat i gets the "
        "i-th role of the full list (specials first) and p0 leads first (ReCon's setup)",
    )
    discussion: bool = Field(True, description="each player speaks once per proposal before the vote")
    discussion_order: Literal["leader_first", "after_leader"] = Field(
        "leader_first", description="leader_first: the leader, then clockwise; after_leader: leader last"
    )
    speech_max_chars: int = Field(1500, ge=1, le=20_000)
    evil_confer: bool = Field(
        True, description="before the assassination, evil players (but Oberon) speak once among themselves"
    )
    first_leader: int | None = Field(
        None,
        ge=0,
        le=MAX_PLAYERS - 1,
        description="the seat index (0 = p0) that leads first; default: random with shuffled seating, p0 "
        "with fixed seating",
    )

    @field_validator("roles")
    @classmethod
    def _legal_role_set(cls, roles: list[Role]) -> list[Role]:
        problem = role_set_problem(roles)
        if problem:
            raise ValueError(problem)
        return roles

    def first_leader_problem(self, n_players: int) -> str | None:
        """Why ``first_leader`` is not a seat of a table of ``n_players``, or None."""
        if self.first_leader is not None and self.first_leader >= n_players:
            return (
                f"first_leader {self.first_leader} is not a seat: {n_players} players sit at seats "
                f"0-{n_players - 1}"
            )
        return None
