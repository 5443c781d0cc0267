"""The forgetting benchmark: base, memory only, naive LoRA, LoRA + replay, routed LoRA, Share routed and
Share averaged on the same day streams and seeds (see sleepy.loop.forgetting for the definitions).

Run: python benchmarks/forgetting.py [--pack rust] [--nights 3] [--tasks 30] [--seeds 1 2 3]
                                     [--strategies base memory naive replay routed share share-avg]
Writes benchmarks/results/forgetting_<pack>.json and plots in benchmarks/results/forgetting_<pack>/.
(The same as: sleepy bench forgetting --pack rust --seeds 1,2,3)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, write_result  # noqa: E402

from sleepy.config import load_settings  # noqa: E402
from sleepy.loop.forgetting import STRATEGIES, plot, run_forgetting  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pack", default="rust")
    ap.add_argument("--nights", type=int, default=3)
    ap.add_argument("--tasks", type=int, default=30)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--strategies", nargs="+", default=list(STRATEGIES))
    ap.add_argument("--gate-seeds", type=int, default=None, help="evaluation seeds per night (default: config)")
    ap.add_argument("--holdout", type=int, default=None, help="holdout tasks per family (default: config)")
    ap.add_argument("--min-failures", type=int, default=None,
                    help="failed episodes a signature needs for a skill (default: config)")
    ap.add_argument("--keep", type=Path, default=None, help="keep the workspaces under this folder (and resume)")
    ap.add_argument("--tag", default="", help="results go to forgetting_<pack>_<tag>.json (default: no tag)")
    args = ap.parse_args()
    settings = load_settings(Path(tempfile.mkdtemp()), gate_seeds=args.gate_seeds,
                             holdout_per_family=args.holdout, min_failures=args.min_failures)
    root = args.keep or Path(tempfile.mkdtemp(prefix="forgetting-"))
    record = run_forgetting(args.pack, args.strategies, args.seeds, args.nights, args.tasks, root, settings,
                            log=lambda m: print(m, flush=True))
    command = (f"python benchmarks/forgetting.py --pack {args.pack} --nights {args.nights} --tasks {args.tasks} "
               f"--seeds {' '.join(map(str, args.seeds))} --strategies {' '.join(args.strategies)}"
               + (f" --gate-seeds {args.gate_seeds}" if args.gate_seeds else "")
               + (f" --holdout {args.holdout}" if args.holdout else "")
               + (f" --min-failures {args.min_failures}" if args.min_failures else ""))
    name = f"forgetting_{args.pack}" + (f"_{args.tag}" if args.tag else "")
    plots = plot(record, RESULTS / name)
    write_result(name, {"command": command, "plots": [str(p.relative_to(RESULTS.parent))
                                                                          for p in plots], **record})


if __name__ == "__main__":
    main()
