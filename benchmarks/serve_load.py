"""Serving load: requests/s and latency of ``sleepy serve`` at several concurrencies, and a routed skill's cost.

Run: python benchmarks/serve_load.py [--model PATH] [--requests 24] [--levels 1 4 16] [--max-tokens 96]
(writes benchmarks/results/serve_load.json unless --out names another file).

Why this shape: the issue's target is the server as a client sees it, so nothing here calls the
model in-process. This process builds a workspace whose production release has one LoRA skill
(``s1``, trained for 2 steps like the serve tests' fixture: its quality is beside the point, its
cost is not), starts ``sleepy serve`` on it as a subprocess pinned to ``--cores`` cores, and sends
it OpenAI ``/v1/completions`` requests over 127.0.0.1 from worker threads, each worker with its own
keep-alive connection, one request in flight per worker. Prompts are the real agent prompts of the
frozen Rust koans, built as benchmarks/model_speed.py builds them (``ContextBuilder`` on the
verifier's diagnosis); decoding is greedy and capped at ``--max-tokens``.

Each concurrency level sends ``--requests`` requests or stops starting new ones after
``--level-seconds``, whichever comes first; its mean batch size is read from ``GET /v1/sleepy/stats``
before and after. Levels are routed to the base weights (``"sleepy": {"signature": "none:none"}``)
so every request can share a batch; ``--route router`` lets the server's router pick per prompt
instead. The skill overhead runs at concurrency 1: each prompt once with ``"model": "sleepy:s1"``
and once routed to base, in alternating order so drift hits both alike. Greedy outputs of the two
differ in length, so the overhead is given per request and per output token.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import OneLineParser, percentile, write_result  # noqa: E402

SKILL = "s1"
BASE_ROUTE = {"signature": "none:none"}  # a signature no release routes: the server answers with base weights
TRAIN_FAMILY = "borrow"
TARGET_OVERHEAD_PCT = 5.0


@dataclass
class Outcome:
    latency_s: float
    ok: bool
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None


@dataclass
class Client:
    """One keep-alive HTTP connection to the server (one per load worker, as separate clients would have)."""

    port: int
    timeout_s: float
    conn: http.client.HTTPConnection | None = field(default=None, init=False)

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        payload = json.dumps(body).encode() if body is not None else None
        for retry in (False, True):  # a keep-alive connection the server closed: reconnect once
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout_s)
            try:
                self.conn.request(method, path, payload, {"Content-Type": "application/json"} if payload else {})
                response = self.conn.getresponse()
                return response.status, json.loads(response.read() or b"{}")
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if retry:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------- setup: prompts, a release, the server
def token_counter(model_path: str) -> Callable[[str], int]:
    """What ``LoadedModel.count_tokens`` counts, from the tokenizer alone: this process never loads the weights
    to serve, only the short LoRA training does."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    return lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])


def build_prompts(count_tokens: Callable[[str], int]) -> list[str]:
    """The agent's prompts for the frozen Rust koans, as benchmarks/model_speed.py builds them."""
    from sleepy.context.prompt import ContextBuilder
    from sleepy.loop.agent import diagnose
    from sleepy.tasks.packs import get_pack

    tasks = get_pack("rust").frozen()
    builder = ContextBuilder(count_tokens)
    return [builder.build("rust", t.source, r.primary).text for t, r in zip(tasks, diagnose(tasks), strict=True)]


