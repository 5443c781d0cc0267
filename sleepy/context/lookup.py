"""Look-up tools the context manager calls while it builds a prompt: code the error points at, elsewhere.

An error quotes names (rustc: `` `Point` ``; Python: ``'tally'``) whose definitions often sit in another
file of the project, or outside the slice of a large file the prompt can show. Each tool answers one
question with a few numbered lines, parsed with tree-sitter (the Rust and Python grammars), never
with regexes over code:

* ``definition``: the struct, enum, trait, type, fn or class of that name (a long body shortened to
  its signature lines);
* ``impls``: the ``impl`` blocks of a type or trait, as their header and method signatures;
* ``imports``: how other files import the name (``use crate::shapes::Point;``, ``from .x import y``);
* ``calls``: call sites of a function the error names.

What is already on screen is not repeated. Every answer is a :class:`Lookup` whose ``name`` says which
tool ran on what and where it found it; the prompt logs it with the other parts of the attempt.
"""

from __future__ import annotations

import functools
import keyword
import re
from dataclasses import dataclass
from pathlib import Path

from sleepy.tasks.signature import Diagnostic
from sleepy.tasks.syntax import parse, walk

MAX_NAMES = 3  # quoted names looked up per error
MAX_LINES = 12  # lines one answer may show
MAX_CALLS = 3

_RUST_DEFS = ("struct_item", "enum_item", "trait_item", "function_item", "type_item", "union_item",
              "macro_definition", "const_item", "static_item")
_PY_DEFS = ("class_definition", "function_definition")
_SKIP = {"self", "Self", "mut", "ref", "dyn", "impl", "fn", "let", "str", "String", "Vec", "Option", "Result",
         "Box", "Some", "None", "Ok", "Err", "bool", "char", "usize", "isize", "f32", "f64", "u8", "u16", "u32",
         "u64", "u128", "i8", "i16", "i32", "i64", "i128", "int", "float", "list", "dict", "tuple", "set", "object",
         "NoneType", "type", "main", "std", "crate", "super"} | set(keyword.kwlist)


@dataclass
class Lookup:
    """One tool call's answer: what ran on what (``name``) and the lines it added (``text``)."""

    tool: str
    symbol: str
    file: str
    first_line: int
    text: str
    kind: str = ""  # the definition's node type (function_item, struct_item, class_definition...)

    @property
    def name(self) -> str:
        return f"lookup:{self.tool} {self.symbol} {self.file}:{self.first_line}"

    def render(self) -> str:
        return f"### context {self.tool} {self.symbol} ({self.file})\n{self.text.rstrip()}\n"


def quoted_names(diag: Diagnostic | None) -> list[str]:
    """The identifiers an error quotes (message, span labels, notes), most specific first."""
    if diag is None:
        return []
    text = " ".join([diag.message, *(s.label or "" for s in diag.spans), *diag.notes])
    found: list[str] = []
    for quoted in re.findall(r"`([^`]+)`|'([^']+)'", text):
        for word in re.findall(r"[A-Za-z_]\w*", quoted[0] or quoted[1]):
            if word not in _SKIP and word not in found and len(word) > 1:
                found.append(word)
    return found[:MAX_NAMES]


def _name_of(node) -> str | None:
    name = node.child_by_field_name("name")
    if name is None and node.type == "impl_item":
        name = node.child_by_field_name("type")
    return name.text.decode() if name is not None else None


def _numbered(source_lines: list[str], rows: list[int]) -> str:
    out, last = [], None
    for r in rows:
        if last is not None and r != last + 1:
            out.append("...")
        out.append(f"{r + 1}| {source_lines[r]}")
        last = r
    return "\n".join(out)


def _outline(node, lines: list[str]) -> list[int]:
    """The rows that show a definition: all of it when short, else its header and inner signatures."""
    first, last = node.start_point[0], node.end_point[0]
    if last - first < MAX_LINES:
        return list(range(first, last + 1))
    rows = [first]
    for child in walk(node):
        if child is not node and child.type in ("function_item", "function_signature_item", "function_definition",
                                                "field_declaration", "enum_variant"):
            rows.append(child.start_point[0])
    rows = sorted(set(rows))[: MAX_LINES - 1] + [last]
    return sorted(set(rows))


@dataclass(frozen=True)
class _Outline:
    """What the tools ask of one file, found in one walk of its tree."""

    defs: tuple  # (name, node type, node): struct, enum, trait, fn, type, class...
    impls: tuple  # (names: the type and the trait, node)
    imports: tuple  # (text, first row, last row)
    calls: tuple  # (callee, row)


@functools.lru_cache(maxsize=512)
def _outline_of(lang: str, source: str) -> _Outline:
    """Cached by the file's text: a day works many tasks of one project, whose other files do not change."""
    defs, impls, imports, calls = [], [], [], []
    def_kinds = _RUST_DEFS if lang == "rust" else _PY_DEFS
    import_kinds = ("use_declaration",) if lang == "rust" else ("import_statement", "import_from_statement")
    call = "call_expression" if lang == "rust" else "call"
    for node in walk(parse(lang, source).root_node):
        if node.type in def_kinds:
            defs.append((_name_of(node), node.type, node))
        elif node.type == "impl_item":
            trait = node.child_by_field_name("trait")
            impls.append(({_name_of(node), trait.text.decode().split("<")[0] if trait is not None else None}, node))
        elif node.type in import_kinds:
            imports.append((node.text.decode(), node.start_point[0], node.end_point[0]))
        elif node.type == call and (fn := node.child_by_field_name("function")) is not None:
            calls.append((fn.text.decode().replace("::", ".").split(".")[-1], node.start_point[0]))
    return _Outline(tuple(defs), tuple(impls), tuple(imports), tuple(calls))


