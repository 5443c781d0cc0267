"""`sleepy fix` on real crates broken on purpose: how much of a real project's breakage the tools repair.

Crates: Debian's ``librust-*-dev`` packages (installed by ``install.sh`` as root) put crate sources under
``/usr/share/cargo/registry``; each is copied with a Cargo source replacement pointing there, so it
builds offline, in the sandbox. Each crate must build as shipped. Its own source files are broken by
the mutation operators of ``sleepy.tasks.real_code`` (drop a ``&``, ``mut``, ``.clone()``, ``?``, a
``use``, a cast, an ``.unwrap()``; misspell a name; swap a number type); a breakage counts when the
crate then fails to build (the original builds, so every breakage is proven). Files are split as
``sleepy day --project`` splits them: a third are held out (the breakages a night would never train on). Each
breakage is repaired by ``sleepy.loop.fix.repair`` (the verifier's hints, one diagnostic at a time) and
by rustc's first suggestion alone (one step, as ``cargo fix`` applies machine-applicable fixes).

    python benchmarks/real_projects.py [--crates semver,itoa,...] [--per-file 3] [--seed 1] [--out FILE]
"""

from __future__ import annotations

import random
import re
import shutil
import sys
import tempfile
import time
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import OneLineParser, write_result  # noqa: E402

from sleepy.loop.fix import hint_candidates, repair  # noqa: E402
from sleepy.tasks.project import ProjectBuild, detect_project  # noqa: E402
from sleepy.tasks.project.mutate import held_out_files  # noqa: E402
from sleepy.tasks.real_code import mutations  # noqa: E402

REGISTRY = Path("/usr/share/cargo/registry")
DEFAULT_CRATES = ("semver", "itoa", "fnv", "hex", "either", "scopeguard", "strsim", "heck", "glob", "same-file",
                  "unicode-width", "base64", "bitflags", "memchr")
CARGO_CONFIG = f'[source.crates-io]\nreplace-with = "debian"\n[source.debian]\ndirectory = "{REGISTRY}"\n'


def crate_copy(name: str, into: Path) -> tuple[Path, dict] | None:
    """The newest installed version of crate ``name`` copied into ``into``, ready to build offline."""
    versions = sorted(p for p in REGISTRY.glob(f"{name}-*") if re.fullmatch(rf"{re.escape(name)}-\d[\w.+-]*", p.name))
    if not versions:
        return None
    src = versions[-1]
    dst = into / src.name
    shutil.copytree(src, dst)
    (dst / ".cargo").mkdir(exist_ok=True)
    (dst / ".cargo" / "config.toml").write_text(CARGO_CONFIG)
    # Only the library is built: its dev-dependencies (test tools Debian does not package) would stop
    # cargo from resolving offline, so they are dropped from the copy, as Debian's own packaging does.
    manifest = dst / "Cargo.toml"
    manifest.write_text(re.sub(r"(?ms)^\[dev-dependencies[^\]]*\]\n.*?(?=^\[|\Z)", "", manifest.read_text()))
    meta = tomllib.loads((dst / "Cargo.toml").read_text()).get("package", {})
    return dst, {"crate": meta.get("name", name), "version": meta.get("version", "?"),
                 "licence": meta.get("license", "?"), "source": f"Debian librust-{name}-dev ({src})"}


def main() -> None:
    parser = OneLineParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crates", default=",".join(DEFAULT_CRATES))
    parser.add_argument("--per-file", type=int, default=3, help="breakages tried per source file")
    parser.add_argument("--max-per-crate", type=int, default=30, help="proven breakages kept per crate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    rows, cases = [], []
    with tempfile.TemporaryDirectory(prefix="sleepy-real-") as tmp:
        for name in [c.strip() for c in args.crates.split(",") if c.strip()]:
            copied = crate_copy(name, Path(tmp))
            if copied is None:
                print(f"{name}: not installed (apt-get install librust-{name}-dev); skipped", file=sys.stderr)
                continue
            root, meta = copied
            project = detect_project(root)
            build = ProjectBuild.open(project)
            try:
                began = time.perf_counter()
                if not build.check().passed:
                    print(f"{name}: does not build offline as shipped; skipped", file=sys.stderr)
                    continue
                first_build = time.perf_counter() - began
                original = dict(build.files)
                sources = sorted(f for f in original if f.endswith(".rs") and f.startswith("src/"))
                held = held_out_files(sources)  # the same split as sleepy day --project
                proven = []
                for rel in sources:
                    for mut in mutations(original[rel], rng, args.per_file):
                        if len(proven) >= args.max_per_crate:
                            break
                        verdict = build.check({rel: mut.source})
                        build.write({rel: original[rel]})
                        if not verdict.passed:
                            proven.append((rel, mut, verdict))
                crate_cases = []
                for rel, mut, verdict in proven:
                    build.write({rel: mut.source})
                    # rustc's first suggestion alone, one step (what applying the compiler's hint blindly does)
                    first = hint_candidates(project, build.files, verdict, 1)
                    first_ok = False
                    if first and first[0][2] == "tool:rustc":
                        f_rel, text = first[0][0], first[0][1]
                        first_ok = build.check({f_rel: text}).passed
                        build.write(original)
                        build.write({rel: mut.source})
                    fixed = repair(build, max_steps=8)
                    build.write(original)
                    case = {"crate": meta["crate"], "file": rel, "held_out": rel in held, "operator": mut.operator,
                            "family": mut.family, "signature": verdict.signature, "first_suggestion": first_ok,
                            "tools": fixed.green, "steps": sum(a.passed or a.progress for a in fixed.attempts),
                            "seconds": fixed.seconds}
                    crate_cases.append(case)
                cases += crate_cases
                held = [c for c in crate_cases if c["held_out"]]
                rows.append({**meta, "files": len([f for f in original if f.endswith(".rs")]),
                             "lines": sum(t.count("\n") for f, t in original.items() if f.endswith(".rs")),
                             "first_build_s": round(first_build, 2), "breakages": len(crate_cases),
                             "held_out": len(held), "first_suggestion": sum(c["first_suggestion"] for c in crate_cases),
                             "tools": sum(c["tools"] for c in crate_cases),
                             "held_out_tools": sum(c["tools"] for c in held)})
                print(f"{name}: {rows[-1]['tools']}/{len(crate_cases)} repaired by the tools "
                      f"(first suggestion alone {rows[-1]['first_suggestion']})", file=sys.stderr)
            finally:
                build.close()
    total = len(cases)
    tools = sum(c["tools"] for c in cases)
    first = sum(c["first_suggestion"] for c in cases)
    by_operator: dict[str, list[int]] = {}
    for c in cases:
        by_operator.setdefault(c["operator"], [0, 0])
        by_operator[c["operator"]][0] += c["tools"]
        by_operator[c["operator"]][1] += 1
    write_result("real_projects_rust", {
        "headline": f"{len(rows)} real crates, {total} proven breakages: the tools repair {tools} "
                    f"({tools / max(1, total):.0%}); rustc's first suggestion alone {first} "
                    f"({first / max(1, total):.0%})",
        "command": "python benchmarks/real_projects.py " + " ".join(sys.argv[1:]), "seed": args.seed,
        "crates": rows, "by_operator": {k: f"{v[0]}/{v[1]}" for k, v in sorted(by_operator.items())},
        "not_measured_here": "sleepy day on the project's own breakages and after 1 and 3 nights (needs project tasks "
                             "in the day loop); Python packages",
        "cases": cases}, Path(args.out) if args.out else None)


if __name__ == "__main__":
    main()
