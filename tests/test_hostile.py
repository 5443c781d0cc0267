"""A task program is hostile: it must not read host files at compile or run time, fill the disk, or leave
anything behind after a kill. Every probe goes through the real verifier with real rustc and python, and
the probes that leak are shown to leak without the sandbox."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from sleepy.tasks import sandbox
from sleepy.tasks.task import Task
from sleepy.tasks.verify import verify

needs_rustc = pytest.mark.skipif(shutil.which("rustc") is None, reason="rustc not installed")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="markers under /root and /etc, and the quota, need root")


def _can_mount_tmpfs() -> bool:
    """Whether this host lets us mount the work folders' quota tmpfs (root in a container may not)."""
    if os.geteuid() != 0:
        return False
    probe = Path(tempfile.mkdtemp(prefix="probe-"))
    try:
        mounted = sandbox._mount_tmpfs(probe, 1 << 20)
        if mounted:
            sandbox._unmount(probe)
        return mounted
    finally:
        shutil.rmtree(probe, ignore_errors=True)


needs_mount = pytest.mark.skipif(not _can_mount_tmpfs(), reason="mounting a tmpfs is not permitted here: work "
                                                                 "folders have no quota (the sandbox warns once)")

RUST_LEAKS = {
    "include_str": 'compile_error!(concat!("LEAK:", include_str!("{path}")));\nfn main() {{}}\n',
    "include_bytes": 'fn main() {{\n    let b: &[u8] = include_bytes!("{path}");\n'
                     '    panic!("LEAK:{{}}", String::from_utf8_lossy(b));\n}}\n',
    "path_mod": '#[path = "{path}"]\nmod leak;\nfn main() {{}}\n',
    "doc_include": '#![deny(missing_docs)]\n//! crate\n#[doc = include_str!("{path}")]\npub fn f() {{}}\n'
                   'fn main() {{ f() }}\n',
    "fs_at_run_time": 'fn main() {{\n    let s = std::fs::read_to_string("{path}").unwrap();\n'
                      '    panic!("LEAK:{{}}", s);\n}}\n',
}
PY_LEAK = 'text = open("{path}").read()\nprint("LEAK:" + text)\nraise SystemExit("LEAK:" + text)\n'


@pytest.fixture(scope="module")
def secrets():
    """Host files with a unique marker, world-readable (so only the sandbox's view can hide them)."""
    marker, name = f"SLEEPY-SECRET-{uuid.uuid4().hex}", f"hostile-{uuid.uuid4().hex[:12]}"  # errors quote names
    paths = [Path("/root") / f"{name}.txt", Path("/etc") / f"{name}.conf", Path(tempfile.gettempdir()) / f"{name}.txt"]
    made = []
    for p in paths:
        try:
            p.write_text(f"{marker}\n")
            p.chmod(0o644)
            made.append(p)
        except OSError:
            continue
    yield marker, made
    for p in made:
        p.unlink(missing_ok=True)


def verdict_text(result) -> str:
    """Everything a verdict carries (and what the tasks table and memory would store)."""
    return json.dumps(dataclasses.asdict(result), default=str) + (result.signature or "")


def shadow_line() -> str | None:
    try:
        first = Path("/etc/shadow").read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    return first if len(first) > 8 else None


def rust_task(name: str, source: str) -> Task:
    return Task(f"hostile-{name}-{uuid.uuid4().hex[:8]}", "rust", "hostile", source)


@needs_rustc
@needs_root
@pytest.mark.parametrize("leak", sorted(RUST_LEAKS))
def test_rust_programs_read_no_host_file_at_compile_or_run_time(secrets, leak, tmp_path):
    marker, paths = secrets
    for path in paths:
        result = verify(rust_task(leak, RUST_LEAKS[leak].format(path=path)))
        assert not result.passed
        assert marker not in verdict_text(result), f"{leak} read {path}"


