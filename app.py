"""The viewer: browse runs, replay episodes from any seat's point of view, watch live games, inspect
every LLM call and compare agents. It only reads the store (opened read-only).

Start it with ``sim view --db runs/demo.db`` (or ``streamlit run app.py -- --db FILE``; the
``SIM_VIEW_DB`` environment variable also names the file). Pages are chosen by query parameters, so
every view has a link: ``?page=runs``, ``?episode=ID`` (with ``&seat=p1&turn=12``), ``?page=compare&run=ID``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import streamlit as st

from sim.viewer import pages
from sim.viewer.data import ViewerData, ViewerError

DEFAULT_DB = Path("runs/demo.db")
OPEN_STORES = 4  # stores kept open at once (each change of the file on disk opens it anew)


def db_path() -> Path:
    """``--db`` after ``--`` on the streamlit command line, else ``SIM_VIEW_DB``, else runs/demo.db."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db")
    known, _ = parser.parse_known_args(sys.argv[1:])
    return Path(known.db or os.environ.get("SIM_VIEW_DB") or DEFAULT_DB)


@st.cache_resource(show_spinner=False, max_entries=OPEN_STORES, on_release=ViewerData.close)
def open_store(path: str, modified: float) -> ViewerData:
    """One read-only connection per file, re-opened when the file changes on disk (replaced, or a live
    run's checkpoint); the oldest are closed, so a long live run does not pile up open connections."""
    return ViewerData(path)


def main() -> None:
    """Route to a page by query parameters."""
    st.set_page_config(page_title="sim viewer", layout="wide")
    path = db_path()
    try:
        data = open_store(str(path), path.stat().st_mtime if path.exists() else 0.0)
    except ViewerError as exc:
        st.error(str(exc))
        st.stop()
    params = st.query_params
    page = params.get("page") or ("episode" if "episode" in params else "runs")
    choices = {"runs": "Runs and episodes", "episode": "Episode", "compare": "Compare agents"}
    with st.sidebar:
        st.caption(f"store: `{path}`")
        chosen = st.radio("Page", list(choices), index=list(choices).index(page), format_func=choices.get)
    if chosen != page:
        params["page"] = chosen
        page = chosen
    if page == "episode":
        pages.episode_page(data)
    elif page == "compare":
        pages.compare_page(data)
    else:
        pages.runs_page(data)


if __name__ == "__main__":  # streamlit runs this file as __main__; a spawned worker process
    main()  # re-imports its parent's __main__ as __mp_main__ (and must not draw the app then)
