"""Where a name lives: the standard library's (and installed packages') public names, built once and cached.

Why: a ``NameError`` for ``defaultdict`` or ``sqrt`` is a missing import far more often than a typo,
and Python 3.11 prints no hint for it. Which module to import from is a fact about the interpreter,
not something a model should guess, so it is read off the interpreter itself: a child process
imports each standard module and lists its public names. The index is written once per interpreter
(keyed by its version and path) under the user's cache folder and read from there afterwards.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from functools import cache

from sleepy.files import cache_dir

INDEX_VERSION = 5  # bumped when what the index holds changes (5: public submodules, os.path by that name)

# Modules never imported to build the index: they open windows, print, start things or are for tests.
_SKIP = {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "test", "lib2to3", "pydoc_data",
         "ensurepip", "venv", "xxsubtype", "xxlimited", "xxlimited_35", "sre_compile", "sre_constants",
         "sre_parse", "msilib", "winreg", "winsound", "nt", "_winapi", "msvcrt", "pip", "setuptools"}

# Common import aliases people use (``np``): only offered when the package is installed.
ALIASES = {"np": "numpy", "pd": "pandas", "plt": "matplotlib.pyplot", "sns": "seaborn", "sp": "scipy",
           "tf": "tensorflow", "nx": "networkx"}

# When several modules export a name, these are what people mean (``sqrt`` from math, not cmath).
PREFERRED = ("collections", "dataclasses", "typing", "itertools", "functools", "math", "datetime", "pathlib",
             "re", "json", "os", "os.path", "sys", "random", "statistics", "string", "enum", "decimal", "fractions",
             "operator", "heapq", "bisect", "copy", "time", "textwrap", "contextlib", "abc", "io", "csv",
             "pprint", "uuid", "hashlib", "shutil", "subprocess", "logging")

# Modules people import under another name (``os.path`` is ``posixpath`` here, ``ntpath`` on Windows).
_PUBLIC = {"posixpath": "os.path", "ntpath": "os.path", "genericpath": "os.path"}
_BUILD = r"""
import importlib, json, os, pkgutil, sys, warnings
skip = set(json.loads(sys.argv[1]))
out = {}
warnings.simplefilter("ignore")
real_stdout, sys.stdout = sys.stdout, open(os.devnull, "w")  # a module that prints on import spoils no JSON


def names_of(name):
    try:
        mod = importlib.import_module(name)
    except BaseException:
        return None
    listed = getattr(mod, "__all__", None)
    names = listed if isinstance(listed, (list, tuple)) else [n for n in dir(mod) if not n.startswith("_")]
    own = []
    for n in names:
        if not isinstance(n, str) or n.startswith("_"):
            continue
        obj = getattr(mod, n, None)
        if obj is None or type(obj).__name__ == "module":
            continue
        home = (getattr(obj, "__module__", None) or name).lstrip("_")
        own.append([n, home == name or (home.split(".")[0] == name) or n in (listed or ())])
    out[name] = own
    return mod


for name in sorted(sys.stdlib_module_names):
    if name.startswith("_") or name in skip:
        continue
    mod = names_of(name)
    # A package's public submodules, one level down: ``from urllib.parse import quote_plus``,
    # ``from collections.abc import Iterable``, ``from concurrent.futures import ThreadPoolExecutor``.
    for sub in pkgutil.iter_modules(getattr(mod, "__path__", None) or []):
        if not sub.name.startswith("_") and sub.name not in ("test", "tests") and name not in ("encodings",):
            names_of(f"{name}.{sub.name}")
