"""What ``sleepy serve --shadow candidate`` costs the live answer: task latency with and without a shadow.

Run: python benchmarks/shadow_overhead.py [--requests 40] [--block 5] [--gap-s 0.8] [--max-tokens 64]
(writes benchmarks/results/shadow_overhead.json unless --out names another file). Target: the median
and p90 live latency with a shadow at most 5 % above those without.

Why this shape: the promise is about the live answer as a client sees it, so both servers are real
``sleepy serve`` subprocesses on 127.0.0.1 and the clock is the client's. The workspace's registry has
two releases on the bundled model (production and candidate: the shadow's work costs what the live
work costs). Both servers run side by side on the same cores, each on its own copy of the workspace,
and get the same task requests (generated Python tasks of the families the interpreter's hints rarely
fix, so most need the model and the shadow has real work), in blocks that alternate which server goes
first, so drift in the machine's load hits both alike. Before a block goes to the server without a
shadow, the other's shadow queue is drained (its work would otherwise count against the baseline).

Requests are sequential, one client, with a think time drawn uniformly from [0, 2 x ``--gap-s``]
(seeded): live requests then arrive at random moments of the shadow's work (mid-generation, mid-verify,
idle), which is the case the pausing exists for. ``--gap-s 0`` measures back-to-back requests (the
shadow then rarely finds an idle moment and drops work instead). The machine's load average is recorded
before, during and after: on shared cores it is the context every figure needs. ``--control`` starts the
second server without a shadow too (an A/A run, written to shadow_overhead_control.json): the spread it
shows is how finely the machine's load lets this design measure at all.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import OneLineParser, percentile, write_result  # noqa: E402
from serve_load import Client, free_port, one_line, stop_server  # noqa: E402

FAMILIES = ("type-error", "none-handling", "index-key", "logic")  # the Python families tools rarely solve
TARGET_OVERHEAD_PCT = 5.0


def make_workspace(root: Path, model_path: str) -> dict:
    """A registry whose production and candidate are two releases on ``model_path`` (no skills)."""
    from sleepy.adapters.registry import Registry
    from sleepy.model.loader import model_hash

    reg = Registry(root / "registry")
    ids = []
    for name in ("production", "candidate"):
        staging = root / f"staging-{name}"
        staging.mkdir(parents=True)
        (staging / "note.txt").write_text(f"benchmark release: {name}\n")  # two releases, two ids
        ids.append(reg.create(staging, model_path, model_hash(model_path), {}, [], None).id)
    reg.promote(ids[0], "benchmark: production")
    reg.move("candidate", ids[1], "benchmark: candidate")
    return {"production": ids[0], "candidate": ids[1]}


def start(workspace: Path, model_path: str, log: Path, *extra: str, timeout_s: float = 600) -> tuple:
    """``sleepy serve`` as a subprocess: (process, client) once /v1/models answers."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "sleepy.cli", "serve", "--port", str(port), "--model",
                                 model_path, "-w", str(workspace), *extra], stdout=out, stderr=subprocess.STDOUT)
    client, began = Client(port, 300), time.perf_counter()
    while time.perf_counter() - began < timeout_s:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["(no output)"]
            raise SystemExit(f"sleepy serve exited with {proc.returncode}: {one_line(tail[0])}")
        try:
            if client.request("GET", "/v1/models")[0] == 200:
                return proc, client
        except OSError:
            client.close()
        time.sleep(0.5)
    stop_server(proc)
    raise SystemExit(f"sleepy serve did not answer within {timeout_s:.0f} s (log: {log})")


def task_body(source: str, max_tokens: int) -> dict:
    return {"model": "sleepy", "messages": [{"role": "user", "content": "fix this program"}],
            "max_tokens": max_tokens, "temperature": 0, "sleepy": {"pack": "python", "program": source}}


def timed(client: Client, body: dict) -> tuple[float, dict]:
    began = time.perf_counter()
    status, reply = client.request("POST", "/v1/chat/completions", body)
    seconds = time.perf_counter() - began
    if status != 200:
        raise SystemExit(f"a task request failed ({status}): {one_line(str(reply))[:200]}")
    return seconds, reply["sleepy"]


def shadow_state(client: Client) -> dict:
    return client.request("GET", "/api/shadow")[1]["shadow"]


def drain(client: Client, sent: int, timeout_s: float = 600) -> dict:
    """Wait until the shadow has dealt with every job it was given (compared, failed or dropped)."""
    began = time.perf_counter()
    while time.perf_counter() - began < timeout_s:
        s = shadow_state(client)
        if s is None:  # --control: no shadow
            return {"compared": 0, "dropped": 0, "failed": 0}
        if s["compared"] + s["failed"] + s["dropped"] >= sent:
            return s
        time.sleep(0.2)
    raise SystemExit(f"the shadow did not drain within {timeout_s:.0f} s")


def summary(values: list[float]) -> dict:
    return {"n": len(values), "median_s": round(statistics.median(values), 4),
            "p90_s": round(percentile(values, 90), 4), "mean_s": round(statistics.fmean(values), 4)}


def paired_interval(with_: list[float], without: list[float], seed: int, rounds: int = 2000) -> list[float]:
    """A 90 % bootstrap interval of the paired median overhead (%): how finely this run can tell at all."""
    rng = random.Random(seed)
    ratios = [w / o for w, o in zip(with_, without, strict=True)]
    medians = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(rounds))
    return [round(100 * (medians[int(q * (rounds - 1))] - 1), 2) for q in (0.05, 0.95)]