@needs_rustc
@needs_root
def test_the_rust_probes_do_leak_without_the_sandbox(secrets, tmp_path):
    """Control: run as the host's rustc sees it, include_str! and #[path] print the marker."""
    marker, paths = secrets
    for leak in ("include_str", "path_mod"):
        src = tmp_path / f"{leak}.rs"
        src.write_text(RUST_LEAKS[leak].format(path=paths[0]))
        out = subprocess.run(["rustc", "--edition", "2021", "--emit=metadata", "-o", str(tmp_path / "x"), str(src)],
                             capture_output=True, text=True, timeout=120)
        assert marker in out.stderr, leak


@needs_rustc
@needs_root
def test_a_build_script_reads_no_host_file(secrets, tmp_path):
    """cargo, build.rs and the crate's compile run in the sandbox too (a project task, built by cargo)."""
    marker, paths = secrets
    (tmp_path / "src").mkdir()
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "probe"\nversion = "0.1.0"\nedition = "2021"\n')
    reads = "".join(f'    if let Ok(s) = std::fs::read_to_string("{p}") {{ panic!("LEAK:{{s}}"); }}\n' for p in paths)
    (tmp_path / "build.rs").write_text(f"fn main() {{\n{reads}}}\n")
    lib = 'pub fn f() -> &\'static str { include_str!("/etc/passwd") }\n'
    (tmp_path / "src" / "lib.rs").write_text(lib)
    result = verify(Task("build-script", "rust", "hostile", lib, project=str(tmp_path), file="src/lib.rs"))
    assert result.passed, verdict_text(result)[-2000:]  # the script ran, found nothing, and the crate built
    assert marker not in verdict_text(result)


@needs_rustc
def test_etc_shadow_does_not_reach_the_error_signature():
    line = shadow_line()
    result = verify(rust_task("shadow", RUST_LEAKS["include_str"].format(path="/etc/shadow")))
    assert not result.passed and "LEAK:root" not in verdict_text(result)
    assert line is None or line not in verdict_text(result)
    assert "couldn't read" in result.primary.message or "No such file" in verdict_text(result)


@needs_root
def test_python_open_reads_no_host_file(secrets):
    marker, paths = secrets
    for path in [*paths, Path("/etc/shadow")]:
        result = verify(Task(f"hostile-open-{uuid.uuid4().hex[:8]}", "python", "hostile",
                             PY_LEAK.format(path=path)))
        assert not result.passed and marker not in verdict_text(result), path
        assert "LEAK:root" not in verdict_text(result)
        assert result.signature.startswith("py:FileNotFoundError"), result.signature
    control = subprocess.run([sys.executable, "-c", PY_LEAK.format(path=paths[0])], capture_output=True, text=True)
    assert marker in control.stdout  # the probe works where nothing hides the file


def test_the_sandbox_shows_only_the_toolchain_and_the_work_folder():
    """What a program sees: no host home, project folders, shadow, the host's /tmp; a synthetic /etc."""
    probe = textwrap.dedent("""
        import os, json
        seen = {p: os.path.exists(p) for p in ["/etc/shadow", "/etc/hostname", "/home", "/work", "/root/.cargo",
                                               "/root/.config", "/var", "/opt", "/srv", "/sys", "/usr/local/etc"]}
        print(json.dumps({"uid": os.getuid(), "seen": seen, "etc": sorted(os.listdir("/etc")),
                          "tmp": sorted(os.listdir("/tmp"))}))
    """)
    result = verify(Task(f"hostile-view-{uuid.uuid4().hex[:8]}", "python", "hostile", probe))
    assert result.passed, result.output
    view = json.loads(result.output)
    assert not any(view["seen"].values()), view["seen"]
    assert set(view["etc"]) <= {"passwd", "group", "ld.so.cache", "alternatives"}
    assert view["tmp"] == ["work"]
    if os.geteuid() == 0:
        assert view["uid"] == sandbox.NOBODY_UID


