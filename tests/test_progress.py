"""The live progress line of ``sim run``: golden text at 80 and 60 columns, a long Avalon label cut
rather than the numbers, LLM activity in the line, and errors printed after the line is cleared."""

from __future__ import annotations

import io
import re
import socket
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console

from sim.cli_run import run_command
from sim.jobs import SeatConfig
from sim.llm.activity import Activity
from sim.progress import ProgressLine, matchup_label

ROOT = Path(__file__).resolve().parent.parent
AVALON_BOTS = ROOT / "worlds/avalon/scenarios/avalonbench_5p_bots.yaml"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def rendered(line: ProgressLine, width: int) -> str:
    console = Console(width=width, record=True, file=io.StringIO(), force_terminal=True)
    console.print(line)
    return console.export_text()


def seats(*labels: str) -> list[SeatConfig]:
    return [SeatConfig(agent=label, label=label, role="", config={}) for label in labels]


AVALON = "avalonbench-5p-bots: " + matchup_label(seats("avalon_naive", *["avalon_naive"] * 4))
MIXED = "recon-good-vs-cot-evil: " + matchup_label(
    seats("recon-merlin", "recon-servant", "recon-servant", "cot-minion", "cot-assassin")
)
LLM = Activity(calls=245, cached=12, tokens=45_123, cost_usd=0.0, unpriced=True)
PRICED = Activity(calls=3, tokens=950, cost_usd=0.01234)

GOLDEN = {
    80: [
        "avalonbench-5p-bots: 5×avalon_naive ━━━━╸━━━━━━━ 2/5 0:01:12 36 s/ep eta 0:01:48",
        "recon-good-vs-cot-evil: 5 seats: 4 agent typ… ━━━━━━━━━━ 0/3 0:00:03 eta -:--:--",
        "avalonbench-5p-… ━━━━╺━━━━━ 2/5 36 s/ep eta 0:01:48 · 245 LLM calls 45.1k tok $?",
        "llm-akata-pd:… ━━━━━━━━━━ 3/3 1.3 s/ep eta 0:00:00 · 3 LLM calls 950 tok $0.0123",
        "tft ━━━━━━━━━━━━━━╸━━━━━━━━━━━━━━━━━━━━━━━━━ 37/100 0:00:05 7.4 ep/s eta 0:00:09",
        "llm-akata-pd ━━━━━━━━━━━━━━━━━━━━━ 0/3 0:00:09 eta -:--:-- · loading LLM client…",
    ],
    60: [
        "avalonbench-5p-b… ━━━━╺━━━━━ 2/5 0:01:12 36 s/ep eta 0:01:48",
        "recon-good-vs-cot-evil: … ━━━━━━━━━━ 0/3 0:00:03 eta -:--:--",
        "avalonbench-5p-o… 2/5 36 s/ep eta 0:01:48 · 245 LLM calls $?",
        "llm-akata-pd… 3/3 1.3 s/ep eta 0:00:00 · 3 LLM calls $0.0123",
        "tft ━━━━━━━╺━━━━━━━━━━━━ 37/100 0:00:05 7.4 ep/s eta 0:00:09",
        "llm-akata-pd 0/3 eta -:--:-- · loading LLM client…",
    ],
}
LINES = [
    ProgressLine(AVALON, 2, 5, 72.3),
    ProgressLine(MIXED, 0, 3, 3.0),
    ProgressLine("avalonbench-5p-one-llm: llm + 4×avalon_naive", 2, 5, 72.3, activity=LLM),
    ProgressLine("llm-akata-pd: llm vs always-F", 3, 3, 4.0, activity=PRICED),
    ProgressLine("tft", 37, 100, 5.0),
    ProgressLine("llm-akata-pd", 0, 3, 9.0, activity=Activity(loading=True)),
]


@pytest.mark.parametrize("width", sorted(GOLDEN))
def test_progress_line_golden_text(width: int) -> None:
    got = [rendered(line, width).rstrip("\n") for line in LINES]
    assert got == GOLDEN[width]
    assert all(cell_len(line) <= width for line in got)


