"""sim: a turn-based engine for LLM agents and bots in social worlds, logged to SQLite.

The Python API (for scripts and notebooks): :func:`run_scenario` and :func:`arun_scenario` play a
scenario (a loaded one or a file's path) and return its :class:`sim.run_summary.RunSummary`;
:func:`load_scenario` reads a scenario file; :class:`StoreReader` reads a store back as DataFrames.
They are imported on first use, so ``import sim`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from sim.runner import arun_scenario, run_scenario
    from sim.scenario import load_scenario
    from sim.store.reader import StoreReader

__all__ = ["StoreReader", "__version__", "arun_scenario", "load_scenario", "run_scenario"]

#: Public name -> the module that defines it.
_LAZY = {
    "run_scenario": "sim.runner",
    "arun_scenario": "sim.runner",
    "load_scenario": "sim.scenario",
    "StoreReader": "sim.store.reader",
}


def __getattr__(name: str) -> Any:
    """Import the public API lazily (PEP 562): ``sim.run_scenario`` loads :mod:`sim.runner` then."""
    if name not in _LAZY:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_LAZY[name]), name)