def make_release(workspace: Path, model_path: str, count_tokens: Callable[[str], int]) -> dict:
    """A production release with one LoRA skill, made the way tests/test_serve_dashboard.py's fixture does:
    a few generated (never frozen) Rust tasks of one signature, their reference fixes, 2 training steps."""
    from sleepy.adapters.lora import LoraParams, TrainExample, train_lora
    from sleepy.adapters.registry import Registry, SkillInfo
    from sleepy.context.prompt import ContextBuilder
    from sleepy.loop.agent import diagnose
    from sleepy.model.loader import model_hash
    from sleepy.tasks.edit import END, diff_to_edit
    from sleepy.tasks.packs import get_pack

    pack = get_pack("rust")
    tasks = [pack.generate(TRAIN_FAMILY, seed) for seed in range(900_001, 900_013)]
    verdicts = diagnose(tasks)
    signature = next(r.primary.key for r in verdicts if r.primary is not None)
    builder = ContextBuilder(count_tokens)
    examples = [TrainExample(builder.build("rust", t.source, r.primary).text,
                             diff_to_edit(t.source, t.fix).render() + END + "\n", "reference", t.id, signature)
                for t, r in zip(tasks, verdicts, strict=True) if r.primary is not None and r.primary.key == signature]
    params = LoraParams(steps=2)
    staging = workspace / "staging"
    training = train_lora(model_path, examples[:4], params, staging / "skills" / SKILL)
    registry = Registry(workspace / "registry")
    release = registry.create(staging, model_path, model_hash(model_path), {signature: SKILL},
                              [SkillInfo(SKILL, "lora", [signature], f"skills/{SKILL}",
                                         training.trainable_parameters)], None)
    registry.promote(release.id, "benchmarks/serve_load.py: a release with one skill")
    return {"release": release.id, "skill": SKILL, "signature": signature, "rank": params.rank,
            "training_steps": params.steps, "training_examples": len(examples[:4]),
            "trainable_parameters": training.trainable_parameters}


def start_server(workspace: Path, model_path: str, port: int, cores: list[int], max_batch: int, log: Path,
                 timeout_s: float = 600) -> tuple[subprocess.Popen, float]:
    """``sleepy serve`` as a subprocess; returns it once /v1/models answers, with how long that took."""
    command = [sys.executable, "-m", "sleepy.cli", "serve", "--port", str(port), "--model", model_path,
               "-w", str(workspace), "--max-batch", str(max_batch)]
    began = time.perf_counter()
    own = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cores)  # the child inherits it, so the server and all its torch threads see only these
    try:
        with log.open("wb") as out:
            proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    finally:
        os.sched_setaffinity(0, own)  # the load generator is not pinned
    client = Client(port, 5)
    while time.perf_counter() - began < timeout_s:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["(no output)"]
            raise RuntimeError(f"sleepy serve exited with {proc.returncode}: {one_line(tail[0])}")
        try:
            if client.request("GET", "/v1/models")[0] == 200:
                return proc, time.perf_counter() - began
        except OSError:
            client.close()
        time.sleep(0.5)
    stop_server(proc)
    raise RuntimeError(f"sleepy serve did not answer within {timeout_s:.0f} s (log: {log})")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)


# ---------------------------------------------------------------------- load
def body(prompt: str, max_tokens: int, model: str = "sleepy", route: dict | None = None) -> dict:
    b = {"model": model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0}
    if route is not None:
        b["sleepy"] = route
    return b


def send(client: Client, request: dict) -> Outcome:
    began = time.perf_counter()
    try:
        status, reply = client.request("POST", "/v1/completions", request)
    except OSError as exc:
        client.close()
        return Outcome(time.perf_counter() - began, False, error=one_line(f"{type(exc).__name__}: {exc}"))
    latency = time.perf_counter() - began
    if status != 200:
        return Outcome(latency, False, error=f"{status}: {one_line(str(reply.get('error', reply)))[:200]}")
    usage = reply.get("usage", {})
    return Outcome(latency, True, usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0))


def batcher_stats(port: int) -> dict:
    client = Client(port, 30)
    try:
        return client.request("GET", "/v1/sleepy/stats")[1]
    finally:
        client.close()


def summarise(outcomes: list[Outcome]) -> dict:
    ok = [o for o in outcomes if o.ok]
    errors = [o.error for o in outcomes if not o.ok]
    result: dict = {"ok": len(ok), "errors": len(errors)}
    if errors:
        result["first_error"] = errors[0]
    if ok:
        lat = [o.latency_s for o in ok]
        tokens = sum(o.completion_tokens for o in ok)
        result |= {"latency_s": {"p50": round(percentile(lat, 50), 4), "p95": round(percentile(lat, 95), 4),
                                 "mean": round(sum(lat) / len(lat), 4)},
                   "prompt_tokens_mean": round(sum(o.prompt_tokens for o in ok) / len(ok), 1),
                   "completion_tokens_mean": round(tokens / len(ok), 1),
                   "seconds_per_output_token": round(sum(lat) / tokens, 5) if tokens else None}
    return result


