"""Candidates from the verifier's own hints: rustc's suggestions, the Python interpreter's "Did you mean".

Why first: the compiler often prints the exact change ("consider borrowing here: `&scores`"), and
applying it costs one verification (~40 ms) where a model call costs far more and, for a small
model, is right far less often. Every candidate is a whole program, verified by the caller before
it counts; none is trusted. What cannot be applied (a placeholder, overlapping parts, a range that
does not fit the program) is skipped with a reason the caller logs.

Rust: every suggestion of every error, in rustc's order (the first error's first), with rustc's
applicability (``MachineApplicable`` and ``MaybeIncorrect`` tried, ``HasPlaceholders`` skipped unless its
only placeholder is ``.expect("REASON")``, tried as ``.unwrap()``);
alternatives of one help ("import this" or "import that") are separate candidates; with several
errors, all their first suggestions at once is one more candidate (what ``cargo fix`` does).
clippy adds nothing here: it runs only after type checking succeeds, and its errors on a program
that does not type-check are rustc's own.

Python: the interpreter's "Did you mean: 'x'?" (NameError, AttributeError, ImportError) applied on
the failing line and then wherever the name occurs; a missing name resolved to an import from the
index of the standard library and installed packages (:mod:`sleepy.tasks.pyindex`); a misspelled
``from M import X`` or module name matched against that index; ``str + int`` wrapped in ``str()``.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import io
import logging
import re
import tokenize
from dataclasses import dataclass, field

from sleepy.tasks import pynames, pyrepair, rsrepair
from sleepy.tasks.pyindex import grouped_import_lines, import_lines_for, load_index, module_names, undefined_names
from sleepy.tasks.pynames import typo_fixes
from sleepy.tasks.signature import Diagnostic, Fixit

log = logging.getLogger("sleepy.tools")


@dataclass
class ToolCandidate:
    """One whole program a tool's hint makes of the source (unverified)."""

    origin: str  # tool:rustc | tool:python
    program: str
    hint: str  # the hint it came from, in one line


@dataclass
class Hints:
    candidates: list[ToolCandidate] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # hints that could not be applied, with the reason


def tool_candidates(pack: str, source: str, diagnostics: list[Diagnostic], limit: int = 8,
                    files: dict[str, str] | None = None, file: str | None = None, repairs: int = 0) -> Hints:
    """Candidate programs from the hints in ``diagnostics`` (the verifier's verdict on ``source``), then up to
    ``repairs`` guesses the error implies but no hint spells out (origin ``tool:repair``): small edits at the
    lines a Python traceback points to (:mod:`sleepy.tasks.pyrepair`), casts for Rust's mixed-number
    arithmetic (:mod:`sleepy.tasks.rsrepair`).

    ``files`` (the project's other source files, by path) and ``file`` (the path of ``source`` in it) let
    Python's hints look across the project: where a missing name or a package attribute is defined."""
    hints = _rust(source, diagnostics) if pack == "rust" else _python(source, diagnostics, files or {}, file)
    seen: set[str] = {source}
    unique = []
    for c in hints.candidates:
        if c.program not in seen:
            seen.add(c.program)
            unique.append(c)
    hints.candidates = unique[:limit]
    if repairs and diagnostics:
        found = pyrepair.repairs(source, diagnostics[0], file, repairs + len(hints.candidates)) \
            if pack == "python" else [r for d in diagnostics[:3] for r in rsrepair.repairs(source, d)]
        for r in found:
            if repairs == 0:
                break
            if r.program not in seen:
                seen.add(r.program)
                hints.candidates.append(ToolCandidate("tool:repair", r.program, r.hint))
                repairs -= 1
    for reason in hints.skipped:
        log.debug("hint skipped: %s", reason)
    return hints


# --------------------------------------------------------------------------- Rust


