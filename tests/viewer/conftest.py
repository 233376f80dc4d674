"""Fixtures of the viewer's tests: stores written once per session, and where screenshots went."""

from __future__ import annotations

from pathlib import Path

import pytest
from viewer_stores import SCREENSHOTS, write_stores


@pytest.fixture(scope="session")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The stores of :func:`viewer_stores.write_stores`, shared by the AppTest and browser tests."""
    return write_stores(tmp_path_factory.mktemp("viewer"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Name the screenshots' directory, so a reader finds the pictures."""
    if SCREENSHOTS in config.stash:
        terminalreporter.write_line(f"viewer screenshots: {config.stash[SCREENSHOTS]}")
