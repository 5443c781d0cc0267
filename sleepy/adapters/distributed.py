"""Skill training on several processes or GPUs: the one training loop, under ``accelerate launch``.

A night trains small adapters, but on a machine with several GPUs it should use them all. The loop of
:func:`sleepy.adapters.lora.fit_adapter` runs unchanged on every process; this module is the little it
needs to be data parallel:

* every process reads all the examples and walks the same seeded batches; each takes its share of the
  rows of a batch (rows ``rank, rank + size, ...``), so no sampler has to agree across processes;
* each process's loss is its rows' weighted sum divided by the *whole batch's* weight (computable
  locally, every process holds every row), and the gradients are summed across processes: the sum is
  exactly the single-process gradient, so the skill matches a one-process run up to float rounding;
* only the trainable (adapter) tensors are all-reduced, once each per step: what DDP's buckets would
  do, without wrapping PEFT's model (its ``save_pretrained`` and adapter switching want it bare);
* a process whose share of a small batch is empty still runs a step on one row with zero weight, so
  every process joins every all-reduce.

Launch: ``accelerate launch --multi_gpu --num_processes N -m sleepy.adapters.train SPEC`` (the night does
it when ``train_processes > 1``); on CPUs the same command runs N processes over gloo.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sleepy.files import owned_temp_folder


@dataclass(frozen=True)
class Group:
    """This process's place in the training run (rank 0 of 1 when not distributed)."""

    rank: int = 0
    size: int = 1
    device: str = "auto"

    @property
    def main(self) -> bool:
        return self.rank == 0


def join() -> Group:
    """Join the process group a launcher set up (``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK`` in the
    environment: ``accelerate launch`` and ``torchrun`` set them); a lone process is rank 0 of 1."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return Group()
    import torch
    import torch.distributed as dist

    cuda = torch.cuda.is_available()
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if cuda:
        torch.cuda.set_device(local)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo")
    return Group(dist.get_rank(), dist.get_world_size(), f"cuda:{local}" if cuda else "cpu")


def current() -> Group:
    """The group this process already joined (rank 0 of 1 when none)."""
    try:
        import torch.distributed as dist
    except ImportError:  # pragma: no cover - torch is a dependency
        return Group()
    if not (dist.is_available() and dist.is_initialized()):
        return Group()
    return Group(dist.get_rank(), dist.get_world_size(), "cpu")


def share(idx: list[int], group: Group) -> tuple[list[int], bool]:
    """This process's rows of a batch, and whether they count (False: a stand-in row of zero weight)."""
    mine = idx[group.rank::group.size]
    return (mine, True) if mine else (idx[:1], False)


def sum_gradients(params: list, group: Group) -> None:
    """Sum each trainable tensor's gradient over the processes (a no-op alone)."""
    if group.size <= 1:
        return
    import torch.distributed as dist

    for p in params:
        if p.grad is not None:
            dist.all_reduce(p.grad)


def sum_value(value: float, group: Group) -> float:
    """``value`` summed over the processes (the step's loss, for the log)."""
    if group.size <= 1:
        return value
    import torch
    import torch.distributed as dist

    t = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(t)
    return float(t.item())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_argv(spec: Path, processes: int) -> list[str]:
    """The ``accelerate launch`` command that trains the skill ``spec`` describes on ``processes``
    processes (GPUs where there are, CPU processes over gloo otherwise)."""
    return [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(processes),
            "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
            "--main_process_port", str(free_port()), "-m", "sleepy.adapters.train", str(spec)]


class LaunchError(RuntimeError):
    """Distributed training did not finish; the message is one line with the last thing it printed."""


def train_in_processes(base_path: str, examples: list, params, out_dir: Path, processes: int,
                       timeout_s: float | None = None) -> dict:
    """Train one LoRA skill on ``processes`` processes; returns its ``training.json``.

    The examples and parameters travel in a spec file in a temporary folder this process owns; rank 0
    writes the adapter."""
    from dataclasses import asdict

    out_dir = Path(out_dir)
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
           "ACCELERATE_DISABLE_RICH": "1"}
    spec_dir = owned_temp_folder("sleepy-train-")  # a kill -9 here: the next start removes it
    try:
        with (Path(spec_dir) / "data.jsonl").open("w") as fh:
            for e in examples:
                fh.write(json.dumps(asdict(e)) + "\n")
        spec = Path(spec_dir) / "spec.json"
        spec.write_text(json.dumps({"base": base_path, "params": asdict(params), "examples": str(spec_dir),
                                    "out": str(out_dir)}))
        done = subprocess.run(launch_argv(spec, processes), capture_output=True, text=True, env=env,
                              timeout=timeout_s)
        errors = sorted(Path(spec_dir).glob("error-*.txt"))
        said = errors[0].read_text() if errors else None
    finally:
        shutil.rmtree(spec_dir, ignore_errors=True)
    if done.returncode != 0 or not (out_dir / "training.json").is_file():
        # the last line that says something (accelerate ends its error banner with a rule of "=")
        lines = [line for line in (done.stderr or done.stdout).splitlines() if any(c.isalnum() for c in line)]
        said = said or (lines[-1].strip() if lines else "no output")
        raise LaunchError(f"training on {processes} processes failed (exit {done.returncode}): {said}")
    return json.loads((out_dir / "training.json").read_text())