def test_matchup_labels_are_abbreviated() -> None:
    assert matchup_label(seats("tft", "grudger")) == "tft vs grudger"
    assert matchup_label(seats("llm", *["avalon_naive"] * 4)) == "llm + 4×avalon_naive"
    assert matchup_label(seats(*[f"agent-{i}" for i in range(10)])) == "10 seats: 10 agent types"


def test_a_label_is_plain_text_not_markup() -> None:
    assert rendered(ProgressLine("run [bold]x[/bold]", 0, 1), 80).startswith("run [bold]x[/bold] ")


def test_a_resumed_run_counts_only_its_own_episodes_in_the_rate() -> None:
    text = rendered(ProgressLine("r", 8, 10, 10.0, initial=6), 80)
    assert "5.0 s/ep eta 0:00:10" in text  # 2 episodes in 10 s, 2 to go


@given(
    width=st.integers(min_value=16, max_value=200),
    label=st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N", "Zs"]), max_size=120),
    total=st.integers(min_value=1, max_value=10**6),
    done=st.floats(min_value=0, max_value=1),
    elapsed=st.none() | st.floats(min_value=0, max_value=10**6),
    calls=st.integers(min_value=0, max_value=10**7),
    tokens=st.integers(min_value=0, max_value=10**10),
    unpriced=st.booleans(),
)
def test_the_line_fits_any_width_and_never_cuts_the_count(
    width: int,
    label: str,
    total: int,
    done: float,
    elapsed: float | None,
    calls: int,
    tokens: int,
    unpriced: bool,
) -> None:
    completed = int(total * done)
    live = Activity(calls=calls, tokens=tokens, cost_usd=calls * 0.001, unpriced=unpriced)
    text = rendered(ProgressLine(label, completed, total, elapsed, activity=live), width)
    (line,) = text.splitlines()
    assert cell_len(line) <= width
    count = f"{completed}/{total}"
    if len(count) <= width:
        assert count in line.split()


def frames(output: str) -> list[str]:
    """Every frame the live display drew (plain text), in order."""
    text = ANSI.sub("", output)
    return [f for f in re.split(r"[\r\n]", text) if f.strip()]


def terminal(buffer: io.StringIO, width: int) -> Console:
    return Console(file=buffer, width=width, force_terminal=True, color_system="standard")


def test_avalon_run_keeps_the_count_and_eta_on_an_80_column_line(tmp_path: Path) -> None:
    buffer = io.StringIO()
    db = tmp_path / "avalon.db"
    code = run_command(
        AVALON_BOTS, db, ["episodes=3"], False, terminal(buffer, 80), terminal(io.StringIO(), 80)
    )
    assert code == 0
    drawn = [f for f in frames(buffer.getvalue()) if f.startswith("avalonbench-5p-bots")]
    assert drawn, "no progress frame drawn"
    for frame in drawn:
        assert cell_len(frame) <= 80
        assert re.search(r" [0-3]/3 .*eta \d:\d\d:\d\d| [0-3]/3 .*eta -:--:--", frame), frame
    assert any("3/3" in f and "5×avalon_naive" in f for f in drawn)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_connection_failure_is_printed_after_the_progress_line_is_cleared(tmp_path: Path) -> None:
    port = closed_port()
    scenario = tmp_path / "offline.yaml"
    scenario.write_text(
        "name: offline\nworld: matrix/repeated-v1\n"
        "params: {game: akata_prisoners_dilemma, rounds: 2}\n"
        "seats:\n"
        f"  - {{agent: llm, config: {{model: {{model: openai/stub, api_base: 'http://127.0.0.1:{port}/v1'}}}}}}\n"
        "  - {agent: defector}\n"
        "seed: 1\n"
    )
    buffer = io.StringIO()  # stdout and stderr in one stream, as a terminal shows them
    code = run_command(scenario, tmp_path / "o.db", [], False, terminal(buffer, 80), terminal(buffer, 80))
    assert code == 1
    output = buffer.getvalue()
    error = output.index(f"cannot reach api_base http://127.0.0.1:{port}/v1")
    shown = output.rindex("\x1b[?25h")  # the live display's end: cursor shown again, line cleared
    assert shown < error, "the error was printed over the live progress line"
    assert "eta" not in ANSI.sub("", output[error:])
    assert f"sim test-server --port {port}" in output[error:]
