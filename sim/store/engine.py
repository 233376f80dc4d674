"""Opening a store: SQLite with WAL, synchronous=NORMAL, a busy timeout, and a schema-version check."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.orm import Session

from sim.store.migrations import upgrade
from sim.store.models import SCHEMA_VERSION, Base, Meta
from sim.types import dumps

BUSY_TIMEOUT_MS = 10_000


class StoreError(RuntimeError):
    """The file is not a store this version can use."""


def _set_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        f"busy_timeout={BUSY_TIMEOUT_MS}",
    ):
        cur.execute(f"PRAGMA {pragma}")
    cur.close()


def _set_read_only_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    for pragma in ("query_only=ON", f"busy_timeout={BUSY_TIMEOUT_MS}"):
        cur.execute(f"PRAGMA {pragma}")
    cur.close()


def open_read_only(path: str | Path) -> Engine:
    """A read-only engine (``mode=ro`` and ``query_only``): it cannot change the file (the viewer's)."""
    path = Path(path)
    if not path.exists():
        raise StoreError(f"{path}: no such database")
    engine = create_engine(f"sqlite:///file:{path.resolve()}?mode=ro&uri=true", json_serializer=dumps)
    event.listen(engine, "connect", _set_read_only_pragmas)
    check_schema(engine)
    return engine


def open_engine(path: str | Path, *, create: bool = True) -> Engine:
    """An engine on the SQLite file at ``path``; creates the schema when ``create`` and the file is new."""
    path = Path(path)
    if not create and not path.exists():
        raise StoreError(f"{path}: no such database")
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{path}", json_serializer=dumps)
    event.listen(engine, "connect", _set_pragmas)
    if create:
        _upgrade_older(engine)
        Base.metadata.create_all(engine)
        with Session(engine) as session, session.begin():
            if session.get(Meta, "schema_version") is None:
                session.add(Meta(key="schema_version", value=str(SCHEMA_VERSION)))
    check_schema(engine)
    return engine


def _upgrade_older(engine: Engine) -> None:
    """Upgrade a store of an older schema version in place (additive steps, one transaction)."""
    with engine.begin() as conn:
        if not conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'meta'").first():
            return
        row = conn.exec_driver_sql("SELECT value FROM meta WHERE key = 'schema_version'").first()
        if row is not None and str(row[0]).isdigit() and 1 <= int(row[0]) < SCHEMA_VERSION:
            upgrade(conn, int(row[0]), SCHEMA_VERSION)


def check_schema(engine: Engine) -> None:
    """Refuse a store written with another schema version."""
    with Session(engine) as session:
        try:
            row = session.scalar(select(Meta.value).where(Meta.key == "schema_version"))
        except Exception as exc:  # not our database at all
            raise StoreError(f"{_name(engine)}: not a sim store ({exc.__class__.__name__})") from exc
    if row is None or int(row) != SCHEMA_VERSION:
        hint = ""
        if row is not None and str(row).isdigit() and int(row) < SCHEMA_VERSION:
            hint = f" (upgrade it in place: sim migrate --db {_name(engine)})"
        raise StoreError(f"{_name(engine)}: schema version {row}, this sim needs {SCHEMA_VERSION}{hint}")


def _name(engine: Engine) -> str:
    """The file behind an engine (without a read-only URI's ``file:`` prefix and query)."""
    name = str(engine.url.database or "")
    return name.removeprefix("file:").split("?", 1)[0]
