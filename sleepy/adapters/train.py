"""``python -m sleepy.adapters.train SPEC``: one skill's training, as each process of a launcher runs it.

``SPEC`` is the JSON file :func:`sleepy.adapters.distributed.train_in_processes` writes (base model,
LoRA parameters, the folder of ``data.jsonl``, the output folder). Under ``accelerate launch`` every
process runs this; rank 0 writes the adapter.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sleepy.adapters.distributed import join
from sleepy.adapters.lora import LoraParams, load_examples, train_lora


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m sleepy.adapters.train SPEC.json")
    spec = json.loads(Path(args[0]).read_text())
    params = spec["params"]
    params["target_modules"] = tuple(params.get("target_modules") or ())
    group = join()
    try:
        train_lora(spec["base"], load_examples(Path(spec["examples"])), LoraParams(**params), Path(spec["out"]),
                   device=group.device)
    except Exception as exc:  # the launcher's own report is pages of tracebacks: leave the parent one line
        first = (str(exc).strip().splitlines() or [""])[0]
        (Path(spec["examples"]) / f"error-{group.rank}.txt").write_text(f"{type(exc).__name__}: {first}")
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