real_stdout.write(json.dumps(out))
"""


def _installed_top_level() -> list[str]:
    """Top-level modules of installed distributions (names only: importing them all would be slow)."""
    from importlib import metadata

    try:
        return sorted(m for m in metadata.packages_distributions() if m.isidentifier() and not m.startswith("_"))
    except Exception:  # noqa: BLE001 - a broken distribution must not stop repairs
        return []


@cache
def load_index() -> dict:
    """``{"modules": [...], "names": {name: [module, ...]}}`` for the running interpreter (cached on disk)."""
    key = hashlib.sha256(f"{INDEX_VERSION}:{sys.version}:{sys.executable}".encode()).hexdigest()[:16]
    path = cache_dir() / f"pyindex-{key}.json"
    if path.is_file():
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            pass  # a damaged cache is rebuilt
    try:
        done = subprocess.run([sys.executable, "-I", "-c", _BUILD, json.dumps(sorted(_SKIP))], capture_output=True,
                              text=True, timeout=120, stdin=subprocess.DEVNULL)
        stdlib = json.loads(done.stdout) if done.returncode == 0 else {}
    except (subprocess.SubprocessError, OSError, ValueError):
        stdlib = {}
    names: dict[str, list[tuple[str, bool]]] = {}
    for module, entries in stdlib.items():
        for name, own in entries:
            names.setdefault(name, []).append((module, own))
    ranked = {name: list(dict.fromkeys(_PUBLIC.get(m, m) for m, _ in sorted(homes, key=lambda h: (
        not h[1], _rank(_PUBLIC.get(h[0], h[0])), h[0])))) for name, homes in names.items()}
    index = {"modules": sorted(set(stdlib) | set(_installed_top_level())), "names": ranked}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(index))
        tmp.replace(path)
    except OSError:
        pass  # a read-only home still gets the index, just not cached
    return index


def _rank(module: str) -> tuple[int, int]:
    """Preferred modules first, then top-level ones before submodules."""
    return (PREFERRED.index(module) if module in PREFERRED else len(PREFERRED), module.count("."))


def import_lines_for(name: str, limit: int = 3, source: str = "") -> list[str]:
    """Import statements that would define ``name``: the module itself, an alias, or ``from M import name``;
    a module ``source`` already imports from comes first (``quote_plus`` beside ``unquote_plus``)."""
    index = load_index()
    modules = set(index["modules"])
    out = []
    if name in modules:
        out.append(f"import {name}")
    if name in ALIASES and ALIASES[name].split(".")[0] in modules:
        out.append(f"import {ALIASES[name]} as {name}")
    used = set(re.findall(r"^\s*from\s+([\w.]+)\s+import\b", source, re.M))
    homes = sorted(index["names"].get(name, []), key=lambda m: m not in used)  # stable: the index's order after
    out += [f"from {m} import {name}" for m in homes[:limit]]
    return out[:limit]


def module_names(module: str) -> list[str]:
    """Public names of a standard module as the index saw them (empty for unknown modules)."""
    return [n for n, homes in load_index()["names"].items() if module in homes]


def undefined_names(source: str) -> list[str]:
    """Module-level names a program uses but never binds (nor are builtins), in order of first use.

    Read off the compiler's own symbol tables (:mod:`symtable`), so scoping is Python's, not a guess:
    a name a function reads that is neither local, nor from an enclosing function, nor bound at module
    level (or through ``global``). A star import could bind anything: then nothing is reported."""
    import builtins
    import symtable

    try:
        top = symtable.symtable(source, "<module>", "exec")
    except (SyntaxError, ValueError):
        return []
    if re.search(r"^\s*from\s+\S+\s+import\s+\*", source, re.M):
        return []
    bound = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported() or s.is_namespace()}
    used: list[str] = []
    stack = [top]
    while stack:
        table = stack.pop()
        for sym in table.get_symbols():
            name = sym.get_name()
            if sym.is_declared_global() and sym.is_assigned():
                bound.add(name)
            if sym.is_referenced() and (table is top or sym.is_global()) and name not in used:
                used.append(name)
        stack.extend(table.get_children())
    builtin = set(dir(builtins))
    missing = [n for n in used if n not in bound and n not in builtin and not n.startswith("__")]
    return sorted(missing, key=lambda n: m.start() if (m := re.search(rf"\b{re.escape(n)}\b", source)) else 0)


def grouped_import_lines(name: str, undefined: list[str]) -> list[str]:
    """``from M import name, ...`` with every other undefined name ``M`` also provides, best first: a dropped
    import line often took several names with it, and the module that provides the most of them is the one
    that was meant (``sub`` from ``operator``, not ``re``, when ``mul`` and ``itemgetter`` are missing too)."""
    names = load_index()["names"]
    out = []
    for module in names.get(name, []):
        others = [n for n in undefined if n != name and module in names.get(n, ())]
        if others:
            out.append((len(others), f"from {module} import {', '.join([name, *others])}"))
    return [line for _, line in sorted(out, key=lambda x: -x[0])]
