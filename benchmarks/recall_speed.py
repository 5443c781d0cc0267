"""Recall speed: exact recall with 1M stored fixes, similarity recall with 100k, write cost.

Run: python benchmarks/recall_speed.py [--fixes 1000000] [--vectors 100000]
(writes benchmarks/results/recall_speed.json). Rows are synthetic (random keys and vectors) since
only the lookup cost is measured; the store, index and query code are the product's own.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import percentile, write_result  # noqa: E402

from sleepy.memory.recall import EMBED_DIM, Embedder, ExperienceMemory, exact_key  # noqa: E402
from sleepy.memory.sqlite import SQLiteStore, now  # noqa: E402


def fill(store: SQLiteStore, n: int, vectors: int, rng: random.Random) -> list[str]:
    keys = [exact_key(f"rust:E{rng.randint(0, 9999):04d}:sig-{i % 5000}") for i in range(n)]
    vecs = np.random.default_rng(0).standard_normal((vectors, EMBED_DIM)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    stamp = now()
    rows = ((f"t{i}", "rust", "borrow", "rust:E0382:x", "E0382: m", "let x = y;", "@@ 1\n- a\n+ b\n", "s", "after",
             "reference", 1, keys[i], f"n{i}", None, "base", vecs[i].tobytes() if i < vectors else None, stamp)
            for i in range(n))
    with store._tx():
        store.db.executemany(
            "INSERT INTO fixes(task_id, pack, family, signature, message, code_line, edit, before_sha, after, "
            "provenance, verified, exact_key, ngram_key, episode_id, release, embedding, created_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    return keys


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixes", type=int, default=1_000_000)
    ap.add_argument("--vectors", type=int, default=100_000)
    args = ap.parse_args()
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "bench.db")
        began = time.perf_counter()
        keys = fill(store, args.fixes, args.vectors, rng)
        fill_s = time.perf_counter() - began
        exact = []
        for key in rng.sample(keys, 5000):
            t = time.perf_counter()
            store.recall_exact(key, limit=3)
            exact.append(time.perf_counter() - t)
        memory = ExperienceMemory(store, Embedder())
        t = time.perf_counter()
        memory._refresh()
        index_load_s = time.perf_counter() - t
        memory.embedder.encode(["warm up"])
        search, end_to_end = [], []
        for i in range(300):
            text = f"error[E0382]: borrow of moved value: `v{i}`\nlet w = v{i};"
            t = time.perf_counter()
            q = memory.embedder.encode([text])[0]
            t_enc = time.perf_counter()
            scores = memory._matrix @ q
            top = np.argpartition(-scores, 3)[:3]
            top[np.argsort(-scores[top])]
            t_end = time.perf_counter()
            search.append(t_end - t_enc)
            end_to_end.append(t_end - t)
        write_result("recall_speed", {
            "command": f"python benchmarks/recall_speed.py --fixes {args.fixes} --vectors {args.vectors}",
            "stored_fixes": args.fixes, "bulk_insert_s": round(fill_s, 2),
            "exact_recall_ms": {"p50": round(percentile(exact, 50) * 1e3, 4),
                                "p99": round(percentile(exact, 99) * 1e3, 4)},
            "vectors": args.vectors, "index_load_s": round(index_load_s, 2),
            "similarity_search_ms": {"p50": round(percentile(search, 50) * 1e3, 3),
                                     "p95": round(percentile(search, 95) * 1e3, 3)},
            "similarity_recall_with_query_embedding_ms": {"p50": round(percentile(end_to_end, 50) * 1e3, 3),
                                                          "p95": round(percentile(end_to_end, 95) * 1e3, 3)},
            "model_calls_per_memory_write": 0,
        })
        store.close()


if __name__ == "__main__":
    main()
