"""``python -m sim.llm.testserver`` (and ``sim test-server``): serve until SIGINT or SIGTERM."""

from __future__ import annotations

import signal
import threading
from collections.abc import Sequence
from typing import Any

from sim.llm.testserver.faults import FAULTS, FaultPlan
from sim.llm.testserver.mimic import MIMICS
from sim.llm.testserver.policies import POLICIES, make_policy
from sim.llm.testserver.schema import DEFAULT_REPLY
from sim.llm.testserver.server import TestServer


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGINT or SIGTERM; print ``listening on http://HOST:PORT`` once bound."""
    import argparse

    import sim.llm.testserver as package

    summary = (package.__doc__ or "").split("\n")[0]
    p = argparse.ArgumentParser(prog="python -m sim.llm.testserver", description=summary)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--policy", default="first_option", choices=sorted(POLICIES))
    p.add_argument("--text", action="append", default=[], help="reply for 'fixed'; repeat for 'sequence'")
    p.add_argument("--seed", type=int, default=0, help="seed for 'random_option'")
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        choices=sorted(FAULTS),
        help="fault for the next request; repeat for a sequence",
    )
    p.add_argument("--fault-rate", type=float, default=0.0, help="then this share of requests get a fault")
    p.add_argument(
        "--fault-kind", action="append", default=[], choices=sorted(FAULTS), help="kinds for --fault-rate"
    )
    p.add_argument("--fault-seed", type=int, default=0, help="seed for --fault-rate")
    p.add_argument("--hang-seconds", type=float, default=30.0)
    p.add_argument("--verbose", action="store_true", help="log requests to stderr")
    p.add_argument(
        "--mimic",
        choices=MIMICS,
        default=None,
        help="enforce this provider's response_format rules (default: accept every form)",
    )
    args = p.parse_args(argv)
    kwargs: dict[str, Any] = {}
    if args.policy == "random_option":
        kwargs["seed"] = args.seed
    elif args.policy == "fixed":
        kwargs["text"] = " ".join(args.text) or DEFAULT_REPLY
    elif args.policy == "sequence":
        kwargs["texts"] = args.text or [DEFAULT_REPLY]
    try:
        plan = FaultPlan(args.fault, args.fault_rate, tuple(args.fault_kind), args.fault_seed)
    except ValueError as exc:
        p.error(str(exc))
    server = TestServer(
        make_policy(args.policy, **kwargs),
        latency=args.latency,
        faults=plan,
        hang_seconds=args.hang_seconds,
        port=args.port,
        host=args.host,
        verbose=args.verbose,
        mimic=args.mimic,
    )
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    with server:
        print(f"listening on {server.base_url}", flush=True)
        while not done.wait(0.5):
            pass
    return 0
