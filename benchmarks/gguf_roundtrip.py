"""GGUF round trip: export a release with ``sleepy export --format gguf``, load it in llama.cpp
(llama-cpp-python), and count the prompts on which llama.cpp's greedy tokens equal transformers' (target:
>= 95 % of 50 prompts), for the base model and for every skill of the release.

    python benchmarks/gguf_roundtrip.py --registry WS/registry --release production [--dtype f16]

Without ``--registry`` only the base model (the bundled one, or ``--model``) is measured. Prompts: the first
lines of the frozen koans of both packs (Rust and Python code the model continues).
"""

from __future__ import annotations

import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import OneLineParser, write_result  # noqa: E402
from sleepy.adapters.gguf import GGUFExportError, export_gguf, greedy_round_trip, koan_prompts  # noqa: E402
from sleepy.adapters.registry import Registry, RegistryError  # noqa: E402
from sleepy.adapters.share import peft_folders  # noqa: E402
from sleepy.model.loader import resolve  # noqa: E402


def summary(runs) -> dict:
    return {"prompts": len(runs), "same_tokens": sum(r.same_tokens for r in runs),
            "same_split": sum(r.same_split for r in runs),
            "differs_at": [next((i for i, (a, b) in enumerate(zip(r.transformers, r.llama_cpp, strict=False))
                                 if a != b), min(len(r.transformers), len(r.llama_cpp)))
                           for r in runs if not r.same_tokens]}


def main() -> None:
    parser = OneLineParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", type=Path, help="a workspace's registry folder (skills are measured too)")
    parser.add_argument("--release", default="production", help="release id, prefix or alias in --registry")
    parser.add_argument("--model", default=None, help="base model when no --registry (default: bundled)")
    parser.add_argument("--dtype", choices=("f16", "f32"), default="f16")
    parser.add_argument("--prompts", type=int, default=50)
    parser.add_argument("--new-tokens", type=int, default=16)
    parser.add_argument("--out", type=Path, default=None, help="results file (default benchmarks/results/)")
    args = parser.parse_args()
    release = None
    if args.registry is not None:
        try:
            release = Registry(args.registry).get(args.release)
        except RegistryError as exc:
            parser.error(str(exc))
    base_model = release.base_model if release is not None else resolve(args.model)
    prompts = koan_prompts(args.prompts)
    with tempfile.TemporaryDirectory(prefix="sleepy-gguf-") as tmp:
        out = Path(tmp) / "export"
        t0 = time.time()
        try:
            router = export_gguf(release, base_model, out, args.dtype)
            rows = {"base": summary(greedy_round_trip(out, base_model, prompts, args.new_tokens))}
            with peft_folders(release) if release is not None else nullcontext({}) as folders:
                for name in router["skills"]:
                    print(f"skill {name} ...", file=sys.stderr)
                    rows[name] = summary(greedy_round_trip(out, base_model, prompts, args.new_tokens, name,
                                                           folders[name]))
        except GGUFExportError as exc:
            parser.error(str(exc))
        sizes = {p.relative_to(out).as_posix(): p.stat().st_size for p in sorted(out.rglob("*.gguf"))}
    total = sum(r["prompts"] for r in rows.values())
    same = sum(r["same_tokens"] for r in rows.values())
    worst = min(r["same_tokens"] / r["prompts"] for r in rows.values())
    headline = (f"llama.cpp matched transformers' greedy tokens on {same}/{total} prompt runs "
                f"(worst model {worst:.0%}; target >= 95%)")
    write_result("gguf_roundtrip", {
        "headline": headline, "command": " ".join(["python", *sys.argv]), "dtype": args.dtype,
        "base_model": base_model, "release": release.id if release is not None else None,
        "new_tokens": args.new_tokens, "results": rows, "files_bytes": sizes,
        "seconds": round(time.time() - t0, 1)}, args.out)
    print(headline)


if __name__ == "__main__":
    main()