@needs_rustc
def test_rustc_runs_as_the_unprivileged_builder():
    probe = ('const WHO: &str = include_str!("/etc/passwd");\n'
             'fn main() { assert!(!WHO.contains("SLEEPY")); }\n')
    result = verify(rust_task("builder", probe))
    assert result.passed, verdict_text(result)  # /etc/passwd is the synthetic one; std links and runs
    if os.geteuid() == 0:
        with sandbox.workspace("sleepy-uid-", 1 << 20) as work:
            ran = sandbox.run(["/usr/bin/id", "-u"], work, sandbox.COMPILER_LIMITS)
        assert ran.stdout.strip() == str(sandbox.BUILDER_UID)


# ------------------------------------------------------------------------------------------------- venvs
VENV_TASK = textwrap.dedent("""
    import sys, probe_module_{tag}
    assert sys.prefix == {prefix!r}, sys.prefix
    assert probe_module_{tag}.VALUE == 42
    import pytest  # from the base interpreter's site-packages (--system-site-packages)
    print("venv ok", sys.prefix)
""")


def _venv_runs_a_python_task(venv: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)],
                   check=True, timeout=300)
    python = venv / "bin" / "python"
    prefix = subprocess.run([str(python), "-c", "import sys; print(sys.prefix)"], capture_output=True, text=True,
                            check=True).stdout.strip()
    site_dir = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              capture_output=True, text=True, check=True).stdout.strip()
    tag = uuid.uuid4().hex[:8]
    Path(site_dir, f"probe_module_{tag}.py").write_text("VALUE = 42\n")  # only in the venv's own site-packages
    driver = ("import sys; from sleepy.tasks.task import Task; from sleepy.tasks.verify import verify; "
              "r = verify(Task('venv', 'python', 'venv', sys.stdin.read())); "
              "print(r.passed, r.signature, r.output[-500:])")
    ran = subprocess.run([str(python), "-c", driver], input=VENV_TASK.format(tag=tag, prefix=prefix),
                         capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert ran.stdout.startswith("True None venv ok"), ran.stdout + ran.stderr[-2000:]


def test_a_venv_under_tmp_runs_a_python_task(tmp_path):
    _venv_runs_a_python_task(tmp_path / "venv")


def test_a_venv_under_home_runs_a_python_task():
    venv = Path.home() / f".sleepy-test-venv-{uuid.uuid4().hex[:8]}"
    try:
        _venv_runs_a_python_task(venv)
    finally:
        shutil.rmtree(venv, ignore_errors=True)


# ------------------------------------------------------------------------------------------------- quota
FILL = textwrap.dedent("""
    import os
    os.makedirs("{where}", exist_ok=True)
    for i in range(100000):
        with open(os.path.join("{where}", f"junk{{i}}"), "wb") as f:
            f.write(b"x" * (512 << 10))
""")


def _owner_pid(folder: Path) -> int | None:
    try:
        return json.loads((folder / sandbox.OWNER_FILE).read_text())["pid"]
    except (OSError, ValueError, KeyError):
        return None


def _mine() -> set[str]:
    """This process's workspaces (other processes on the machine may be verifying too)."""
    return {p.name for p in Path(tempfile.gettempdir()).glob("sleepy-*") if _owner_pid(p) == os.getpid()}


def _sleepy_mounts() -> list[str]:
    """Workspace mounts that are this process's or no one's (a live owner of another process is fine)."""
    mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()
              if "/sleepy-" in line.split()[4]]
    return [m for m in mounts if _owner_pid(Path(m).parent) in (None, os.getpid())]


def held_mounts(held: set[str]) -> set[str]:
    return {str(Path(tempfile.gettempdir()) / name / "work") for name in held}


