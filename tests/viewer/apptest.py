"""The viewer app under Streamlit's AppTest, for the page tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from sim_cli import ROOT
from streamlit.testing.v1 import AppTest

APP = str(ROOT / "app.py")


def app(db: Path, monkeypatch: pytest.MonkeyPatch, **query: str) -> AppTest:
    """The app on ``db`` with ``query``, run once; fails on any exception in the page."""
    monkeypatch.setenv("SIM_VIEW_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at
