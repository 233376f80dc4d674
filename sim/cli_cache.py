"""``sim cache``: maintenance of the response cache (``llm_cache``) in a store.

``sim cache prune --invalid --db FILE`` removes entries holding an answer the parser refused. Stores
written before answers were cached only once accepted may hold such entries; they are never served
again (a cached answer that does not parse goes to the provider), but they cost a lookup and a request
each time. An entry is invalid when an ``llm_calls`` row with ``error_class = 'InvalidAnswer'`` has
its response and either its key (``cache_key``) or, for rows written before ``cache_key`` existed,
its model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

cache_app = typer.Typer(no_args_is_help=True, help="Maintain the response cache of a store.")

#: Entries whose response an InvalidAnswer row holds, for the same key (or the same model, for rows
#: without a key).
_INVALID_ENTRIES = """
DELETE FROM llm_cache WHERE EXISTS (
    SELECT 1 FROM llm_calls AS c
    WHERE c.error_class = 'InvalidAnswer' AND c.response = llm_cache.response
      AND (c.cache_key = llm_cache.key OR (c.cache_key IS NULL AND c.model = llm_cache.model))
)
"""


def prune_invalid(db: Path) -> int:
    """Delete the cache entries holding refused answers (one transaction); returns how many. An older
    store is upgraded first (as every writing command does)."""
    from sqlalchemy import text

    from sim.store.engine import StoreError, open_engine

    if not db.exists():
        raise StoreError(f"{db}: no such database")
    engine = open_engine(db)
    try:
        with engine.begin() as conn:
            return conn.execute(text(_INVALID_ENTRIES)).rowcount
    finally:
        engine.dispose()


@cache_app.command()
def prune(
    db: Annotated[Path, typer.Option(help="SQLite file", metavar="FILE")],
    invalid: Annotated[bool, typer.Option("--invalid", help="remove answers that failed to parse")] = False,
) -> None:
    """Remove cache entries (--invalid: answers logged as InvalidAnswer)."""
    from rich.markup import escape

    from sim.store.engine import StoreError

    err = Console(stderr=True)
    if not invalid:
        err.print("[red]error:[/red] say what to prune: --invalid", highlight=False)
        raise typer.Exit(2)
    try:
        removed = prune_invalid(db)
    except StoreError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    print(f"{db}: removed {removed} invalid cache entr{'y' if removed == 1 else 'ies'}")
