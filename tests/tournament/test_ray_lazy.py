"""Ray is an optional extra: importing the backend (or the runner) must not import it."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_ray_backend_does_not_import_ray() -> None:
    code = (
        "import sys, sim.runner, sim.ray_executor\n"
        "factory = sim.ray_executor.ray_backend('auto', None)\n"
        "assert 'ray' not in sys.modules, 'ray imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
