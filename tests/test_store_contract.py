"""One contract for every experience store: each test runs against SQLite and a real PostgreSQL server.

The PostgreSQL server is a throwaway cluster the session starts itself
(:class:`sleepy.memory.pgcluster.ThrowawayCluster`: ``initdb`` into a temporary folder, ``pg_ctl
start`` on a unix socket only, no TCP), stopped when the session ends. Its tests
skip, with the reason, only when no server can be started (no PostgreSQL binaries, no psycopg, or
the start failed). Each test gets a schema of its own in a database whose default collation is ICU
en-US when the server has ICU, so text ordering is checked against a locale that does not sort
bytewise as SQLite does.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import asdict
from itertools import count
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sleepy.config import ConfigError, Settings
from sleepy.memory.pgcluster import ClusterUnavailable, ThrowawayCluster
from sleepy.memory.repository import FixRecord, StoreError, UnverifiedFixError
from sleepy.memory.sql import now
from sleepy.memory.store import open_store

try:
    import psycopg
except ImportError:  # the PostgreSQL half skips; the SQLite half still runs
    psycopg = None

INTEGRITY_ERRORS: tuple[type[Exception], ...] = (sqlite3.IntegrityError,) + ((psycopg.IntegrityError,) if psycopg
                                                                             else ())


# ---------------------------------------------------------------------- a throwaway PostgreSQL cluster
class Cluster:
    """The session's throwaway server (:mod:`sleepy.memory.pgcluster`) with one ``contract`` database;
    :meth:`new_url` gives each test a schema of its own (cheaper than a database)."""

    def __init__(self, server: ThrowawayCluster) -> None:
        self.server = server
        self._numbers = count()
        # a default collation that does not sort bytewise, so text ordering is really tested (C without ICU)
        self.icu = server.new_database("contract", icu_locale="en-US").icu

    def url(self, db: str = "contract", schema: str | None = None) -> str:
        return self.server.url(db, schema)

    def new_url(self) -> str:
        schema = f"t{next(self._numbers)}"
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f"CREATE SCHEMA {schema}")
        return self.url(schema=schema)


@pytest.fixture(scope="session")
def pg_cluster():
    if psycopg is None:
        pytest.skip("PostgreSQL tests need psycopg 3 (pip install 'psycopg[binary]')")
    server = ThrowawayCluster()
    try:
        server.start()
    except ClusterUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield Cluster(server)
    finally:
        server.stop()


# ---------------------------------------------------------------------- the backends, side by side
@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.db"
    return request.getfixturevalue("pg_cluster").new_url()


@pytest.fixture
def store(url):
    s = open_store(url)
    yield s
    s.close()


def make_fix(n: int = 0, **fields) -> FixRecord:
    values = dict(task_id=f"task-{n}", pack="rust", family="borrow", signature="rust:E0382:borrow-of-moved-value",
                  message="E0382: borrow of moved value", code_line=f"let b{n} = a;", edit="@@ 3\n- a\n+ a.clone()\n",
                  before_sha="b" * 64, after=f"fn main() {{ /* {n} */ }}\n", provenance="agent",
                  exact_key="exact-1", ngram_key=f"ngram-{n}")
    return FixRecord(**(values | fields))


def event(family: str | None, passed: bool, time_: str, before: str | None = None, **extra) -> dict:
    e = {"time": time_, "sleepy.verifier.passed": passed, "sleepy.signature.before": before, **extra}
    if family is not None:
        e["sleepy.task.family"] = family
    return e


# ---------------------------------------------------------------------- schema
def test_schema_is_migrated_once_and_survives_reopening(store, url):
    assert store.schema_version() == len(store.MIGRATIONS) >= 1
    fix_id = store.add_fix(make_fix())
    store.close()
    again = open_store(url)  # reopening runs no migration twice and keeps the data
    try:
        assert again.schema_version() == len(again.MIGRATIONS)
        assert again.count_fixes() == 1 and again.fixes([fix_id])[0].task_id == "task-0"
    finally:
        again.close()


def test_processes_opening_a_new_store_at_once_migrate_it_once(url):
    opened, errors = [], []
    barrier = threading.Barrier(4)

    def open_one():
        barrier.wait()
        try:
            opened.append(open_store(url))
        except Exception as exc:  # noqa: BLE001 - any failure is the finding
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(opened) == 4
    assert {s.schema_version() for s in opened} == {len(opened[0].MIGRATIONS)}
    for s in opened:
        s.close()


def test_exact_recall_is_an_index_lookup(store):
    for column, index in (("exact_key", "fixes_exact"), ("ngram_key", "fixes_ngram")):
        query = f"SELECT id FROM fixes WHERE {column} = 'k' ORDER BY id DESC LIMIT 3"
        if isinstance(store.db, sqlite3.Connection):
            plan = " ".join(str(r) for r in store.db.execute("EXPLAIN QUERY PLAN " + query))
        else:  # an empty table is cheapest to scan: forbid that to see whether the index serves the query
            store.db.execute("SET enable_seqscan = off")
            plan = " ".join(r[0] for r in store.db.execute("EXPLAIN " + query))
            store.db.execute("RESET enable_seqscan")
        assert index in plan, plan


# ---------------------------------------------------------------------- runs
def test_an_unfinished_run_with_the_same_params_is_resumed(store):
    first = store.start_run("day", {"pack": "rust", "seed": 1})
    assert not first.resumed and first.params == {"pack": "rust", "seed": 1}
    again = store.start_run("day", {"seed": 1, "pack": "rust"})  # key order does not matter
    assert again.id == first.id and again.resumed and again.params_key == first.params_key
    other_kind = store.start_run("night", {"pack": "rust", "seed": 1})
    other_params = store.start_run("day", {"pack": "rust", "seed": 2})
    assert len({first.id, other_kind.id, other_params.id}) == 3
    store.finish_run(first.id, {"passed": 3})
    fresh = store.start_run("day", {"pack": "rust", "seed": 1})
    assert fresh.id not in (first.id, other_kind.id, other_params.id) and not fresh.resumed
    assert store.start_run("day", {"pack": "rust", "seed": 1}).id == fresh.id


def test_runs_started_at_once_by_several_processes_resume_one_run(url):
    stores = [open_store(url) for _ in range(4)]
    runs, barrier = [], threading.Barrier(len(stores))

    def start(s):
        barrier.wait()
        runs.append(s.start_run("day", {"seed": 7}))

    threads = [threading.Thread(target=start, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({r.id for r in runs}) == 1 and sum(not r.resumed for r in runs) == 1
    for s in stores:
        s.close()


def test_threads_sharing_one_store_write_whole_transactions(store):
    """The server settles requests in worker threads on one store: no transaction may see another's."""
    run = store.start_run("serve", {})
    errors, barrier = [], threading.Barrier(6)

    def settle(worker: int):
        barrier.wait()
        try:
            for i in range(8):
                ep = store.start_episode(run.id, f"w{worker}-{i}", "base")
                store.record_attempt(ep, event("borrow", True, now(), "sig"))
                store.finish_episode(ep, True, 1, make_fix(worker * 100 + i, episode_id=ep))
                list(store.events(run_id=run.id, limit=3))
        except Exception as exc:  # noqa: BLE001 - any failure is the finding
            errors.append(exc)

    threads = [threading.Thread(target=settle, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    assert len(store.completed_tasks(run.id)) == 48 and store.count_fixes() == 48
    assert len(list(store.events(run_id=run.id))) == 48


def test_last_finished_is_the_latest_finish_of_that_kind(store):
    assert store.last_finished("night") is None
    began = now()
    a, b = store.start_run("night", {"n": 1}), store.start_run("night", {"n": 2})
    store.start_run("day", {"n": 3})
    store.finish_run(a.id, {})
    time.sleep(0.002)
    store.finish_run(b.id, {})
    last = store.last_finished("night")
    assert last is not None and last >= began and last.endswith("+00:00")
    assert store.last_finished("day") is None


# ---------------------------------------------------------------------- tasks, episodes, attempts
def test_tasks_are_inserted_once_and_read_back_in_the_order_asked(store):
    store.upsert_task("a", "rust", "borrow", "generated", "rust:E0382:x", "fn main() {}")
    store.upsert_task("a", "rust", "traits", "user", None, "changed")  # an upsert never rewrites a task
    store.upsert_task("b", "python", "names", "user", None, "print(x)\n")
    store.upsert_task("c", "rust", "borrow", "project", None, "fn f() {}", "/src/crate", "src/lib.rs")
    assert store.task_rows(["b", "missing", "a", "c"]) == [
        {"id": "b", "pack": "python", "family": "names", "origin": "user", "signature": None, "source": "print(x)\n",
         "project": None, "file": None},
        {"id": "a", "pack": "rust", "family": "borrow", "origin": "generated", "signature": "rust:E0382:x",
         "source": "fn main() {}", "project": None, "file": None},
        {"id": "c", "pack": "rust", "family": "borrow", "origin": "project", "signature": None,
         "source": "fn f() {}", "project": "/src/crate", "file": "src/lib.rs"}]
    assert store.task_rows([]) == []


def test_episodes_attempts_and_events(store):
    run, other = store.start_run("day", {"x": 1}), store.start_run("day", {"x": 2})
    ep = store.start_episode(run.id, "t1", "base")
    ep_other = store.start_episode(other.id, "t2", "r1")
    assert store.episode(ep) == {"id": ep, "run_id": run.id, "task_id": "t1", "release": "base", "passed": None,
                                 "attempts": None}
    assert store.episode(10**9) is None
    wide = event("borrow", False, "2030-01-01T10:00:00.000+00:00", "rust:E0382:x",
                 output="nul \x00 and unicode é✓", nested={"tokens": [1, 2.5, None], "ok": True})
    first = store.record_attempt(ep, wide)
    second = store.record_attempt(ep, event("borrow", True, "2030-01-02T10:00:00.000+00:00"))
    third = store.record_attempt(ep_other, event("traits", True, "2030-01-03T10:00:00.000+00:00"))
    assert first < second < third
    events = list(store.events())
    assert [e["id"] for e in events] == [first, second, third]
    assert events[0] == {"id": first, **wide}  # exactly what was written, NUL escape and all
    assert [e["id"] for e in store.events(run_id=run.id)] == [first, second]
    assert [e["id"] for e in store.events(since="2030-01-02")] == [second, third]
    assert [e["id"] for e in store.events(since="2030-01-02", run_id=run.id, limit=5)] == [second]
    assert [e["id"] for e in store.events(limit=2)] == [first, second]
    untimed = store.record_attempt(ep_other, {"sleepy.verifier.passed": False})  # no time: stamped now
    assert [e["id"] for e in store.events(since=now()[:10], run_id=other.id)] == [third, untimed]
    assert untimed not in [e["id"] for e in store.events(since="2030")]
    assert store.completed_tasks(run.id) == {}
    assert store.finish_episode(ep, True, 2, None) is None
    assert store.completed_tasks(run.id) == {"t1": True}
    store.finish_episode(ep_other, False, 3, None)
    assert store.completed_tasks(other.id) == {"t2": False}
    assert store.episode(ep)["passed"] == 1 and store.episode(ep)["attempts"] == 2


def test_what_the_dashboard_reads_latest_run_recent_episodes_and_their_events(store):
    assert store.latest_run("day") is None and store.recent_episodes() == []
    store.upsert_task("t1", "rust", "borrow", "generated", None, "fn main() {}")
    old = store.start_run("day", {"n": 1})
    store.start_episode(old.id, "t1", "base")
    run = store.start_run("day", {"n": 2})
    store.start_run("night", {"n": 3})
    a, b, c = (store.start_episode(run.id, t, "r1") for t in ("t1", "t2", "t3"))
    store.finish_episode(a, True, 1, None)
    store.finish_episode(b, False, 3, None)
    live = store.latest_run("day")
    assert live == {"id": run.id, "started_at": live["started_at"], "finished_at": None, "episodes": 2, "passed": 1,
                    "current_task": "t3"}
    store.finish_run(run.id, {})
    assert store.latest_run("day")["finished_at"] is not None
    recent = store.recent_episodes(limit=3)
    assert [e["id"] for e in recent] == [c, b, a]
    assert recent[2] | {"started_at": None, "finished_at": None} == {
        "id": a, "run_id": run.id, "task_id": "t1", "family": "borrow", "release": "r1", "passed": 1, "attempts": 1,
        "started_at": None, "finished_at": None}
    assert recent[0]["passed"] is None and recent[1]["family"] is None  # running; a task never upserted
    first = store.record_attempt(b, event("borrow", False, now(), "sig", **{"sleepy.attempt": 1}))
    second = store.record_attempt(b, event("borrow", False, now(), "sig", **{"sleepy.attempt": 2}))
    store.record_attempt(c, event("borrow", True, now()))
    assert [(e["id"], e["sleepy.attempt"]) for e in store.episode_events(b)] == [(first, 1), (second, 2)]
    assert store.episode_events(a) == [] and store.episode_events(10**9) == []


def test_finish_episode_stores_its_fix_in_the_same_transaction(store):
    run = store.start_run("day", {})
    ep = store.start_episode(run.id, "task-0", "base")
    fix = make_fix(episode_id=ep, release="r2", embedding=b"\x00\x01\x02")
    fix_id = store.finish_episode(ep, True, 2, fix)
    stored = store.fixes([fix_id])[0]
    assert stored.id == fix_id and stored.created_at
    assert asdict(stored) == asdict(fix) | {"id": fix_id, "created_at": stored.created_at}
    assert store.episode(ep)["passed"] == 1 and store.completed_tasks(run.id) == {"task-0": True}


def test_a_failing_fix_rolls_back_the_whole_episode_finish(store):
    run = store.start_run("day", {})
    ep = store.start_episode(run.id, "task-0", "base")

    def unchanged():
        return store.episode(ep)["passed"] is None and store.completed_tasks(run.id) == {} and \
            store.count_fixes() == 0

    with pytest.raises(UnverifiedFixError):  # refused before SQL
        store.finish_episode(ep, True, 1, make_fix(provenance="rumour"))
    assert unchanged()
    with pytest.raises(INTEGRITY_ERRORS):  # refused by the database, after the episode's UPDATE ran
        store.finish_episode(ep, True, 1, make_fix(task_id=None))
    assert unchanged()
    assert store.finish_episode(ep, True, 1, make_fix()) is not None  # the store is still usable
    assert store.count_fixes() == 1


def test_failed_episodes_since(store):
    run = store.start_run("day", {})
    eps = {t: store.start_episode(run.id, t, "base") for t in ("fail-1", "pass", "no-attempts", "open", "fail-2")}
    store.record_attempt(eps["fail-1"], event("borrow", False, now(), "sig-A"))
    store.record_attempt(eps["fail-1"], event("borrow", False, now(), "sig-B"))  # the first attempt's counts
    store.record_attempt(eps["pass"], event("borrow", True, now(), "sig-A"))
    store.record_attempt(eps["open"], event("borrow", False, now(), "sig-A"))
    store.record_attempt(eps["fail-2"], event("borrow", False, now(), "sig-C"))
    for t in ("fail-1", "pass", "no-attempts"):
        store.finish_episode(eps[t], t == "pass", 2, None)
    time.sleep(0.003)
    middle = now()
    time.sleep(0.003)
    store.finish_episode(eps["fail-2"], False, 3, None)
    assert store.failed_episodes(None) == [("fail-1", "sig-A"), ("fail-2", "sig-C")]
    assert store.failed_episodes(middle) == [("fail-2", "sig-C")]


def test_pass_rates_by_family_signature_and_day(store):
    run = store.start_run("day", {})
    day1, day2 = "2030-01-01T09:00:00.000+00:00", "2030-01-02T09:00:00.000+00:00"
    a, b, c, d = (store.start_episode(run.id, t, "base") for t in "abcd")
    store.record_attempt(a, event("borrow", False, day1, "sig-1"))
    store.record_attempt(a, event("borrow", True, day1, "sig-1"))
    store.record_attempt(b, event("Zeta", False, day2, "sig-2"))
    store.record_attempt(c, event(None, False, day2, "sig-2"))
    store.record_attempt(d, event("alpha", True, day2, None))
    rows = store.pass_rates("family")
    assert [r["family"] for r in rows] == [None, "Zeta", "alpha", "borrow"]  # NULL first, then bytewise
    assert rows[3] == {"family": "borrow", "attempts": 2, "attempts_passed": 1, "episodes": 1, "episodes_passed": 1,
                       "episode_pass_rate": 1.0}
    assert rows[1] == {"family": "Zeta", "attempts": 1, "attempts_passed": 0, "episodes": 1, "episodes_passed": 0,
                       "episode_pass_rate": 0.0}
    assert store.pass_rates("day") == [
        {"day": "2030-01-01", "attempts": 2, "attempts_passed": 1, "episodes": 1, "episodes_passed": 1,
         "episode_pass_rate": 1.0},
        {"day": "2030-01-02", "attempts": 3, "attempts_passed": 1, "episodes": 3, "episodes_passed": 1,
         "episode_pass_rate": 0.3333}]
    by_sig = {r["signature"]: r for r in store.pass_rates("signature")}
    assert list(by_sig) == [None, "sig-1", "sig-2"] and by_sig["sig-2"]["episodes"] == 2
    assert [r["family"] for r in store.pass_rates("family", since="2030-01-02")] == [None, "Zeta", "alpha"]
    assert store.pass_rates("family", since="2031") == []
    for episode, passed in ((a, True), (b, False), (c, False), (d, True)):
        store.finish_episode(episode, passed, 1, None)
    store.finish_run(run.id, {})
    later = store.start_run("day", {"cycle_night": 2})  # a second day on the same date: a row of its own by run
    store.record_attempt(store.start_episode(later.id, "e", "base"), event("borrow", True, day2, "sig-1"))
    assert [(r["run"], r["episodes"], r["episodes_passed"]) for r in store.pass_rates("run")] == [
        (run.id, 4, 2), (later.id, 1, 1)]
    assert [r["day"] for r in store.pass_rates("day")] == ["2030-01-01", "2030-01-02"]
    with pytest.raises(ValueError, match="cannot group by"):
        store.pass_rates("release")


# ---------------------------------------------------------------------- fixes and recall
def test_only_verified_fixes_enter_the_table(store):
    columns = ("task_id, pack, family, signature, message, code_line, edit, before_sha, after, provenance, verified, "
               "exact_key, ngram_key, release, created_at")
    with pytest.raises(INTEGRITY_ERRORS):  # the database itself refuses an unverified row
        store.db.execute(f"INSERT INTO fixes({columns}) VALUES ('t','rust','f','s','m','c','e','b','a','agent',0,"
                         "'k','n','base','now')")
    with pytest.raises(INTEGRITY_ERRORS):  # and a provenance it does not know
        store.db.execute(f"INSERT INTO fixes({columns}) VALUES ('t','rust','f','s','m','c','e','b','a','rumour',1,"
                         "'k','n','base','now')")
    with pytest.raises(UnverifiedFixError):
        store.add_fix(make_fix(provenance="rumour"))
    assert store.count_fixes() == 0
    for provenance in ("agent", "teacher", "human", "reference"):
        store.add_fix(make_fix(provenance=provenance))
    assert store.count_fixes() == 4


def test_recall_exact_is_newest_first_code_line_key_before_signature_key(store):
    ids = [store.add_fix(make_fix(n, exact_key="sig-key", ngram_key="line-key" if n in (1, 3) else f"n{n}"))
           for n in range(5)]
    assert [f.id for f in store.recall_exact("sig-key")] == ids[:-4:-1]  # newest three
    assert [f.id for f in store.recall_exact("sig-key", limit=10)] == ids[::-1]
    assert [f.id for f in store.recall_exact("sig-key", limit=1)] == [ids[4]]
    assert [f.id for f in store.recall_exact("line-key")] == [ids[3], ids[1]]
    also = store.add_fix(make_fix(9, exact_key="line-key", ngram_key="other"))
    assert [f.id for f in store.recall_exact("line-key")] == [ids[3], ids[1], also]  # n-gram hits come first
    both = store.add_fix(make_fix(10, exact_key="same", ngram_key="same"))
    assert [f.id for f in store.recall_exact("same")] == [both]  # found by both keys, returned once
    assert store.recall_exact("unknown") == []


def test_fix_embeddings_after_an_id(store):
    vector = bytes(range(256)) * 6
    first = store.add_fix(make_fix(0, embedding=b"\x00\x01"))
    store.add_fix(make_fix(1))  # no embedding: not in the similarity index
    third = store.add_fix(make_fix(2, embedding=vector))
    assert store.fix_embeddings() == ([first, third], [b"\x00\x01", vector])
    ids, blobs = store.fix_embeddings(after_id=first)
    assert ids == [third] and blobs == [vector] and isinstance(blobs[0], bytes)
    assert store.fix_embeddings(after_id=third) == ([], [])


def test_fixes_by_id_for_a_signature_and_counted(store):
    assert store.count_fixes() == 0 and store.fixes([]) == [] and store.fixes_for("nothing") == []
    ids = [store.add_fix(make_fix(n, signature="sig-A" if n % 2 else "sig-B")) for n in range(6)]
    assert [f.id for f in store.fixes([ids[3], 10**9, ids[0]])] == [ids[3], ids[0]]  # order asked, missing dropped
    assert [f.id for f in store.fixes_for("sig-A")] == [ids[5], ids[3], ids[1]]
    assert [f.id for f in store.fixes_for("sig-B", limit=2)] == [ids[4], ids[2]]
    assert store.count_fixes() == 6
    store.add_fix(make_fix(7, signature="sig-C", provenance="reference"))
    assert store.fix_signatures() == ["sig-A", "sig-B", "sig-C"]
    assert store.fix_signatures("agent") == ["sig-A", "sig-B"] and store.fix_signatures("teacher") == []


# ---------------------------------------------------------------------- opening a store
def test_open_store_picks_the_backend_from_settings_or_url(tmp_path):
    default = open_store(Settings(workspace=tmp_path / "ws"))
    assert Path(default.path) == tmp_path / "ws" / "sleepy.db" and default.path.exists()
    default.close()
    explicit = open_store(f"sqlite:///{tmp_path}/other.db")
    assert Path(explicit.path) == tmp_path / "other.db"
    explicit.close()
    assert Settings(store=f"sqlite:///{tmp_path}/x.db").store_path == tmp_path / "x.db"
    with pytest.raises(ConfigError, match="no store_path"):
        Settings(store="postgresql://u@h/db").store_path  # noqa: B018 - the property is what raises


@pytest.mark.parametrize("bad", ["mysql://user:hunter2@host/db", "sqlite:///", "sleepy.db", "postgresq://x"])
def test_an_unsupported_store_is_a_one_line_config_error(bad):
    with pytest.raises(ConfigError) as info:
        open_store(bad)
    message = str(info.value)
    assert "unsupported store" in message and "\n" not in message and "hunter2" not in message
    with pytest.raises(ConfigError):
        Settings(store=bad).store_url  # noqa: B018


@pytest.mark.parametrize("make_url", [
    lambda tmp: f"postgresql://sleepy:hunter2@/db?host={tmp}&port=1",  # nothing listens there
    lambda tmp: "postgresql://sleepy:hunter2@127.0.0.1:1/db",  # nor here
    lambda tmp: "postgresql://bad host/db",  # not a URL libpq can read
    lambda tmp: "postgresql://u@/db?no_such_option=1",
])
def test_an_unreachable_postgres_is_a_one_line_store_error(tmp_path, make_url):
    if psycopg is None:
        pytest.skip("psycopg is not installed")
    with pytest.raises(StoreError) as info:
        open_store(make_url(tmp_path))
    message = str(info.value)
    assert isinstance(info.value, OSError)  # the CLI's existing OSError case turns it into fail(...)
    assert message.startswith("cannot connect to postgresql://") and "\n" not in message
    assert "hunter2" not in message


def test_the_cli_reports_a_down_server_in_one_line(tmp_path):
    from sleepy.cli import app

    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "config.toml").write_text(f'store = "postgresql://sleepy:hunter2@/db?host={tmp_path}&port=1"\n')
    result = CliRunner().invoke(app, ["memory", "stats", "--workspace", str(ws)])
    output = result.output.replace("\n", "")
    assert result.exit_code == 2 and "cannot open the store: cannot connect to postgresql://" in output
    assert "Traceback" not in output and "hunter2" not in output
    (ws / "config.toml").write_text('store = "redis://localhost"\n')
    result = CliRunner().invoke(app, ["memory", "stats", "--workspace", str(ws)])
    assert result.exit_code == 2 and "unsupported store" in result.output


def test_the_cli_reads_a_postgres_store(tmp_path, pg_cluster):
    from sleepy.cli import app

    url = pg_cluster.new_url()
    store = open_store(url)
    run = store.start_run("day", {})
    ep = store.start_episode(run.id, "task-0", "base")
    store.record_attempt(ep, event("borrow", True, now(), "sig-1"))
    store.finish_episode(ep, True, 1, make_fix())
    store.close()
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "config.toml").write_text(f'store = "{url}"\n')
    result = CliRunner().invoke(app, ["memory", "stats", "--workspace", str(ws)])
    assert result.exit_code == 0 and "1 verified fixes in postgresql://sleepy@/" in result.output.replace("\n", "")
    result = CliRunner().invoke(app, ["stats", "--json", "--workspace", str(ws)])
    assert result.exit_code == 0, result.output
    assert '"family": "borrow"' in result.output and not (ws / "sleepy.db").exists()
