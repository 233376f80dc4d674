"""The compare page's tables: per-agent scores and win rates, per-role win rates, with the intervals of
:mod:`sim.stats` (Wilson for rates, seeded bootstrap for means). Streamlit-free, so testable alone.

A rated seat's result is 1 (win), 0.5 (draw) or 0 (loss), as ``Outcome.points`` gives it; unrated seats
(a referee) are NaN and left out. Draws are counted in their own column and score half a win.
"""

from __future__ import annotations

import pandas as pd

from sim import stats

DRAW_NOTE = (
    "A draw counts as half a win (column draws); intervals are 95%: Wilson for rates, bootstrap for means."
)


def _rate_columns(points: pd.Series) -> dict[str, object]:
    """n, wins, draws, losses and the win rate with its Wilson interval (None when nothing is rated)."""
    rated = points.dropna()
    wins, draws = int((rated == 1.0).sum()), int((rated == 0.5).sum())
    n = len(rated)
    rate = stats.rate(wins, n, draws=draws, draws_as_half=True)
    return {
        "n": n,
        "wins": wins,
        "draws": draws,
        "losses": n - wins - draws,
        "win_rate": rate.value,
        "win_low": rate.low if n else None,
        "win_high": rate.high if n else None,
    }


def agent_table(results: pd.DataFrame) -> pd.DataFrame:
    """One row per agent label: seats played, mean score with a bootstrap interval, win rate with a Wilson
    interval (``results`` as :meth:`ViewerData.seat_results` gives it)."""
    rows = []
    for label, group in results.groupby("label", sort=True):
        score = stats.mean(group["score"].dropna().astype(float))
        rows.append(
            {
                "agent": label,
                "seats": len(group),
                "score": score.value,
                "score_low": score.low,
                "score_high": score.high,
                **_rate_columns(group["win"].astype(float)),
            }
        )
    return pd.DataFrame(rows)


def role_table(results: pd.DataFrame, roles: pd.DataFrame, by: str = "game_role") -> pd.DataFrame:
    """One row per game role, or per side with ``by="side"`` (``roles``: episode_id, player_id and that
    column): how often a seat dealt it won, with a Wilson interval. Empty when the world deals no roles."""
    if roles.empty:
        return pd.DataFrame()
    dealt = results.merge(roles, on=["episode_id", "player_id"]).dropna(subset=[by])
    name = "role" if by == "game_role" else by
    rows = [
        {name: value, **_rate_columns(group["win"].astype(float))}
        for value, group in dealt.groupby(by, sort=True)
    ]
    return pd.DataFrame(rows)
