"""Every shell command in README.md's ``bash`` blocks is run (in README order, in a scratch folder) or is
listed in :data:`SKIPPED` with the reason; a new README command that is neither fails the test. The
``python`` blocks run too, after the commands.

Parallel-safe: the scratch folder holds copies of the presets (scenarios, tournaments) and DBs; the server
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sim_cli

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TIMEOUT = 180

#: README commands not run here, and why (exact text, comments and line continuations removed).
SKIPPED = {
    "make test": "the whole test suite, this test included",
    ".venv/bin/sim evaluate --db runs/recon.db episode:1 --evaluator recon_judge "
    "--set model.model=ollama_chat/qwen2.5:7b --set model.api_base=http://127.0.0.1:11434": (
        "needs an Ollama server (the same command against the test server runs above it)"
    ),
    "pip install 'llama-cpp-python[server]'": "installs and compiles llama.cpp (make smoke-real does)",
    "python -m llama_cpp.server --model SmolLM2-135M-Instruct.Q4_1.gguf --host 127.0.0.1 --port 8080 "
    "--n_ctx 4096": (
        "a llama.cpp server with a GGUF model (make smoke-real); here `sim test-server --mimic llamacpp` "
        "stands in for it on port 8080's substitute, so the sim commands after it run"
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


def commands_by_block() -> list[list[str]]:
    """The commands of each ``bash`` block: continuation lines joined, comments removed."""
    found = []
    for body in blocks("bash"):
        block = []
        for line in body.replace("\\\n", " ").splitlines():
            command = re.sub(r"(^|\s+)#.*$", "", line).strip()
            if command:
                block.append(re.sub(r"\s+", " ", command))
        found.append(block)
    return found


def commands() -> list[str]:
    """Every command of the ``bash`` blocks, in README order."""
    return [command for block in commands_by_block() for command in block]


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


class Scratch:
    """A scratch folder to run README commands in: preset copies, free ports, the servers started."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ports = {"8765": str(free_port()), "8600": str(free_port()), "8080": str(free_port())}
        for scenarios in [*ROOT.glob("worlds/*/scenarios"), *ROOT.glob("worlds/*/tournaments")]:
            copy = folder / scenarios.relative_to(ROOT)
            copy.mkdir(parents=True)
            for path in scenarios.glob("*.yaml"):
                text = path.read_text(encoding="utf-8").replace("8765", self.ports["8765"])
                (copy / path.name).write_text(text, encoding="utf-8")
        (folder / ".venv").symlink_to(ROOT / ".venv")
        self.env = sim_cli.sim_env(columns=100)
        self.servers: list[subprocess.Popen[str]] = []

    def start_servers(self) -> None:
        """The README's test server, and one mimicking llama.cpp's in place of the llama.cpp server."""
        for command in commands():
            if command.startswith(SERVERS[0]):
                self.run(command)
        self.run(f"{SERVERS[0]} --port 8080 --mimic llamacpp")

    def run_block(self, block: list[str]) -> None:
        """Run a block's commands in order (servers started and checked, not waited for)."""
        for command in block:
            if command not in SKIPPED and not command.startswith(SERVERS[0]):
                self.run(command)

    def run(self, command: str) -> None:
        for readme_port, port in self.ports.items():
            command = command.replace(readme_port, port)
        args = shlex.split(command.removesuffix("&").strip())
        if args[:2] == ["make", "demo"]:  # the install step assumed done; the DB in the scratch folder
            args = ["make", "-C", str(ROOT), "-o", ".venv/.installed-stamp", "demo"]
            args.append(f"DEMO_DB={self.folder / 'runs' / 'demo.db'}")
        if command.startswith(SERVERS):
            proc = subprocess.Popen(args, cwd=self.folder, env=self.env, stdout=subprocess.DEVNULL, text=True)
            self.servers.append(proc)
            test_server = "test-server" in command
            port = args[args.index("--port") + 1] if test_server else self.ports["8600"]
            url = f"http://127.0.0.1:{port}/" + ("health" if test_server else "")
            _wait_until_answering(url, proc, time.monotonic() + 90)
            return
        result = subprocess.run(
            args, cwd=self.folder, env=self.env, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0 and "Traceback" not in output, f"{command}:\n{output}"

    def stop(self) -> None:
        for proc in self.servers:
            proc.terminate()
            proc.wait(20)


@pytest.mark.slow
def test_readme_commands_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The block with ``make demo`` first (later blocks read runs/demo.db), then the other blocks side by
    side (each in order; they write different DBs)."""
    scratch = Scratch(tmp_path)
    first, *others = sorted(commands_by_block(), key=lambda block: "make demo" not in block)
    try:
        scratch.start_servers()  # before any block: the LLM commands of several blocks need them
        scratch.run_block(first)
        with ThreadPoolExecutor(max_workers=len(others) or 1) as pool:
            for done in [pool.submit(scratch.run_block, block) for block in others]:
                done.result()
        monkeypatch.chdir(tmp_path)
        for body in blocks("python"):
            exec(compile(body, "README.md", "exec"), {})  # the README's own example
    finally:
        scratch.stop()
    assert (tmp_path / "runs" / "demo.db").exists() and any((tmp_path / "exports").iterdir())
