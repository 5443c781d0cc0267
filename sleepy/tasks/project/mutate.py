"""A project's own code broken on purpose: repair tasks that make the nights learn *this* project.

Each source file is broken by small mutations of the kinds people make (Rust: the operators of
``sleepy.tasks.real_code`` plus a dropped derive and a dropped trait bound; Python: a dropped import,
a misspelled name, a removed ``None`` check, a shifted index). A mutant becomes a task only when it
is proven: the project builds (or its tests pass) as it is, and fails with the mutant in place.
Tasks are split by file: a third of the files (by a hash of the path) are held out, so what the
nights learn from the day's tasks is measured on code they never saw.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import keyword
import random
import re
from collections.abc import Callable
from pathlib import Path

from sleepy.tasks.check import check_tasks
from sleepy.tasks.project.detect import Project, ProjectError
from sleepy.tasks.real_code import Mutation
from sleepy.tasks.real_code import mutations as rust_mutations
from sleepy.tasks.task import Task

HELD_OUT_ORIGIN = "project-holdout"
DAY_ORIGIN = "project"


def _python_mutations(source: str, rng: random.Random, per_file: int) -> list[Mutation]:
    """Mutations located with ``ast``, so each removes whole statements and every mutant still parses.

    A mutant that no longer parses is a syntax error nobody makes by forgetting an import or a check
    (a dropped first line of a parenthesised import, an ``if`` dropped without its body), so it would
    teach and measure the wrong thing; such mutants are discarded.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    lines = source.splitlines(keepends=True)
    found: list[Mutation] = []

    def without(node: ast.stmt) -> str:
        return "".join(lines[:node.lineno - 1] + lines[node.end_lineno:])

    imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)
               and not (isinstance(n, ast.ImportFrom) and n.module == "__future__")]
    for node in rng.sample(imports, min(2, len(imports))):
        found.append(Mutation("drop-import", "name-import", without(node)))
    names = sorted({m.group(0) for m in re.finditer(r"\b[a-z_][a-z0-9_]{3,}\b", source)
                    if source.count(m.group(0)) >= 2 and m.group(0) not in _PY_KEYWORDS})
    for word in rng.sample(names, min(2, len(names))):
        m = rng.choice(list(re.finditer(rf"\b{re.escape(word)}\b", source)))
        k = rng.randrange(1, len(word))
        typo = word[:k] + word[k + 1:]
        found.append(Mutation("misspell", "name-import", source[:m.start()] + typo + source[m.end():]))
    checks = [n for n in ast.walk(tree) if isinstance(n, ast.If) and not n.orelse and _is_none_test(n.test)
              and len(n.body) == 1 and isinstance(n.body[0], ast.Return | ast.Raise | ast.Continue)]
    for node in rng.sample(checks, min(1, len(checks))):
        found.append(Mutation("drop-none-check", "none-handling", without(node)))
    index = [m for m in re.finditer(r"\[(0|-1|i|j|idx)\]", source)]
    if index:
        m = rng.choice(index)
        shifted = {"0": "1", "-1": "-2"}.get(m.group(1), f"{m.group(1)} + 1")
        found.append(Mutation("shift-index", "index-key", source[:m.start()] + f"[{shifted}]" + source[m.end():]))
    found = [mut for mut in found if _parses(mut.source)]
    rng.shuffle(found)
    return found[:per_file]


def _is_none_test(test: ast.expr) -> bool:
    """``x is None`` or ``self.x is None``: the guard people forget to write."""
    return (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Is)
            and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None)


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    return True


_PY_KEYWORDS = frozenset(keyword.kwlist) | set(dir(builtins)) | {"self", "cls", "__init__", "__name__",
                                                                  "__main__"}


def _rust_extra(source: str, rng: random.Random) -> list[Mutation]:
    """A derive or a trait bound dropped: the new families (traits) the doc corpus does not teach."""
    found = []
    derives = list(re.finditer(r"#\[derive\(([^)]*)\)\]", source))
    for m in rng.sample(derives, min(1, len(derives))):
        traits = [t.strip() for t in m.group(1).split(",") if t.strip()]
        if traits:
            drop = rng.choice(traits)
            kept = ", ".join(t for t in traits if t != drop)
            new = f"#[derive({kept})]" if kept else ""
            found.append(Mutation("drop-derive", "traits", source[:m.start()] + new + source[m.end():]))
    bounds = list(re.finditer(r"<([A-Z]\w*): [\w:+ ]+>", source))
    for m in rng.sample(bounds, min(1, len(bounds))):
        found.append(Mutation("drop-bound", "traits", source[:m.start()] + f"<{m.group(1)}>" + source[m.end():]))
    return found


def _rank(file: str) -> int:
    return int(hashlib.sha256(file.encode()).hexdigest(), 16)


def held_out_files(files: list[str]) -> set[str]:
    """The files whose tasks are held out: a third, by a hash of the path; at least one of two or more."""
    held = {f for f in files if _rank(f) % 3 == 0}
    if not held and len(files) >= 2:
        held = {min(files, key=_rank)}
    return held if len(held) < len(files) else set(sorted(held, key=_rank)[:-1])


def project_tasks(project: Project, seed: int = 1, per_file: int = 3, jobs: int = 2,
                  on_done: Callable | None = None) -> list[Task]:
    """Proven repair tasks made from the project's own files; origin says day (``project``) or held out."""
    root = str(Path(project.root).resolve())
    rng = random.Random(seed)
    name = Path(root).name
    candidates = []
    breakable = [rel for rel in sorted(project.files) if (rel.endswith(".rs") if project.kind == "cargo" else
                 not (Path(rel).name.startswith("test_") or rel.startswith("tests/")))]  # tests verify, not break
    held = held_out_files(breakable)
    for rel in breakable:
        text = project.files[rel]
        muts = (rust_mutations(text, rng, per_file) + _rust_extra(text, rng))[:per_file + 1] \
            if project.kind == "cargo" else _python_mutations(text, rng, per_file)
        for k, mut in enumerate(muts):
            if mut.source == text:
                continue
            origin = HELD_OUT_ORIGIN if rel in held else DAY_ORIGIN
            tid = f"{name}-{rel.replace('/', '.')}-{mut.operator}-{seed}-{k}"
            candidates.append(Task(tid, project.pack, mut.family, mut.source, fix=text, origin=origin,
                                   description=f"{rel} of {name} broken by {mut.operator}", project=root, file=rel))
    if not candidates:
        raise ProjectError(f"{root}: no file of the project could be broken by the mutation operators")
    outcomes = check_tasks(candidates, jobs, on_done)
    return [Task(o.task.id, o.task.pack, o.task.family, o.task.source, o.found_signature, o.task.fix,
                 description=o.task.description, origin=o.task.origin, project=o.task.project, file=o.task.file)
            for o in outcomes if o.ok and o.found_signature]
