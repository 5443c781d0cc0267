"""The experience store and recall: transactions, migrations, verified-only, exact and similar recall."""

import sqlite3

import pytest
from conftest import needs_rustc

from sleepy.memory.recall import Embedder, ExperienceMemory, exact_key
from sleepy.memory.repository import UnverifiedFixError
from sleepy.memory.sqlite import MIGRATIONS, SQLiteStore
from sleepy.tasks.packs import get_pack
from sleepy.tasks.verify import verify


@pytest.fixture
def store(tmp_path):
    s = SQLiteStore(tmp_path / "s.db")
    yield s
    s.close()


def remembered(memory, task, provenance="reference"):
    diag = verify(task).primary
    return memory.remember(task, task.source, task.fix, diag, provenance, verify(task, task.fix))


def test_schema_is_migrated_once_and_in_wal_mode(tmp_path):
    store = SQLiteStore(tmp_path / "s.db")
    assert store.schema_version() == len(MIGRATIONS)
    store.close()
    again = SQLiteStore(tmp_path / "s.db")  # reopening runs no migration twice
    assert again.schema_version() == len(MIGRATIONS)
    assert again.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@needs_rustc
def test_only_verified_fixes_enter_memory(store):
    memory = ExperienceMemory(store)
    task = get_pack("rust").generate("borrow", 5)
    diag = verify(task).primary
    failing = verify(task)  # a verdict about the broken program
    with pytest.raises(UnverifiedFixError):
        memory.remember(task, task.source, task.fix, diag, "agent", failing)
    other = verify(task, task.fix)
    with pytest.raises(UnverifiedFixError):  # a passing verdict about a different program
        memory.remember(task, task.source, task.fix + "\n// changed\n", diag, "agent", other)
    with pytest.raises(sqlite3.IntegrityError):  # the table itself refuses unverified rows
        store.db.execute("INSERT INTO fixes(task_id, pack, family, signature, message, code_line, edit, "
                         "before_sha, after, provenance, verified, exact_key, ngram_key, release, created_at) "
                         "VALUES ('t','rust','f','s','m','c','e','b','a','agent',0,'k','n','base','now')")
    assert store.count_fixes() == 0
    fix_id = remembered(memory, task, "agent")
    fix = store.fixes([fix_id])[0]
    assert fix.provenance == "agent" and fix.signature == task.signature and fix.edit.startswith("@@")


@needs_rustc
def test_exact_recall_by_signature_and_code_line(store):
    memory = ExperienceMemory(store)
    pack = get_pack("rust")
    stored = [pack.generate("borrow", s) for s in range(3)] + [pack.generate("traits", 1)]
    for t in stored:
        remembered(memory, t)
    probe = next(pack.generate("borrow", s) for s in range(10, 60)
                 if pack.generate("borrow", s).signature == stored[0].signature)
    found = memory.recall(probe, probe.source, verify(probe).primary, k=2, similarity=False)
    assert found and all(r.how == "exact" and r.fix.signature == probe.signature for r in found)
    assert store.recall_exact(exact_key("rust:E9999:nothing")) == []


def test_transaction_rolls_back_on_error(store):
    run = store.start_run("day", {"x": 1})
    with pytest.raises(sqlite3.IntegrityError), store._tx():
        store.db.execute("INSERT INTO episodes(run_id, task_id, release, started_at) VALUES (?, 't', 'b', 'n')",
                         (run.id,))
        store.db.execute("INSERT INTO episodes(run_id, task_id, release, started_at) VALUES (999, 't', 'b', 'n')")
    assert store.db.execute("SELECT COUNT(*) FROM episodes").fetchone()[0] == 0


def test_unfinished_run_with_same_params_is_resumed(store):
    first = store.start_run("day", {"pack": "rust", "seed": 1})
    again = store.start_run("day", {"seed": 1, "pack": "rust"})
    assert again.id == first.id and again.resumed
    store.finish_run(first.id, {})
    fresh = store.start_run("day", {"pack": "rust", "seed": 1})
    assert fresh.id != first.id and not fresh.resumed


@needs_rustc
def test_similarity_recall_finds_the_related_fix(store):
    memory = ExperienceMemory(store, Embedder())
    pack = get_pack("rust")
    for fam, seed in (("borrow", 1), ("missing-items", 2), ("type-mismatch", 3), ("traits", 4)):
        remembered(memory, pack.generate(fam, seed))
    hits = memory.similar("error[E0433]: cannot find type `HashMap` in this scope\nlet mut m = HashMap::new();", 2)
    assert store.fixes([hits[0][0]])[0].family == "missing-items" or hits[0][1] > hits[1][1]


@needs_rustc
def test_human_correction_is_verified_before_it_is_stored(store):
    from sleepy.loop.correct import CorrectionError, correct

    memory = ExperienceMemory(store)
    task = get_pack("rust").generate("lifetimes", 3)
    run = store.start_run("day", {"t": 1})
    store.upsert_task(task.id, task.pack, task.family, task.origin, task.signature, task.source)
    episode = store.start_episode(run.id, task.id, "base")
    store.finish_episode(episode, False, 3, None)
    with pytest.raises(CorrectionError, match="does not pass"):
        correct(store, memory, episode, task.source.replace("fn main", "fn mian"))
    with pytest.raises(CorrectionError, match="no episode 999"):
        correct(store, memory, 999, task.fix)
    assert store.count_fixes() == 0
    fix = store.fixes([correct(store, memory, episode, task.fix)])[0]
    assert fix.provenance == "human" and fix.episode_id == episode and fix.signature == task.signature