@needs_root
@pytest.mark.parametrize("where", [pytest.param("data", marks=needs_mount), "/tmp/fill"])
def test_writing_beyond_the_quota_fails_clearly_and_leaves_nothing(where):
    began, held = time.perf_counter(), _mine()  # a project's copy of an earlier test may be held open
    result = verify(Task(f"hostile-fill-{uuid.uuid4().hex[:8]}", "python", "hostile", FILL.format(where=where)))
    assert not result.passed and result.signature == "py:disk-quota", verdict_text(result)[:2000]
    assert time.perf_counter() - began < 60
    assert _mine() <= held and not set(_sleepy_mounts()) - held_mounts(held)


@needs_rustc
@needs_root
@needs_mount
def test_a_rust_program_filling_the_disk_is_stopped_by_the_quota():
    source = ('use std::io::Write;\nfn main() {\n    for i in 0.. {\n'
              '        let mut f = std::fs::File::create(format!("junk{i}")).unwrap();\n'
              '        f.write_all(&[7u8; 1 << 19]).unwrap();\n    }\n}\n')
    held = _mine()
    result = verify(rust_task("fill", source))
    assert not result.passed and result.signature == "rust:run:disk-quota", verdict_text(result)[:2000]
    assert _mine() <= held and not set(_sleepy_mounts()) - held_mounts(held)


@needs_root
@needs_mount
def test_a_full_workspace_is_emptied_of_what_the_run_wrote():
    """A project's copy lives across runs: what the run that hit the quota wrote goes, what was there stays."""
    with sandbox.workspace("sleepy-quota-", 8 << 20) as work:
        (work / "keep.txt").write_text("kept")
        (work / "prog.py").write_text(FILL.format(where="out"))
        ran = sandbox.run([sys.executable, "-I", "prog.py"], work)
        assert ran.violation == "disk-quota" and not ran.ok
        assert sorted(p.name for p in work.iterdir()) == ["keep.txt", "prog.py"]
        assert shutil.disk_usage(work).used < 1 << 20


def test_links_and_fifos_a_run_leaves_in_the_work_folder_are_removed(tmp_path):
    """The host writes the next candidate into a project's copy as root: a file the run turned into a link
    to a host file (or a FIFO) must not be written through (or block the writer)."""
    target = tmp_path / "host-file"
    target.write_text("host")
    with sandbox.workspace("sleepy-links-", 1 << 20) as work:
        (work / "src").mkdir()
        (work / "src" / "lib.rs").write_text("fn f() {}")
        os.symlink("lib.rs", work / "src" / "kept")  # the project's own link stays
        (work / "prog.py").write_text(textwrap.dedent(f"""
            import os
            os.remove("src/lib.rs")
            os.symlink({str(target)!r}, "src/lib.rs")
            os.mkfifo("src/pipe")
            os.symlink("/etc", "etc")
        """))
        ran = sandbox.run([sys.executable, "-I", "prog.py"], work)
        assert ran.ok, ran.stderr
        assert sorted(p.name for p in (work / "src").iterdir()) == ["kept"] and not (work / "etc").exists()
        (work / "src" / "lib.rs").write_text("fn g() {}")  # what ProjectBuild.write does next
    assert target.read_text() == "host"


# ------------------------------------------------------------------------------------------------- leftovers
HOLD = textwrap.dedent("""
    import sys, time
    from sleepy.tasks import sandbox
    work = sandbox.open_workspace("sleepy-held-", 1 << 20)
    (work / "x").write_text("x")
    print(work, flush=True)
    time.sleep(300)
""")


def _holder() -> tuple[subprocess.Popen, Path]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD], stdout=subprocess.PIPE, text=True)
    return proc, Path(proc.stdout.readline().strip())


