"""Hostile task programs against the sandbox: host files read at compile or run time, the disk filled,
leftovers after a kill -9. Each leak attempt also runs without the sandbox, to show that it is real.

Run (as root, with rustc): python benchmarks/hostile.py   (writes benchmarks/results/hostile.json)
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import OneLineParser, write_result  # noqa: E402

from sleepy.tasks import sandbox  # noqa: E402
from sleepy.tasks.task import Task  # noqa: E402
from sleepy.tasks.verify import verify  # noqa: E402

RUST = {
    "include_str!": 'compile_error!(concat!("LEAK:", include_str!("{path}")));\nfn main() {{}}\n',
    "include_bytes!": 'fn main() {{\n    let b: &[u8] = include_bytes!("{path}");\n'
                      '    panic!("LEAK:{{}}", String::from_utf8_lossy(b));\n}}\n',
    "#[path] mod": '#[path = "{path}"]\nmod leak;\nfn main() {{}}\n',
    "#[doc = include_str!]": '#[doc = include_str!("{path}")]\npub fn f() {{}}\n'
                             'fn main() {{ let d = include_str!("{path}"); panic!("LEAK:{{d}}") }}\n',
    "std::fs at run time": 'fn main() {{\n    let s = std::fs::read_to_string("{path}").unwrap();\n'
                           '    panic!("LEAK:{{}}", s);\n}}\n',
}
PYTHON = {
    "Python open": 'print("LEAK:" + open("{path}").read())\n',
    "Python open via /proc/1/root": 'print("LEAK:" + open("/proc/1/root{path}").read())\n',
}
FILL = ('import os\nos.makedirs("{where}", exist_ok=True)\nfor i in range(100000):\n'
        '    open(os.path.join("{where}", f"junk{{i}}"), "wb").write(b"x" * (512 << 10))\n')


def plant() -> tuple[dict[str, str], list[Path]]:
    """Host files with unique content (world-readable), and /etc/shadow's first line where it has one."""
    secrets: dict[str, str] = {}
    made = []
    name = f"hostile-{uuid.uuid4().hex[:12]}"  # errors quote file names: the secret is in the content only
    for folder in (Path.home(), Path("/etc"), Path(tempfile.gettempdir()), Path("/var/tmp")):
        path = folder / f"{name}.txt"
        marker = f"SLEEPY-SECRET-{uuid.uuid4().hex}"
        try:
            path.write_text(marker + "\n")
            path.chmod(0o644)
        except OSError:
            continue
        made.append(path)
        secrets[str(path)] = marker
    with_shadow = Path("/etc/shadow")
    try:
        first = with_shadow.read_text().splitlines()[0]
        secrets[str(with_shadow)] = first
    except (OSError, IndexError):
        pass
    return secrets, made


def unsandboxed(kind: str, source: str, work: Path) -> str:
    """What the attempt shows when compiled and run directly on the host (the control)."""
    if kind in PYTHON:
        ran = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, timeout=60)
        return ran.stdout + ran.stderr
    (work / "main.rs").write_text(source)
    built = subprocess.run(["rustc", "--edition", "2021", "-o", str(work / "prog"), str(work / "main.rs")],
                           capture_output=True, text=True, timeout=120)
    if built.returncode != 0:
        return built.stderr
    ran = subprocess.run([str(work / "prog")], capture_output=True, text=True, timeout=60)
    return ran.stdout + ran.stderr


def leaks(secrets: dict[str, str]) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="hostile-control-") as tmp:
        for kind, template in {**RUST, **PYTHON}.items():
            pack = "python" if kind in PYTHON else "rust"
            for path, secret in secrets.items():
                source = template.format(path=path)
                result = verify(Task(f"hostile-{uuid.uuid4().hex[:8]}", pack, "hostile", source))
                text = json.dumps(dataclasses.asdict(result), default=str)
                rows.append({"attempt": kind, "file": path, "read_in_sandbox": secret in text,
                             "read_without_sandbox": secret in unsandboxed(kind, source, Path(tmp)),
                             "signature": result.signature})
    return rows


def quota() -> list[dict]:
    """Programs that write 512 KB files until something stops them, in the work folder and in /tmp."""
    rust = ('use std::io::Write;\nfn main() {\n    for i in 0.. {\n'
            '        let mut f = std::fs::File::create(format!("junk{i}")).unwrap();\n'
            '        f.write_all(&[7u8; 1 << 19]).unwrap();\n    }\n}\n')
    cases = [("python, work folder", "python", FILL.format(where="data")),
             ("python, /tmp", "python", FILL.format(where="/tmp/fill")),
             ("rust, work folder", "rust", rust)]
    rows = []
    for name, pack, source in cases:
        began = time.perf_counter()
        result = verify(Task(f"hostile-fill-{uuid.uuid4().hex[:8]}", pack, "hostile", source))
        rows.append({"case": name, "signature": result.signature, "seconds": round(time.perf_counter() - began, 2),
                     "workspaces_left": len(mine(os.getpid())), "mounts_left": len(stray_mounts())})
    return rows


