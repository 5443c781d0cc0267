"""PostgreSQL backend of the experience store (psycopg 3), for a store that outgrows one machine.

Same schema, migrations and queries as SQLite (all in :mod:`sleepy.memory.sql`); this module only
connects, opens transactions and keeps the schema version in a one-row ``schema_version`` table.
The connection runs in autocommit mode so a read is never left holding a transaction open (as
SQLite's ``isolation_level=None``); writes go through ``_tx``. Where SQLite's
single writer lock makes a read-then-write step atomic (resuming a run, migrating), PostgreSQL
takes a transaction-scoped advisory lock named after the step.

Attempt events stay JSON *text* rather than JSONB: JSONB refuses the ``\\u0000`` escapes and NaN
that a program's captured output or a metric can carry, and text gives back exactly what was
written, as SQLite does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sleepy.memory.repository import StoreError, sha
from sleepy.memory.sql import POSTGRES, SQLStore, migrations

MIGRATIONS: list[str] = migrations(POSTGRES)
CONNECT_TIMEOUT_S = 10  # unless the URL says otherwise: a server that is down fails fast, not never


def redact(url: str) -> str:
    """``url`` without its password (in the authority or the query), for messages and listings."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
        query = urlencode([(k, "***" if k == "password" else v)
                           for k, v in parse_qsl(parts.query, keep_blank_values=True)], safe="/:*")
        return urlunsplit(parts._replace(netloc=netloc, query=query))
    except ValueError:  # not even a URL urllib can split: show only its scheme
        return url.split("://", 1)[0] + "://..."


def _one_line(exc: BaseException) -> str:
    return re.sub(r"\s+", " ", str(exc)).strip() or type(exc).__name__


def _lock_id(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``name``."""
    return int(sha(name)[:16], 16) - (1 << 63)


class PostgresStore(SQLStore):
    MIGRATIONS = MIGRATIONS
    DIALECT = POSTGRES

    def __init__(self, url: str) -> None:
        """Connect and migrate; a :class:`StoreError` with one line of reason if either fails."""
        super().__init__()
        self.path = redact(url)  # what listings print as the store's location
        try:
            import psycopg
            from psycopg.conninfo import conninfo_to_dict
        except ImportError:
            raise StoreError("a PostgreSQL store needs psycopg 3: pip install 'psycopg[binary]'") from None
        try:
            extra = {} if "connect_timeout" in conninfo_to_dict(url) else {"connect_timeout": CONNECT_TIMEOUT_S}
            self.db = psycopg.connect(url, autocommit=True, application_name="sleepy", **extra)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to {self.path}: {_one_line(exc)}") from None
        try:
            with self._tx(lock="sleepy:migrate"):
                self.db.execute("CREATE TABLE IF NOT EXISTS schema_version (one INTEGER PRIMARY KEY DEFAULT 1 "
                                "CHECK (one = 1), version INTEGER NOT NULL)")
                self.db.execute("INSERT INTO schema_version(version) VALUES (0) ON CONFLICT (one) DO NOTHING")
            self.migrate()
        except psycopg.Error as exc:
            self.db.close()
            raise StoreError(f"cannot prepare the schema in {self.path}: {_one_line(exc)}") from None

    def schema_version(self) -> int:
        return self._q("SELECT version FROM schema_version").fetchone()[0]

    def _set_version(self, version: int) -> None:
        self._q("UPDATE schema_version SET version = ?", (version,))

    def _run(self, sql: str, args: tuple | list):
        return self.db.execute(sql.replace("?", "%s"), args)  # the shared SQL has no literal ? or %

    def _run_insert(self, sql: str, args: tuple | list) -> int:
        return self._run(sql + " RETURNING id", args).fetchone()[0]

    @contextmanager
    def _begin(self, lock: str | None) -> Iterator:
        with self.db.transaction():
            if lock:
                self.db.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_id(lock),))
            yield self.db