def test_a_killed_process_s_workspace_is_removed_on_the_next_start_and_a_live_one_is_kept():
    killed, killed_work = _holder()
    live, live_work = _holder()
    lockless = Path(tempfile.mkdtemp(prefix="sleepy-lockless-"))  # older code's folder, or one being made
    try:
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait()
        assert (killed_work / "x").exists()  # left behind by the kill, mounted if we are root
        if os.geteuid() == 0:
            assert os.path.ismount(killed_work)
        next_start = subprocess.run(
            [sys.executable, "-c", "from sleepy.tasks import sandbox; from sleepy.tasks.task import Task; "
             "from sleepy.tasks.verify import verify; print(verify(Task('t', 'python', 'f', 'pass')).passed)"],
            capture_output=True, text=True, timeout=120)
        assert next_start.stdout.strip() == "True", next_start.stderr
        assert not killed_work.parent.exists() and str(killed_work) not in _sleepy_mounts()
        assert (live_work / "x").read_text() == "x"  # its owner still runs
        assert lockless.exists()
    finally:
        live.kill()
        live.wait()
        lockless.rmdir()
    assert live_work.parent in sandbox.sweep_leftovers()
    assert not live_work.parent.exists()


def test_a_kill_during_a_verification_leaves_no_temp_folder_after_the_next_start():
    code = ("import time; from sleepy.tasks.task import Task; from sleepy.tasks.verify import verify; "
            "verify(Task('slow', 'python', 'f', 'import time; time.sleep(60)'))")
    proc = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.time() + 60
    mine: list[Path] = []
    while not mine and time.time() < deadline:
        time.sleep(0.2)
        mine = [p for p in Path(tempfile.gettempdir()).glob("sleepy-py-*")
                if (p / sandbox.OWNER_FILE).exists() and f'"pid": {proc.pid},' in (p / sandbox.OWNER_FILE).read_text()]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert mine, "the verification never started"
    time.sleep(0.5)  # bubblewrap dies with its parent
    assert mine[0].exists()
    sandbox.sweep_leftovers()
    assert not mine[0].exists() and all(str(mine[0]) not in m for m in _sleepy_mounts())


def test_stats_do_not_count_what_a_kill_9_cut_short(tmp_path):
    """A kill -9 mid-episode leaves an unfinished episode and its attempts. ``sleepy stats`` counts them
    while the run may still finish them, and not once the run went on without them: resumed (the task
    started again), finished, or followed by a newer run of its kind."""
    from sleepy.memory.sql import now
    from sleepy.memory.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "s.db")
    event = {"sleepy.task.family": "borrow", "sleepy.signature.before": "rust:E0502:x", "time": now()}

    def attempt(episode: int, passed: bool) -> None:
        store.record_attempt(episode, {**event, "sleepy.verifier.passed": passed})

    def counted() -> tuple[int, int, int]:
        rows = store.pass_rates("family")
        return (rows[0]["attempts"], rows[0]["episodes"], rows[0]["episodes_passed"]) if rows else (0, 0, 0)

    run = store.start_run("day", {"n": 1})
    done = store.start_episode(run.id, "t1", "base")
    attempt(done, True)
    store.finish_episode(done, True, 1, None)
    cut = store.start_episode(run.id, "t2", "base")  # the process dies during this episode
    attempt(cut, False)
    attempt(cut, False)
    assert counted() == (3, 2, 1)  # in progress, as far as anyone can tell
    again = store.start_run("day", {"n": 1})  # the rerun resumes the run and starts t2 again
    assert again.id == run.id and again.resumed
    redo = store.start_episode(run.id, "t2", "base")
    assert counted() == (1, 1, 1)  # the cut episode's two attempts are gone from the figures
    attempt(redo, True)
    store.finish_episode(redo, True, 1, None)
    store.finish_run(run.id, {})
    assert counted() == (2, 2, 2)
    assert store.pass_rates("day", since="2000-01-01")[0]["episodes"] == 2

    other = store.start_run("day", {"n": 2})  # killed, never resumed ...
    attempt(store.start_episode(other.id, "t3", "base"), False)
    assert counted() == (3, 3, 2)
    store.start_run("day", {"n": 3})  # ... and a newer day started
    assert counted() == (2, 2, 2)
    assert len(list(store.events())) == 5  # nothing is deleted: the events stay
    store.close()
