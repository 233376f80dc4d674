"""Running the real ``sim`` command in a subprocess, for CLI tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 120


def sim_command() -> list[str]:
    """The installed ``sim`` script next to this interpreter (or the same entry point through ``-c``)."""
    script = Path(sys.executable).with_name("sim")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from sim.cli import main; main()"]


def sim_env(columns: int = 200, extra_path: Sequence[Path] = ()) -> dict[str, str]:
    """The environment for ``sim``: a terminal ``columns`` wide, ``extra_path`` importable."""
    env = {**os.environ, "COLUMNS": str(columns)}
    paths = [*map(str, extra_path), str(ROOT), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    return env


def run_sim(
    *args: str | Path, cwd: Path = ROOT, columns: int = 200, extra_path: Sequence[Path] = ()
) -> subprocess.CompletedProcess[str]:
    """Run ``sim ARGS`` and capture its output (never raises on a non-zero exit)."""
    return subprocess.run(
        [*sim_command(), *map(str, args)],
        cwd=cwd,
        env=sim_env(columns, extra_path),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