def _rust(source: str, diagnostics: list[Diagnostic]) -> Hints:
    out = Hints()
    firsts: list[Fixit] = []
    for diag in diagnostics:
        first = True
        for fixit in diag.fixits:
            what = f"{diag.code}: {fixit.message.splitlines()[0][:60] if fixit.message else 'suggestion'}"
            if fixit.applicability == "HasPlaceholders":
                fixit = _filled(fixit)
                if fixit is None:
                    out.skipped.append(f"{what}: has placeholders")
                    continue
            program = fixit.apply(source)
            if program is None:
                out.skipped.append(f"{what}: its ranges do not fit the program (overlap or out of range)")
                continue
            if program == source:
                continue
            out.candidates.append(ToolCandidate("tool:rustc", program, what))
            if first:
                firsts.append(fixit)
                first = False
    for diag in diagnostics[:1]:
        for what, fixit in _from_notes(source, diag):
            program = fixit.apply(source)
            if program is None:
                out.skipped.append(f"{diag.code}: {what}: its ranges do not fit the program")
            elif program != source:
                out.candidates.append(ToolCandidate("tool:rustc", program, f"{diag.code}: {what}"))
    if len(firsts) > 1:
        combined = Fixit("every error's first suggestion", [p for f in firsts for p in f.parts])
        program = combined.apply(source)
        if program is not None:
            out.candidates.insert(0, ToolCandidate("tool:rustc", program, "all first suggestions at once"))
        else:
            out.skipped.append("all first suggestions at once: they overlap")
    return out


def _filled(fixit: Fixit) -> Fixit | None:
    """A suggestion whose only placeholder is the message of ``.expect("REASON")`` (rustc's "unwrap the
    Option, panicking if it is None") as the same panic without one, ``.unwrap()``; None for any other
    placeholder (``/* Type */``, ``todo!()``: they need a value only the author knows)."""
    if not any('.expect("REASON")' in text for _, _, text in fixit.parts):
        return None  # `: Vec<T>`, `/* Type */`: what stands for the placeholder is the author's to choose
    parts = []
    for start, end, text in fixit.parts:
        text = text.replace('.expect("REASON")', ".unwrap()")
        if "REASON" in text or "/*" in text or "todo!" in text or "unimplemented!" in text:
            return None
        parts.append((start, end, text))
    return Fixit(fixit.message, parts, "MaybeIncorrect", fixit.file)


DERIVABLE = ("Debug", "Clone", "Copy", "PartialEq", "Eq", "PartialOrd", "Ord", "Hash", "Default")
_IMPLIES = {"Copy": ("Clone",), "Eq": ("PartialEq",), "PartialOrd": ("PartialEq",),
            "Ord": ("PartialOrd", "Eq", "PartialEq")}  # a derive that does not compile without these
_MISSING_TRAIT = (
    re.compile(r"the trait `(?:std::\w+::|core::\w+::)?(?P<trait>\w+)` is not implemented for `(?P<ty>\w+)`"),
    re.compile(r"the trait bound `(?P<ty>\w+): (?:std::\w+::|core::\w+::)?(?P<trait>\w+)` is not satisfied"),
    re.compile(r"^`(?P<ty>\w+): (?:std::\w+::|core::\w+::)?(?P<trait>\w+)`$", re.M),
    re.compile(r"perhaps you need to implement it:\s*candidate #1: `(?:std::\w+::|core::\w+::)?(?P<trait>\w+)`"),
)


