"""Learning over nights, side by side: routed skills vs one naive LoRA, same day streams and seeds.

Each (strategy, seed) runs ``sleepy cycle`` in its own fresh workspace; the per-task accuracy
matrices, pass rates per night, regressions per promotion, BWT/FWT and night times are written to
benchmarks/results/learning_<pack>.json.

Run: python benchmarks/learning.py [--pack rust] [--nights 3] [--tasks 30] [--seeds 1 2 3]
                                   [--strategies routed naive]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import write_result  # noqa: E402

from sleepy.adapters.registry import Registry  # noqa: E402
from sleepy.config import load_settings  # noqa: E402
from sleepy.loop.cycle import run_cycle  # noqa: E402
from sleepy.loop.episodes import EpisodeConfig  # noqa: E402
from sleepy.loop.night import night_config  # noqa: E402
from sleepy.memory.recall import Embedder, ExperienceMemory  # noqa: E402
from sleepy.memory.sqlite import SQLiteStore  # noqa: E402
from sleepy.report.html import summary, write_report  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pack", default="rust")
    ap.add_argument("--nights", type=int, default=3)
    ap.add_argument("--tasks", type=int, default=30)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--strategies", nargs="+", default=["routed", "naive"])
    ap.add_argument("--keep", type=Path, default=None, help="keep the workspaces under this folder")
    args = ap.parse_args()
    s = load_settings(Path(tempfile.mkdtemp()))
    runs = []
    for seed in args.seeds:
        for strategy in args.strategies:
            ws = (args.keep or Path(tempfile.mkdtemp())) / f"{strategy}-seed{seed}"
            ws.mkdir(parents=True, exist_ok=True)
            store = SQLiteStore(ws / "sleepy.db")
            memory = ExperienceMemory(store, Embedder())
            night_cfg = night_config(s.model_copy(update={"strategy": strategy}), seed=seed)
            day_cfg = EpisodeConfig(attempts=s.attempts, memory=True, seed=seed)
            command = (f"python benchmarks/learning.py --pack {args.pack} --nights {args.nights} "
                       f"--tasks {args.tasks} --seeds {' '.join(map(str, args.seeds))}")
            result = run_cycle(store, memory, Registry(ws / "registry"), args.pack, args.nights, args.tasks,
                               day_cfg, night_cfg, None, ws / "cycle", seed, command,
                               log=lambda m, st=strategy, sd=seed: print(f"[{st} seed {sd}] {m}", flush=True))
            write_report(result, ws / "report.html")
            runs.append({"strategy": strategy, "seed": seed, "summary": summary(result), "cycle": asdict(result)})
            store.close()
    write_result(f"learning_{args.pack}", {"command": command, "runs": runs})


if __name__ == "__main__":
    main()
