"""Test-wide setup: litellm stays offline, and fixtures shared by the suites."""

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")

import random

import numpy as np
import pytest


@pytest.fixture
def no_global_rng(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any use of the global ``random`` or ``numpy.random`` state fail the test."""

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("global RNG used")

    for name in (
        "random",
        "randint",
        "choice",
        "choices",
        "shuffle",
        "sample",
        "uniform",
        "gauss",
        "randrange",
        "getrandbits",
        "betavariate",
        "expovariate",
        "normalvariate",
        "triangular",
        "seed",
    ):
        monkeypatch.setattr(random, name, forbidden)
    for name in (
        "random",
        "rand",
        "randn",
        "randint",
        "choice",
        "shuffle",
        "permutation",
        "uniform",
        "normal",
        "seed",
        "random_sample",
        "binomial",
        "poisson",
    ):
        monkeypatch.setattr(np.random, name, forbidden)


import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))  # test-only agents (engine_agents) importable by scenarios
