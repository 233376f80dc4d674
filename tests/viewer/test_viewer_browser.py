"""The viewer in a real browser: ``sim view`` serves a store from ``sim run``, headless chromium (driven
through the DevTools protocol, see ``cdp.py``) opens every page (runs, a repeated-game episode, an Avalon
episode, an Among Us game and a judged CharacterBox scene omniscient and as a seat, the comparisons of
both runs), and a full-height screenshot of each is kept as a test artifact: in ``$SIM_ARTIFACTS`` if
set, else under pytest's base temporary directory (the path is printed at the end of the session). One
server and one browser serve the whole session.

Without chromium the test is skipped, except under CI (``$CI`` set), where it fails: ``.ci/run`` installs
chromium with apt-get.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

import pytest
from cdp import CDPConnection, CDPError, evaluate, page_url
from live_store import round_event, running_episode
from mixed_store import mixed_store
from sim_cli import ROOT, sim_command, sim_env
from viewer_stores import (
    LABELS,
    SCREENSHOTS,
    TOURNAMENT_RUN,
    among_us_episode,
    among_us_kill_turn,
    avalon_episode,
    characterbox_episode,
    judge_critique,
)

from sim import registry
from sim.rng import stream
from sim.store.reader import StoreReader
from sim.viewer.tournament_view import PAIRWISE_TITLE, TRAJECTORY_TITLE
from worlds.repeated.params import RepeatedParams
from worlds.repeated.world import RepeatedGameWorld

EPISODE = 1  # of the combined store: the demo tournament's first episode
MAX_SHOT_HEIGHT = 9000  # px: a full page, capped
SERVER_TIMEOUT = 60.0
BROWSER_TIMEOUT = 30.0
PAGE_TIMEOUT = 60.0
SETTLE_TIMEOUT = 15.0
# Streamlit is done: no element placeholders left and the "running" indicator is gone
# every Vega chart drawn (Streamlit renders Altair through vega-embed, to a canvas or an svg)
CHARTS = "document.querySelectorAll('.vega-embed canvas, .vega-embed svg.marks').length"
# the height of Streamlit's scrolling main block (the body itself stays one viewport high)
FULL_HEIGHT = (
    "Math.max(document.body.scrollHeight, ...Array.from(document.querySelectorAll("
    "'[data-testid=stMain], [data-testid=stAppViewContainer], [data-testid=stMainBlockContainer]'),"
    " e => e.scrollHeight))"
)
SETTLED = "!document.querySelector('[data-testid=stSkeleton], [data-testid=stStatusWidgetRunningIcon]')"
INSTALL_HINT = (
    "chromium is not installed (neither `chromium` nor `chromium-browser` on PATH); install it with "
    "`sudo apt-get install -y chromium` (Debian/Ubuntu; .ci/run does this on CI)"
)
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy for 127.0.0.1


def normalize(text: str) -> str:
    """Whitespace collapsed to single spaces (HTML rendering collapses runs of spaces), and the arrow and
    dash Streamlit's markdown typesets (``->`` as →, ``--`` as —) read back as typed."""
    return " ".join(text.split()).replace("→", "->").replace("—", "--")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(path: Path, limit: int = 4000) -> str:
    """The end of a log file (empty if it does not exist)."""
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return ""


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """Stop ``process`` and every process in its group (it was started in a new session): SIGTERM, then
    SIGKILL for whatever is left after a few seconds."""
    pgid = process.pid
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if process.poll() is not None:
                try:
                    os.killpg(pgid, 0)  # children of the leader may still be running
                except ProcessLookupError:
                    break
            time.sleep(0.1)
        else:
            continue
        break
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def start(command: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``command`` in a new session (so :func:`stop_group` reaches its children), output to ``log``."""
    handle: IO[bytes] = log.open("wb")
    try:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        handle.close()  # the child has its own descriptor


def wait_for(what: str, check: Callable[[], object], timeout: float, failure: Callable[[], str]) -> object:
    """Poll ``check`` until it returns something truthy; fail with ``failure()`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    pytest.fail(f"{what}: not within {timeout:g} s\n{failure()}")


def find_chromium() -> str:
    """The chromium executable; skip the test without one (fail under CI)."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail(INSTALL_HINT)
        pytest.skip(INSTALL_HINT)
    return binary


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Path:
    """Where screenshots go: ``$SIM_ARTIFACTS``, else ``viewer-screenshots`` in pytest's base temporary
    directory; the session's summary names it."""
    configured = os.environ.get("SIM_ARTIFACTS")
    path = Path(configured) if configured else tmp_path_factory.getbasetemp() / "viewer-screenshots"
    path.mkdir(parents=True, exist_ok=True)
    pytestconfig.stash[SCREENSHOTS] = path
    return path


@pytest.fixture(scope="session")
def chromium_binary() -> str:
    return find_chromium()


@contextlib.contextmanager
def serving(db: Path, tmp_path: Path) -> Iterator[str]:
    """``sim view --headless`` on ``db``; yields its base URL once ``/_stcore/health`` says ok."""
    port = free_port()
    log = tmp_path / f"sim-view-{port}.log"
    process = start(
        [*sim_command(), "view", "--db", str(db), "--port", str(port), "--headless"], log, sim_env()
    )
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if process.poll() is not None:
            pytest.fail(f"sim view exited with {process.returncode} before answering:\n{tail(log)}")
        try:
            with DIRECT.open(f"{base}/_stcore/health", timeout=2) as response:
                return bool(response.read().decode().strip() == "ok")
        except (urllib.error.URLError, OSError):
            return False

    try:
        wait_for("sim view health check", healthy, SERVER_TIMEOUT, lambda: f"sim view output:\n{tail(log)}")
        yield base
    finally:
        stop_group(process)


@pytest.fixture(scope="session")
def viewer(stores: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The viewer on the combined store (the demo tournament, run 1; labelled Avalon bots, run 2)."""
    with serving(stores["combined"], tmp_path_factory.mktemp("view")) as base:
        yield base


@pytest.fixture(scope="session")
def browser(chromium_binary: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Headless chromium with a throwaway profile; yields the browser's DevTools websocket URL."""
    tmp_path = tmp_path_factory.mktemp("chromium")
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    log = tmp_path / "chromium.log"
    command = [
        chromium_binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1600",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        "about:blank",
    ]
    process = start(command, log)
    url: str | None = None

    def devtools_url() -> str | None:
        if process.poll() is not None:
            pytest.fail(f"chromium exited with {process.returncode} at start:\n{tail(log)}")
        try:  # first line: the port; second line: the browser endpoint's path
            port, path = (profile / "DevToolsActivePort").read_text().split()[:2]
            return f"ws://127.0.0.1:{port}{path}"
        except (OSError, ValueError):
            pass
        found = re.search(r"DevTools listening on (ws://\S+)", tail(log, 100_000))
        return found.group(1) if found else None

    try:
        url = str(
            wait_for(
                "chromium DevTools endpoint", devtools_url, BROWSER_TIMEOUT, lambda: f"chromium:\n{tail(log)}"
            )
        )
        yield url
    finally:
        if url is not None:
            # a clean shutdown first; stop_group takes care of whatever is left
            with contextlib.suppress(CDPError, OSError), CDPConnection(url, timeout=5) as connection:
                connection.send("Browser.close", timeout=5)
        stop_group(process)


def expected_lines(db: Path, episode_id: int) -> list[str]:
    """``world.describe_event`` of every event of the episode, whitespace-normalized."""
    reader = StoreReader(db)
    try:
        world = registry.world_entry(str(reader.episode(episode_id)["world_id"])).load()()
        return [normalize(world.describe_event(event)) for event in reader.event_objects(episode_id)]
    finally:
        reader.engine.dispose()


def body_text(page: CDPConnection) -> str:
    """The page's visible text, whitespace-normalized (empty while the page cannot answer)."""
    try:
        return normalize(str(evaluate(page, "document.body ? document.body.innerText : ''") or ""))
    except CDPError:
        return ""


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk; asserts the signature and the chunk are there."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "screenshot is not a PNG"
    assert data[12:16] == b"IHDR", "PNG without an IHDR chunk"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


@dataclass(frozen=True)
class Page:
    """A page to open: its query, what its text must show and must not show, how many charts it draws."""

    name: str
    query: str
    shows: tuple[str, ...]
    hides: tuple[str, ...] = ()
    charts: int = 0


PAGES = [
    Page("runs", "?page=runs", ("Runs", "Episodes", "Click an episode's number")),
    Page(
        "repeated-episode",
        f"?episode={EPISODE}",
        ("Moves", "Cumulative score", "Cooperation over rounds", "Transcript"),
        charts=3,
    ),
    Page("avalon-episode", "?episode={avalon}", ("Quests", "naive-merlin vs", "Roles"), charts=1),
    Page(
        "avalon-episode-seat-p1",
        "?episode={avalon}&seat=p1",
        ("Quests", "p0 avalon_naive vs p1 avalon_naive"),
        hides=tuple(LABELS),
        charts=1,
    ),
    Page(
        "compare-repeated",
        "?page=compare&run=1",
        ("Per agent", "draw counts as half a win", "Pairwise mean score"),
        charts=3,
    ),
    Page("compare-avalon", "?page=compare&run=2", ("Per agent", "Win rate per role"), charts=3),
    Page(
        "compare-tournament",
        f"?page=compare&run={TOURNAMENT_RUN}",
        ("Tournament leaderboard", "recon-gpt-4o-mini", PAIRWISE_TITLE, TRAJECTORY_TITLE, "Per agent"),
        charts=6,
    ),
    Page(
        "among-us-episode",
        "?episode={among_us}",
        ("Map (turn", "Tasks", "all crew tasks", "Meetings", "tally:", "Transcript"),
        charts=2,
    ),
    Page(
        "among-us-episode-seat-p0",
        "?episode={among_us}&seat=p0",
        ("Map as p0 saw it", "Meetings", "Transcript"),
        hides=("all crew tasks", "No seat sees the total"),
        charts=1,
    ),
    Page("among-us-kill", "?episode={among_us}&turn={kill}", ("Map (turn {kill})", " kills "), charts=2),
    Page(
        "characterbox-episode",
        "?episode={characterbox}",
        (
            "Screenplay",
            "SCENE 1: The reading of the will",
            "Corvin clutches his chest",
            "Characters over rounds",
            "Evaluation",
            judge_critique("Corvin"),
            judge_critique("narrator"),
            "Transcript",
        ),
        charts=2,
    ),
    Page(
        "characterbox-episode-seat-p0",
        "?episode={characterbox}&seat=p0",
        ("Screenplay", "As p0 (Ilse) saw it", "Characters over rounds", judge_critique("Ilse")),
        hides=(
            judge_critique("Corvin"),
            "he owes the buyer",
            "she read the new will",
            "rules:",
        ),
        charts=2,
    ),
]


@pytest.fixture(scope="session")
def tab(browser: str) -> Iterator[CDPConnection]:
    """One browser tab, shared by the page tests."""
    with CDPConnection(browser) as connection:
        target = connection.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    with CDPConnection(page_url(browser, target)) as page:
        yield page


def open_page(page: CDPConnection, url: str, done: Callable[[str], bool]) -> str:
    """Navigate to ``url`` and wait until ``done(text)`` and Streamlit has settled; the page's text."""
    page.send("Page.navigate", {"url": url})
    deadline = time.monotonic() + PAGE_TIMEOUT
    text = body_text(page)
    while not done(text) and time.monotonic() < deadline:
        time.sleep(0.5)
        text = body_text(page)
    settle_deadline = min(deadline, time.monotonic() + SETTLE_TIMEOUT)
    while not evaluate(page, SETTLED) and time.monotonic() < settle_deadline:
        time.sleep(0.25)  # charts and tables are still loading: the screenshot would show placeholders
    time.sleep(0.5)  # let the last paint happen
    return body_text(page)


def screenshot(page: CDPConnection, path: Path) -> bytes:
    """The whole page (Streamlit scrolls inside its main block: the viewport is stretched to its height,
    capped), saved to ``path``."""
    height = int(evaluate(page, FULL_HEIGHT) or 0)
    metrics = {"width": 1280, "height": min(max(height, 800), MAX_SHOT_HEIGHT), "deviceScaleFactor": 1}
    page.send("Emulation.setDeviceMetricsOverride", {**metrics, "mobile": False})
    try:
        wait_for("the page settled", lambda: evaluate(page, SETTLED), SETTLE_TIMEOUT, lambda: "")
        time.sleep(1.0)  # charts re-layout to the new size
        shot = base64.b64decode(page.send("Page.captureScreenshot", {"format": "png"})["data"])
    finally:
        page.send("Emulation.clearDeviceMetricsOverride")
    path.write_bytes(shot)  # kept also when the page did not render, to see what it showed
    return shot


@pytest.mark.slow
@pytest.mark.parametrize("shown", PAGES, ids=[p.name for p in PAGES])
def test_every_page_renders_and_is_photographed(
    shown: Page, stores: dict[str, Path], viewer: str, tab: CDPConnection, artifacts: Path
) -> None:
    db = stores["combined"]
    keys = {
        "avalon": avalon_episode(db),
        "among_us": among_us_episode(db),
        "kill": among_us_kill_turn(db),
        "characterbox": characterbox_episode(db),
    }
    url = f"{viewer}/{shown.query.format(**keys)}"
    shown = replace(shown, shows=tuple(s.format(**keys) for s in shown.shows))
    text = open_page(tab, url, lambda t: all(s in t for s in shown.shows))
    drawn = int(evaluate(tab, CHARTS) or 0)
    artifact = artifacts / f"viewer-{shown.name}.png"
    shot = screenshot(tab, artifact)
    missing = [s for s in shown.shows if s not in text]
    assert not missing, f"{url} lacks {missing} (screenshot: {artifact}); page text:\n{text[-3000:]}"
    leaked = [s for s in shown.hides if s in text]
    assert not leaked, f"{url} shows {leaked} (screenshot: {artifact})"
    assert drawn >= shown.charts, f"{url} drew {drawn} of {shown.charts} charts (screenshot: {artifact})"
    width, height = png_size(shot)
    assert width >= 640 and height >= 480, f"screenshot is only {width}x{height}"
    assert len(shot) > 10_000, f"screenshot is only {len(shot)} bytes (a blank page?)"


def test_episode_page_shows_transcript(
    stores: dict[str, Path], viewer: str, tab: CDPConnection, artifacts: Path
) -> None:
    lines = expected_lines(stores["combined"], EPISODE)
    assert lines, "the demo episode has no events"
    wanted = ["Transcript", *lines]  # every event line, literally (the viewer escapes markdown in them)
    text = open_page(tab, f"{viewer}/?episode={EPISODE}", lambda t: all(line in t for line in wanted))
    missing = [line for line in wanted if line not in text]
    artifact = artifacts / f"viewer-episode-{EPISODE}-transcript.png"
    if missing:
        screenshot(tab, artifact)
    assert not missing, (
        f"the episode page lacks {missing} after {PAGE_TIMEOUT:g} s (screenshot: {artifact});"
        f" end of the page text:\n{text[-3000:]}"
    )


def test_a_running_episode_updates_without_a_reload(
    chromium_binary: str, browser: str, tmp_path: Path
) -> None:
    """Events written while the page is open appear by themselves; the page is never reloaded."""
    db = tmp_path / "live.db"
    writer, episode = running_episode(db)
    world = RepeatedGameWorld()
    writer.add_events(episode, world.reset(["p0", "p1"], RepeatedParams(rounds=5), stream(0, "w")))
    writer.add_events(episode, [round_event(1)])
    writer.commit()
    writer.sync()
    first, later = (
        normalize(world.describe_event(round_event(1))),
        normalize(world.describe_event(round_event(3))),
    )
    try:
        with serving(db, tmp_path) as base, CDPConnection(browser) as connection:
            target = connection.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            with CDPConnection(page_url(browser, target)) as page:
                page.send("Page.navigate", {"url": f"{base}/?episode={episode}"})

                def text() -> str:
                    return body_text(page)

                wait_for(
                    "the first round on the page",
                    lambda: first in text(),
                    PAGE_TIMEOUT,
                    lambda: text()[-2000:],
                )
                evaluate(page, "window.simMarker = 'same page'")
                writer.add_events(episode, [round_event(2), round_event(3)])
                writer.commit()
                writer.sync()
                wait_for(
                    "a round written after the page opened",
                    lambda: later in text(),
                    30.0,
                    lambda: text()[-2000:],
                )
                writer.finish_episode(episode, status="complete", turns=3, outcome={"winner": "p1"})
                writer.commit()
                writer.sync()
                wait_for(
                    "the finished status", lambda: "status complete" in text(), 30.0, lambda: text()[-2000:]
                )
                assert evaluate(page, "window.simMarker") == "same page", "the page was reloaded"
    finally:
        writer.close()


def test_pages_of_a_store_with_a_dead_run(chromium_binary: str, browser: str, tmp_path: Path) -> None:
    """The Runs page names the dead run; a running episode of it shows its events and that it will not
    finish (no live timer)."""
    store = mixed_store(tmp_path / "mixed.db")
    episode = store.episodes["dead.running"]
    with serving(store.db, tmp_path) as base, CDPConnection(browser) as connection:
        target = connection.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        with CDPConnection(page_url(browser, target)) as page:

            def text() -> str:
                return body_text(page)

            page.send("Page.navigate", {"url": f"{base}/?page=runs"})
            dead = f"Run {store.runs['dead']} (dead) is dead"
            wait_for("the dead run's warning", lambda: dead in text(), PAGE_TIMEOUT, lambda: text()[-2000:])
            page.send("Page.navigate", {"url": f"{base}/?episode={episode}"})
            wanted = ("status running (run dead)", "will not finish", "-- turn 2")
            wait_for(
                "the dead run's running episode",
                lambda: all(w in text() for w in wanted),
                PAGE_TIMEOUT,
                lambda: text()[-2000:],
            )
            assert "new events appear" not in text()
