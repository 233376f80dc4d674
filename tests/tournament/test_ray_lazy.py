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


def test_the_ray_tournament_backend_and_the_cli_help_do_not_import_ray() -> None:
    code = (
        "import sys, contextlib\n"
        "from pathlib import Path\n"
        "from sim.cli import app\n"
        "from sim.tournament.run import BACKENDS, BackendOptions\n"
        "options = BackendOptions(2, {}, lambda job: True, Path('t.db'), {'ray_address': 'auto'})\n"
        "assert callable(BACKENDS['ray'](options))\n"
        "for args in (['--help'], ['tournament', '--help']):\n"
        "    with contextlib.suppress(SystemExit):\n"
        "        app(args)\n"
        "assert 'ray' not in sys.modules, 'ray imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "--ray-address" in result.stdout
