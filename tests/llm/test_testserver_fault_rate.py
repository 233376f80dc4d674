"""The test server's seeded fault rate and its log of injected faults (``--fault-rate`` on the CLI)."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys

import pytest

from sim.llm.testserver import FaultPlan, TestServer


def _status(port: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        body = {"model": "stub", "messages": [{"role": "user", "content": "Option J or Option F?"}]}
        conn.request("POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_a_fault_rate_injects_that_share_after_the_listed_faults_and_logs_them() -> None:
    plan = FaultPlan(["503"], rate=0.3, kinds=("429", "500"), seed=1)
    with TestServer("first_option", faults=plan) as server:
        statuses = [_status(server.port) for _ in range(200)]
        injected = server.injected
    assert statuses[0] == 503 and injected[0] == "503"
    assert [s for s in statuses if s != 200] == [int(f) for f in injected]
    assert 0.2 * 199 < len(injected) - 1 < 0.4 * 199 and set(injected[1:]) == {"429", "500"}
    again = FaultPlan(rate=0.3, kinds=("429", "500"), seed=1)  # the same seed draws the same faults
    assert [f for f in (again.take() for _ in range(199)) if f is not None] == injected[1:]


@pytest.mark.parametrize(
    ("rate", "kinds"), [(1.5, ("500",)), (-0.1, ("500",)), (0.2, ()), (0.2, ("teapot",))]
)
def test_a_bad_fault_rate_is_refused(rate: float, kinds: tuple[str, ...]) -> None:
    with pytest.raises(ValueError):
        FaultPlan(rate=rate, kinds=kinds)


def test_the_cli_takes_a_fault_rate() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim.llm.testserver", "--fault-rate", "1", "--fault-kind", "500"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        port = int(line.strip().rsplit(":", 1)[1])
        assert [_status(port) for _ in range(3)] == [500, 500, 500]
    finally:
        proc.terminate()
        proc.wait(10)
    bad = subprocess.run(
        [sys.executable, "-m", "sim.llm.testserver", "--fault-rate", "0.5"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "needs at least one fault kind" in bad.stderr
