"""Store speed, PostgreSQL and SQLite side by side: write throughput and exact recall with 1M stored fixes.

Run: python benchmarks/store_speed.py [--fixes 1000000] [--writes 2000] [--lookups 5000] [--out FILE]
(writes benchmarks/results/store_speed.json unless --out names another file).

Why this shape: the question is whether the PostgreSQL store keeps the memory layer's promises
(exact recall is an index lookup, a verified fix is committed the moment it exists) at a size one
laptop's SQLite file would also hold, so both run the same steps on the same rows in one process:

1. bulk-load ``--fixes`` rows with each backend's fast path (SQLite: ``executemany`` in one
   transaction; PostgreSQL: ``COPY`` in one transaction, then ``ANALYZE`` and ``CHECKPOINT`` so
   neither autovacuum nor a checkpoint lands in the middle of the measurements);
2. ``--lookups`` calls of the product's ``store.recall_exact(key, limit=3)``, alternating the two
   keys the memory layer asks with (the code-line key: one query that hits; the signature key: a
   miss on the code-line index, then a hit on the signature index), keys drawn from stored rows;
   both backends must return the same fix ids for every lookup;
3. ``--writes`` calls of the product's write path ``store.add_fix(FixRecord)``, one transaction
   each. SQLite runs as the product opens it (WAL, ``synchronous=NORMAL``: a commit survives a
   process crash, not a power cut). PostgreSQL keeps its defaults (``fsync=on``), measured with
   ``synchronous_commit=on`` (its default: every commit waits for the WAL flush) and ``off`` (a
   commit no longer waits for the disk: the closer match to SQLite's setting).

Rows are synthetic but shaped like real fixes: 5,000 Rust error signatures, keys made by the
product's own ``exact_key``/``ngram_key``, a ~100-byte program. Embeddings are left out (the
similarity index is benchmarks/recall_speed.py's subject). The PostgreSQL server is a throwaway
cluster on a unix socket (:class:`sleepy.memory.pgcluster.ThrowawayCluster`); when none can be
started the run says why in one line and still measures SQLite.
"""

from __future__ import annotations

import random
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import OneLineParser, percentile, write_result  # noqa: E402

from sleepy.memory.pgcluster import ClusterUnavailable, ThrowawayCluster  # noqa: E402
from sleepy.memory.recall import exact_key, ngram_key  # noqa: E402
from sleepy.memory.repository import FixRecord, StoreError  # noqa: E402
from sleepy.memory.sql import FIX_COLUMNS, SQLStore, now  # noqa: E402
from sleepy.memory.sqlite import SQLiteStore  # noqa: E402

SIGNATURES = 5000
CODES = ("E0382", "E0499", "E0502", "E0308", "E0277", "E0106", "E0425", "E0599")
LINES = ("let {a} = {b};", "let {a} = {b}.clone();", "{a}.push({b});", "let {a}: i32 = {b}.len();",
         "println!(\"{{}}\", {a});", "let {a} = &mut {b};", "{a}.insert({b}, 1);", "return {a}.unwrap();",
         "let {a} = {b}.iter().map(|x| x + 1).collect();", "if {a} > {b} {{ {a} = {b}; }}")
COLUMNS = (*FIX_COLUMNS[1:], "verified")  # what _insert_fix writes, in its order


