"""``sim test-server`` (and ``python -m sim.llm.testserver``): serve until SIGINT or SIGTERM.

One typer command, :func:`serve`, declares every option; ``sim`` registers it as ``test-server`` and
:func:`main` runs it on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import typer

from sim.llm.testserver.faults import FAULTS
from sim.llm.testserver.mimic import MIMICS
from sim.llm.testserver.policies import POLICIES

_POLICIES = "|".join(sorted(POLICIES))
_FAULTS = ", ".join(sorted(FAULTS))


def _one_of(choices: Sequence[str], option: str) -> Any:
    """A callback refusing values outside ``choices`` (for one value or a repeated option's list)."""

    def check(value: Any) -> Any:
        for item in value if isinstance(value, list) else [value]:
            if item is not None and item not in choices:
                raise typer.BadParameter(f"{item!r} is not one of {', '.join(choices)}", param_hint=option)
        return value

    return check


def serve(
    host: Annotated[str, typer.Option(help="interface to listen on", metavar="HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on (0: any free port)", metavar="PORT")] = 0,
    policy: Annotated[
        str,
        typer.Option(
            help="how answers are chosen (chat_model: answers 'You ...' like a small chat model)",
            metavar=_POLICIES,
            callback=_one_of(sorted(POLICIES), "--policy"),
        ),
    ] = "first_option",
    text: Annotated[
        list[str] | None,
        typer.Option(help="reply for the fixed policy; repeat for sequence", metavar="TEXT"),
    ] = None,
    seed: Annotated[int, typer.Option(help="seed of the random_option policy", metavar="N")] = 0,
    latency: Annotated[float, typer.Option(help="seconds added to every answer", metavar="SECONDS")] = 0.0,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            help=f"fault for the next request, one of {_FAULTS}; repeat for a sequence",
            metavar="KIND",
            callback=_one_of(sorted(FAULTS), "--fault"),
        ),
    ] = None,
    fault_rate: Annotated[
        float, typer.Option(help="then this share of requests gets a fault (0 to 1)", metavar="SHARE")
    ] = 0.0,
    fault_kind: Annotated[
        list[str] | None,
        typer.Option(
            help="a fault kind drawn for --fault-rate (repeatable)",
            metavar="KIND",
            callback=_one_of(sorted(FAULTS), "--fault-kind"),
        ),
    ] = None,
    fault_seed: Annotated[int, typer.Option(help="seed of --fault-rate's draws", metavar="N")] = 0,
    hang_seconds: Annotated[
        float, typer.Option(help="how long a 'hang' fault holds the request", metavar="SECONDS")
    ] = 30.0,
    verbose: Annotated[bool, typer.Option("--verbose", help="log requests to stderr")] = False,
    mimic: Annotated[
        str | None,
        typer.Option(
            help="enforce this provider's response_format rules (default: accept every form)",
            metavar="|".join(MIMICS),
            callback=_one_of(MIMICS, "--mimic"),
        ),
    ] = None,
) -> None:
    """Start the offline OpenAI/Ollama-compatible test server (dry-run any LLM scenario for free).

    Prints 'listening on http://HOST:PORT' once bound and serves until Ctrl-C or SIGTERM. Point a seat
    at it with model: openai/stub and api_base: http://127.0.0.1:PORT/v1.
    """
    from sim.llm.testserver.faults import FaultPlan

    try:
        plan = FaultPlan(list[str | None](fault or []), fault_rate, tuple(fault_kind or ()), fault_seed)
    except ValueError as exc:  # one unwrapped line, like every ``sim`` error
        typer.echo(f"error: --fault-rate: {exc}", err=True)
        raise typer.Exit(2) from None
    _serve_until_stopped(
        _policy(policy, text or [], seed),
        latency=latency,
        faults=plan,
        hang_seconds=hang_seconds,
        port=port,
        host=host,
        verbose=verbose,
        mimic=mimic,
    )


def _policy(name: str, texts: list[str], seed: int) -> Any:
    from sim.llm.testserver.policies import make_policy
    from sim.llm.testserver.schema import DEFAULT_REPLY

    kwargs: dict[str, Any] = {}
    if name == "random_option":
        kwargs["seed"] = seed
    elif name == "fixed":
        kwargs["text"] = " ".join(texts) or DEFAULT_REPLY
    elif name == "sequence":
        kwargs["texts"] = texts or [DEFAULT_REPLY]
    return make_policy(name, **kwargs)


def _serve_until_stopped(policy: Any, **settings: Any) -> None:
    """Serve until SIGINT or SIGTERM; print ``listening on http://HOST:PORT`` once bound."""
    import signal
    import threading

    from sim.llm.testserver.server import TestServer

    server = TestServer(policy, **settings)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    with server:
        print(f"listening on {server.base_url}", flush=True)
        while not done.wait(0.5):
            pass


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.llm.testserver [OPTIONS]``: :func:`serve` on its own; returns the exit code."""
    from sim.cli_help import adopt

    command = adopt(typer.main.get_command(_app()))  # the same help style as ``sim test-server``
    try:
        command.main(list(argv) if argv is not None else None, prog_name="python -m sim.llm.testserver")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False)
    app.command()(serve)
    return app
