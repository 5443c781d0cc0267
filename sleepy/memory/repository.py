"""The experience store's interface and records.

Everything the loop keeps (runs, tasks, episodes, attempt events, verified fixes) goes through
:class:`Repository`, so a PostgreSQL implementation can stand in for SQLite without the loop
noticing. Writes are transactional; an attempt event is committed the moment it happens.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field

PROVENANCES = ("agent", "teacher", "human", "reference")


class UnverifiedFixError(ValueError):
    """Only verified fixes may enter memory (the poisoning defence)."""


class StoreError(ConnectionError):
    """The store cannot be opened or reached (bad URL, server down, missing driver).

    A ``ConnectionError`` (so an ``OSError``): callers that already turn ``OSError`` into a one-line
    message need no new case.
    """


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class FixRecord:
    """A verified repair, with what recall needs (keys, embedding text) and where it came from."""

    task_id: str
    pack: str
    family: str
    signature: str
    message: str
    code_line: str
    edit: str
    before_sha: str
    after: str
    provenance: str
    exact_key: str
    ngram_key: str
    episode_id: int | None = None
    release: str = "base"
    embedding: bytes | None = None
    pattern: str | None = None  # FixPattern JSON: the fix generalised (None: it does not generalise)
    id: int | None = None
    created_at: str | None = None


@dataclass
class RunRecord:
    id: int
    kind: str
    params_key: str
    params: dict
    resumed: bool = False


@dataclass
class Stats:
    rows: list[dict] = field(default_factory=list)


class Repository(ABC):
    """What the loop needs from a store.

    Implementations: :class:`sleepy.memory.sqlite.SQLiteStore` and
    :class:`sleepy.memory.postgres.PostgresStore`, both on the shared SQL of :mod:`sleepy.memory.sql`;
    :func:`sleepy.memory.store.open_store` picks one from a store URL.
    """

    @abstractmethod
    def start_run(self, kind: str, params: dict) -> RunRecord:
        """Begin a run, or resume the unfinished run with the same parameters."""

    @abstractmethod
    def finish_run(self, run_id: int, summary: dict) -> None: ...

    @abstractmethod
    def upsert_task(self, task_id: str, pack: str, family: str, origin: str, signature: str | None,
                    source: str, project: str | None = None, file: str | None = None) -> None: ...

    @abstractmethod
    def start_episode(self, run_id: int, task_id: str, release: str) -> int: ...

    @abstractmethod
    def record_attempt(self, episode_id: int, event: dict) -> int:
        """Commit one wide event; returns its id."""

    @abstractmethod
    def finish_episode(self, episode_id: int, passed: bool, attempts: int, fix: FixRecord | None) -> int | None:
        """Close an episode and store its verified fix, in one transaction; returns the fix id."""

    @abstractmethod
    def completed_tasks(self, run_id: int) -> dict[str, bool]:
        """task id -> passed, for episodes of this run that finished."""

    @abstractmethod
    def add_fix(self, fix: FixRecord) -> int: ...

    @abstractmethod
    def recall_exact(self, key: str, limit: int = 3) -> list[FixRecord]:
        """Fixes whose exact or n-gram key equals ``key``, newest first."""

    @abstractmethod
    def fix_embeddings(self, after_id: int = 0) -> tuple[list[int], list[bytes]]: ...

    @abstractmethod
    def fixes(self, ids: list[int]) -> list[FixRecord]: ...

    @abstractmethod
    def count_fixes(self) -> int: ...

    @abstractmethod
    def fix_signatures(self, provenance: str | None = None) -> list[str]:
        """Every signature with a stored fix (of this provenance), sorted."""

    @abstractmethod
    def events(self, since: str | None = None, run_id: int | None = None, limit: int | None = None
               ) -> Iterator[dict]: ...

    @abstractmethod
    def pass_rates(self, by: str, since: str | None = None) -> list[dict]:
        """Pass rate of attempts and episodes grouped by ``family``, ``signature``, ``day`` (the calendar date) or
        ``run`` (one row per run: the days of a cycle apart)."""

    @abstractmethod
    def failed_episodes(self, since: str | None) -> list[tuple[str, str]]:
        """(task id, starting signature) of every finished, failed episode since ``since``."""

    @abstractmethod
    def task_rows(self, ids: list[str]) -> list[dict]: ...

    @abstractmethod
    def tasks_of_origin(self, origin: str, pack: str) -> list[dict]:
        """Every stored task of one origin and pack (a project's held-out breakages, for the gate)."""

    @abstractmethod
    def episode(self, episode_id: int) -> dict | None:
        """One episode (id, run_id, task_id, release, passed, attempts), or None."""

    @abstractmethod
    def fixes_for(self, signature: str, limit: int = 1000) -> list[FixRecord]: ...

    @abstractmethod
    def last_finished(self, kind: str) -> str | None:
        """When the last run of ``kind`` finished (ISO time), or None."""

    @abstractmethod
    def latest_run(self, kind: str) -> dict | None:
        """The newest run of ``kind`` and its progress (id, started_at, finished_at, episodes finished,
        passed, current_task: the newest episode's task), or None; the dashboard's live panel."""

    @abstractmethod
    def recent_episodes(self, limit: int = 50) -> list[dict]:
        """The newest episodes first (id, run_id, task_id, family, release, passed, attempts,
        started_at, finished_at); ``passed`` is None while one runs."""

    @abstractmethod
    def episode_events(self, episode_id: int) -> list[dict]:
        """One episode's attempt events in order, each with its ``id``, as :meth:`events` gives them."""

    @abstractmethod
    def close(self) -> None: ...
