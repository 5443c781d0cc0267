"""A shared task stream for many ``sleepy day`` workers: each task claimed by one worker at a time, under a lease.

Why plain SQL rather than a job-queue library (procrastinate, pgqueuer): the store already speaks to
PostgreSQL, and a worker's result must be committed *in the same transaction* that marks its task
done, on the store's own connection; a library with its own connection and tables could only do
that by hand. The queue is one table of the store's schema (migration 4 in :mod:`sleepy.memory.sql`).

How a task is claimed exactly once and lost never:

* **claim**: one statement takes the oldest ready items (or items whose lease ran out) with
  ``FOR UPDATE SKIP LOCKED``, so workers never wait on each other's rows, and stamps them with a
  fresh token and ``lease_until`` on the *database's* clock (workers on several machines need not
  agree on the time).
* **heartbeat**: while a worker holds claims, a thread extends their leases every third of a lease.
  A worker killed with ``kill -9`` stops extending; when its lease runs out another worker claims
  the item again (its ``claims`` count goes up).
* **complete**: the item is marked done only if the token still holds, in the transaction that
  writes the result (the day closes the episode and stores its fix there). A worker that stalled
  past its lease and lost the item to another cannot also complete it: its write is rolled back
  (:class:`ClaimLost`). So each item has exactly one committed result.
* **poison**: an item whose lease ran out ``max_claims`` times (it kills every worker that takes
  it) is marked failed rather than handed out forever.

SQLite runs the same SQL under ``BEGIN IMMEDIATE`` (its single writer lock serialises claims), so
several workers on one machine can share a SQLite store; workers on several machines need
PostgreSQL (SQLite over a network share does not lock reliably).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

from sleepy.memory.repository import Repository
from sleepy.memory.sql import SQLStore, now

T = TypeVar("T")
ENQUEUE_CHUNK = 100  # rows per INSERT: one round trip per chunk, not per task


class QueueUnsupported(ValueError):
    """The store cannot hold a shared queue (not one of the SQL stores); the message is one line."""


class ClaimLost(RuntimeError):
    """The claim's lease ran out and another worker took the item: this worker's result is not kept."""


@dataclass(frozen=True)
class Claim:
    """One item a worker holds: what to work (``payload``) and the token that proves the claim is still its own."""

    id: int
    queue: str
    task_id: str
    payload: dict
    token: str
    claims: int  # how many times the item has been claimed, this one included (2+: an earlier worker lost it)


@dataclass(frozen=True)
class QueueCounts:
    """Where a queue stands; ``expired`` counts claimed items whose lease has run out (their worker is gone)."""

    ready: int = 0
    claimed: int = 0
    expired: int = 0
    done: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.ready + self.claimed + self.done + self.failed

    @property
    def drained(self) -> bool:
        """Nothing left to work and nobody working: every item done or failed."""
        return self.ready == 0 and self.claimed == 0


def worker_name() -> str:
    """host:pid, so a stuck or lost claim names the machine and process that held it."""
    return f"{socket.gethostname()}:{os.getpid()}"


class TaskQueue:
    """The queue ``name`` in ``store``; use as a context manager so the heartbeat thread stops with the worker.

    ``lease_s``: how long a claim lasts without a heartbeat, so how long a killed worker's tasks wait
    before another worker takes them. ``max_claims``: claims an item may lose to expiry before it is
    marked failed.
    """

    def __init__(self, store: Repository, name: str, lease_s: float = 60.0, max_claims: int = 3,
                 worker: str | None = None) -> None:
        if not isinstance(store, SQLStore):
            raise QueueUnsupported(f"a shared task queue needs a SQL store (SQLite or PostgreSQL), not "
                                   f"{type(store).__name__}")
        if not name or len(name) > 200:
            raise QueueUnsupported("a queue name must be 1 to 200 characters")
        if not lease_s > 0:
            raise QueueUnsupported(f"the lease must be a positive number of seconds, got {lease_s:g}")
        if max_claims < 1:
            raise QueueUnsupported(f"max_claims must be at least 1, got {max_claims}")
        self.store, self.name, self.lease_s, self.max_claims = store, name, float(lease_s), max_claims
        self.worker = worker or worker_name()
        self.clock = store.DIALECT.clock
        self._held: dict[int, Claim] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None
        self.lost: set[int] = set()  # item ids whose lease a heartbeat found taken by another worker
        self.heartbeat_error: str | None = None  # the last heartbeat failure (the store unreachable), for the log

    # ------------------------------------------------------------------ producing
    def enqueue(self, items: Iterable[tuple[str, dict]]) -> int:
        """Add (task id, payload) items not already in the queue; returns how many were new.

        Idempotent by task id, so every worker may enqueue the same stream at start: the first adds
        it, the others add nothing, and a task already done is never queued again.
        """
        rows = [(task_id, json.dumps(payload, sort_keys=True)) for task_id, payload in items]
        added = 0
        stamp = now()
        with self.store._tx():
            for start in range(0, len(rows), ENQUEUE_CHUNK):
                chunk = rows[start:start + ENQUEUE_CHUNK]
                values = ", ".join(["(?, ?, ?, ?)"] * len(chunk))
                args = [v for task_id, payload in chunk for v in (self.name, task_id, payload, stamp)]
                added += len(self.store._q(f"INSERT INTO queue(name, task_id, payload, enqueued_at) VALUES {values} "
                                           "ON CONFLICT (name, task_id) DO NOTHING RETURNING id", args))
        return added

    # ------------------------------------------------------------------ working
    def claim(self, n: int = 1) -> list[Claim]:
        """Up to ``n`` items, oldest first: ready ones, or claimed ones whose lease ran out and may be retried.

        Held until completed, released or the lease runs out; the heartbeat keeps the lease while
        this process lives.
        """
        token = uuid.uuid4().hex
        with self.store._tx():
            rows = self.store._q(
                f"WITH next AS MATERIALIZED (SELECT id FROM queue WHERE name = ? AND (state = 'ready' OR "
                f"(state = 'claimed' AND lease_until < {self.clock} AND claims < ?)) ORDER BY id LIMIT ? "
                f"{self.store.DIALECT.lock_rows}) "
                f"UPDATE queue SET state = 'claimed', token = ?, worker = ?, claims = claims + 1, "
                f"lease_until = {self.clock} + ? WHERE id IN (SELECT id FROM next) "
                f"RETURNING id, task_id, payload, claims",
                (self.name, self.max_claims, max(1, n), token, self.worker, self.lease_s))
        got = sorted((Claim(i, self.name, task_id, json.loads(payload), token, claims)
                      for i, task_id, payload, claims in rows), key=lambda c: c.id)
        with self._lock:
            self._held.update((c.id, c) for c in got)
        if got:
            self._start_heartbeat()
        return got

    def extend(self, claims: Iterable[Claim]) -> list[Claim]:
        """Renew the leases of ``claims``; returns those still held (the others were taken after running out)."""
        by_token: dict[str, list[Claim]] = {}
        for c in claims:
            by_token.setdefault(c.token, []).append(c)
        kept: list[Claim] = []
        for token, group in by_token.items():
            ids = {c.id for c in group}
            marks = ", ".join("?" * len(ids))
            with self.store._tx():
                rows = self.store._q(f"UPDATE queue SET lease_until = {self.clock} + ? WHERE id IN ({marks}) "
                                     "AND token = ? AND state = 'claimed' RETURNING id",
                                     (self.lease_s, *sorted(ids), token))
            held = {r[0] for r in rows}
            kept += [c for c in group if c.id in held]
        return kept

    def complete(self, claim: Claim, result: dict | None = None, then: Callable[[], T] | None = None) -> T | None:
        """Mark ``claim`` done with ``result``, and run ``then`` (the result's own writes) in the same transaction.

        Raises :class:`ClaimLost`, writing nothing, when another worker has taken the item: the
        store's methods called by ``then`` join this transaction, so a result and its "done" commit
        together or not at all.
        """
        with self.store._tx():
            rows = self.store._q("UPDATE queue SET state = 'done', finished_at = ?, result = ?, lease_until = NULL "
                                 "WHERE id = ? AND token = ? AND state = 'claimed' RETURNING id",
                                 (now(), json.dumps(result), claim.id, claim.token))
            if not rows:
                self._forget([claim])
                raise ClaimLost(f"task {claim.task_id}: its lease ran out and another worker took it")
            value = then() if then is not None else None
        self._forget([claim])
        return value

    def release(self, claims: Iterable[Claim]) -> int:
        """Give unworked claims back at once (a worker stopping on Ctrl-C), so nobody waits for their lease."""
        claims = list(claims)
        released = 0
        for c in claims:
            with self.store._tx():
                released += len(self.store._q("UPDATE queue SET state = 'ready', token = NULL, lease_until = NULL "
                                              "WHERE id = ? AND token = ? AND state = 'claimed' RETURNING id",
                                              (c.id, c.token)))
        self._forget(claims)
        return released

    def release_expired(self) -> int:
        """Claims whose lease ran out go back to ready, or to failed once claimed ``max_claims`` times.

        :meth:`claim` already takes expired items; this makes the poison ones final, so a queue
        whose only open items kill their workers still drains.
        """
        with self.store._tx():
            rows = self.store._q(
                f"UPDATE queue SET state = CASE WHEN claims >= ? THEN 'failed' ELSE 'ready' END, token = NULL, "
                f"lease_until = NULL, finished_at = CASE WHEN claims >= ? THEN ? ELSE NULL END, "
                f"result = CASE WHEN claims >= ? THEN ? ELSE NULL END "
                f"WHERE name = ? AND state = 'claimed' AND lease_until < {self.clock} RETURNING id",
                (self.max_claims, self.max_claims, now(), self.max_claims,
                 json.dumps({"error": f"its lease ran out {self.max_claims} times"}), self.name))
        return len(rows)

    def batches(self, n: int = 1, poll_s: float = 1.0) -> Iterator[list[Claim]]:
        """Claimed batches of up to ``n`` items until the queue is drained.

        A batch is at most this worker's share of what is ready (the ready items over the workers
        holding claims, this one included), so near the end of a stream one worker does not hoard a
        full batch while the others idle. When nothing is ready but other workers still hold items,
        it waits (at most ``poll_s`` at a time) rather than stopping: if one of them dies, its lease
        runs out and this worker takes its items.
        """
        while True:
            got = self.claim(min(n, self._share()) if n > 1 else 1)
            if got:
                yield got
                continue
            self.release_expired()
            if self.counts().drained:
                return
            time.sleep(min(poll_s, max(0.05, self.next_expiry_s())))

    # ------------------------------------------------------------------ looking
    def counts(self) -> QueueCounts:
        rows = self.store._q(f"SELECT state, CASE WHEN lease_until < {self.clock} THEN 1 ELSE 0 END, COUNT(*) "
                             "FROM queue WHERE name = ? GROUP BY 1, 2", (self.name,))
        tally: dict[str, int] = {}
        for state, expired, n in rows:
            tally[state] = tally.get(state, 0) + n
            if state == "claimed" and expired:
                tally["expired"] = tally.get("expired", 0) + n
        return QueueCounts(**{k: v for k, v in tally.items() if k in QueueCounts.__dataclass_fields__})

    def _share(self) -> int:
        """Ready items over the workers that hold live claims plus this one, rounded up (at least 1)."""
        ready, others = self.store._q(
            f"SELECT COUNT(CASE WHEN state = 'ready' THEN 1 END), COUNT(DISTINCT CASE WHEN state = 'claimed' AND "
            f"lease_until >= {self.clock} AND worker <> ? THEN worker END) FROM queue WHERE name = ?",
            (self.worker, self.name)).fetchone()
        return max(1, -(-(ready or 0) // ((others or 0) + 1)))

    def next_expiry_s(self) -> float:
        """Seconds until the first live lease runs out (0 when none is held)."""
        row = self.store._q(f"SELECT MIN(lease_until) - {self.clock} FROM queue WHERE name = ? AND state = 'claimed'",
                            (self.name,)).fetchone()
        return max(0.0, float(row[0])) if row and row[0] is not None else 0.0

    def items(self) -> list[dict[str, Any]]:
        """Every item of the queue (id, task_id, state, claims, worker, result), oldest first: for tests and reports."""
        cols = ("id", "task_id", "state", "claims", "worker", "result")
        rows = self.store._q(f"SELECT {', '.join(cols)} FROM queue WHERE name = ? ORDER BY id", (self.name,))
        return [dict(zip(cols, r, strict=True)) | {"result": json.loads(r[5]) if r[5] else None} for r in rows]

    # ------------------------------------------------------------------ the heartbeat
    def held(self) -> list[Claim]:
        with self._lock:
            return list(self._held.values())

    def _forget(self, claims: Iterable[Claim]) -> None:
        with self._lock:
            for c in claims:
                self._held.pop(c.id, None)

    def _start_heartbeat(self) -> None:
        if self._beat is None or not self._beat.is_alive():
            self._stop.clear()
            self._beat = threading.Thread(target=self._heartbeat, name=f"sleepy-queue-{self.name}", daemon=True)
            self._beat.start()

    def _heartbeat(self) -> None:
        """Extend every held lease each third of a lease, until :meth:`close`; a daemon thread, so kill -9 ends it."""
        while not self._stop.wait(self.lease_s / 3):
            held = self.held()
            if not held:
                continue
            try:
                kept = {c.id for c in self.extend(held)}
            except Exception as exc:  # the store unreachable for a moment: try again next beat, say why if asked
                self.heartbeat_error = f"{type(exc).__name__}: {exc}"
                continue
            self.heartbeat_error = None
            with self._lock:  # an item completed meanwhile is no longer held: it was not lost
                lost = [c.id for c in held if c.id not in kept and c.id in self._held]
                for item in lost:
                    del self._held[item]
            self.lost.update(lost)

    def close(self, release: bool = False) -> None:
        """Stop the heartbeat; with ``release``, give back what is still held (else its leases run out)."""
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=5)
        if release:
            self.release(self.held())

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        # Ctrl-C gives the tasks back at once; a crash leaves them to expire, so a task that crashes every
        # worker is counted and ends failed after max_claims instead of going round forever.
        self.close(release=exc_type is not None and issubclass(exc_type, KeyboardInterrupt | SystemExit))
