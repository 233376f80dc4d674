"""docs/analysis.ipynb runs top to bottom in a real Jupyter kernel (nbclient + ipykernel): the kernel's
event loop is running when a cell calls ``sim.run_scenario``, another cell awaits ``sim.arun_scenario``."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from sim.store.reader import StoreReader

NOTEBOOK = Path(__file__).parent.parent / "docs/analysis.ipynb"


def _outputs(cell: nbformat.NotebookNode) -> str:
    """Everything a cell printed or displayed, as text (streams, plain and HTML results)."""
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        data = output.get("data", {})
        parts.extend(str(data.get(kind, "")) for kind in ("text/plain", "text/html"))
        parts.append(output.get("ename", ""))
    return "\n".join(parts)


@pytest.mark.slow
def test_the_analysis_notebook_runs_in_a_jupyter_kernel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SIM_ANALYSIS_DB", raising=False)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), (
        "clear outputs"
    )
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError naming the cell if any cell fails
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    printed = "\n".join(_outputs(cell) for cell in code)
    outputs = [output for cell in code for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"]
    assert "run 1: 21 episodes" in printed and "run 2: 20 episodes" in printed
    for agent in ("tit_for_tat", "defector", "cooperator", "grudger", "win_stay_lose_shift", "random(0.5)"):
        assert agent in printed
    charts = [cell for cell in code if "vega" in _outputs(cell).lower()]
    assert len(charts) == 4  # ranking, scores over rounds, cooperation over rounds, Avalon win rates
    seats = StoreReader(tmp_path / "runs/analysis.db").seats()
    assert set(seats.game_role.dropna()) == {"merlin", "servant", "assassin", "minion"}
