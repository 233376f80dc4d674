"""Supply-chain guard: every ``.pth`` file in the interpreter's site-packages must be on the allow-list.

Python executes the ``import`` lines of every ``.pth`` file in site-packages at each start-up, before
any of our code (the route of the litellm 1.82.8 compromise), so a package that drops one can run code
in every ``sim`` process. This check reads each ``.pth`` file's *content*, not only its name: a file is
accepted only if its name and every line match an entry of :data:`ALLOWED`. Run it with the venv's
interpreter (``make`` does, after installing): it prints each unexpected file and exits 1.
"""

from __future__ import annotations

import fnmatch
import re
import site
import sys
import sysconfig
from pathlib import Path

#: ``.pth`` file name pattern -> the pattern every non-empty line of it must match in full.
ALLOWED: dict[str, re.Pattern[str]] = {
    # setuptools: makes ``import distutils`` use its bundled copy.
    "distutils-precedence.pth": re.compile(
        re.escape(
            "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == 'local'; "
            "enabled and __import__('_distutils_hack').add_shim();"
        )
        + r"\s*"
    ),
    # this project installed editable (``pip install -e .``): setuptools' import finder for it.
    "__editable__.social_sim-*.pth": re.compile(
        r"import (__editable___social_sim_[0-9A-Za-z_]+_finder); \1\.install\(\)"
    ),
}


def site_dirs() -> list[Path]:
    """Every site-packages directory of this interpreter."""
    found = {*site.getsitepackages(), sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    return sorted(Path(d) for d in found if d and Path(d).is_dir())


def problems(dirs: list[Path]) -> list[str]:
    """One line per ``.pth`` file not on the allow-list (unknown name, or a line that does not match)."""
    out = []
    for folder in dirs:
        for path in sorted(folder.glob("*.pth")):
            pattern = next((p for name, p in ALLOWED.items() if fnmatch.fnmatchcase(path.name, name)), None)
            if pattern is None:
                out.append(f"{path}: not on the .pth allow-list (tools/check_pth.py)")
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            for number, line in enumerate(text.splitlines(), 1):
                if line.strip() and not pattern.fullmatch(line):
                    out.append(f"{path}:{number}: unexpected content {line[:120]!r}")
    return out


def main() -> int:
    found = problems(site_dirs())
    for line in found:
        print(line, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
