"""One way to open the experience store: :func:`open_store` picks the backend from the store URL."""

from __future__ import annotations

import sqlite3

from sleepy.config import SQLITE_PREFIX, Settings, store_kind
from sleepy.memory.repository import Repository, StoreError


def open_store(target: Settings | str) -> Repository:
    """The store that ``target`` names: settings (their ``store``, default SQLite in the workspace) or a URL.

    ``sqlite:///PATH`` opens SQLite, ``postgresql://...`` PostgreSQL. Raises ConfigError for an
    unsupported scheme and :class:`StoreError` (an ``OSError``) when the store cannot be opened or
    reached, each with a one-line message fit for the CLI.
    """
    url = target.store_url if isinstance(target, Settings) else target
    if store_kind(url) == "postgresql":
        from sleepy.memory.postgres import PostgresStore  # psycopg is only needed for PostgreSQL

        return PostgresStore(url)
    from sleepy.memory.sqlite import SQLiteStore

    path = url.removeprefix(SQLITE_PREFIX)
    try:
        return SQLiteStore(path)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the SQLite store {path}: {exc}") from None