def _from_notes(source: str, diag: Diagnostic) -> list[tuple[str, Fixit]]:
    """Changes rustc describes in its notes without writing them as suggestions, placed on the spans it gives.

    "if `Item` implemented `Clone`, you could clone the value" (derive Clone, clone at the move);
    "consider changing this parameter type ... to borrow instead" (borrow the parameter and the
    argument); "the trait `Default` is not implemented for `Theme`" (derive it on the local type,
    with the traits that derive needs)."""
    data = source.encode()
    out: list[tuple[str, Fixit]] = []
    moved = next((s for s in diag.spans if s.label == "value moved here" and s.byte_start >= 0), None)
    for message, spans in diag.helps:
        by_label = {s.label: s for s in spans if s.byte_start >= 0}
        if message.startswith("consider changing this parameter type") and moved is not None:
            param = by_label.get("this parameter takes ownership of the value")
            if param is not None:
                out.append(("borrow the parameter and the argument",
                            Fixit(message, [(param.byte_start, param.byte_start, "&"),
                                            (moved.byte_start, moved.byte_start, "&")])))
        elif "implemented `Clone`, you could clone the value" in message:
            ty, value = by_label.get("consider implementing `Clone` for this type"), by_label.get(
                "you could clone this value")
            if ty is not None and value is not None:
                parts = _derive_parts(data, ty.byte_start, ("Clone",))
                if parts is not None:
                    out.append(("derive Clone and clone the moved value",
                                Fixit(message, [*parts, (value.byte_end, value.byte_end, ".clone()")])))
    texts = [diag.message, *diag.notes]
    wanted: list[tuple[str, str]] = []
    for pattern in _MISSING_TRAIT:
        for text in texts:
            for m in pattern.finditer(text):
                ty = m.groupdict().get("ty") or _type_in(diag.message)
                if ty and m.group("trait") in DERIVABLE and (ty, m.group("trait")) not in wanted:
                    wanted.append((ty, m.group("trait")))
    for ty, trait in wanted:
        found = re.search(rb"(?:^|[\s;{}])(?:pub(?:\([\w:]+\))?\s+)?(?:struct|enum)\s+" + re.escape(ty.encode())
                          + rb"\b", data)
        if found is None:
            continue
        start = found.start() + (1 if data[found.start():found.start() + 1].isspace()
                                 or data[found.start():found.start() + 1] in b";{}" else 0)
        parts = _derive_parts(data, start, (trait, *_IMPLIES.get(trait, ())))
        if parts is not None:
            out.append((f"derive {trait} for {ty}", Fixit(f"derive {trait}", parts)))
    return out


def _type_in(message: str) -> str | None:
    m = re.search(r"found for (?:struct|enum) `(\w+)`", message)
    return m.group(1) if m else None


def _derive_parts(data: bytes, start: int, traits: tuple[str, ...]) -> list[tuple[int, int, str]] | None:
    """Byte changes that derive ``traits`` on the item starting at ``start``: extend its derive, or add one."""
    before = data[:start]
    existing = re.search(rb"#\[derive\(([^)]*)\)\]\s*(?://[^\n]*\n\s*|#\[[^\]]*\]\s*)*$", before)
    if existing is not None:
        have = [t.strip() for t in existing.group(1).decode().split(",") if t.strip()]
        missing = [t for t in traits if t not in have and t.split("::")[-1] not in have]
        if not missing:
            return None
        a, b = existing.span(1)
        return [(a, b, ", ".join(have + sorted(missing, key=DERIVABLE.index)))]
    line_start = before.rfind(b"\n") + 1
    indent = before[line_start:]
    derive = "#[derive(" + ", ".join(sorted(set(traits), key=DERIVABLE.index)) + ")]"
    if indent.strip():  # the item sits mid-line (a one-line program): derive in place
        return [(start, start, derive + " ")]
    return [(start, start, derive + "\n" + indent.decode(errors="replace"))]


# --------------------------------------------------------------------------- Python

_DID_YOU_MEAN = re.compile(r"Did you mean:? '([^']+)'\??")
_NAME_ERROR = re.compile(r"name '([^']+)' is not defined")
_ATTRIBUTE = re.compile(r"has no attribute '([^']+)'")
_CANNOT_IMPORT = re.compile(r"cannot import name '([^']+)' from '([^']+)'")
_NO_MODULE = re.compile(r"No module named '([^']+)'")
_MODULE_ATTRIBUTE = re.compile(r"module '([\w.]+)' has no attribute '([^']+)'")
_KEY = re.compile(r"""^(?:KeyError: )?['"]([^'"]+)['"]$""")