class ProjectIndex:
    """The files of one task or project, parsed on demand; answers the look-up tools."""

    def __init__(self, lang: str, files: dict[str, str]) -> None:
        self.lang, self.files = lang, files

    def _outlines(self):
        for rel, text in self.files.items():
            yield rel, text.splitlines, _outline_of(self.lang, text)

    def definition(self, symbol: str) -> list[Lookup]:
        out = []
        for rel, lines_of, outline in self._outlines():
            for name, kind, node in outline.defs:
                if name == symbol:
                    lines = lines_of()
                    rows = _outline(node, lines)
                    out.append(Lookup("definition", symbol, rel, rows[0] + 1, _numbered(lines, rows), kind))
        return out[:2]

    def impls(self, symbol: str) -> list[Lookup]:
        out = []
        for rel, lines_of, outline in self._outlines():
            for names, node in outline.impls:
                if symbol in names:
                    lines = lines_of()
                    rows = _outline(node, lines)
                    out.append(Lookup("impls", symbol, rel, rows[0] + 1, _numbered(lines, rows)))
        return out[:2]

    def imports(self, symbol: str, exclude: str | None) -> list[Lookup]:
        out = []
        for rel, lines_of, outline in self._outlines():
            for text, first, last in outline.imports if rel != exclude else ():
                if re.search(rf"\b{re.escape(symbol)}\b", text):
                    rows = list(range(first, last + 1))[:MAX_LINES]
                    out.append(Lookup("imports", symbol, rel, rows[0] + 1, _numbered(lines_of(), rows)))
        return out[:1]

    def calls(self, symbol: str) -> list[Lookup]:
        out = []
        for rel, lines_of, outline in self._outlines():
            rows = sorted({row for callee, row in outline.calls if callee == symbol})[:MAX_CALLS]
            if rows:
                out.append(Lookup("calls", symbol, rel, rows[0] + 1, _numbered(lines_of(), rows)))
        return out[:2]


def gather(lang: str, files: dict[str, str], file: str, diag: Diagnostic | None,
           shown_rows: set[int] | None = None) -> list[Lookup]:
    """What the tools add for ``diag`` in ``file``: definitions (and impls, imports, call sites) of the names
    it quotes, except lines of ``file`` the prompt already shows (``shown_rows``, 1-based; None: all)."""
    index = ProjectIndex(lang, files)
    out: list[Lookup] = []
    try:
        for symbol in quoted_names(diag):
            found = index.definition(symbol)
            found += index.impls(symbol) if found else []
            found += index.imports(symbol, exclude=file)
            if any(f.kind in ("function_item", "function_definition") for f in found):
                found += index.calls(symbol)
            for f in found:
                if f.file == file and _on_screen(f, shown_rows):
                    continue
                if all((f.tool, f.file, f.first_line) != (g.tool, g.file, g.first_line) for g in out):
                    out.append(f)
    except (ImportError, OSError):  # tree-sitter missing: the prompt goes without look-ups
        return []
    return out


def _on_screen(found: Lookup, shown_rows: set[int] | None) -> bool:
    rows = {int(line.split("|", 1)[0]) for line in found.text.splitlines() if line[:1].isdigit()}
    return shown_rows is None or rows <= shown_rows


@functools.lru_cache(maxsize=16)
def project_sources(root: str) -> dict[str, str]:
    """The source files of the project at ``root`` (read once per process: a day's tasks share them)."""
    from sleepy.tasks.project.detect import ProjectError, detect_project

    try:
        project = detect_project(Path(root))
    except (ProjectError, OSError):
        return {}
    ext = ".rs" if project.kind == "cargo" else ".py"
    return {rel: text for rel, text in project.files.items() if rel.endswith(ext)}


def lookups_for(task, source: str, diag: Diagnostic | None, full_lines: int,
                files: dict[str, str] | None = None) -> list[Lookup]:
    """The look-ups a prompt for ``task`` gets (training examples and the agent call this alike, so they
    never drift): other files of its project (``files`` as they stand, else read from its folder), and
    parts of its own file a prompt of ``full_lines`` or fewer lines would show whole, but a longer
    file's slice may not."""
    n_lines = source.count("\n") + 1
    if task.file and (files or task.project):
        files, file = {**(files or project_sources(task.project)), task.file: source}, task.file
    elif n_lines > full_lines:
        files, file = {task.filename: source}, task.filename
    else:
        return []
    shown = None
    if n_lines > full_lines:
        focus = {s.line_start for s in diag.spans} if diag and diag.spans else {1}
        shown = {n for f in focus for n in range(f - 20, f + 21)}
    return gather(task.pack, files, file, diag, shown)
