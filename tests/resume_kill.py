"""A run that SIGKILLs itself at a precise point, for the resume tests (points a poll cannot hit).

``python tests/resume_kill.py SCENARIO DB POINT`` plays the scenario with the real driver
(:func:`sim.runner.run_scenario`) and kills its own process with ``SIGKILL`` at ``POINT``:

- ``last-episode``: as the last episode's record is written (what is committed by then stays);
- ``evaluate``: once every episode is committed, when the final evaluation starts (the run is still
  ``running``).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import sim.runner
from sim.scenario import load_scenario


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main(scenario: str, db: str, point: str) -> None:
    loaded = load_scenario(scenario)
    total = len(loaded.plans)
    played = 0

    def on_episode(*_: Any) -> None:
        nonlocal played
        played += 1
        if point == "last-episode" and played == total:
            _die()

    if point == "evaluate":

        async def evaluate(writer: Any, *_: Any) -> None:
            writer.sync()
            _die()

        sim.runner._evaluate = evaluate  # type: ignore[assignment]
    sim.runner.run_scenario(loaded, db, on_episode)
    raise SystemExit(f"{point}: not reached")


if __name__ == "__main__":
    main(*sys.argv[1:4])