def _python(source: str, diagnostics: list[Diagnostic], files: dict[str, str], file: str | None) -> Hints:
    out = Hints()
    if not diagnostics:
        return out
    diag = diagnostics[0]
    line = diag.primary.line_start if diag.primary else None
    message = diag.message
    meant = _DID_YOU_MEAN.search(message)
    name = _NAME_ERROR.search(message)
    attr = _ATTRIBUTE.search(message)
    package = _MODULE_ATTRIBUTE.search(message)
    if diag.code == "NameError" and name:
        missing = name.group(1)
        if meant:
            out.candidates += _renamed(source, line, missing, meant.group(1), attribute=False,
                                       hint=f"NameError: did you mean {meant.group(1)!r}")
        undefined = undefined_names(source)
        grouped = grouped_import_lines(missing, undefined)
        for statement in _project_imports(missing, undefined, files, file) + grouped[:2]:
            out.candidates.append(ToolCandidate("tool:python", add_import(source, statement), statement))
        for right in ([] if meant else typo_fixes(missing, source, files)):
            out.candidates += _renamed(source, line, missing, right, attribute=False,
                                       hint=f"NameError: a typo of {right!r}")
        out.candidates += _renamed_definition(source, missing, "NameError")
        for statement in _module_imports(missing, source, files, file):
            out.candidates.append(ToolCandidate("tool:python", add_import(source, statement), statement))
        for statement in import_lines_for(missing, source=source):
            out.candidates.append(ToolCandidate("tool:python", add_import(source, statement), statement))
        if line:
            out.candidates += _self_attribute(source, line, missing)
    elif diag.code == "UnboundLocalError" and (local := re.search(r"local variable '([^']+)'", message)) and line:
        out.candidates += _declared_global(source, line, local.group(1))
    elif diag.code == "AttributeError" and package and files and file \
            and file == pynames.file_of(package.group(1), files):
        out.candidates += _package_attribute(source, package.group(2), files, file)
    elif diag.code == "AttributeError" and attr and meant:
        out.candidates += _renamed(source, line, attr.group(1), meant.group(1), attribute=True,
                                   hint=f"AttributeError: did you mean {meant.group(1)!r}")
    elif diag.code == "AttributeError" and attr:
        out.candidates += _attribute_typo(source, line, attr.group(1), message, files)
    elif diag.code == "KeyError" and (key := _KEY.match(message.strip())):
        out.candidates += _misspelled_key(source, key.group(1), files)
    elif diag.code == "ImportError" and (bad := _CANNOT_IMPORT.search(message)):
        wrong, module = bad.groups()
        home = pynames.file_of(module, files) if files else None
        known = sorted(pynames.top_level_names(files[home])) if home else module_names(module)
        options = [meant.group(1)] if meant else difflib.get_close_matches(wrong, known, n=2)
        for right in options:
            out.candidates += _renamed(source, line, wrong, right, attribute=False,
                                       hint=f"ImportError: {right!r} in {module}")
        if home and home == file:  # this file is the module that lost the name (its own import of it, say)
            out.candidates += _package_attribute(source, wrong, files, file)
    elif diag.code == "ModuleNotFoundError" and (bad := _NO_MODULE.search(message)):
        wrong = bad.group(1).split(".")[0]
        own = {m.split(".")[0] for f in files if (m := pynames.module_of(f))}
        for right in difflib.get_close_matches(wrong, sorted(own) + load_index()["modules"], n=2):
            out.candidates += _renamed(source, line, wrong, right, attribute=False,
                                       hint=f"ModuleNotFoundError: module {right!r}")
    elif diag.code == "TypeError" and message.startswith("can only concatenate str") and line:
        out.candidates += _wrapped_in_str(source, line)
    if (diag.code == "AttributeError" or diag.code == "ImportError") and not out.candidates and not meant:
        out.skipped.append(f"{diag.code}: the interpreter gave no hint")
    return out


def _tokens(source: str) -> list[tokenize.TokenInfo] | None:
    try:
        return list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None


def _replace_tokens(source: str, hits: list[tokenize.TokenInfo], new: str) -> str:
    lines = source.splitlines(keepends=True)
    for tok in sorted(hits, key=lambda t: t.start, reverse=True):
        (row, col), (_, end) = tok.start, tok.end
        text = lines[row - 1]
        lines[row - 1] = text[:col] + new + text[end:]
    return "".join(lines)


def _renamed(source: str, line: int | None, old: str, new: str, attribute: bool, hint: str) -> list[ToolCandidate]:
    """``old`` renamed to ``new`` (as a name, never inside strings): on the failing line, then everywhere."""
    toks = _tokens(source)
    if toks is None:
        return []
    hits = [t for i, t in enumerate(toks) if t.type == tokenize.NAME and t.string == old
            and (not attribute or (i > 0 and toks[i - 1].string == "."))]
    on_line = [t for t in hits if line is not None and t.start[0] == line]
    out = []
    for chosen in (on_line, hits):
        if chosen:
            out.append(ToolCandidate("tool:python", _replace_tokens(source, chosen, new), hint))
    return out


