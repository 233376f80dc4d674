"""A short TCP connect check before the first request to a server (``api_base``).

With no server listening, litellm's request fails with a bare "Connection error" and the client would
retry it with backoff for many seconds; a refused or silent port is found here in at most
:data:`CONNECT_TIMEOUT` seconds, and the error names the URL and the model.
Servers reached through a proxy (``HTTPS_PROXY`` and friends) are not checked: only the proxy knows.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import urllib.request
from urllib.parse import urlsplit

from sim.redact import redact_text

CONNECT_TIMEOUT = 2.0  # seconds
_DEFAULT_PORTS = {"http": 80, "https": 443}


def endpoint(api_base: str) -> tuple[str, int] | None:
    """The ``(host, port)`` a request to ``api_base`` connects to; None when it cannot be told (no host,
    an unknown scheme) or a proxy stands in between."""
    try:
        parts = urlsplit(api_base)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:  # a port out of range, say: litellm's own error says more
        return None
    host = parts.hostname
    if not host or port is None:
        return None
    if urllib.request.getproxies().get(parts.scheme.lower()) and not urllib.request.proxy_bypass(host):
        return None
    return host, port


async def unreachable(api_base: str, timeout: float = CONNECT_TIMEOUT) -> str | None:
    """Why no TCP connection to ``api_base``'s host and port could be made, or None if one could
    (or the check does not apply, see :func:`endpoint`)."""
    target = endpoint(api_base)
    if target is None:
        return None
    host, port = target
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except TimeoutError:
        return f"no answer from {host}:{port} within {timeout:g} s"
    except ConnectionRefusedError:
        return f"connection to {host}:{port} refused"
    except socket.gaierror:
        return f"unknown host {host}"
    except OSError as exc:
        return f"cannot connect to {host}:{port} ({exc.strerror or type(exc).__name__})"
    writer.close()
    with contextlib.suppress(OSError):  # reset by a server that drops idle connections: it listened
        await writer.wait_closed()
    return None


def unreachable_message(model: str, api_base: str, reason: str) -> str:
    """One line naming the URL (credentials masked) and the model, with the offline hint."""
    return f"{model}: cannot reach api_base {redact_text(api_base)}: {reason}. {offline_hint(api_base)}"


def offline_hint(api_base: str) -> str:
    """What to do when no server answers at ``api_base``."""
    target = endpoint(api_base)
    port = f" --port {target[1]}" if target is not None else ""
    return f"Is the server running? For offline runs start the local test server: sim test-server{port}"


#: Connection failures as the HTTP stacks under litellm raise them (httpx, aiohttp, the openai SDK).
_CONNECTION_ERRORS = frozenset({"APIConnectionError", "ConnectError", "ClientConnectorError"})


def connection_failed(exc: BaseException) -> bool:
    """Whether ``exc`` (or an exception it was raised from) is a failure to connect, whatever class
    litellm reports it as (``InternalServerError`` "Connection error" for ``openai/`` models)."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, ConnectionError) or type(cause).__name__ in _CONNECTION_ERRORS:
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False
