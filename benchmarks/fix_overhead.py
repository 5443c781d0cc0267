"""What `sleepy fix` adds to one `cargo check` on a crate that already builds.

For each real crate (Debian's ``librust-*-dev`` sources, built offline as ``real_projects.py`` does):
``cargo check --offline --message-format=json`` in a fresh copy (cold: no ``target/``), the same
again (warm), and ``sleepy fix PATH`` as a user runs it (a new process: Python start-up, the
project's private copy, the sandbox, the check): its first run on the crate (no kept ``target/``) and
a second (sleepy keeps its own ``target/`` per project, outside it). Each is timed ``--repeat`` times;
the median counts.

    python benchmarks/fix_overhead.py [--crates semver,heck,memchr] [--repeat 3]
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import OneLineParser, write_result  # noqa: E402
from real_projects import crate_copy  # noqa: E402

from sleepy.loop.fix import state_dir  # noqa: E402
from sleepy.tasks.project.build import cargo_path  # noqa: E402


def timed(argv: list[str], cwd: Path) -> float:
    began = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - began
    if done.returncode not in (0,):
        raise SystemExit(f"{' '.join(argv[:3])} failed in {cwd}: {done.stderr.strip().splitlines()[-1:]}")
    return seconds


def main() -> None:
    parser = OneLineParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crates", default="semver,heck,memchr")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    cargo = cargo_path()
    check = [cargo, "check", "--offline", "--message-format=json", "--quiet"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="sleepy-overhead-") as tmp:
        for name in [c.strip() for c in args.crates.split(",") if c.strip()]:
            copied = crate_copy(name, Path(tmp))
            if copied is None:
                print(f"{name}: not installed; skipped", file=sys.stderr)
                continue
            root, meta = copied
            cold, warm, first, again = [], [], [], []
            fix = [sys.executable, "-m", "sleepy.cli", "fix", str(root), "--no-model"]
            for _ in range(args.repeat):
                shutil.rmtree(root / "target", ignore_errors=True)
                shutil.rmtree(state_dir(root) / "target", ignore_errors=True)  # sleepy fix's kept target/
                cold.append(timed(check, root))
                warm.append(timed(check, root))
                first.append(timed(fix, root))  # the first run on this crate: builds its own target/ cold
                again.append(timed(fix, root))  # every later run: the kept target/ is warm
            row = {**meta, "cargo_check_cold_s": round(statistics.median(cold), 3),
                   "cargo_check_warm_s": round(statistics.median(warm), 3),
                   "sleepy_fix_first_s": round(statistics.median(first), 3),
                   "sleepy_fix_again_s": round(statistics.median(again), 3)}
            row["first_vs_cold"] = round(row["sleepy_fix_first_s"] / row["cargo_check_cold_s"] - 1, 3)
            row["again_vs_cold"] = round(row["sleepy_fix_again_s"] / row["cargo_check_cold_s"] - 1, 3)
            row["again_vs_warm"] = round(row["sleepy_fix_again_s"] / row["cargo_check_warm_s"] - 1, 3)
            rows.append(row)
            print(f"{name}: cargo check cold {row['cargo_check_cold_s']} s, warm {row['cargo_check_warm_s']} s; "
                  f"sleepy fix first {row['sleepy_fix_first_s']} s, again {row['sleepy_fix_again_s']} s",
                  file=sys.stderr)
        startup = statistics.median(timed([sys.executable, "-m", "sleepy.cli", "--help"], Path(tmp))
                                    for _ in range(args.repeat))
    worst_first = max(rows, key=lambda r: r["first_vs_cold"])
    worst_again = max(rows, key=lambda r: r["again_vs_cold"])
    met = "met" if worst_first["first_vs_cold"] < 0.2 else \
        "met from the second run on, not on the first" if worst_again["again_vs_cold"] < 0.2 else "not met"
    write_result("fix_overhead", {
        "headline": f"sleepy fix on a crate that builds, compared with one cold cargo check: first run "
                    f"{min(r['first_vs_cold'] for r in rows):+.0%} to {worst_first['first_vs_cold']:+.0%} "
                    f"(worst {worst_first['crate']}), every later run {min(r['again_vs_cold'] for r in rows):+.0%} to "
                    f"{worst_again['again_vs_cold']:+.0%} (its own target/ is kept warm); the < 20 % target is "
                    f"{met}; against a warm cargo check "
                    f"it costs {min(r['sleepy_fix_again_s'] - r['cargo_check_warm_s'] for r in rows):.2f} to "
                    f"{max(r['sleepy_fix_again_s'] - r['cargo_check_warm_s'] for r in rows):.2f} s more, of which "
                    f"{startup:.2f} s is starting Python and the CLI",
        "command": "python benchmarks/fix_overhead.py " + " ".join(sys.argv[1:]), "repeat": args.repeat,
        "cli_startup_s": round(startup, 3), "crates": rows}, Path(args.out) if args.out else None)


if __name__ == "__main__":
    main()