def _newline(source: str) -> str:
    return "\r\n" if "\r\n" in source else "\n"


def add_import(source: str, statement: str) -> str:
    """``source`` with ``statement`` after its leading docstring, ``__future__`` and import lines."""
    lines = source.splitlines(keepends=True)
    at = 0
    try:
        body = ast.parse(source).body
    except SyntaxError:
        body = []
    for i, node in enumerate(body):
        is_doc = i == 0 and isinstance(node, ast.Expr) and isinstance(getattr(node, "value", None), ast.Constant) \
            and isinstance(node.value.value, str)
        if is_doc or isinstance(node, ast.Import | ast.ImportFrom):
            at = node.end_lineno or at
        else:
            break
    if at == 0:  # after a shebang / encoding line / leading comments
        while at < len(lines) and lines[at].lstrip().startswith("#"):
            at += 1
    nl = _newline(source)
    if at > 0 and at <= len(lines) and not lines[at - 1].endswith(("\n", "\r")):
        lines[at - 1] += nl
    lines.insert(at, statement + nl)
    return "".join(lines)


def _wrapped_in_str(source: str, line: int) -> list[ToolCandidate]:
    """``"total: " + n`` -> ``"total: " + str(n)``: each non-string operand of a ``+`` on the failing line."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    lines = source.splitlines(keepends=True)
    out = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and node.lineno <= line
                <= (node.end_lineno or node.lineno)):
            continue
        for operand in (node.right, node.left):
            if isinstance(operand, ast.Constant | ast.JoinedStr) or operand.lineno != operand.end_lineno:
                continue
            row, a, b = operand.lineno, operand.col_offset, operand.end_col_offset
            text = lines[row - 1]
            raw = text.encode()
            wrapped = raw[:a] + b"str(" + raw[a:b] + b")" + raw[b:]
            new_lines = [*lines]
            new_lines[row - 1] = wrapped.decode()
            out.append(ToolCandidate("tool:python", "".join(new_lines), "TypeError: wrap in str()"))
    return out


def _enclosing(tree: ast.AST, line: int, kinds) -> list[ast.AST]:
    """The nodes of ``kinds`` whose lines hold ``line``, outermost first."""
    return [n for n in ast.walk(tree) if isinstance(n, kinds) and n.lineno <= line <= (n.end_lineno or n.lineno)]


def _self_attribute(source: str, line: int, name: str) -> list[ToolCandidate]:
    """``balance`` inside a method of a class that sets ``self.balance``: what Python 3.12 suggests."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    classes = _enclosing(tree, line, ast.ClassDef)
    if not classes:
        return []
    cls = classes[-1]
    attrs = {n.attr for n in ast.walk(cls) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
             and n.value.id == "self"}
    attrs |= {n.name for n in cls.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    if name not in attrs:
        return []
    toks = _tokens(source)
    if toks is None:
        return []
    hits = [t for i, t in enumerate(toks) if t.type == tokenize.NAME and t.string == name and t.start[0] == line
            and not (i > 0 and toks[i - 1].string == ".")]
    return [ToolCandidate("tool:python", _replace_tokens(source, hits, f"self.{name}"),
                          f"NameError: did you mean 'self.{name}'")] if hits else []


def _declared_global(source: str, line: int, name: str) -> list[ToolCandidate]:
    """A function assigns a module-level (or enclosing) name it also reads: declare it ``global``/``nonlocal``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    funcs = _enclosing(tree, line, ast.FunctionDef | ast.AsyncFunctionDef)
    if not funcs:
        return []
    func = funcs[-1]
    first = func.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and len(func.body) > 1:
        first = func.body[1]  # after the docstring
    lines = source.splitlines(keepends=True)
    indent = re.match(r"[ \t]*", lines[first.lineno - 1]).group(0)
    keyword = "nonlocal" if len(funcs) > 1 else "global"
    new = [*lines]
    new.insert(first.lineno - 1, f"{indent}{keyword} {name}{_newline(source)}")
    return [ToolCandidate("tool:python", "".join(new), f"UnboundLocalError: declare {keyword} {name}")]


def edited_file(diag: Diagnostic, files: dict[str, str]) -> str | None:
    """The file a hint for ``diag`` edits when it is not where the error shows: ``module 'pkg' has no
    attribute 'x'`` raised in a test is repaired in ``pkg/__init__.py``; ``cannot import name 'x' from
    'pkg.mod'`` in ``pkg/mod.py`` when nothing there is a near miss of ``x``."""
    package = _MODULE_ATTRIBUTE.search(diag.message) if diag.code == "AttributeError" else None
    if package:
        return pynames.file_of(package.group(1), files)
    lost = _CANNOT_IMPORT.search(diag.message) if diag.code == "ImportError" else None
    home = pynames.file_of(lost.group(2), files) if lost else None
    if lost and home and not pynames.near(lost.group(1), set(pynames.top_level_names(files[home]))):
        return home  # no typo in the importer: the module lost the name (its own import of it, say)
    return None


def _project_imports(missing: str, undefined: list[str], files: dict[str, str], file: str | None) -> list[str]:
    """``from .mod import missing, ...`` where a module of the project defines ``missing``: with every
    other undefined name that module defines too (a dropped line took them all)."""
    out = []
    for module in pynames.defining_modules(missing, files, skip=file)[:2]:
        home = pynames.top_level_names(files[pynames.file_of(module, files)])
        names = [missing, *(n for n in undefined if n != missing and n in home)]
        out.append(f"from {pynames.import_from(file, module)} import {', '.join(names)}")
    return out


def _package_attribute(source: str, name: str, files: dict[str, str], file: str) -> list[ToolCandidate]:
    """A package's ``__init__`` lost the line that took ``name`` from one of its modules (the error shows
    far away, in whatever read ``pkg.name``): that module star-imported where the file star-imports
    others, the names the project reads off the package, or ``name`` alone."""
    package = pynames.module_of(file) or ""
    bound = pynames.top_level_names(source)
    wanted = pynames.names_taken_from(package, files) - bound
    out = []
    for module in pynames.defining_modules(name, files, skip=file)[:2]:
        where = pynames.import_from(file, module)
        home = pynames.top_level_names(files[pynames.file_of(module, files)])
        lines = [f"from {where} import *"] if pynames.star_imports(source) else []
        grouped = sorted((wanted & home) - {name})
        if grouped:
            lines.append(f"from {where} import {', '.join([name, *grouped])}")
        lines += [f"from {where} import {name}", f"from {where} import *"]
        for statement in dict.fromkeys(lines):
            out.append(ToolCandidate("tool:python", add_import(source, statement),
                                     f"AttributeError: {name} is defined in {module}: {statement}"))
    submodules = {m.rpartition(".")[2] for f in files
                  if (m := pynames.module_of(f)) and m.rpartition(".")[0] == package}
    if not out and name in submodules:
        out.append(ToolCandidate("tool:python", add_import(source, f"from . import {name}"),
                                 f"AttributeError: {name} is a submodule of {package}"))
    if not out:  # the module itself misnamed it: a definition, or a string of ``__all__``
        out += _renamed_definition(source, name, "AttributeError")
        for right in pynames.near(name, set(pynames.top_level_names(source))):
            out += _renamed_strings(source, right, [name], "AttributeError")
    return out


def _renamed_definition(source: str, missing: str, error: str) -> list[ToolCandidate]:
    """``def mege(...)`` where ``merge`` is what the rest of the project calls: the definition (and the
    file's own uses of it) renamed to the missing name."""
    defined = pynames.top_level_names(source) | pynames.definitions(source)
    out = []
    for wrong in pynames.near(missing, defined):
        out += _renamed(source, None, wrong, missing, attribute=False,
                        hint=f"{error}: {wrong!r} defined here is a typo of {missing!r}")[-1:]
    return out


def _module_imports(missing: str, source: str, files: dict[str, str], file: str | None) -> list[str]:
    """A module of the project used by its name (``exceptions.LexerError``, ``toolz.curry``) whose import
    line was dropped: ``import pkg`` for a top-level package, ``from pkg import mod`` for a submodule."""
    modules = [m for f in files if (m := pynames.module_of(f)) and m.rpartition(".")[2] == missing]
    out = []
    for module in sorted(modules, key=lambda m: m.count(".")):
        parent = module.rpartition(".")[0]
        if not parent:
            out.append(f"import {module}")
        else:
            relative = pynames.import_from(file, module)
            out.append(f"from {parent} import {missing}")
            if relative.startswith("."):
                out.append(f"from {relative.rpartition('.')[0] or '.'} import {missing}")
    return out[:2]


def _attribute_typo(source: str, line: int | None, wrong: str, message: str,
                    files: dict[str, str]) -> list[ToolCandidate]:
    """``itertools.cain``, ``sys.verion_info``, ``tuple.__add_``: where pytest shows no "Did you mean",
    the attribute renamed to the nearest name that the object's module or type has, or that the file uses."""
    pool = pynames.identifiers(source)
    if owner := _MODULE_ATTRIBUTE.search(message):
        module = owner.group(1)
        home = pynames.file_of(module, files) if files else None
        pool |= set(pynames.top_level_names(files[home])) if home else set(module_names(module))
    elif (kind := re.search(r"type object '(\w+)'|^'(\w+)' object", message)) and \
            isinstance(builtin := getattr(builtins, kind.group(1) or kind.group(2), None), type):
        pool |= set(dir(builtin))
    out = []
    for right in pynames.near(wrong, pool):
        out += _renamed(source, line, wrong, right, attribute=True, hint=f"AttributeError: a typo of {right!r}")
    return out


def _misspelled_key(source: str, key: str, files: dict[str, str]) -> list[ToolCandidate]:
    """A typo in a key, where no interpreter hint exists: ``data['verison']`` raising ``KeyError:
    'verison'`` gets the closest string or name the file (or the project) uses; a file that *defines*
    the key misspelt (``{"versin": ...}`` while another file reads ``'version'``) gets its key renamed."""
    strings = _string_values(source)
    pool = {v for v in strings if v.isidentifier()} | pynames.identifiers(source)
    if key in strings:
        pool |= {v for text in files.values() for v in _string_values(text) if v.isidentifier()}
        wanted = pynames.near(key, pool)
        out = []
        for right in wanted:
            out += _renamed_strings(source, right, [key], "KeyError")
        return out
    return _renamed_strings(source, key, pynames.near(key, {v for v in strings if v.isidentifier()}), "KeyError")


_QUOTED = re.compile(r"""["'](\w+)["']""")


def _string_values(source: str) -> set[str]:
    """The file's string literals, and the quoted words inside them (a key in embedded JSON)."""
    toks = _tokens(source) or []
    values = {v for t in toks if t.type == tokenize.STRING and isinstance(v := _literal(t.string), str)}
    return values | {w for v in values for w in _QUOTED.findall(v)}


def _renamed_strings(source: str, right: str, wrongs: list[str], error: str) -> list[ToolCandidate]:
    """Each string literal whose value is one of ``wrongs`` renamed to ``right`` (one candidate per wrong)."""
    toks = _tokens(source)
    if toks is None:
        return []
    out = []
    for wrong in wrongs:
        quoted = re.compile(rf"""(["']){re.escape(wrong)}(["'])""")
        hits = [t for t in toks if t.type == tokenize.STRING and (_literal(t.string) == wrong
                                                                   or quoted.search(t.string))]
        if not hits:
            continue
        lines = source.splitlines(keepends=True)
        for tok in sorted(hits, key=lambda t: t.start, reverse=True):
            new = tok.string.replace(wrong, right, 1) if _literal(tok.string) == wrong else \
                quoted.sub(lambda m: f"{m.group(1)}{right}{m.group(2)}", tok.string)
            (row, col), (end_row, end) = tok.start, tok.end
            head, tail = lines[row - 1][:col], lines[end_row - 1][end:]
            lines[row - 1:end_row] = [head + new + tail]
        out.append(ToolCandidate("tool:python", "".join(lines), f"{error}: {wrong!r} a typo of {right!r}"))
    return out


def _literal(token: str) -> object:
    try:
        return ast.literal_eval(token)
    except (ValueError, SyntaxError):
        return None
