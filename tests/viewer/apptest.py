"""The viewer app under Streamlit's AppTest, for the page tests, and what its charts hold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
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


def charts(at: AppTest) -> list[tuple[dict[str, Any], pd.DataFrame]]:
    """Every Altair chart of the page: its Vega-Lite spec and its data (decoded from Arrow)."""
    out = []
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        frames = [pa.ipc.open_stream(d.data.data).read_pandas() for d in chart.proto.datasets]
        out.append((spec, frames[0] if frames else pd.DataFrame()))
    return out


def layers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The spec's layers (the spec itself when it has none)."""
    return list(spec.get("layer", [spec]))
