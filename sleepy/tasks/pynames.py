"""Where a Python name comes from, read off the project's own files: the interpreter's hints, completed.

Why: under pytest the interpreter's "Did you mean" never shows (pytest prints the exception, not
Python's suggestion), and it knows nothing of the project's other modules. A package's
``__init__.py`` that lost an import line fails far away, in a test, as ``module 'pkg' has no attribute
'name'``; the line that was meant is one of the package's own modules. These helpers answer from the
project's text (parsed with :mod:`ast`, nothing imported or run): which module defines a name, what a
module's file is, which names in a file are one typo away. Every answer becomes a candidate that the
verifier still has to pass.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import io
import tokenize
from functools import lru_cache
from pathlib import PurePosixPath


def module_of(rel: str) -> str | None:
    """``src/pkg/sub.py`` -> ``pkg.sub``; ``pkg/__init__.py`` -> ``pkg`` (a src layout's ``src/`` dropped)."""
    path = PurePosixPath(rel)
    if path.suffix != ".py":
        return None
    parts = list(path.with_suffix("").parts)
    if parts and parts[0] == "src" and len(parts) > 1:
        parts = parts[1:]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) if parts and all(p.isidentifier() for p in parts) else None


def file_of(module: str, files: dict[str, str]) -> str | None:
    """The project file that is ``module`` (its ``__init__.py`` for a package)."""
    for rel in files:
        if module_of(rel) == module:
            return rel
    return None


@lru_cache(maxsize=512)
def tree_of(source: str) -> ast.Module | None:
    """``source`` parsed once (every helper here and the hints ask about the same few files; never mutate it)."""
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


@lru_cache(maxsize=512)
def top_level_names(source: str) -> frozenset[str]:
    """Names a module binds at its top level (defs, classes, assignments, imports; not star imports)."""
    tree = tree_of(source)
    names: set[str] = set()
    for node in tree.body if tree else ():
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"}
        elif isinstance(node, ast.If | ast.Try):  # version switches, optional imports
            names |= {n.name for n in ast.walk(node) if isinstance(n, ast.FunctionDef | ast.ClassDef)}
            names |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return frozenset(names)


def definitions(source: str) -> set[str]:
    """Every function and class the file defines, at any depth."""
    tree = tree_of(source)
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)} \
        if tree else set()


def defining_modules(name: str, files: dict[str, str], skip: str | None = None) -> list[str]:
    """Project modules that define ``name`` at top level by a def, class or assignment (an import of it
    elsewhere does not count: that module is a user, not the home), fewest dots first."""
    homes = []
    for rel, text in files.items():
        module = module_of(rel)
        if module and rel != skip and name in _defined_here(text):
            homes.append(module)
    return sorted(homes, key=lambda m: (m.count("."), m))


@lru_cache(maxsize=512)
def _defined_here(source: str) -> frozenset[str]:
    tree = tree_of(source)
    names = set()
    for node in tree.body if tree else ():
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return frozenset(names)


def import_from(own_file: str | None, module: str) -> str:
    """How ``own_file`` names ``module`` in a ``from ... import``: relative inside one package (what a
    package's own files do), absolute otherwise."""
    own = module_of(own_file) if own_file else None
    if own is None:
        return module
    package = own if own_file and own_file.endswith("__init__.py") else own.rpartition(".")[0]
    if package and module.startswith(package + "."):
        rest = module[len(package) + 1:]
        return "." + rest
    return module


def star_imports(source: str) -> list[str]:
    """The modules ``source`` star-imports (``from .more import *``)."""
    tree = tree_of(source)
    return ["." * n.level + (n.module or "") for n in (tree.body if tree else ())
            if isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names)]


def names_taken_from(module: str, files: dict[str, str]) -> set[str]:
    """Names the project reads off ``module``: ``from module import a, b`` and ``module.a`` anywhere."""
    taken: set[str] = set()
    last = module.rpartition(".")[2]
    for text in files.values():
        tree = tree_of(text)
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.ImportFrom) and node.module == module and node.level == 0:
                taken |= {a.name for a in node.names if a.name != "*"}
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id in (module, last):
                taken.add(node.attr)
    return taken


def identifiers(source: str) -> set[str]:
    """Every name token in ``source`` (not inside strings or comments)."""
    try:
        return {t.string for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type == tokenize.NAME}
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return set()


def near(word: str, pool: set[str], n: int = 2) -> list[str]:
    """Names in ``pool`` one or two typos from ``word``, closest first (what Python 3.12's NameError
    suggestion does, with :mod:`difflib`'s ratio as the distance)."""
    pool = {p for p in pool if p != word and abs(len(p) - len(word)) <= 2}
    return difflib.get_close_matches(word, sorted(pool), n=n, cutoff=0.8 if len(word) > 4 else 0.7)


def typo_fixes(word: str, source: str, files: dict[str, str] | None = None) -> list[str]:
    """Names ``word`` may be a typo of: the file's own names and builtins first, then the project's."""
    own = near(word, identifiers(source) | set(dir(builtins)))
    if own or not files:
        return own
    project: set[str] = set()
    for text in files.values():
        project |= top_level_names(text)
    return near(word, project)
