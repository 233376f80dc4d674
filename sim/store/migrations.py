"""In-place upgrades of older stores: additive ``ALTER TABLE`` steps, one list per version.

:func:`sim.store.engine.open_engine` applies them when it opens a writable store of an older version
(``sim run``, ``sim evaluate``, ``sim cache prune``); read-only openers (the viewer, the reader) ask
for that instead. Every step only adds NULLable columns or indexes, so older rows stay valid.
"""

from __future__ import annotations

from sqlalchemy import Connection

#: version -> the statements that bring a store of that version to the next one.
STEPS: dict[int, tuple[str, ...]] = {
    1: (
        "ALTER TABLE seats ADD COLUMN role VARCHAR(40) NOT NULL DEFAULT 'player'",
        "ALTER TABLE metrics ADD COLUMN evaluator VARCHAR(80)",
        "ALTER TABLE metrics ADD COLUMN evaluator_model VARCHAR(200)",
    ),
    2: (
        "ALTER TABLE runs ADD COLUMN fingerprint VARCHAR(64)",
        "ALTER TABLE runs ADD COLUMN pid INTEGER",
        "ALTER TABLE runs ADD COLUMN host VARCHAR(200)",
        "ALTER TABLE runs ADD COLUMN heartbeat_at DATETIME",
        "CREATE INDEX IF NOT EXISTS ix_runs_fingerprint ON runs (fingerprint)",
        'ALTER TABLE episodes ADD COLUMN "key" VARCHAR(64)',
        "ALTER TABLE llm_calls ADD COLUMN http_attempt INTEGER",
        "ALTER TABLE llm_calls ADD COLUMN cache_key VARCHAR(64)",
    ),
    3: (
        "ALTER TABLE seats ADD COLUMN game_role VARCHAR(40)",
        "ALTER TABLE seats ADD COLUMN side VARCHAR(40)",
    ),
}


def upgrade(conn: Connection, version: int, target: int) -> None:
    """Bring a store from ``version`` to ``target`` inside the caller's transaction."""
    for step in range(version, target):
        for statement in STEPS[step]:
            conn.exec_driver_sql(statement)
    conn.exec_driver_sql("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(target),))
