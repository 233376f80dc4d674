"""A minimal Chrome DevTools Protocol client for tests, on ``websockets.sync.client``.

It sends commands with incrementing ids and waits for the response with the same id; events (messages
with a ``method`` and no ``id``) are ignored. One :class:`CDPConnection` talks to one endpoint: the
browser (``ws://HOST:PORT/devtools/browser/ID``) or a page (``ws://HOST:PORT/devtools/page/TARGET``).
"""

from __future__ import annotations

import itertools
import json
import time
from types import TracebackType
from typing import Any

from websockets.sync.client import ClientConnection, connect

DEFAULT_TIMEOUT = 30.0
MAX_MESSAGE = 256 * 1024 * 1024  # screenshots come back base64-encoded in a single message


class CDPError(RuntimeError):
    """A command answered with an error, or no answer before the timeout."""


class CDPConnection:
    """One websocket to a DevTools endpoint; :meth:`send` is synchronous and not thread-safe."""

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.url = url
        self.timeout = timeout
        self._ids = itertools.count(1)
        # legacy=True: a plain connection closed by close(); proxy=None: DevTools is always local
        self._ws: ClientConnection = connect(
            url, open_timeout=timeout, max_size=MAX_MESSAGE, proxy=None, legacy=True
        )

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float | None = None) -> Any:
        """Run ``method`` with ``params`` and return the response's ``result`` (a dict).

        Raises :class:`CDPError` when the browser answers with an error or not within ``timeout`` seconds.
        """
        message_id = next(self._ids)
        self._ws.send(json.dumps({"id": message_id, "method": method, "params": params or {}}))
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CDPError(f"{method}: no response within {timeout or self.timeout:g} s")
            try:
                raw = self._ws.recv(timeout=remaining)
            except TimeoutError:
                continue  # the loop reports the timeout
            message = json.loads(raw)
            if message.get("id") != message_id:
                continue  # an event, or the answer to an earlier command that timed out
            if "error" in message:
                raise CDPError(f"{method}: {message['error']}")
            return message.get("result", {})

    def close(self) -> None:
        """Close the websocket (the browser and its targets keep running)."""
        self._ws.close()

    def __enter__(self) -> CDPConnection:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def page_url(browser_url: str, target_id: str) -> str:
    """The websocket URL of page ``target_id`` next to the browser endpoint ``browser_url``."""
    base = browser_url.split("/devtools/", 1)[0]
    return f"{base}/devtools/page/{target_id}"


def evaluate(page: CDPConnection, expression: str, timeout: float | None = None) -> Any:
    """The value of a JavaScript ``expression`` in ``page`` (returned by value; exceptions raise)."""
    result = page.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, timeout)
    if "exceptionDetails" in result:
        raise CDPError(f"{expression!r}: {result['exceptionDetails'].get('text', 'exception')}")
    return result["result"].get("value")
