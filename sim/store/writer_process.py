"""The store's writer process: applies the engine's batches to SQLite, so disk work runs on another core.

Started by :class:`sim.store.writer.StoreWriter` as ``python -m sim.store.writer_process DB``; it
imports only the standard library. Messages are length-prefixed pickles on stdin:

- ``("batch", statements, commit)``: run each ``(sql, params, many)`` in the open transaction
  (beginning one if needed), then commit if asked;
- ``("sync",)``: answer ``("ok",)`` once everything before it is applied;
- ``("close",)``: commit, answer ``("ok",)`` and exit.

A failure answers ``("error", text)`` at the next sync and exits. End of input without ``close``
(the engine process died) rolls the open transaction back, so only committed batches remain.
SIGINT and SIGTERM are ignored (a terminal's Ctrl-C or ``docker stop`` signal the whole process group):
the engine process decides when to stop and closes the writer cleanly; if it dies instead, end of input
ends the writer.
"""

from __future__ import annotations

import io
import pickle
import signal
import sqlite3
import sys
from typing import Any, BinaryIO

PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=10000")


def send(stream: BinaryIO, message: tuple[Any, ...]) -> None:
    """Write one length-prefixed pickle.

    Pickled in ``fast`` mode (no memo: several times quicker on a batch of row tuples, whose strings
    are rarely the same object twice); messages hold no object that refers to itself.
    """
    buffer = io.BytesIO()
    buffer.write(bytes(8))  # the length, filled in below
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True
    pickler.dump(message)
    size = buffer.tell() - 8
    buffer.seek(0)
    buffer.write(size.to_bytes(8, "big"))
    with buffer.getbuffer() as data:
        stream.write(data)
    stream.flush()


def receive(stream: BinaryIO) -> tuple[Any, ...] | None:
    """Read one length-prefixed pickle, or None at end of input."""
    header = stream.read(8)
    if len(header) < 8:
        return None
    message: tuple[Any, ...] = pickle.loads(stream.read(int.from_bytes(header, "big")))
    return message


def serve(db: str, inp: BinaryIO, out: BinaryIO) -> int:
    """Apply messages from ``inp`` to the database until ``close`` or end of input."""
    conn = sqlite3.connect(db, isolation_level=None)
    for pragma in PRAGMAS:
        conn.execute(f"PRAGMA {pragma}")
    error: str | None = None
    while (message := receive(inp)) is not None:
        kind = message[0]
        if kind == "sync" or (kind == "close" and error is not None):
            send(out, ("ok",) if error is None else ("error", error))
            if error is not None:
                break
            continue
        if error is not None:
            continue
        try:
            if kind == "batch":
                _, statements, commit = message
                if not conn.in_transaction:
                    conn.execute("BEGIN")
                for sql, params, many in statements:
                    (conn.executemany if many else conn.execute)(sql, params)
                if commit:
                    conn.execute("COMMIT")
            elif kind == "close":
                if conn.in_transaction:
                    conn.execute("COMMIT")
                send(out, ("ok",))
                break
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if conn.in_transaction:
                conn.execute("ROLLBACK")
    else:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    conn.close()
    return 0 if error is None else 1


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.exit(serve(sys.argv[1], sys.stdin.buffer, sys.stdout.buffer))
