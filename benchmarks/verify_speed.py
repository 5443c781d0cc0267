"""How long proving the frozen Rust set takes, and what the sandbox adds per check.

Run: python benchmarks/verify_speed.py   (writes benchmarks/results/verify_speed.json)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import percentile, write_result  # noqa: E402

from sleepy.tasks import sandbox  # noqa: E402
from sleepy.tasks.check import check_tasks  # noqa: E402
from sleepy.tasks.packs import get_pack  # noqa: E402
from sleepy.tasks.verify import rustc_path, verify  # noqa: E402


def main() -> None:
    frozen = get_pack("rust").frozen()
    check_tasks(frozen[:4], jobs=2)  # warm caches
    runs = []
    for _ in range(3):
        began = time.perf_counter()
        outcomes = check_tasks(frozen, jobs=2)
        runs.append(time.perf_counter() - began)
    assert all(o.ok for o in outcomes)
    plain = [t for t in frozen if "#[test]" not in t.source]
    per_check = []
    for t in plain:
        began = time.perf_counter()
        verify(t)
        per_check.append(time.perf_counter() - began)
    raw = []
    rustc = rustc_path()
    with tempfile.TemporaryDirectory() as tmp:
        for t in plain:
            src = Path(tmp) / "main.rs"
            src.write_text(t.source)
            began = time.perf_counter()
            subprocess.run([rustc, "--edition", "2021", "--crate-type", t.crate_type, "--emit=metadata",
                            "--error-format=json", "-o", str(Path(tmp) / "o.rmeta"), str(src)], capture_output=True)
            raw.append(time.perf_counter() - began)
    write_result("verify_speed", {
        "command": "python benchmarks/verify_speed.py",
        "frozen_rust_koans": len(frozen), "checks_per_koan": 2, "jobs": 2,
        "whole_frozen_set_seconds": {"runs": [round(r, 3) for r in runs], "best": round(min(runs), 3)},
        "verify_one_program_s": {"p50": round(percentile(per_check, 50), 4),
                                 "p95": round(percentile(per_check, 95), 4)},
        "raw_rustc_metadata_s": {"p50": round(percentile(raw, 50), 4), "p95": round(percentile(raw, 95), 4)},
        "sandbox_overhead_p50_s": round(percentile(per_check, 50) - percentile(raw, 50), 4),
        "bubblewrap": sandbox.bubblewrap() is not None,
    })


if __name__ == "__main__":
    main()
