"""A store with one repeated-game episode still running, for the viewer's live tests."""

from __future__ import annotations

from pathlib import Path

from sim.store.engine import open_engine
from sim.store.writer import StoreWriter
from sim.types import Event


def running_episode(db: Path) -> tuple[StoreWriter, int]:
    """A writer on ``db`` and the id of an episode it began (status running, no events yet)."""
    writer = StoreWriter(open_engine(db))
    run = writer.begin_run(
        name="live", path=None, scenario={}, world_id="matrix/repeated-v1", seed=0, version="t"
    )
    seats = [{"player_id": p, "agent": "cooperator", "label": p, "config": {}} for p in ("p0", "p1")]
    episode = writer.begin_episode(
        run_id=run, index=0, matchup="p0 vs p1", world_id="matrix/repeated-v1", params={}, seed=1, seats=seats
    )
    writer.commit()
    return writer, episode


def round_event(r: int) -> Event:
    """Round ``r`` of C against D."""
    payload = {"round": r, "moves": {"p0": "C", "p1": "D"}, "payoffs": {"p0": 0.0, "p1": 5.0}}
    return Event(r, "play", "round", payload)
