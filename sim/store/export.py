"""``sim export``: every table of a store to csv, jsonl or parquet files, in the form
:meth:`sim.store.reader.StoreReader.frame` gives (``turn_metrics`` in long form: one row per episode,
seat, metric and turn), JSON columns kept as JSON text."""

from __future__ import annotations

from pathlib import Path

from sim.store.reader import TABLES, StoreReader

FORMATS = ("csv", "jsonl", "parquet")


def export_store(db: str | Path, out: str | Path, fmt: str) -> list[tuple[Path, int]]:
    """Write one file per table into ``out``; returns (path, rows) per file."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    reader = StoreReader(db)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for table in TABLES:
        df = reader.frame(table, decode_json=False)
        path = out / f"{table}.{fmt}"
        if fmt == "csv":
            df.to_csv(path, index=False)
        elif fmt == "jsonl":
            df.to_json(path, orient="records", lines=True, date_format="iso", force_ascii=False)
        else:
            df.to_parquet(path, index=False)
        written.append((path, len(df)))
    return written
