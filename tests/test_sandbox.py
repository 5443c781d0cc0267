"""Hostile programs are contained and reported. Each test also shows the probe works unsandboxed."""

import os
import socket
import subprocess
import sys
import textwrap
import threading
import uuid
from pathlib import Path

import pytest

from sleepy.tasks import sandbox

QUICK = sandbox.Limits(wall_s=3.0, cpu_s=3, mem_bytes=512 << 20, fsize_bytes=256 << 10, nproc=32,
                       output_bytes=16 << 10)


def run_py(tmp_path: Path, code: str, limits: sandbox.Limits = QUICK) -> sandbox.RunResult:
    (tmp_path / "prog.py").write_text(textwrap.dedent(code))
    return sandbox.run([sys.executable, "-I", "prog.py"], tmp_path, limits)


def test_bubblewrap_is_used_here():
    assert sandbox.bubblewrap() is not None, "install bubblewrap: the sandbox runs without isolation"


def test_clean_program_passes(tmp_path):
    result = run_py(tmp_path, "print('hello')")
    assert result.ok and result.stdout.strip() == "hello"


def test_endless_loop_is_killed_at_wall_clock(tmp_path):
    result = run_py(tmp_path, "while True:\n    pass\n")
    assert result.timed_out and result.violation == "timeout"
    assert result.duration_s < QUICK.wall_s + 2


def test_grandchildren_die_with_the_run(tmp_path):
    seconds = f"300.{uuid.uuid4().int % 10**9:09d}"  # a duration no other process on the machine has
    result = run_py(tmp_path, f"""
        import subprocess, time
        subprocess.Popen(["sleep", "{seconds}"])
        time.sleep(60)
    """)
    assert result.timed_out
    left = subprocess.run(["pgrep", "-f", f"sleep {seconds}"], capture_output=True, text=True).stdout.split()
    assert left == [], f"sandboxed grandchildren still running: {left}"


def test_fork_bomb_is_contained(tmp_path):
    result = run_py(tmp_path, """
        import os
        children = 0
        try:
            while True:
                if os.fork() == 0:
                    import time; time.sleep(30); os._exit(0)
                children += 1
        except OSError as exc:
            raise SystemExit(f"fork refused after {children}: {exc}")
    """)
    assert not result.ok
    assert "fork refused" in result.stderr or result.timed_out
    assert result.duration_s < QUICK.wall_s + 2


def test_huge_allocation_is_refused(tmp_path):
    result = run_py(tmp_path, "block = bytearray(8 * 1024 ** 3)\n")
    assert not result.ok and result.violation == "memory-limit"


def test_output_flood_is_capped(tmp_path):
    result = run_py(tmp_path, "while True:\n    print('x' * 1000)\n")
    assert not result.ok and result.violation == "output-limit"
    assert len(result.stdout) <= QUICK.output_bytes and result.output_truncated


def test_network_is_unreachable(tmp_path):
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    probe = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\nprint('connected')\n"
    control = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=10)
    assert control.stdout.strip() == "connected", "the probe must work outside the sandbox"
    result = run_py(tmp_path, probe)
    server.close()
    assert not result.ok and "connected" not in result.stdout
    assert "Error" in result.stderr


def test_writes_outside_the_workdir_fail(tmp_path):
    name = f"sleepy-sandbox-probe-{uuid.uuid4().hex}"
    targets = [Path.home() / name, Path("/tmp") / name, Path.cwd() / name]
    code = "".join(f"""
try:
    open({str(t)!r}, "w").write("pwned")
    print("wrote", {str(t)!r})
except OSError as exc:
    print("refused", type(exc).__name__)
""" for t in targets)
    result = run_py(tmp_path, code)
    for t in targets:
        assert not t.exists(), f"sandboxed program wrote {t}"
    assert result.stdout.count("refused") >= 2  # home and cwd refused; /tmp is a private tmpfs
    assert (tmp_path / "prog.py").exists()


def test_workdir_is_writable(tmp_path):
    result = run_py(tmp_path, "open('out.txt', 'w').write('ok')\n")
    assert result.ok and (tmp_path / "out.txt").read_text() == "ok"


@pytest.mark.skipif(os.geteuid() != 0, reason="privilege drop needs root")
def test_runs_as_nobody_when_root(tmp_path):
    result = run_py(tmp_path, "import os\nprint(os.getuid())\n")
    assert result.stdout.strip() == str(sandbox.NOBODY_UID)


def test_the_interpreter_runs_as_itself_from_a_venv_under_tmp_with_its_own_site_packages(tmp_path):
    """bubblewrap hides /tmp and the home folder; the interpreter's own folders are bound back, passable by
    ``nobody`` (otherwise the dynamic linker silently falls back to the system's libpython)."""
    import subprocess
    import sys

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
    probe = ("import sys, json, pytest; from pathlib import Path; from sleepy.tasks import sandbox; "
             "w = Path(sys.argv[1]); r = sandbox.run([sys.executable, '-c', "
             "'import sys, pytest; print(sys.prefix, sys.version.split()[0])'], w); "
             "print(r.stdout.strip(), '|', sys.prefix, sys.version.split()[0]); assert r.ok, r.stderr")
    (tmp_path / "w").mkdir()
    ran = subprocess.run([str(venv / "bin" / "python"), "-c", probe, str(tmp_path / "w")], capture_output=True,
                         text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr[-2000:]
    inside, outside = ran.stdout.strip().split(" | ")
    assert inside == outside  # same prefix (the venv) and the same Python version inside the sandbox
