"""SQLite (WAL) backend of the experience store: the embedded default.

WAL lets the dashboard and ``sleepy stats`` read while a day writes; ``synchronous=NORMAL`` in WAL
mode keeps every committed transaction across a process crash (kill -9), which is the promise here.
The schema and every query live in :mod:`sleepy.memory.sql`, shared with PostgreSQL; this module
only connects, opens transactions and keeps the schema version in ``PRAGMA user_version``.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from sleepy.memory.sql import SQLITE, SQLStore, migrations, now

__all__ = ["MIGRATIONS", "SQLiteStore", "now"]

MIGRATIONS: list[str] = migrations(SQLITE)


class SQLiteStore(SQLStore):
    MIGRATIONS = MIGRATIONS
    DIALECT = SQLITE

    def __init__(self, path: Path | str) -> None:
        super().__init__()
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self._wal()
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.migrate()

    def _wal(self) -> None:
        """Switch to WAL (it persists in the file). On a new file several processes opening it at once
        race for that switch, and SQLite answers "locked" at once instead of waiting: retry briefly."""
        for attempt in range(100):
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == 99:
                    raise
                time.sleep(0.02)

    def schema_version(self) -> int:
        return self._q("PRAGMA user_version").fetchone()[0]

    def _set_version(self, version: int) -> None:
        self._q(f"PRAGMA user_version = {int(version)}")

    def _run(self, sql: str, args: tuple | list) -> sqlite3.Cursor:
        return self.db.execute(sql, args)

    def _run_insert(self, sql: str, args: tuple | list) -> int:
        return self.db.execute(sql, args).lastrowid

    def _begin(self, lock: str | None) -> _Transaction:
        return _Transaction(self.db)  # BEGIN IMMEDIATE takes the one writer lock: no named lock needed


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception.

    Inside another one it is a savepoint, as psycopg nests PostgreSQL's: so a step can join its caller's
    transaction (a queue item marked done with the episode that is its result, :mod:`sleepy.memory.queue`).
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.nested = False

    def __enter__(self):
        self.nested = self.db.in_transaction
        self.db.execute("SAVEPOINT inner_step" if self.nested else "BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.nested:
            if exc_type:
                self.db.execute("ROLLBACK TO inner_step")
            self.db.execute("RELEASE inner_step")
        else:
            self.db.execute("ROLLBACK" if exc_type else "COMMIT")
