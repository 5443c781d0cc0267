"""What `sleepy fix` adds to one `cargo check` on a crate that already builds.

For each real crate (Debian's ``librust-*-dev`` sources, built offline as ``real_projects.py`` does):
``cargo check --offline --message-format=json`` in a fresh copy (cold: no ``target/``), the same
again (warm), and ``sleepy fix PATH`` as a user runs it (a new process: Python start-up, the
project's private copy, the sandbox, the check). Each is timed ``--repeat`` times; the median counts.

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
            cold, warm, fix = [], [], []
            for _ in range(args.repeat):
                shutil.rmtree(root / "target", ignore_errors=True)
                cold.append(timed(check, root))
                warm.append(timed(check, root))
                fix.append(timed([sys.executable, "-m", "sleepy.cli", "fix", str(root), "--no-model"], root))
            row = {**meta, "cargo_check_cold_s": round(statistics.median(cold), 3),
                   "cargo_check_warm_s": round(statistics.median(warm), 3),
                   "sleepy_fix_s": round(statistics.median(fix), 3)}
            row["overhead_vs_cold"] = round(row["sleepy_fix_s"] / row["cargo_check_cold_s"] - 1, 3)
            row["overhead_vs_warm"] = round(row["sleepy_fix_s"] / row["cargo_check_warm_s"] - 1, 3)
            rows.append(row)
            print(f"{name}: cargo check cold {row['cargo_check_cold_s']} s, warm {row['cargo_check_warm_s']} s; "
                  f"sleepy fix {row['sleepy_fix_s']} s", file=sys.stderr)
    worst = max(rows, key=lambda r: r["overhead_vs_cold"])
    extra = [r["sleepy_fix_s"] - r["cargo_check_cold_s"] for r in rows]
    write_result("fix_overhead", {
        "headline": f"sleepy fix on a crate that builds adds {min(extra):.2f} to {max(extra):.2f} s to a cold cargo "
                    f"check ({min(r['overhead_vs_cold'] for r in rows):+.0%} to {worst['overhead_vs_cold']:+.0%}, "
                    f"worst {worst['crate']}); the < 20 % target is "
                    f"{'met' if worst['overhead_vs_cold'] < 0.2 else 'not met'}: the cost is Python's start-up, "
                    "the private copy and the sandbox, and the copy builds without the user's target/",
        "command": "python benchmarks/fix_overhead.py " + " ".join(sys.argv[1:]), "repeat": args.repeat,
        "crates": rows}, Path(args.out) if args.out else None)


if __name__ == "__main__":
    main()