class Rows:
    """The synthetic fixes, a pure function of their number, so every backend stores the same values."""

    def __init__(self) -> None:
        self._ngram: dict[tuple[int, int], str] = {}  # normalising a code line is the slow part: once per shape

    def fix(self, i: int) -> FixRecord:
        sig_no, shape = (i * 7919) % SIGNATURES, (i // 7) % len(LINES)
        signature = f"rust:{CODES[sig_no % len(CODES)]}:pattern-{sig_no}"
        line = LINES[shape].format(a=f"v{i % 97}", b=f"w{i % 89}")
        key = self._ngram.get((sig_no, shape))
        if key is None:
            key = self._ngram[(sig_no, shape)] = ngram_key(signature, "rust", line)
        return FixRecord(task_id=f"gen/rust/{i}", pack="rust", family="borrow", signature=signature,
                         message=f"{signature.split(':')[1]}: pattern {sig_no}", code_line=line,
                         edit=f"@@ 3\n- {line}\n+ {line} // fixed\n", before_sha=f"{i:064x}",
                         after=f"fn main() {{\n    let w{i % 89} = vec![1, 2, 3];\n    {line}\n}}\n// fix {i}\n",
                         provenance="reference", exact_key=exact_key(signature), ngram_key=key, episode_id=None,
                         release="base")

    def bulk(self, n: int, stamp: str) -> list[tuple]:
        """``n`` rows as the INSERT/COPY column tuple (``COLUMNS``), all stamped ``stamp``."""
        rows = []
        for i in range(n):
            f = self.fix(i)
            rows.append((f.task_id, f.pack, f.family, f.signature, f.message, f.code_line, f.edit, f.before_sha,
                         f.after, f.provenance, f.exact_key, f.ngram_key, f.episode_id, f.release, f.embedding,
                         stamp, 1))
        return rows


def ms(values: Sequence[float]) -> dict[str, float]:
    return {"p50": round(percentile(list(values), 50) * 1e3, 4), "p99": round(percentile(list(values), 99) * 1e3, 4),
            "mean": round(sum(values) / len(values) * 1e3, 4)}


def bulk_sqlite(store: SQLStore, rows: list[tuple]) -> None:
    with store._tx():
        store.db.executemany(f"INSERT INTO fixes({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                             rows)


def bulk_postgres(store: SQLStore, rows: list[tuple]) -> None:
    with store._tx(), store.db.cursor() as cur, cur.copy(f"COPY fixes ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def lookups(store: SQLStore, keys: list[str]) -> tuple[list[float], list[list[int]]]:
    """Time ``recall_exact`` per key; also the ids it found, to check both backends agree."""
    times, found = [], []
    for key in keys:
        t = time.perf_counter()
        fixes = store.recall_exact(key, limit=3)
        times.append(time.perf_counter() - t)
        found.append([f.id for f in fixes])
    return times, found


def writes(store: SQLStore, make: Rows, first: int, n: int) -> dict:
    """``n`` product writes (one transaction each); the fixes are stamped by the store, as in production."""
    records = [make.fix(first + i) for i in range(n)]
    times = []
    began = time.perf_counter()
    for rec in records:
        t = time.perf_counter()
        store.add_fix(rec)
        times.append(time.perf_counter() - t)
    total = time.perf_counter() - began
    return {"fixes": n, "fixes_per_s": round(n / total, 1), "latency_ms": ms(times)}


def recall_summary(times: list[float], kinds: list[str]) -> dict:
    return {"exact_recall_ms": ms(times),
            "by_key": {k: ms([t for t, kind in zip(times, kinds, strict=True) if kind == k])
                       for k in ("code_line", "signature") if k in kinds}}


def run_backend(name: str, open_: Callable[[], SQLStore], bulk: Callable[[SQLStore, list[tuple]], None],
                rows: list[tuple], keys: list[str], kinds: list[str], make: Rows, n_writes: int,
                settle: Callable[[SQLStore], None] | None = None,
                extra_writes: Callable[[SQLStore], dict] | None = None) -> tuple[dict, list[list[int]]]:
    """One backend through the three steps; returns its figures and the ids its lookups found."""
    print(f"store_speed: {name}: bulk-loading {len(rows):,} fixes", file=sys.stderr)
    store = open_()
    try:
        t = time.perf_counter()
        bulk(store, rows)
        bulk_s = time.perf_counter() - t
        result: dict = {"bulk_load": {"seconds": round(bulk_s, 2), "rows_per_s": round(len(rows) / bulk_s)}}
        if settle is not None:
            t = time.perf_counter()
            settle(store)
            result["bulk_load"]["analyze_checkpoint_s"] = round(time.perf_counter() - t, 2)
        if store.count_fixes() != len(rows):
            raise RuntimeError(f"{name}: {store.count_fixes()} fixes stored after loading {len(rows)}")
        print(f"store_speed: {name}: {len(keys):,} lookups, {n_writes:,} writes", file=sys.stderr)
        times, found = lookups(store, keys)
        result |= recall_summary(times, kinds)
        result["write"] = writes(store, make, len(rows), n_writes)
        if extra_writes is not None:
            result |= extra_writes(store)
    finally:
        store.close()
    return result, found


def postgres(rows: list[tuple], keys: list[str], kinds: list[str], make: Rows, n_writes: int
             ) -> tuple[dict, list[list[int]] | None]:
    """The PostgreSQL half on a throwaway durable cluster, or why it could not run (said in one line)."""
    from sleepy.memory.postgres import PostgresStore

    cluster = ThrowawayCluster(durable=True)
    try:
        cluster.start()
        db = cluster.new_database("bench")
    except ClusterUnavailable as exc:
        reason = re.sub(r"\s+", " ", str(exc)).strip()
        print(f"store_speed: PostgreSQL not measured: {reason}", file=sys.stderr)
        cluster.stop()
        return {"skipped": reason}, None
    try:
        def settle(store: SQLStore) -> None:
            store.db.execute("ANALYZE fixes")
            store.db.execute("CHECKPOINT")

        def async_writes(store: SQLStore) -> dict:
            store.db.execute("SET synchronous_commit = off")
            return {"write_synchronous_commit_off": writes(store, make, len(rows) + n_writes, n_writes)}

        result, found = run_backend("postgresql", lambda: PostgresStore(db.url), bulk_postgres, rows, keys, kinds,
                                    make, n_writes, settle, async_writes)
        store = PostgresStore(db.url)
        try:
            show = {k: store.db.execute(f"SHOW {k}").fetchone()[0]
                    for k in ("server_version", "fsync", "synchronous_commit", "shared_buffers", "wal_level")}
        finally:
            store.close()
        return {"settings": show | {"bulk_load": "COPY, one transaction", "connection": "unix socket",
                                    "write": "synchronous_commit on (default), then off for the same count"},
                **result}, found
    except StoreError as exc:
        reason = re.sub(r"\s+", " ", str(exc)).strip()
        print(f"store_speed: PostgreSQL not measured: {reason}", file=sys.stderr)
        return {"skipped": reason}, None
    finally:
        cluster.stop()



def main() -> None:
    ap = OneLineParser(prog="store_speed", description=__doc__.split("\n\n")[0])
    ap.add_argument("--fixes", type=int, default=1_000_000, help="stored fixes before measuring (bulk-loaded)")
    ap.add_argument("--writes", type=int, default=2000, help="add_fix calls per backend (one transaction each)")
    ap.add_argument("--lookups", type=int, default=5000, help="recall_exact calls per backend")
    ap.add_argument("--out", type=Path, default=None, help="result file (default benchmarks/results/store_speed.json)")
    args = ap.parse_args()
    for flag in ("fixes", "writes", "lookups"):
        if getattr(args, flag) < 1:
            ap.error(f"--{flag} must be at least 1, got {getattr(args, flag)}")

    make = Rows()
    t = time.perf_counter()
    rows = make.bulk(args.fixes, now())
    rows_s = time.perf_counter() - t
    rng = random.Random(0)
    picks = [rng.randrange(args.fixes) for _ in range(args.lookups)]
    kinds = ["code_line" if n % 2 == 0 else "signature" for n in range(args.lookups)]
    keys = [rows[i][COLUMNS.index("ngram_key")] if kind == "code_line" else rows[i][COLUMNS.index("exact_key")]
            for i, kind in zip(picks, kinds, strict=True)]
    payload: dict = {
        "command": f"python benchmarks/store_speed.py --fixes {args.fixes} --writes {args.writes} "
                   f"--lookups {args.lookups}" + (f" --out {args.out}" if args.out else ""),
        "stored_fixes": args.fixes, "lookups": args.lookups, "writes": args.writes,
        "rows": f"synthetic, {SIGNATURES} signatures, keys by sleepy.memory.recall.exact_key/ngram_key, no embeddings",
        "row_generation_s": round(rows_s, 2),
    }

    with tempfile.TemporaryDirectory(prefix="sleepy-store-speed-") as tmp:
        path = Path(tmp) / "bench.db"
        sqlite, sqlite_ids = run_backend("sqlite", lambda: SQLiteStore(path), bulk_sqlite, rows, keys, kinds, make,
                                         args.writes)
        probe = SQLiteStore(path)  # the settings the product opens a store with, read back from SQLite itself
        settings = {"journal_mode": probe.db.execute("PRAGMA journal_mode").fetchone()[0],
                    "synchronous": {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[
                        probe.db.execute("PRAGMA synchronous").fetchone()[0]],
                    "sqlite_version": probe.db.execute("SELECT sqlite_version()").fetchone()[0],
                    "bulk_load": "executemany, one transaction"}
        probe.close()
        payload["sqlite"] = {"settings": settings, **sqlite}

    payload["postgresql"], pg_ids = postgres(rows, keys, kinds, make, args.writes)
    if pg_ids is not None:
        payload["same_recall_results"] = pg_ids == sqlite_ids
    write_result("store_speed", payload, args.out)


if __name__ == "__main__":
    main()
