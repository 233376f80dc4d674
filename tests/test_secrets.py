"""Secrets are never stored or printed: real ``sim run`` and ``sim export`` subprocesses with LLM seats
against the local test server, then every produced file and every output is searched for the key.

Also the supply-chain guard: ``tools/check_pth.py`` accepts this venv and refuses unknown ``.pth`` files.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import sim_cli
from hypothesis import given
from hypothesis import strategies as st

from sim.llm.testserver import TestServer

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-proj-SECRETc0ffee42deadbeef"
KEY_FORMS = [KEY.encode(), base64.b64encode(f"user:{KEY}".encode()), base64.b64encode(KEY.encode())]
HEAD = "name: secrets\nworld: matrix/repeated-v1\nparams: {game: akata_prisoners_dilemma, rounds: 2}\n"


def llm_scenario(model: str) -> str:
    """An LLM seat (with ``model``'s lines under ``model:``) against Tit for Tat."""
    return (
        HEAD
        + "seats:\n  - agent: llm\n    config:\n      model:\n"
        + "        model: openai/stub\n        retries: 0\n"
        + "".join(f"        {line}\n" for line in model.strip().splitlines())
        + "  - agent: tit_for_tat\n"
    )


@pytest.fixture(scope="module")
def server() -> Iterator[TestServer]:
    with TestServer("first_option") as srv:
        yield srv


def sim(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**sim_cli.sim_env(), "SIM_SECRET_KEY": KEY}
    return subprocess.run(
        [*sim_cli.sim_command(), *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_no_form_of_the_key_is_stored_exported_or_printed(tmp_path: Path, server: TestServer) -> None:
    base = server.openai_base
    host = base.split("://", 1)[1]
    scenarios = {
        # headers and a token-like extra argument: the calls succeed, their params are stored
        "headers": (
            f"api_base: {base}\napi_key_env: SIM_SECRET_KEY\n"
            f"extra:\n  extra_headers: {{Authorization: Bearer {KEY}, X-Api-Key: {KEY}}}\n"
            f"  api_token: {KEY}\n",
            0,
        ),
        # credentials in the URL: the provider call fails, its error is stored and printed
        "url": (f"api_base: http://user:{KEY}@{host}\napi_key_env: SIM_SECRET_KEY\n", 1),
        # the key itself where the variable's name belongs: refused at load, never echoed
        "env_value": (f"api_base: {base}\napi_key_env: {KEY}\n", 2),
    }
    work = tmp_path / "work"
    work.mkdir()
    outputs: list[str] = []
    for name, (model, code) in scenarios.items():
        (tmp_path / f"{name}.yaml").write_text(llm_scenario(model), encoding="utf-8")
        result = sim("run", tmp_path / f"{name}.yaml", "--db", "run.db", cwd=work)
        outputs += [result.stdout, result.stderr]
        assert result.returncode == code, (name, result.stdout, result.stderr)
    for fmt in ("jsonl", "csv"):
        result = sim("export", "--db", "run.db", "--format", fmt, "--out", f"export-{fmt}", cwd=work)
        outputs += [result.stdout, result.stderr]
        assert result.returncode == 0, result.stderr

    produced = [p for p in work.rglob("*") if p.is_file()]
    assert any(p.name == "run.db" for p in produced) and len(produced) > 3
    for path in produced:
        data = path.read_bytes()
        leaked = [form for form in KEY_FORMS if form in data]
        assert not leaked, f"{path.relative_to(work)} holds {leaked}"
    for text in outputs:
        assert not any(form.decode() in text for form in KEY_FORMS), text

    # The masks are there: the values were stored redacted, not dropped by accident.
    with sqlite3.connect(work / "run.db") as conn:
        params = [json.loads(p) for (p,) in conn.execute("SELECT params FROM llm_calls WHERE valid = 1")]
        configs = [
            json.loads(c)["model"] for (c,) in conn.execute("SELECT config FROM seats WHERE agent = 'llm'")
        ]
        scenarios_stored = [json.loads(s) for (s,) in conn.execute("SELECT scenario FROM runs ORDER BY id")]
        errors = [e for (e,) in conn.execute("SELECT error FROM episodes WHERE error IS NOT NULL")]
    assert params and all(
        p["extra_headers"] == {"Authorization": "***", "X-Api-Key": "***"} and p["api_token"] == "***"
        for p in params
    )
    assert configs[0]["extra"]["api_token"] == "***"
    assert configs[1]["api_base"] == f"http://***@{host}"
    assert configs[0]["api_key_env"] == configs[1]["api_key_env"] == "SIM_SECRET_KEY"
    assert scenarios_stored[1]["seats"][0]["config"]["model"]["api_base"] == f"http://***@{host}"
    assert len(scenarios_stored) == 2, "the refused scenario created a run"
    assert errors, "the failing provider call left no episode error"


def test_writer_masks_params_and_errors_it_is_given(tmp_path: Path) -> None:
    from sim.store.engine import open_engine
    from sim.store.writer import StoreWriter

    engine = open_engine(tmp_path / "w.db")
    writer = StoreWriter(engine)
    run_id = writer.begin_run(
        name="w",
        path=None,
        scenario={"seats": [{"config": {"model": {"extra": {"session_token": KEY}}}}]},
        world_id="w",
        seed=0,
        version="0",
    )
    episode = writer.begin_episode(
        run_id=run_id,
        index=0,
        matchup="a",
        world_id="w",
        params={},
        seed=0,
        seats=[{"player_id": "p0", "agent": "llm", "label": "a", "config": {"headers": {"X": KEY}}}],
    )
    writer.add_llm_call(
        {
            "episode_id": episode,
            "purpose": "t",
            "model": "m",
            "messages": [],
            "params": {"extra_headers": {"Authorization": f"Bearer {KEY}"}},
            "parsed": None,
            "valid": False,
            "error": f"connect to https://u:{KEY}@h/v1 failed; Authorization: Bearer {KEY}",
            "attempt": 1,
        }
    )
    writer.finish_episode(episode, status="failed", turns=0, outcome=None, error=f"GET http://x:{KEY}@h")
    writer.finish_run(run_id, "failed")
    engine.dispose()
    for path in tmp_path.iterdir():
        assert KEY.encode() not in path.read_bytes(), path


# ---------------------------------------------------------------------------------------------
def _check_pth() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_pth", ROOT / "tools" / "check_pth.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pth_guard_accepts_this_venv() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "check_pth.py")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_pth_guard_reads_the_content_of_every_pth_file(tmp_path: Path) -> None:
    check = _check_pth()
    good = "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == 'local'; "
    good += "enabled and __import__('_distutils_hack').add_shim(); \n"
    (tmp_path / "distutils-precedence.pth").write_text(good, encoding="utf-8")
    editable = "import __editable___social_sim_0_1_0_finder; __editable___social_sim_0_1_0_finder.install()\n"
    (tmp_path / "__editable__.social_sim-0.1.0.pth").write_text(editable, encoding="utf-8")
    assert check.problems([tmp_path]) == []

    # an allowed name with other code, and a harmless-looking name that runs code at start-up
    (tmp_path / "distutils-precedence.pth").write_text(
        good + "import base64; exec(base64.b64decode('cHJpbnQoMSk='))\n"
    )
    (tmp_path / "zz_helpers.pth").write_text("import os\n", encoding="utf-8")
    found = check.problems([tmp_path])
    assert len(found) == 2
    assert "distutils-precedence.pth:2: unexpected content" in found[0]
    assert "zz_helpers.pth: not on the .pth allow-list" in found[1]


def test_bootstrap_pins_pip_by_hash_before_anything_else() -> None:
    lock = (ROOT / "requirements-bootstrap.lock").read_text(encoding="utf-8")
    assert "pip==" in lock and "--hash=sha256:" in lock
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("$(STAMP):", 1)[1].split("\n\n", 1)[0]
    steps = [line.strip() for line in recipe.splitlines()[1:]]
    assert "--require-hashes -r requirements-bootstrap.lock" in steps[1]
    assert "-r requirements.lock" in steps[2]
    assert any("tools/check_pth.py" in step for step in steps)
    assert "litellm' in p" not in makefile


@pytest.mark.parametrize(
    "config",
    [
        {"extra": {"extra_headers": {"Authorization": f"Bearer {KEY}"}}},
        {"extra": {"api_token": KEY}},
        {"extra": {"default_headers": {"anything": KEY}}},
        {"api_base": f"http://user:{KEY}@127.0.0.1:8000/v1"},
        {"api_base": f"https://host/v1?api_key={KEY}&alt=json"},
        {"extra": {"clientSecret": KEY, "db_password": [KEY], "session": {"id": KEY}}},
        {"system": f"call with Authorization: Bearer {KEY}"},
        {"note": f"the key is {KEY}"},
    ],
)
def test_redact_masks_every_form(config: dict[str, object]) -> None:
    from sim.redact import MASK, redact

    masked = redact(config)
    assert KEY not in json.dumps(masked)
    assert MASK in json.dumps(masked)


def test_redact_keeps_what_is_not_secret() -> None:
    from sim.redact import redact

    config = {
        "api_key_env": "OPENAI_API_KEY",
        "max_tokens": 5,
        "api_base": "http://127.0.0.1:8000/v1?x=1",
        "system": "Use a basic strategy; every token counts. Bearer bonds are fine.",
    }
    assert redact(config) == config


_FRAGMENTS = [
    "https://user:pa55word@example.com/v1",
    "?api_key=abc123",
    "&page=2",
    "sk-abcdefghijklmnop1234",
    "AIza0123456789ABCDEFGHIJ0123456789xyz",
    "Bearer abcdefghijkl1234",
    "basic strategy",
    "token budget",
    "Q: Which option?\nA: Option",
]


@given(st.lists(st.sampled_from(_FRAGMENTS) | st.text(max_size=8), max_size=12))
def test_the_quick_check_never_skips_text_the_full_masking_would_change(parts: list[str]) -> None:
    """redact_text skips text its one-scan check finds clean: that must mean nothing would be masked."""
    from sim import redact as module

    text = "".join(parts)
    full = text
    for pattern, replace in (
        (module._URL_CREDENTIALS, lambda m: f"{m['scheme']}{module.MASK}@"),
        (module._QUERY, lambda m: f"{m['head']}{module.MASK}" if module.is_secret_key(m["name"]) else m[0]),
        (module._KEY_SHAPES, lambda m: module.MASK),
        (module._BEARER, lambda m: f"{m['kind']}{module.MASK}"),
    ):
        full = pattern.sub(replace, full)
    assert module.redact_text(text) == full
