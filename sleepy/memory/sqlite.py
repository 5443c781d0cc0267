"""SQLite (WAL) implementation of the experience store, with numbered migrations.

WAL lets the dashboard and ``sleepy stats`` read while a day writes; ``synchronous=NORMAL`` in WAL
mode keeps every committed transaction across a process crash (kill -9), which is the promise here.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from sleepy.memory.repository import PROVENANCES, FixRecord, Repository, RunRecord, UnverifiedFixError, sha

MIGRATIONS: list[str] = [
    # 1: the first schema
    f"""
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY, kind TEXT NOT NULL, params_key TEXT NOT NULL, params TEXT NOT NULL,
        started_at TEXT NOT NULL, finished_at TEXT, summary TEXT);
    CREATE INDEX runs_params ON runs(params_key, finished_at);
    CREATE TABLE tasks (
        id TEXT PRIMARY KEY, pack TEXT NOT NULL, family TEXT NOT NULL, origin TEXT NOT NULL,
        signature TEXT, source TEXT NOT NULL);
    CREATE TABLE episodes (
        id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), task_id TEXT NOT NULL,
        release TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT, passed INTEGER, attempts INTEGER);
    CREATE INDEX episodes_run ON episodes(run_id, task_id);
    CREATE TABLE attempts (
        id INTEGER PRIMARY KEY, episode_id INTEGER NOT NULL REFERENCES episodes(id), created_at TEXT NOT NULL,
        family TEXT, signature_before TEXT, signature_after TEXT, passed INTEGER NOT NULL, event TEXT NOT NULL);
    CREATE INDEX attempts_time ON attempts(created_at);
    CREATE INDEX attempts_episode ON attempts(episode_id);
    CREATE TABLE fixes (
        id INTEGER PRIMARY KEY, task_id TEXT NOT NULL, pack TEXT NOT NULL, family TEXT NOT NULL,
        signature TEXT NOT NULL, message TEXT NOT NULL, code_line TEXT NOT NULL, edit TEXT NOT NULL,
        before_sha TEXT NOT NULL, after TEXT NOT NULL,
        provenance TEXT NOT NULL CHECK (provenance IN ({", ".join(f"'{p}'" for p in PROVENANCES)})),
        verified INTEGER NOT NULL CHECK (verified = 1),
        exact_key TEXT NOT NULL, ngram_key TEXT NOT NULL, episode_id INTEGER, release TEXT NOT NULL,
        embedding BLOB, created_at TEXT NOT NULL);
    CREATE INDEX fixes_exact ON fixes(exact_key, id);
    CREATE INDEX fixes_ngram ON fixes(ngram_key, id);
    """,
]

_FIX_COLUMNS = ("id", "task_id", "pack", "family", "signature", "message", "code_line", "edit", "before_sha",
                "after", "provenance", "exact_key", "ngram_key", "episode_id", "release", "embedding",
                "created_at")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class SQLiteStore(Repository):
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.migrate()

    # ------------------------------------------------------------------ schema
    def migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self._tx():
                for statement in filter(str.strip, script.split(";")):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number}")

    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def _tx(self):
        return _Transaction(self.db)

    # ------------------------------------------------------------------ runs and episodes
    def start_run(self, kind: str, params: dict) -> RunRecord:
        key = sha(json.dumps({"kind": kind, **params}, sort_keys=True))
        row = self.db.execute("SELECT id FROM runs WHERE params_key = ? AND finished_at IS NULL "
                              "ORDER BY id DESC LIMIT 1", (key,)).fetchone()
        if row:
            return RunRecord(row[0], kind, key, params, resumed=True)
        with self._tx():
            cur = self.db.execute("INSERT INTO runs(kind, params_key, params, started_at) VALUES (?, ?, ?, ?)",
                                  (kind, key, json.dumps(params, sort_keys=True), now()))
        return RunRecord(cur.lastrowid, kind, key, params)

    def finish_run(self, run_id: int, summary: dict) -> None:
        with self._tx():
            self.db.execute("UPDATE runs SET finished_at = ?, summary = ? WHERE id = ?",
                            (now(), json.dumps(summary), run_id))

    def upsert_task(self, task_id, pack, family, origin, signature, source) -> None:
        with self._tx():
            self.db.execute("INSERT INTO tasks(id, pack, family, origin, signature, source) VALUES (?,?,?,?,?,?) "
                            "ON CONFLICT(id) DO NOTHING", (task_id, pack, family, origin, signature, source))

    def start_episode(self, run_id: int, task_id: str, release: str) -> int:
        with self._tx():
            cur = self.db.execute("INSERT INTO episodes(run_id, task_id, release, started_at) VALUES (?,?,?,?)",
                                  (run_id, task_id, release, now()))
        return cur.lastrowid

    def record_attempt(self, episode_id: int, event: dict) -> int:
        with self._tx():
            cur = self.db.execute(
                "INSERT INTO attempts(episode_id, created_at, family, signature_before, signature_after, passed, "
                "event) VALUES (?,?,?,?,?,?,?)",
                (episode_id, event.get("time") or now(), event.get("sleepy.task.family"),
                 event.get("sleepy.signature.before"), event.get("sleepy.signature.after"),
                 int(bool(event.get("sleepy.verifier.passed"))), json.dumps(event)))
        return cur.lastrowid

    def finish_episode(self, episode_id: int, passed: bool, attempts: int, fix: FixRecord | None) -> int | None:
        with self._tx():
            self.db.execute("UPDATE episodes SET finished_at = ?, passed = ?, attempts = ? WHERE id = ?",
                            (now(), int(passed), attempts, episode_id))
            return self._insert_fix(fix) if fix is not None else None

    def completed_tasks(self, run_id: int) -> dict[str, bool]:
        rows = self.db.execute("SELECT task_id, passed FROM episodes WHERE run_id = ? AND finished_at IS NOT NULL",
                               (run_id,))
        return {task_id: bool(passed) for task_id, passed in rows}

    # ------------------------------------------------------------------ fixes
    def add_fix(self, fix: FixRecord) -> int:
        with self._tx():
            return self._insert_fix(fix)

    def _insert_fix(self, fix: FixRecord) -> int:
        if fix.provenance not in PROVENANCES:
            raise UnverifiedFixError(f"unknown provenance {fix.provenance!r}")
        values = [getattr(fix, c) for c in _FIX_COLUMNS[1:-1]] + [fix.created_at or now()]
        cur = self.db.execute(f"INSERT INTO fixes({', '.join(_FIX_COLUMNS[1:])}, verified) "
                              f"VALUES ({', '.join('?' * (len(_FIX_COLUMNS) - 1))}, 1)", values)
        return cur.lastrowid

    def _fix_rows(self, sql: str, args: tuple) -> list[FixRecord]:
        cols = ", ".join(_FIX_COLUMNS)
        return [FixRecord(**dict(zip(_FIX_COLUMNS, row, strict=True)))
                for row in self.db.execute(sql.format(cols=cols), args)]

    def recall_exact(self, key: str, limit: int = 3) -> list[FixRecord]:
        by_ngram = self._fix_rows("SELECT {cols} FROM fixes WHERE ngram_key = ? ORDER BY id DESC LIMIT ?",
                                  (key, limit))
        if len(by_ngram) >= limit:
            return by_ngram
        by_exact = self._fix_rows("SELECT {cols} FROM fixes WHERE exact_key = ? ORDER BY id DESC LIMIT ?",
                                  (key, limit))
        seen = {f.id for f in by_ngram}
        return (by_ngram + [f for f in by_exact if f.id not in seen])[:limit]

    def fix_embeddings(self, after_id: int = 0) -> tuple[list[int], list[bytes]]:
        rows = self.db.execute("SELECT id, embedding FROM fixes WHERE id > ? AND embedding IS NOT NULL ORDER BY id",
                               (after_id,)).fetchall()
        return [r[0] for r in rows], [r[1] for r in rows]

    def fixes(self, ids: list[int]) -> list[FixRecord]:
        if not ids:
            return []
        found = {f.id: f for f in self._fix_rows(
            f"SELECT {{cols}} FROM fixes WHERE id IN ({', '.join('?' * len(ids))})", tuple(ids))}
        return [found[i] for i in ids if i in found]

    def count_fixes(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM fixes").fetchone()[0]

    # ------------------------------------------------------------------ reading events
    def events(self, since: str | None = None, run_id: int | None = None, limit: int | None = None
               ) -> Iterator[dict]:
        sql = "SELECT a.id, a.event FROM attempts a JOIN episodes e ON e.id = a.episode_id WHERE 1=1"
        args: list = []
        if since:
            sql += " AND a.created_at >= ?"
            args.append(since)
        if run_id is not None:
            sql += " AND e.run_id = ?"
            args.append(run_id)
        sql += " ORDER BY a.id"
        if limit:
            sql += " LIMIT ?"
            args.append(limit)
        for event_id, event in self.db.execute(sql, args):
            yield {"id": event_id, **json.loads(event)}

    def pass_rates(self, by: str, since: str | None = None) -> list[dict]:
        column = {"family": "a.family", "signature": "a.signature_before", "day": "substr(a.created_at, 1, 10)"}
        if by not in column:
            raise ValueError(f"cannot group by {by!r}: choose family, signature or day")
        sql = (f"SELECT {column[by]} AS k, COUNT(*), SUM(a.passed), COUNT(DISTINCT a.episode_id), "
               f"COUNT(DISTINCT CASE WHEN a.passed = 1 THEN a.episode_id END) FROM attempts a "
               f"{'WHERE a.created_at >= ?' if since else ''} GROUP BY k ORDER BY k")
        rows = self.db.execute(sql, (since,) if since else ())
        return [{by: k, "attempts": n, "attempts_passed": p or 0, "episodes": e, "episodes_passed": ep,
                 "episode_pass_rate": round(ep / e, 4) if e else 0.0} for k, n, p, e, ep in rows]

    def failed_episodes(self, since: str | None) -> list[tuple[str, str]]:
        sql = ("SELECT e.task_id, (SELECT a.signature_before FROM attempts a WHERE a.episode_id = e.id "
               "ORDER BY a.id LIMIT 1) FROM episodes e WHERE e.passed = 0 AND e.finished_at IS NOT NULL")
        args: tuple = ()
        if since:
            sql += " AND e.finished_at >= ?"
            args = (since,)
        return [(t, s) for t, s in self.db.execute(sql + " ORDER BY e.id", args) if s]

    def task_rows(self, ids: list[str]) -> list[dict]:
        if not ids:
            return []
        cols = ("id", "pack", "family", "origin", "signature", "source")
        rows = self.db.execute(f"SELECT {', '.join(cols)} FROM tasks WHERE id IN ({', '.join('?' * len(ids))})",
                               tuple(ids))
        found = {r[0]: dict(zip(cols, r, strict=True)) for r in rows}
        return [found[i] for i in ids if i in found]

    def episode(self, episode_id: int) -> dict | None:
        cols = ("id", "run_id", "task_id", "release", "passed", "attempts")
        row = self.db.execute(f"SELECT {', '.join(cols)} FROM episodes WHERE id = ?", (episode_id,)).fetchone()
        return dict(zip(cols, row, strict=True)) if row else None

    def fixes_for(self, signature: str, limit: int = 1000) -> list[FixRecord]:
        return self._fix_rows("SELECT {cols} FROM fixes WHERE signature = ? ORDER BY id DESC LIMIT ?",
                              (signature, limit))

    def last_finished(self, kind: str) -> str | None:
        row = self.db.execute("SELECT MAX(finished_at) FROM runs WHERE kind = ?", (kind,)).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        self.db.close()


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, exc, tb) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
