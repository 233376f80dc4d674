"""Hands the writer process its messages from a background thread, so the engine never waits on a pipe.

A batch is megabytes of pickled rows and a pipe holds 64 KiB: written from the engine's thread, every
batch would block play until the writer process, busy applying the previous one, read it all. The
sender thread does the writing (``write`` releases the GIL while it blocks); messages keep their
order, and at most ``depth`` wait, so a writer that falls behind slows the engine down rather than
filling its memory.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, BinaryIO

from sim.store import writer_process


class Sender:
    """Writes messages to ``stream`` (:func:`writer_process.send`) from a thread, in order."""

    def __init__(self, stream: BinaryIO, depth: int = 4):
        self._stream = stream
        self._queue: queue.Queue[tuple[Any, ...] | None] = queue.Queue(maxsize=depth)
        #: The pipe broke (the writer process died): nothing more is written.
        self.broken = False
        self._thread = threading.Thread(target=self._run, name="store-writer-sender", daemon=True)
        self._thread.start()

    def put(self, message: tuple[Any, ...]) -> None:
        """Queue ``message`` (waits only while ``depth`` messages are queued); BrokenPipeError once the
        pipe broke."""
        if self.broken:
            raise BrokenPipeError("the writer process's input is closed")
        self._queue.put(message)

    def drain(self) -> None:
        """Wait until every queued message is written; BrokenPipeError if the pipe broke."""
        self._queue.join()
        if self.broken:
            raise BrokenPipeError("the writer process's input is closed")

    def stop(self) -> None:
        """Write what is queued, then end the thread."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            message = self._queue.get()
            try:
                if message is None:
                    return
                if not self.broken:
                    writer_process.send(self._stream, message)
            except (OSError, ValueError):  # a dead writer process, or its input closed under us
                self.broken = True
            finally:
                self._queue.task_done()