def main() -> None:
    parser = OneLineParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40, help="task requests per server")
    parser.add_argument("--block", type=int, default=5, help="requests per block (blocks alternate the order)")
    parser.add_argument("--gap-s", type=float, default=0.8, help="mean think time between requests")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--model", default=None, help="model of both releases (default: the bundled one)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--control", action="store_true", help="A/A: the second server has no shadow either")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.requests < 2 or args.block < 1 or args.gap_s < 0:
        parser.error("--requests needs >= 2, --block >= 1, --gap-s >= 0")

    from sleepy.model.loader import resolve
    from sleepy.tasks.packs import get_pack

    model_path = resolve(args.model)
    pack = get_pack("python")
    tasks = [pack.generate(FAMILIES[i % len(FAMILIES)], args.seed * 1000 + i) for i in range(args.requests)]
    rng = random.Random(args.seed)
    gaps = [rng.uniform(0, 2 * args.gap_s) for _ in tasks]
    load = {"before": os.getloadavg()}
    root = Path(tempfile.mkdtemp(prefix="shadow-overhead-"))
    procs = []
    try:
        releases = make_workspace(root / "live", model_path)
        shutil.copytree(root / "live", root / "shadow")
        plain, plain_client = start(root / "live", model_path, root / "plain.log")
        procs.append(plain)
        shadowed, shadow_client = start(root / "shadow", model_path, root / "shadowed.log",
                                        *(() if args.control else ("--shadow", "candidate")))
        procs.append(shadowed)
        warm = pack.generate("logic", 999_999)  # first requests pay for lazy imports and the verifier's start
        for client in (plain_client, shadow_client):
            timed(client, task_body(warm.source, args.max_tokens))
        drain(shadow_client, 1)
        sent_shadow, latency = 1, {"without": [], "with": []}
        decided: dict[str, int] = {}
        load["during"] = []
        began = time.perf_counter()
        for b, start_i in enumerate(range(0, len(tasks), args.block)):
            order = [("without", plain_client), ("with", shadow_client)]
            for mode, client in (order if b % 2 == 0 else order[::-1]):
                if mode == "without":
                    drain(shadow_client, sent_shadow)  # no leftover shadow work while the baseline runs
                for i in range(start_i, min(start_i + args.block, len(tasks))):
                    seconds, meta = timed(client, task_body(tasks[i].source, args.max_tokens))
                    latency[mode].append(seconds)
                    if mode == "with":  # every generated task fails as sent, so each one is a shadow job
                        sent_shadow += 1
                        decided[meta["solved_by"] or "unsolved"] = decided.get(meta["solved_by"] or "unsolved", 0) + 1
                    time.sleep(gaps[i])
            load["during"].append(round(os.getloadavg()[0], 2))
        wall = time.perf_counter() - began
        final = drain(shadow_client, sent_shadow)
    finally:
        for proc in procs:
            stop_server(proc)
        shutil.rmtree(root, ignore_errors=True)
    load["after"] = os.getloadavg()
    without, with_ = summary(latency["without"]), summary(latency["with"])
    over = {k: round(100 * (with_[k] / without[k] - 1), 2) for k in ("median_s", "p90_s", "mean_s")}
    # the same task on both servers: its own cost cancels out (tasks differ far more than the servers do)
    over["paired_median"] = round(100 * (statistics.median(
        w / o for w, o in zip(latency["with"], latency["without"], strict=True)) - 1), 2)
    over["paired_median_90ci"] = paired_interval(latency["with"], latency["without"], args.seed)
    meets = over["median_s"] < TARGET_OVERHEAD_PCT and over["p90_s"] < TARGET_OVERHEAD_PCT
    headline = (("A/A control, no shadow on either server: " if args.control else "")
                + f"live task latency with --shadow vs without: median {with_['median_s'] * 1000:.0f} vs "
                f"{without['median_s'] * 1000:.0f} ms ({over['median_s']:+.1f} %), p90 {with_['p90_s'] * 1000:.0f} vs "
                f"{without['p90_s'] * 1000:.0f} ms ({over['p90_s']:+.1f} %) over {args.requests} requests each "
                f"(the same task on both: median {over['paired_median']:+.1f} %, 90 % interval "
                f"{over['paired_median_90ci'][0]:+.1f} to {over['paired_median_90ci'][1]:+.1f} %); "
                f"target < {TARGET_OVERHEAD_PCT:.0f} %: {'met' if meets else 'NOT met'}; the shadow compared "
                f"{final['compared']} and dropped {final['dropped']}; load average {load['before'][0]:.1f} before, "
                f"{max(load['during']):.1f} at most during, on {os.cpu_count()} shared cores")
    command = (f"python benchmarks/shadow_overhead.py --requests {args.requests} --block {args.block} "
               f"--gap-s {args.gap_s} --max-tokens {args.max_tokens} --seed {args.seed}"
               + (f" --model {args.model}" if args.model else "") + (" --control" if args.control else ""))
    write_result("shadow_overhead_control" if args.control else "shadow_overhead", {
        "headline": headline, "command": command, "model": Path(model_path).name, "releases": releases,
        "target_overhead_pct": TARGET_OVERHEAD_PCT, "meets_target": meets, "overhead_pct": over,
        "without_shadow": without, "with_shadow": with_, "shadow": final, "live_solved_by": decided,
        "load_average": load, "wall_s": round(wall, 1),
        "latency_s": {k: [round(x, 4) for x in v] for k, v in latency.items()},
    }, args.out)


if __name__ == "__main__":
    main()