def level(port: int, requests: list[dict], concurrency: int, seconds: float, timeout_s: float) -> dict:
    """Send ``requests`` from ``concurrency`` workers (each one at a time); none starts after ``seconds``."""
    before = batcher_stats(port)
    next_index, lock = itertools.count(), threading.Lock()
    outcomes: list[Outcome] = []
    began = time.perf_counter()
    deadline = began + seconds

    def worker() -> None:
        client = Client(port, timeout_s)
        try:
            while time.perf_counter() < deadline:
                with lock:
                    i = next(next_index)
                if i >= len(requests):
                    return
                outcome = send(client, requests[i])
                with lock:
                    outcomes.append(outcome)
        finally:
            client.close()

    threads = [threading.Thread(target=worker, name=f"load-{n}") for n in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    after = batcher_stats(port)
    batches, served = after["batches"] - before["batches"], after["requests"] - before["requests"]
    ok = sum(o.ok for o in outcomes)
    return {"concurrency": concurrency, "sent": len(outcomes), "stopped_by_time": len(outcomes) < len(requests),
            "wall_s": round(wall, 3), "requests_per_s": round(ok / wall, 3),
            "output_tokens_per_s": round(sum(o.completion_tokens for o in outcomes if o.ok) / wall, 2),
            **summarise(outcomes), "batches": batches,
            "mean_batch": round(served / batches, 3) if batches else 0.0}


def overhead(port: int, prompts: list[str], n: int, max_tokens: int, seconds: float, timeout_s: float) -> dict:
    """The same prompts at concurrency 1, through the skill and through base weights, alternating which goes first."""
    client = Client(port, timeout_s)
    runs: dict[str, list[Outcome]] = {"base": [], "skill": []}
    deadline = time.perf_counter() + seconds
    try:
        for i in range(n):
            if time.perf_counter() >= deadline:
                break
            prompt = prompts[i % len(prompts)]
            pair = [("base", body(prompt, max_tokens, route=BASE_ROUTE)),
                    ("skill", body(prompt, max_tokens, model=f"sleepy:{SKILL}"))]
            for name, request in pair if i % 2 == 0 else pair[::-1]:
                runs[name].append(send(client, request))
    finally:
        client.close()
    base, skill = summarise(runs["base"]), summarise(runs["skill"])
    result: dict = {"concurrency": 1, "pairs": len(runs["base"]), "base": base, "skill": skill,
                    "how": f"'model': 'sleepy:{SKILL}' vs 'sleepy': {json.dumps(BASE_ROUTE)}, same prompts, "
                           "alternating order"}
    if base.get("ok") and skill.get("ok"):
        def pct(a: float | None, b: float | None) -> float | None:
            return round((a / b - 1) * 100, 2) if a and b else None

        result["overhead_pct"] = {
            "mean_latency": pct(skill["latency_s"]["mean"], base["latency_s"]["mean"]),
            "p50_latency": pct(skill["latency_s"]["p50"], base["latency_s"]["p50"]),
            "per_output_token": pct(skill["seconds_per_output_token"], base["seconds_per_output_token"])}
        per_token = result["overhead_pct"]["per_output_token"]
        result["target_pct"] = TARGET_OVERHEAD_PCT
        result["within_target_per_output_token"] = per_token is not None and per_token < TARGET_OVERHEAD_PCT
    return result


# ---------------------------------------------------------------------- main
def main() -> None:
    ap = OneLineParser(prog="serve_load", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None, help="base model folder or hub id (default: the bundled model)")
    ap.add_argument("--requests", type=int, default=24, help="requests per concurrency level (and skill/base pairs)")
    ap.add_argument("--levels", type=int, nargs="+", default=[1, 4, 16], help="concurrencies to measure")
    ap.add_argument("--level-seconds", type=float, default=120.0, help="no new request starts after this, per level")
    ap.add_argument("--max-tokens", type=int, default=96, help="max_tokens of every request (greedy decoding)")
    ap.add_argument("--cores", type=int, default=2, help="CPU cores the server process may use")
    ap.add_argument("--max-batch", type=int, default=16, help="the server's --max-batch")
    ap.add_argument("--route", choices=("base", "router"), default="base",
                    help="levels on base weights, or let the server's router pick from each prompt")
    ap.add_argument("--workspace", type=Path, default=None, help="keep the workspace here (default: a temp dir)")
    ap.add_argument("--out", type=Path, default=None, help="result file (default benchmarks/results/serve_load.json)")
    args = ap.parse_args()
    for flag in ("requests", "max_tokens", "cores", "max_batch"):
        if getattr(args, flag) < 1:
            ap.error(f"--{flag.replace('_', '-')} must be at least 1, got {getattr(args, flag)}")
    if min(args.levels) < 1:
        ap.error(f"--levels must be positive concurrencies, got {args.levels}")
    if args.level_seconds <= 0:
        ap.error(f"--level-seconds must be positive, got {args.level_seconds}")
    if args.workspace is not None and args.workspace.exists() and any(args.workspace.iterdir()):
        ap.error(f"--workspace {args.workspace} is not empty: give a new folder")
    available = sorted(os.sched_getaffinity(0))
    cores = available[:args.cores]

    from sleepy.model.loader import ModelLoadError, resolve
    from sleepy.tasks.verify import ToolchainMissing

    workspace = args.workspace or Path(tempfile.mkdtemp(prefix="sleepy-serve-load-"))
    workspace.mkdir(parents=True, exist_ok=True)
    proc = None
    try:
        try:
            model_path = resolve(args.model)
            if not Path(model_path).is_dir() and ("/" not in model_path or model_path.startswith((".", "/"))):
                raise ModelLoadError(f"model {model_path!r}: no such folder (and not a hub id like 'org/name')")
            print("serve_load: building prompts and a release with one skill", file=sys.stderr)
            t = time.perf_counter()
            count_tokens = token_counter(model_path)
            prompts = build_prompts(count_tokens)
            release = make_release(workspace, model_path, count_tokens)
            setup_s = time.perf_counter() - t
        except (ModelLoadError, ToolchainMissing, OSError, ValueError) as exc:
            sys.exit(f"serve_load: {one_line(str(exc))}")
        port = free_port()
        print(f"serve_load: starting sleepy serve on 127.0.0.1:{port}, cores {cores}", file=sys.stderr)
        try:
            proc, startup_s = start_server(workspace, model_path, port, cores, args.max_batch,
                                           workspace / "serve.log")
        except RuntimeError as exc:
            sys.exit(f"serve_load: {exc}")
        timeout_s = max(300.0, args.level_seconds * 2)
        route = BASE_ROUTE if args.route == "base" else None
        warm = level(port, [body(p, args.max_tokens, route=route) for p in prompts[:2]], 1, args.level_seconds,
                     timeout_s)
        results = []
        for concurrency in args.levels:
            print(f"serve_load: concurrency {concurrency}", file=sys.stderr)
            requests = [body(prompts[i % len(prompts)], args.max_tokens, route=route) for i in range(args.requests)]
            results.append(level(port, requests, concurrency, args.level_seconds, timeout_s))
        print("serve_load: routed skill vs base at concurrency 1", file=sys.stderr)
        skill_cost = overhead(port, prompts, args.requests, args.max_tokens, args.level_seconds, timeout_s)
        totals = batcher_stats(port)
    finally:
        if proc is not None:
            stop_server(proc)
        if args.workspace is None:
            shutil.rmtree(workspace, ignore_errors=True)

    command = (f"python benchmarks/serve_load.py --requests {args.requests} --levels "
               f"{' '.join(map(str, args.levels))} --level-seconds {args.level_seconds:g} "
               f"--max-tokens {args.max_tokens} --cores {args.cores} --max-batch {args.max_batch} --route {args.route}"
               + (f" --model {args.model}" if args.model else "") + (f" --out {args.out}" if args.out else ""))
    write_result("serve_load", {
        "command": command, "model": Path(model_path).name if Path(model_path).is_dir() else model_path,
        "release": release, "server": {"cores": cores, "cores_available": len(available), "max_batch": args.max_batch,
                                       "startup_s": round(startup_s, 2), "transport": "HTTP/1.1 keep-alive, 127.0.0.1"},
        "setup_s": round(setup_s, 2), "prompts": f"{len(prompts)} frozen Rust koans, ContextBuilder + diagnose",
        "max_tokens": args.max_tokens, "decoding": "greedy (temperature 0)", "route": args.route,
        "warm_up_requests": warm["sent"], "levels": results, "routed_skill_overhead": skill_cost,
        "batcher_totals": totals,
    }, args.out)
    if any(r["errors"] for r in results) or skill_cost["base"]["errors"] or skill_cost["skill"]["errors"]:
        sys.exit("serve_load: some requests failed (see 'errors' and 'first_error' above)")


if __name__ == "__main__":
    main()