def owner_pid(folder: Path) -> int | None:
    try:
        return json.loads((folder / sandbox.OWNER_FILE).read_text())["pid"]
    except (OSError, ValueError, KeyError):
        return None


def mine(pid: int) -> list[Path]:
    return [p for p in Path(tempfile.gettempdir()).glob("sleepy-*") if owner_pid(p) == pid]


def stray_mounts() -> list[str]:
    """Workspace mounts of this process or of no one."""
    mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()
              if "/sleepy-" in line.split()[4]]
    return [m for m in mounts if owner_pid(Path(m).parent) in (None, os.getpid())]


def killed(points: int) -> dict:
    """kill -9 a verification at ``points`` moments (each leaves its workspace, mounted); every process
    that starts after sweeps them, the last one below included."""
    code = ("from sleepy.tasks.task import Task; from sleepy.tasks.verify import verify; import sys; "
            "verify(Task('slow', sys.argv[1], 'f', sys.argv[2]))")
    programs = [("python", "import time; time.sleep(60)"),
                ("rust", "fn main() { std::thread::sleep(std::time::Duration::from_secs(60)); }")]
    left_before, pids = 0, []
    for i in range(points):
        pack, source = programs[i % 2]
        proc = subprocess.Popen([sys.executable, "-c", code, pack, source])
        deadline = time.time() + 60
        while not mine(proc.pid) and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.25 * (i % 5))  # once its workspace exists: while compiling, while running
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        pids.append(proc.pid)
        left_before += len(mine(proc.pid))  # counted now: the next child's start sweeps it already
    began = time.perf_counter()
    after = subprocess.run([sys.executable, "-c", code, "python", "pass"], timeout=120)
    return {"kills": points, "workspaces_left_by_kills": left_before, "next_start_ok": after.returncode == 0,
            "next_start_seconds": round(time.perf_counter() - began, 2),
            "workspaces_left_after_next_start": sum(len(mine(pid)) for pid in pids),
            "mounts_left_after_next_start": len([m for m in stray_mounts() if owner_pid(Path(m).parent) is None])}


def overhead(n: int) -> dict:
    """Median seconds of a trivial verification (a fresh program each time: no verdict cache)."""
    out = {}
    for pack, template in (("python", "x = {i}\n"), ("rust", "fn main() {{ let _x = {i}; }}\n")):
        times = []
        for i in range(n):
            began = time.perf_counter()
            assert verify(Task(f"t{i}", pack, "f", template.format(i=i + 10_000 * os.getpid()))).passed
            times.append(time.perf_counter() - began)
        out[f"{pack}_verify_s"] = round(statistics.median(times), 4)
    return out


def main() -> None:
    parser = OneLineParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if shutil.which("rustc") is None:
        sys.exit("hostile: rustc is needed (the compile-time leaks are Rust's)")
    secrets, made = plant()
    try:
        rows = leaks(secrets)
    finally:
        for p in made:
            p.unlink(missing_ok=True)
    readable = sorted({r["file"] for r in rows if r["read_in_sandbox"]})
    control = sorted({r["file"] for r in rows if r["read_without_sandbox"]})
    fills = quota()
    kills = killed(args.kills)
    timing = overhead(7)
    stopped = sum(r["signature"] and r["signature"].endswith("disk-quota") for r in fills)
    headline = (f"{len(readable)} of {len(secrets)} host files readable by a task program in the sandbox "
                f"({len(rows)} tries: {len(RUST)} Rust compile/run-time and {len(PYTHON)} Python attempts; "
                f"without the sandbox the same tries read {len(control)} of them); {stopped} of {len(fills)} "
                f"disk fillers stopped as disk-quota with {sum(r['workspaces_left'] for r in fills)} folders left; "
                f"{kills['workspaces_left_after_next_start']} temp folders left after {kills['kills']} kill -9 "
                f"and the next start ({kills['workspaces_left_by_kills']} left by the kills)")
    write_result("hostile", {"headline": headline, "uid": os.geteuid(), "bwrap": sandbox.bubblewrap(),
                             "files": list(secrets), "readable": readable, "readable_without_sandbox": control,
                             "attempts": rows, "quota": fills, "quota_bytes": {
                                 "single_file_workspace": sandbox.COMPILER_LIMITS.disk_bytes,
                                 "python_workspace": sandbox.PROGRAM_LIMITS.disk_bytes,
                                 "private_tmp": sandbox.PROGRAM_LIMITS.disk_bytes},
                             "kill_9": kills, "overhead": timing}, args.out)


if __name__ == "__main__":
    main()
