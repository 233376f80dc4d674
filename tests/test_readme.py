"""Every shell command in README.md's ``bash`` blocks is run (in README order, in a scratch folder) or is
listed in :data:`SKIPPED` with the reason; a new README command that is neither fails the test. The
``python`` blocks run too, after the commands.

Parallel-safe: the scratch folder holds copies of the preset scenarios and every DB; the test server
and the viewer listen on free ports, substituted for the README's 8765 and 8600 (in the commands and
in the scenario copies). ``make demo`` runs with its install step assumed done (``-o``) and its DB in
the scratch folder.
"""

from __future__ import annotations

import re
import shlex
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import sim_cli

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TIMEOUT = 180

#: README commands not run here, and why (exact text, comments and line continuations removed).
SKIPPED = {
    "make test": "the whole test suite, this test included",
    ".venv/bin/sim evaluate --db runs/recon.db run:1": (
        "needs runs/recon.db, an all-LLM Avalon run whose scenario configures a judge; "
        "tests/evaluators/test_evaluate_cli.py runs sim evaluate against the test server"
    ),
    ".venv/bin/sim evaluate --db runs/recon.db episode:3 --evaluator recon_judge "
    "--set model.model=ollama_chat/qwen2.5:7b --set model.api_base=http://127.0.0.1:11434": (
        "needs an Ollama server and runs/recon.db"
    ),
    "pip install 'llama-cpp-python[server]'": "installs and compiles llama.cpp (make smoke-real does)",
    "python -m llama_cpp.server --model SmolLM2-135M-Instruct.Q4_1.gguf --host 127.0.0.1 --port 8080 "
    "--n_ctx 4096": "a llama.cpp server with a GGUF model (make smoke-real)",
    ".venv/bin/sim run worlds/repeated/scenarios/llm_akata_pd.yaml --new-run "
    "--set tournament.focal.config.model.model=text-completion-openai/smollm2 "
    "--set tournament.focal.config.model.api_base=http://127.0.0.1:8080/v1": (
        "needs the llama.cpp server above (make smoke-real runs this route)"
    ),
    ".venv/bin/sim run worlds/avalon/scenarios/avalonbench_5p_llm.yaml --new-run "
    "--set seats.0.config.model.model=openai/smollm2 "
    "--set seats.0.config.model.api_base=http://127.0.0.1:8080/v1 --set seats.0.config.model.timeout=600": (
        "needs the llama.cpp server above (make smoke-real)"
    ),
    "llama-server -m SmolLM2-135M-Instruct.Q4_1.gguf --host 127.0.0.1 --port 8080 -c 4096": (
        "llama.cpp's own server, not installed here"
    ),
    "ollama pull qwen2.5:0.5b && ollama serve": "Ollama, not installed here",
    "vllm serve Qwen/Qwen2.5-0.5B-Instruct --host 127.0.0.1 --port 8000": "vLLM, not installed here",
    ".venv/bin/sim view --db runs/demo.db": (
        "opens a browser on the fixed port 8501; the --port/--headless form after it is run"
    ),
}
#: Commands that keep serving: started, checked once they answer, stopped at the end.
SERVERS = (".venv/bin/sim test-server", ".venv/bin/sim view")


def blocks(language: str) -> list[str]:
    """The bodies of README.md's fenced code blocks in ``language``."""
    return re.findall(rf"^```{language}\n(.*?)^```", README.read_text(encoding="utf-8"), re.S | re.M)


def commands() -> list[str]:
    """Every command of the ``bash`` blocks: continuation lines joined, comments removed."""
    found = []
    for body in blocks("bash"):
        for line in body.replace("\\\n", " ").splitlines():
            command = re.sub(r"(^|\s+)#.*$", "", line).strip()
            if command:
                found.append(re.sub(r"\s+", " ", command))
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_every_readme_command_is_run_or_skipped_with_a_reason() -> None:
    found = commands()
    unknown = [c for c in found if c not in SKIPPED and not c.startswith((".venv/bin/sim ", "make demo"))]
    assert not unknown, f"README commands neither run nor in SKIPPED: {unknown}"
    stale = [c for c in SKIPPED if c not in found]
    assert not stale, f"SKIPPED lists commands the README no longer has: {stale}"


def _wait_until_answering(url: str, proc: subprocess.Popen[str], deadline: float) -> None:
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"{proc.args!r} exited with {proc.returncode}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer")


@pytest.mark.slow
def test_readme_commands_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ports = {"8765": str(free_port()), "8600": str(free_port())}
    for scenarios in ROOT.glob("worlds/*/scenarios"):
        copy = tmp_path / scenarios.relative_to(ROOT)
        copy.mkdir(parents=True)
        for path in scenarios.glob("*.yaml"):
            (copy / path.name).write_text(path.read_text(encoding="utf-8").replace("8765", ports["8765"]))
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    env = sim_cli.sim_env(columns=100)
    servers: list[subprocess.Popen[str]] = []
    try:
        for command in commands():
            if command in SKIPPED:
                continue
            for readme_port, port in ports.items():
                command = command.replace(readme_port, port)
            args = shlex.split(command.removesuffix("&").strip())
            if args[:2] == ["make", "demo"]:  # the install step assumed done; the DB in the scratch folder
                args = ["make", "-C", str(ROOT), "-o", ".venv/.installed-stamp", "demo"]
                args.append(f"DEMO_DB={tmp_path / 'runs' / 'demo.db'}")
            if command.startswith(SERVERS):
                proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, text=True)
                servers.append(proc)
                port = ports["8765"] if "test-server" in command else ports["8600"]
                url = f"http://127.0.0.1:{port}/" + ("health" if "test-server" in command else "")
                _wait_until_answering(url, proc, time.monotonic() + 90)
                continue
            result = subprocess.run(
                args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
            )
            output = result.stdout + result.stderr
            assert result.returncode == 0 and "Traceback" not in output, f"{command}:\n{output}"
        monkeypatch.chdir(tmp_path)
        for body in blocks("python"):
            exec(compile(body, "README.md", "exec"), {})  # the README's own example
    finally:
        for proc in servers:
            proc.terminate()
            proc.wait(20)
    assert (tmp_path / "runs" / "demo.db").exists() and any((tmp_path / "exports").iterdir())
