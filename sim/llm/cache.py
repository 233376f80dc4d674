"""The response cache: answers keyed by a hash of (model, messages, parameters, schema), stored in SQLite.

Modes: ``off`` (never read or write), ``use`` (read, and write new answers), ``replay`` (read only;
a miss is an error and nothing touches the network). Entries live in the run's store file (table
``llm_cache``), so a re-run of a scenario on the same DB costs nothing.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.types import dumps


class CacheMiss(LookupError):
    """Replay-only mode and no cached answer for this request."""


@dataclass(frozen=True)
class CachedAnswer:
    """A stored answer."""

    text: str
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None


def cache_key(model: str, messages: list[dict[str, Any]], params: dict[str, Any], schema: Any) -> str:
    """sha256 of the canonical JSON of everything that shapes the answer (never the API base or key)."""
    return hashlib.sha256(dumps([model, messages, params, schema]).encode()).hexdigest()


class ResponseCache:
    """Reads committed entries from the store file; new entries go to the writer (and stay visible here)."""

    def __init__(self, db: str | Path | None, write: Any = None):
        self._db = Path(db) if db is not None else None
        self._conn: sqlite3.Connection | None = None
        self._new: dict[str, CachedAnswer] = {}
        self._write = write  # callable(row dict) that persists an entry, e.g. StoreWriter.add_cache_entry

    def get(self, key: str) -> CachedAnswer | None:
        """The cached answer for ``key``, if any."""
        if key in self._new:
            return self._new[key]
        conn = self._connection()
        if conn is None:
            return None
        row = conn.execute(
            "SELECT response, prompt_tokens, completion_tokens, cost_usd FROM llm_cache WHERE key = ?", (key,)
        ).fetchone()
        return CachedAnswer(*row) if row else None

    def put(self, key: str, model: str, answer: CachedAnswer) -> None:
        """Remember a new answer (and persist it through the writer)."""
        self._new[key] = answer
        if self._write is not None:
            self._write(
                {
                    "key": key,
                    "model": model,
                    "response": answer.text,
                    "prompt_tokens": answer.prompt_tokens,
                    "completion_tokens": answer.completion_tokens,
                    "cost_usd": answer.cost_usd,
                }
            )

    def _connection(self) -> sqlite3.Connection | None:
        if self._conn is None and self._db is not None and self._db.exists():
            self._conn = sqlite3.connect(f"file:{self._db}?mode=ro", uri=True, check_same_thread=False)
            self._conn.execute("PRAGMA busy_timeout=10000")
        return self._conn
