"""Small repairs at the lines a Python failure points to: generate-and-validate program repair.

Why: hand-written programs fail on slips the interpreter prints no hint for: an off-by-one bound, ``<`` for
``<=``, ``and`` for ``or``, a function that falls off its end and hands back ``None``, a dict read before the
key exists, a list where a set was meant, ``parts.join(", ")``. Each repair is one small edit at one
suspicious place; the caller verifies every candidate program like any other (the task's own tests decide),
so a wrong repair costs one verification and nothing else. This is the classic operator set of
mutation-based program repair, aimed by the traceback rather than tried everywhere.

Where to look, in order: the frames of the traceback inside this file, deepest first; the loop headers
around them (an index out of range is often the loop's bound); then the bodies of the file's functions
those lines call (an ``assert`` in a test blames the function it calls, not itself).

Repairs that follow from the error come first (a ``KeyError`` read; a ``NoneType`` from a function that
returns nothing, from ``xs.sort()`` used for its value, or from ``re.match`` where ``re.search`` was meant; a
loop over a number; a list read as a dict; a method the receiver's type lacks but another container has, or
its elements have; ``str`` against ``int``; a list as a dict key; a property called or a method not called;
an attribute set only under an ``if``; a key the file never writes; a shared mutable default; arguments in
another order; the container an index ran off; a ``.get`` without a default; a chained method that returns
nothing; a pop from an empty stack); then the generic operators, line by line. A failed top-level check also
points at the script's statements that computed what it reads (their operators, never their data).

Measured (tools alone, no model): the frozen Python koans 18 -> 30 of 36, benchmarks/koans/python-shapes
8 -> 16 of 24, the generated holdout 25 -> 28 of 60 with none lost (the last written without reading it).
"""

from __future__ import annotations

import ast
import difflib
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

from sleepy.tasks.signature import TRACE_FRAME, Diagnostic

PROJECT_REPAIRS = 4  # repairs tried per step on a project, whose every verification runs its tests
_NO_ATTRIBUTE = re.compile(r"^'(\w+)' object has no attribute '(\w+)'")
_STR_AND_NUMBER = re.compile(r"(?:unsupported operand type\(s\) for .+|'.+' not supported between instances of) "
                             r"'(\w+)' and '(\w+)'")

# The empty container that has a method, for a receiver of the wrong kind (deque needs its import).
_CONTAINER_OF = {
    **dict.fromkeys(("append", "extend", "insert", "sort", "reverse", "index", "count"), "[]"),
    **dict.fromkeys(("add", "discard", "union", "intersection", "difference", "issubset"), "set()"),
    **dict.fromkeys(("items", "keys", "values", "get", "setdefault", "update"), "{}"),
    **dict.fromkeys(("popleft", "appendleft", "extendleft", "rotate"), "deque()"),
}
# A method of one container called on another (``tags.add`` on a list, ``seen.append`` on a set): the method
# of the receiver's own type that does the same job.
_ANALOGUE = {
    "list": {"add": "append", "push": "append", "update": "extend", "discard": "remove", "popleft": "pop"},
    "set": {"append": "add", "push": "add", "extend": "update", "insert": "add"},
    "deque": {"add": "append", "push": "append"},
    "dict": {"has_key": "__contains__", "iteritems": "items", "itervalues": "values", "iterkeys": "keys"},
    "str": {"contains": "__contains__", "trim": "strip", "to_upper": "upper", "to_lower": "lower",
            "toUpperCase": "upper", "toLowerCase": "lower", "startsWith": "startswith", "endsWith": "endswith"},
}
# A method another language (or Python 2) has, whose Python is an expression: {0} the receiver, {1} the argument.
_EXPRESSION_ANALOGUE = {("str", "reverse"): "{0}[::-1]", ("list", "length"): "len({0})", ("str", "length"): "len({0})",
                        ("dict", "has_key"): "{1} in {0}", ("str", "contains"): "{1} in {0}",
                        ("list", "contains"): "{1} in {0}", ("set", "contains"): "{1} in {0}"}
_EMPTY = {"[]", "{}", "set()", "list()", "dict()", "deque()", "()", "tuple()"}
_MUTABLE_DEFAULTS = {"[]", "{}", "set()", "list()", "dict()"}
_KEY_ERROR = re.compile(r"^'(.+)'$")
_UNHASHABLE = re.compile(r"^(?:cannot use '[\w.]+' as a \w+ element \()?unhashable type: '(\w+)'")
_NOT_CALLABLE = re.compile(r"^'(\w+)' object is not callable")
_HASHABLE_FORM = {"list": "tuple({0})", "set": "frozenset({0})", "bytearray": "bytes({0})"}
_CONTAINER_KINDS = {"list", "tuple", "set", "frozenset", "dict_keys", "dict_values", "map", "filter", "generator",
                    "deque"}
# Methods that change their receiver and hand back None: their value is a slip (``ordered = xs.sort()``).
_MUTATORS = {"append", "extend", "insert", "update", "add", "remove", "discard", "clear", "sort", "reverse"}
# What a failed regex match (None) meets next: ``m.groups()``, ``m[1]``.
_NO_MATCH = re.compile(r"'NoneType' object (?:has no attribute '(?:group|groups|groupdict|start|end|span)'"
                       r"|is not subscriptable)")
# A list where a mapping was meant: the pairs are there already (``for k, v in pairs.items()``).
_LIST_AS_DICT = {"items": ("{0}", "enumerate({0})"), "values": ("{0}",), "keys": ("range(len({0}))",)}
_COMPARE_SWAPS = {ast.Lt: "<=", ast.LtE: "<", ast.Gt: ">=", ast.GtE: ">", ast.Eq: "!=", ast.NotEq: "==",
                  ast.Is: "is not", ast.IsNot: "is", ast.In: "not in", ast.NotIn: "in"}
_COMPARE_TEXT = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
                 ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}
_ARITH_SWAPS = {ast.Add: ("+", "-"), ast.Sub: ("-", "+"), ast.Div: ("/", "//"), ast.FloorDiv: ("//", "/")}


@dataclass
class Repair:
    """One candidate program and the edit that made it, in one line."""

    program: str
    hint: str


class _Text:
    """The source with AST positions (UTF-8 byte columns) turned into string offsets."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines = source.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, line: int, col: int) -> int:
        text = self.lines[line - 1] if line - 1 < len(self.lines) else ""
        return self.starts[line - 1] + len(text.encode()[:col].decode(errors="ignore"))

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (self.offset(node.lineno, node.col_offset), self.offset(node.end_lineno, node.end_col_offset))

    def text(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.source[start:end]

    def replace(self, start: int, end: int, new: str) -> str:
        return self.source[:start] + new + self.source[end:]

    def replace_node(self, node: ast.AST, new: str) -> str:
        return self.replace(*self.span(node), new)

    def edit(self, edits: list[tuple[int, int, str]]) -> str:
        """Several replacements ``(start, end, new)`` at once, offsets all of this source (none overlapping)."""
        program = self.source
        for start, end, new in sorted(edits, key=lambda e: e[:2], reverse=True):
            program = program[:start] + new + program[end:]
        return program

    def replace_nodes(self, pairs: list[tuple[ast.AST, str]]) -> str:
        return self.edit([(*self.span(node), new) for node, new in pairs])

    def replace_between(self, left: ast.AST, right: ast.AST, old: str, new: str) -> str | None:
        """Replace the operator ``old`` in the text between two operands (a comparison's, a boolean's)."""
        start, end = self.offset(left.end_lineno, left.end_col_offset), self.offset(right.lineno, right.col_offset)
        gap = self.source[start:end]
        found = re.search(rf"(?<![\w<>=!/]){re.escape(old)}(?![\w<>=/])", gap) if old[0].isalpha() else \
            re.search(rf"(?<![<>=!/]){re.escape(old)}(?![<>=/])", gap)
        if found is None:
            return None
        return self.replace(start + found.start(), start + found.end(), new)


def repairs(source: str, diag: Diagnostic, file: str | None = None, limit: int = 16) -> list[Repair]:
    """Up to ``limit`` repaired programs for ``diag`` on ``source`` (unverified, most likely first)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    text = _Text(source)
    frames = frame_lines(diag, file)
    editable = editable_lines(tree, diag, frames)
    sources = assert_sources(tree, frames[0]) if diag.code == "AssertionError" and frames else []
    # The script's own statements a failed check reads: code, not the check; their operators may change,
    # never their data (numbers, bounds).
    data = {line for stmt in tree.body if stmt.lineno in sources
            for line in range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1)}
    editable |= data
    lines = [line for line in suspicious_lines(tree, frames + sources) if line in editable]
    out: list[Repair] = []
    seen = {source}
    for repair in _all(tree, text, diag, lines, editable, frames, data):
        if repair.program not in seen and _parses(repair.program):
            seen.add(repair.program)
            out.append(repair)
            if len(out) >= limit:
                break
    return out


def _parses(program: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # "invalid decimal literal" in a candidate: it is dropped
        try:
            ast.parse(program)
        except SyntaxError:
            return False
    return True


def frame_lines(diag: Diagnostic, file: str | None) -> list[int]:
    """The traceback's lines in this file, deepest first (the primary span's line when there is no traceback)."""
    name = (file or (diag.primary.file if diag.primary else "") or "").rsplit("/", 1)[-1]
    found = [int(m.group("line")) for m in TRACE_FRAME.finditer(diag.rendered or "")
             if name and m.group("file").rsplit("/", 1)[-1] == name]
    if not found and diag.primary and diag.primary.line_start:
        found = [diag.primary.line_start]
    return list(dict.fromkeys(reversed(found)))


def editable_lines(tree: ast.AST, diag: Diagnostic, frames: list[int]) -> set[int]:
    """Lines a repair may touch: inside functions that are not tests (``test*``, or in a ``Test*`` class); for
    a crash (not a failed check), also the line that crashed and the loop headers around it, wherever they are
    (a script's top level). Never an ``assert`` or a test: the checks are the specification, and a repair
    that made them pass by changing them would be tampering (:mod:`sleepy.tasks.tamper` refuses it anyway)."""
    lines: set[int] = set()
    forbidden: set[int] = set()
    for node in ast.walk(tree):
        tests = isinstance(node, ast.ClassDef) and node.name.startswith("Test")
        for fn in (node.body if isinstance(node, ast.ClassDef | ast.Module) else []):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                body = range(fn.body[0].lineno, (fn.end_lineno or fn.lineno) + 1)
                (forbidden if tests or fn.name.startswith("test") else lines).update(body)
        if isinstance(node, ast.Assert):
            forbidden.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    if frames and diag.code != "AssertionError":
        lines.add(frames[0])
        lines.update(n.lineno for n in ast.walk(tree) if isinstance(n, ast.For | ast.While)
                     and n.lineno < frames[0] <= (n.end_lineno or n.lineno))
    return lines - forbidden


def _functions(tree: ast.AST) -> dict[str, ast.FunctionDef]:
    """Functions and methods by their plain name (a call says ``obj.name``, not ``Class.name``)."""
    found: dict[str, ast.FunctionDef] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.setdefault(node.name, node)
    return found


def _called(node: ast.AST) -> list[str]:
    """Names of what a statement calls (``f(x)``, ``obj.f(x)``), in source order."""
    names = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            if isinstance(func, ast.Name):
                names.append(func.id)
            elif isinstance(func, ast.Attribute):
                names.append(func.attr)
    return names


def _statements_at(tree: ast.AST, line: int) -> list[ast.stmt]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.stmt) and n.lineno <= line <= (n.end_lineno or n.lineno)
            and not isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]


def suspicious_lines(tree: ast.AST, frames: list[int]) -> list[int]:
    """Frame lines (deepest first), the headers of loops around them, then the lines of functions they call."""
    out: list[int] = []
    for line in frames:
        out.append(line)
        loops = [n for n in ast.walk(tree) if isinstance(n, ast.For | ast.While | ast.comprehension)
                 and getattr(n, "lineno", None) is not None and n.lineno < line <= (n.end_lineno or n.lineno)]
        out += sorted({n.lineno for n in loops}, reverse=True)
    functions = _functions(tree)
    queue = [name for line in frames for stmt in _statements_at(tree, line)[-1:] for name in _called(stmt)]
    visited: set[str] = set()
    while queue:
        name = queue.pop(0)
        if name in visited or name not in functions:
            continue
        visited.add(name)
        fn = functions[name]
        for stmt in ast.walk(fn):
            if isinstance(stmt, ast.stmt) and stmt is not fn:
                out.append(stmt.lineno)
        queue += [n for stmt in fn.body for n in _called(stmt)]
    return list(dict.fromkeys(out))


# ---------------------------------------------------------------------------------------------- operators
def _all(tree: ast.AST, text: _Text, diag: Diagnostic, lines: list[int], editable: set[int],
         frames: list[int], data: set[int]) -> Iterator[Repair]:
    at = lines[0] if lines else None
    message = diag.message or ""
    if diag.code == "KeyError" and at:
        yield from _dict_reads(tree, text, at)
    if diag.code == "KeyError" and at and (key := _KEY_ERROR.match(message)):
        yield from _written_keys(tree, text, at, key.group(1))
    if "NoneType" in message or diag.code == "AssertionError":  # None met later, or compared by a check
        yield from _mutator_values(tree, text, editable)
        if _NO_MATCH.search(message):
            yield from _search_not_match(tree, text, editable)
    if diag.code == "TypeError" and "'int' object is not iterable" in message:
        yield from _ranges(tree, text, lines[:3])
    if diag.code == "AttributeError" and at and (wrong := _NO_ATTRIBUTE.match(message)):
        if wrong.group(1) == "list":
            yield from _list_as_dict(tree, text, at, wrong.group(2))
        yield from _swapped_join(tree, text, at, wrong.group(2))
        yield from _analogue_method(tree, text, at, wrong.group(1), wrong.group(2))
        yield from _expression_analogue(tree, text, at, wrong.group(1), wrong.group(2))
        yield from _container_swap(tree, text, at, wrong.group(2))
        yield from _own_attribute(tree, text, at, wrong.group(1), wrong.group(2))
        yield from _each_element(tree, text, at, wrong.group(1), wrong.group(2))
        yield from _conditional_attribute(tree, text, wrong.group(1), wrong.group(2))
    if diag.code == "TypeError" and at and (unhashable := _UNHASHABLE.match(message)):
        yield from _hashable_keys(tree, text, at, unhashable.group(1))
    if diag.code == "TypeError" and at and _NOT_CALLABLE.match(message):
        yield from _not_called(tree, text, at)
    if diag.code == "TypeError" and at and (kinds := _STR_AND_NUMBER.search(message)) and \
            {"method", "function", "builtin_function_or_method"} & set(kinds.groups()):
        yield from _method_called(tree, text, at)
    if diag.code == "IndexError" and at:
        for line in _assignments_of_indexed(tree, at):
            if line in editable:
                yield from _off_by_one(tree, text, line)
    if "NoneType" in message or diag.code == "AssertionError":
        yield from _missing_returns(tree, text, lines)
    if diag.code == "TypeError" and "NoneType" in message:
        yield from _get_defaults(tree, text, lines, editable)
    if diag.code == "IndexError" and "pop from empty" in message and at:
        yield from _guarded_pops(tree, text, at)
    if diag.code == "TypeError" and at and (kinds := _STR_AND_NUMBER.search(message)) and "str" in kinds.groups():
        yield from _numbers_from_text(tree, text, at)
    if diag.code == "AssertionError":
        yield from _mutable_defaults(tree, text, editable)
    if diag.code in ("TypeError", "AttributeError", "ValueError", "KeyError", "IndexError") and len(frames) > 1:
        yield from _argument_orders(tree, text, frames[1:], editable)
    for line in lines:
        yield from _at_line(tree, text, line, shift=line not in data)


def _call_text(text: _Text, call: ast.Call) -> str:
    """A call's arguments as written (positional, then keywords)."""
    return ", ".join(text.text(a) for a in [*call.args, *call.keywords])


def _mutator_values(tree: ast.AST, text: _Text, editable: set[int]) -> Iterator[Repair]:
    """A method that changes its receiver and returns None, used for its value (``ordered = xs.sort()``,
    ``return items.append(x)``): its value-returning twin (``sorted(xs)``, ``list(reversed(xs))``), or the
    call as a statement and the receiver as the value."""
    for stmt in ast.walk(tree):
        if not isinstance(stmt, ast.Assign | ast.AnnAssign | ast.Return) or stmt.lineno not in editable:
            continue
        call = stmt.value
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in _MUTATORS):
            continue
        receiver, args, method = text.text(call.func.value), _call_text(text, call), call.func.attr
        if method == "sort":
            yield Repair(text.replace_node(call, f"sorted({receiver}{', ' + args if args else ''})"),
                         f"line {stmt.lineno}: {receiver}.sort() -> sorted({receiver})")
        elif method == "reverse" and not args:
            yield Repair(text.replace_node(call, f"list(reversed({receiver}))"),
                         f"line {stmt.lineno}: {receiver}.reverse() -> list(reversed({receiver}))")
        targets = [text.text(t) for t in _targets(stmt)] if not isinstance(stmt, ast.Return) else []
        indent = " " * stmt.col_offset
        if isinstance(stmt, ast.Return):
            then = f"\n{indent}return {receiver}"
        elif targets == [receiver]:
            then = ""  # x = x.append(v): the call alone
        else:
            then = f"\n{indent}{' = '.join(targets)} = {receiver}"
        yield Repair(text.replace_node(stmt, text.text(call) + then),
                     f"line {stmt.lineno}: {receiver}.{method}() returns None; {receiver} is the value")


def _search_not_match(tree: ast.AST, text: _Text, editable: set[int]) -> Iterator[Repair]:
    """A regex that matched nothing (None met ``.groups()``): ``re.match`` anchors at the start, the text may
    have a prefix (``v2.0.0``): ``re.search``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr in ("match", "fullmatch") and node.lineno in editable:
            start = text.offset(node.func.end_lineno, node.func.end_col_offset) - len(node.func.attr)
            yield Repair(text.replace(start, start + len(node.func.attr), "search"),
                         f"line {node.lineno}: .{node.func.attr}( -> .search(")


def _ranges(tree: ast.AST, text: _Text, lines: list[int]) -> Iterator[Repair]:
    """A loop over a number (``for c in n_cols``): over ``range`` of it."""
    for node in ast.walk(tree):
        if isinstance(node, ast.For | ast.comprehension) and node.iter.lineno in lines and not (
                isinstance(node.iter, ast.Call) and isinstance(node.iter.func, ast.Name)
                and node.iter.func.id == "range"):
            yield Repair(text.replace_node(node.iter, f"range({text.text(node.iter)})"),
                         f"line {node.iter.lineno}: in {text.text(node.iter)} -> in range(...)")


def _list_as_dict(tree: ast.AST, text: _Text, line: int, method: str) -> Iterator[Repair]:
    """``pairs.items()`` on a list: the list of pairs itself, or its indices (``enumerate``)."""
    for node in _nodes_on(tree, line, ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr == method and not node.args:
            for form in _LIST_AS_DICT.get(method, ()):
                new = form.format(text.text(node.func.value))
                yield Repair(text.replace_node(node, new), f"line {line}: {text.text(node)} -> {new}")


def _nodes_on(tree: ast.AST, line: int, kinds) -> list[ast.AST]:
    """Nodes of ``kinds`` that start on ``line``, outermost first."""
    return [n for n in ast.walk(tree) if isinstance(n, kinds) and getattr(n, "lineno", None) == line]


def _at_line(tree: ast.AST, text: _Text, line: int, shift: bool = True) -> Iterator[Repair]:
    """The generic operators on one line: comparisons, ``and``/``or``, arithmetic, and (``shift``) bounds and
    indexes moved by one."""
    for node in _nodes_on(tree, line, ast.Compare):
        operands = [node.left, *node.comparators]
        for i, op in enumerate(node.ops):
            new = _COMPARE_SWAPS.get(type(op))
            program = new and text.replace_between(operands[i], operands[i + 1], _COMPARE_TEXT[type(op)], new)
            if program:
                yield Repair(program, f"line {line}: {_COMPARE_TEXT[type(op)]} -> {new}")
    if shift:
        yield from _off_by_one(tree, text, line)
    for node in _nodes_on(tree, line, ast.BoolOp):
        old, new = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
        program = text.replace_between(node.values[0], node.values[1], old, new)
        if program:
            yield Repair(program, f"line {line}: {old} -> {new}")
    for node in _nodes_on(tree, line, ast.BinOp):
        if type(node.op) in _ARITH_SWAPS:
            old, new = _ARITH_SWAPS[type(node.op)]
            program = text.replace_between(node.left, node.right, old, new)
            if program:
                yield Repair(program, f"line {line}: {old} -> {new}")


def _is_one(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value == 1 and not isinstance(node.value, bool)


def _shifted(text: _Text, node: ast.AST) -> Iterator[tuple[str, str]]:
    """``e`` as ``e - 1`` and ``e + 1``, and ``e ± 1`` as ``e``: (new text, how)."""
    own = text.text(node)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub) and _is_one(node.right):
        yield text.text(node.left), f"{own} -> {text.text(node.left)}"
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        for new in (node.value - 1, node.value + 1):
            yield str(new), f"{own} -> {new}"
        return
    simple = isinstance(node, ast.Name | ast.Attribute | ast.Call | ast.Subscript)
    wrapped = own if simple else f"({own})"
    for sign in ("-", "+"):
        yield f"{wrapped} {sign} 1", f"{own} -> {wrapped} {sign} 1"


def _off_by_one(tree: ast.AST, text: _Text, line: int) -> Iterator[Repair]:
    """Bounds of ``range()``, indexes and slice ends on ``line`` moved by one (string keys are left alone)."""
    targets: list[ast.AST] = []
    for node in _nodes_on(tree, line, ast.Call):
        if isinstance(node.func, ast.Name) and node.func.id == "range":
            targets += node.args
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and node.lineno == line:
            index = node.slice
            if isinstance(index, ast.Slice):
                targets += [b for b in (index.lower, index.upper) if b is not None]
            elif not (isinstance(index, ast.Constant) and isinstance(index.value, str)) and \
                    not isinstance(index, ast.Tuple):
                targets.append(index)
    for target in targets:
        for new, how in _shifted(text, target):
            yield Repair(text.replace_node(target, new), f"line {line}: {how}")


def _dict_reads(tree: ast.AST, text: _Text, line: int) -> Iterator[Repair]:
    """A ``KeyError`` on a read: ``d[k] += v`` as ``d[k] = d.get(k, 0) + v``, ``d[k].append(v)`` as
    ``d.setdefault(k, []).append(v)``, any other read as ``d.get(k)``."""
    for node in _nodes_on(tree, line, ast.AugAssign):
        target = node.target
        if isinstance(target, ast.Subscript) and not isinstance(target.slice, ast.Slice):
            d, k = text.text(target.value), text.text(target.slice)
            op = {ast.Add: "+", ast.Sub: "-"}.get(type(node.op))
            if op:
                start = text.span(node)[0]
                new = f"{text.text(target)} = {d}.get({k}, 0) {op} {text.text(node.value)}"
                yield Repair(text.replace(start, text.span(node)[1], new), f"line {line}: {d}[{k}] read with .get")
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Subscript) and node.lineno == line and isinstance(node.ctx, ast.Load)) or \
                isinstance(node.slice, ast.Slice):
            continue
        d, k = text.text(node.value), text.text(node.slice)
        parent = _parent_call_attribute(tree, node)
        if parent in ("append", "extend"):
            yield Repair(text.replace_node(node, f"{d}.setdefault({k}, [])"), f"line {line}: {d}.setdefault")
        elif parent in ("add", "update"):
            empty = "set()" if parent == "add" else "{}"
            yield Repair(text.replace_node(node, f"{d}.setdefault({k}, {empty})"), f"line {line}: {d}.setdefault")
        yield Repair(text.replace_node(node, f"{d}.get({k})"), f"line {line}: {d}[{k}] read with .get")


def _parent_call_attribute(tree: ast.AST, node: ast.AST) -> str | None:
    """``m`` when ``node`` is the receiver of a method call ``node.m(...)``."""
    for sub in ast.walk(tree):
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.value is node:
            return sub.func.attr
    return None


def _swapped_join(tree: ast.AST, text: _Text, line: int, method: str) -> Iterator[Repair]:
    """``parts.join(", ")`` (a list has no ``join``) as ``", ".join(parts)``."""
    if method != "join":
        return
    for node in _nodes_on(tree, line, ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr == "join" and len(node.args) == 1:
            receiver, argument = text.text(node.func.value), text.text(node.args[0])
            yield Repair(text.replace_node(node, f"{argument}.join({receiver})"), f"line {line}: join swapped")


def _analogue_method(tree: ast.AST, text: _Text, line: int, kind: str, method: str) -> Iterator[Repair]:
    """``tags.add(x)`` on a list as ``tags.append(x)``: the receiver's type keeps, the method changes."""
    new = _ANALOGUE.get(kind, {}).get(method)
    if new is None or new.startswith("__"):
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == method and node.lineno == line:
            start = text.offset(node.end_lineno, node.end_col_offset) - len(method)
            yield Repair(text.replace(start, start + len(method), new), f"line {line}: .{method} -> .{new}")


def _expression_analogue(tree: ast.AST, text: _Text, line: int, kind: str, method: str) -> Iterator[Repair]:
    """``name.reverse()`` on a str as ``name[::-1]``, ``d.has_key(k)`` as ``k in d``: another language's method
    whose Python is an expression."""
    form = _EXPRESSION_ANALOGUE.get((kind, method))
    if form is None:
        return
    for node in _nodes_on(tree, line, ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr == method and \
                len(node.args) == form.count("{1}") and not node.keywords:
            receiver = text.text(node.func.value)
            if not isinstance(node.func.value, ast.Name | ast.Attribute | ast.Call | ast.Subscript | ast.Constant):
                receiver = f"({receiver})"
            new = form.format(receiver, *(text.text(a) for a in node.args))
            yield Repair(text.replace_node(node, new), f"line {line}: {text.text(node)} -> {new}")


def _parents(tree: ast.AST) -> dict[int, ast.AST]:
    return {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _each_element(tree: ast.AST, text: _Text, line: int, kind: str, method: str) -> Iterator[Repair]:
    """A method of the elements called on their container (``raw.split(",").strip()``, ``tags.lower()``): the
    call, and the method calls chained after it, made on each element (``[t.strip().lower() for t in tags]``)."""
    if kind not in _CONTAINER_KINDS:
        return
    parents = _parents(tree)
    for node in _nodes_on(tree, line, ast.Call):
        if not (isinstance(node.func, ast.Attribute) and node.func.attr == method):
            continue
        receiver = node.func.value
        chain: ast.AST = node
        while isinstance(up := parents.get(id(chain)), ast.Attribute) and \
                isinstance(call := parents.get(id(up)), ast.Call) and call.func is up:
            chain = call
        base = receiver.id if isinstance(receiver, ast.Name) else "items"
        element = base[:-1] if base.endswith("s") and len(base) > 2 else "item"
        used = {n.id for n in ast.walk(chain) if isinstance(n, ast.Name)}
        while element in used:
            element += "_"
        applied = element + text.source[text.span(receiver)[1]:text.span(chain)[1]]
        opening, closing = ("{", "}") if kind in ("set", "frozenset") else ("[", "]")
        new = f"{opening}{applied} for {element} in {text.text(receiver)}{closing}"
        yield Repair(text.replace_node(chain, new), f"line {line}: .{method}() on each element of the {kind}")


def _conditional_attribute(tree: ast.AST, text: _Text, kind: str, attribute: str) -> Iterator[Repair]:
    """``self.offset`` set only under an ``if`` of a method (``if offset is not None:``): an instance that took
    the other branch has none. A default before the ``if`` (0, None, an empty string or list)."""
    for cls in ast.walk(tree):
        if not (isinstance(cls, ast.ClassDef) and cls.name == kind):
            continue
        for fn in cls.body:
            if not isinstance(fn, ast.FunctionDef):
                continue
            for stmt in fn.body:
                assigned = isinstance(stmt, ast.If) and any(
                    isinstance(t, ast.Attribute) and t.attr == attribute and isinstance(t.value, ast.Name)
                    and t.value.id == "self" for n in ast.walk(stmt) if isinstance(n, ast.Assign) for t in n.targets)
                if not assigned:
                    continue
                start = text.offset(stmt.lineno, 0)
                indent = " " * stmt.col_offset
                for default in ("0", "None", '""', "[]"):
                    program = text.replace(start, start, f"{indent}self.{attribute} = {default}\n")
                    yield Repair(program, f"{kind}.{fn.name}: self.{attribute} = {default} before the if")
                return


def _hashable_keys(tree: ast.AST, text: _Text, line: int, kind: str) -> Iterator[Repair]:
    """A list used as a dict key or set element (``visits[pos]`` with ``pos = [x, y]``): the key made hashable
    (``tuple(pos)``) everywhere the line uses it that way, or the list built as a tuple where it is made."""
    form = _HASHABLE_FORM.get(kind)
    if form is None:
        return
    keys: list[ast.AST] = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) != line:
            continue
        if isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Slice | ast.Constant):
            keys.append(node.slice)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args and \
                node.func.attr in ("get", "setdefault", "pop", "add", "discard", "remove", "count", "index"):
            keys.append(node.args[0])
        elif isinstance(node, ast.Compare) and any(isinstance(op, ast.In | ast.NotIn) for op in node.ops):
            keys.append(node.left)
        elif isinstance(node, ast.Dict):
            keys += [k for k in node.keys if k is not None and not isinstance(k, ast.Constant)]
        elif isinstance(node, ast.Set):
            keys += [e for e in node.elts if not isinstance(e, ast.Constant)]
    by_text: dict[str, list[ast.AST]] = {}
    for key in keys:
        by_text.setdefault(text.text(key), []).append(key)
    for words, nodes in by_text.items():
        program = text.replace_nodes([(node, form.format(words)) for node in nodes])
        yield Repair(program, f"line {line}: {words} as {form.format(words)}")
        made = [n for n in ast.walk(tree) if isinstance(n, ast.Assign) and n.lineno <= line
                and isinstance(n.value, ast.List) and any(text.text(t) == words for t in n.targets)]
        for node in sorted(made, key=lambda n: n.lineno, reverse=True)[:1]:
            inner = ", ".join(text.text(e) for e in node.value.elts)
            tuple_text = f"({inner},)" if len(node.value.elts) == 1 else f"({inner})"
            yield Repair(text.replace_node(node.value, tuple_text), f"line {node.lineno}: {words} made a tuple")


def _not_called(tree: ast.AST, text: _Text, line: int) -> Iterator[Repair]:
    """A value called like a function (``self.total_hours()`` where ``total_hours`` is a property, a number
    named like the function it shadows): the call without its parentheses."""
    for node in _nodes_on(tree, line, ast.Call):
        if not node.args and not node.keywords and isinstance(node.func, ast.Attribute | ast.Name):
            yield Repair(text.replace_node(node, text.text(node.func)), f"line {line}: {text.text(node)} not called")


def _method_called(tree: ast.AST, text: _Text, line: int) -> Iterator[Repair]:
    """A method used as a value in arithmetic or a comparison (``self.total - 40`` where ``total`` is a
    method): called."""
    for node in _nodes_on(tree, line, ast.Compare | ast.BinOp):
        operands = [node.left, node.right] if isinstance(node, ast.BinOp) else [node.left, *node.comparators]
        for operand in operands:
            if isinstance(operand, ast.Attribute | ast.Name):
                yield Repair(text.replace_node(operand, text.text(operand) + "()"),
                             f"line {line}: {text.text(operand)} called")


def _assignments_of_indexed(tree: ast.AST, line: int) -> list[int]:
    """Where the names indexed on ``line`` were last assigned before it, in the same function: an index out
    of range is often the container's fault (``window = xs[i:i + k - 1]``), not the index's."""
    names = {n.value.id for n in ast.walk(tree) if isinstance(n, ast.Subscript) and n.lineno == line
             and isinstance(n.value, ast.Name)}
    scopes = [f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
              and f.lineno <= line <= (f.end_lineno or f.lineno)]
    scope = scopes[-1] if scopes else tree
    found = [n.lineno for n in ast.walk(scope) if isinstance(n, ast.Assign) and n.lineno < line
             and any(isinstance(t, ast.Name) and t.id in names for t in n.targets)]
    return sorted(set(found), reverse=True)[:2]


def _written_keys(tree: ast.AST, text: _Text, line: int, missing: str) -> Iterator[Repair]:
    """A ``KeyError`` for a key the file never writes (``row["goals_for"]`` where the rows are built with
    ``"for"``): the written key most like it, at the failing read. Written: a dict literal's keys, ``d[k] = v``,
    ``dict(k=v)``; ranked one name inside the other first, then by likeness."""
    written: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            written.update(k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str))
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and \
                isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
            written.add(node.slice.value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
            written.update(kw.arg for kw in node.keywords if kw.arg)
    if missing in written:
        return
    likeness = {k: (k in missing or missing in k, difflib.SequenceMatcher(None, k, missing).ratio())
                for k in written if k}
    ranked = [k for k in sorted(likeness, key=lambda k: (not likeness[k][0], -likeness[k][1], k))
              if likeness[k][0] or likeness[k][1] >= 0.5][:3]
    reads = [n for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value == missing and n.lineno == line]
    for key in ranked:
        for node in reads:
            quote = text.text(node)[:1]
            literal = f"{quote}{key}{quote}" if quote in ("'", '"') and quote not in key and "\\" not in key \
                else repr(key)  # the file's own quotes
            yield Repair(text.replace_node(node, literal), f"line {line}: key {missing!r} -> {key!r} (written)")


def _mutable_defaults(tree: ast.AST, text: _Text, editable: set[int]) -> Iterator[Repair]:
    """A default of ``[]`` or ``{}`` is made once and shared by every call (two ``TodoList()`` hold the same
    list): ``None`` as the default, and a fresh container made in the body when it is left out."""
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) or fn.body[0].lineno not in editable:
            continue
        positional = [*fn.args.posonlyargs, *fn.args.args]
        pairs = list(zip(positional[len(positional) - len(fn.args.defaults):], fn.args.defaults, strict=True)) + [
            (a, d) for a, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=True) if d is not None]
        mutable = [(a, d) for a, d in pairs if text.text(d) in _MUTABLE_DEFAULTS]
        if not mutable:
            continue
        first = fn.body[0]
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            first = fn.body[1] if len(fn.body) > 1 else None  # after the docstring
        if first is None or first.lineno <= max(d.end_lineno for _, d in mutable):
            continue  # a body on the def line itself
        indent = " " * first.col_offset
        made = "".join(f"{indent}{a.arg} = {text.text(d)} if {a.arg} is None else {a.arg}\n" for a, d in mutable)
        start = text.offset(first.lineno, 0)
        program = text.edit([(start, start, made), *((*text.span(d), "None") for _, d in mutable)])
        yield Repair(program, f"{fn.name}: a fresh {', '.join(a.arg for a, _ in mutable)} each call (default None)")


def _argument_orders(tree: ast.AST, text: _Text, callers: list[int], editable: set[int]) -> Iterator[Repair]:
    """A crash inside a function of this file whose caller passed the arguments in another order
    (``fee(arrived, left, vehicle)`` for ``fee(vehicle, arrived, left)``): the caller's positional arguments
    swapped pairwise, then rotated. Only calls of the file's own functions, two to four plain arguments."""
    functions = _functions(tree)
    for line in callers:
        if line not in editable:
            continue
        for call in _nodes_on(tree, line, ast.Call):
            name = call.func.id if isinstance(call.func, ast.Name) else \
                call.func.attr if isinstance(call.func, ast.Attribute) else None
            args = call.args
            if name not in functions or not 2 <= len(args) <= 4 or any(isinstance(a, ast.Starred) for a in args):
                continue
            words = [text.text(a) for a in args]
            orders = [(i, j) for i in range(len(args)) for j in range(i + 1, len(args))]
            seen_orders: list[list[str]] = []
            params = [a.arg for a in functions[name].args.args if a.arg not in ("self", "cls")][:len(args)]
            if sorted(params) == sorted(words) and params != words:
                seen_orders.append(params)  # the arguments are named as the parameters: that order first
            for i, j in orders:
                new = list(words)
                new[i], new[j] = new[j], new[i]
                seen_orders.append(new)
            if len(args) > 2:
                seen_orders += [words[1:] + words[:1], words[-1:] + words[:-1]]
            for new in list(dict.fromkeys(map(tuple, seen_orders))):
                program = text.replace_nodes(list(zip(args, new, strict=True)))
                yield Repair(program, f"line {line}: {name}({', '.join(words)}) -> {name}({', '.join(new)})")


def _class_attributes(cls: ast.ClassDef) -> set[str]:
    """What an instance of ``cls`` has: fields, class names, methods and properties, ``self.x`` assignments."""
    names: set[str] = set()
    for node in cls.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
    for node in ast.walk(cls):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and \
                isinstance(node.value, ast.Name) and node.value.id == "self":
            names.add(node.attr)
    return names


def _own_attribute(tree: ast.AST, text: _Text, line: int, kind: str, wrong: str) -> Iterator[Repair]:
    """``'Loan' object has no attribute 'due_date'`` for a class of this file: the attribute it does have that
    is most like it (one name inside the other first: ``due``, ``target`` for ``target_temp``), on the failing
    line, then everywhere the file reads it."""
    classes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == kind]
    if not classes:
        return
    likeness = {n: (n in wrong or wrong in n, difflib.SequenceMatcher(None, n, wrong).ratio())
                for n in _class_attributes(classes[0]) - {wrong}}
    ranked = sorted(likeness, key=lambda n: (not likeness[n][0], -likeness[n][1], n))
    right_ones = [n for n in ranked if likeness[n][0] or likeness[n][1] >= 0.6][:2]
    uses = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == wrong]
    for right in right_ones:
        for chosen in ([u for u in uses if u.lineno == line], uses):
            program = text.source
            for node in sorted(chosen, key=lambda n: (n.end_lineno, n.end_col_offset), reverse=True):
                end = _Text(program).offset(node.end_lineno, node.end_col_offset)
                program = program[:end - len(wrong)] + right + program[end:]
            if chosen:
                yield Repair(program, f"line {line}: .{wrong} -> .{right} ({kind} has it)")


def _container_swap(tree: ast.AST, text: _Text, line: int, method: str) -> Iterator[Repair]:
    """A method the receiver's container lacks (``seen.add`` on a list): the receiver's last empty
    assignment before ``line`` becomes the container that has it (``seen = set()``)."""
    wanted = _CONTAINER_OF.get(method)
    if wanted is None:
        return
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and n.lineno == line
             and isinstance(n.func, ast.Attribute) and n.func.attr == method]
    for call in calls:  # d.setdefault(k, []).add(v): the default is the container
        made = call.func.value
        if isinstance(made, ast.Call) and isinstance(made.func, ast.Attribute) and \
                made.func.attr in ("setdefault", "get") and len(made.args) == 2 and \
                text.text(made.args[1]) in _EMPTY and wanted != "deque()":
            yield Repair(text.replace_node(made.args[1], wanted), f"line {line}: the default becomes {wanted}")
    receivers = {text.text(n.func.value) for n in calls}
    for receiver in sorted(receivers):
        assignments = [n for n in ast.walk(tree) if isinstance(n, ast.Assign | ast.AnnAssign)
                       and n.lineno <= line and n.value is not None and text.text(n.value) in _EMPTY
                       and any(text.text(t) == receiver for t in _targets(n))]
        for node in sorted(assignments, key=lambda n: n.lineno, reverse=True)[:1]:
            program = text.replace_node(node.value, wanted)
            if wanted == "deque()":
                from sleepy.tasks.hints import add_import

                program = add_import(program, "from collections import deque")
            yield Repair(program, f"line {node.lineno}: {receiver} starts as {wanted}")
    yield from _dataclass_defaults(tree, text, receivers, wanted)


def _targets(node: ast.Assign | ast.AnnAssign) -> list[ast.AST]:
    return node.targets if isinstance(node, ast.Assign) else [node.target]


def _dataclass_defaults(tree: ast.AST, text: _Text, receivers: set[str], wanted: str) -> Iterator[Repair]:
    """``self.tags`` built by ``field(default_factory=list)``: the factory becomes the wanted container's."""
    factory = {"[]": "list", "set()": "set", "{}": "dict"}.get(wanted)
    if factory is None:
        return
    names = {r.removeprefix("self.") for r in receivers if r.startswith("self.")}
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id in names \
                and isinstance(node.value, ast.Call):
            for kw in node.value.keywords:
                if kw.arg == "default_factory" and isinstance(kw.value, ast.Name) and kw.value.id != factory:
                    yield Repair(text.replace_node(kw.value, factory),
                                 f"line {node.lineno}: {node.target.id} made by {factory}")


def _returns_value(fn: ast.AST) -> bool:
    return any(isinstance(n, ast.Return) and n.value is not None for n in ast.walk(fn)
               if not (isinstance(n, ast.FunctionDef | ast.Lambda) and n is not fn))


def _used_for_value(tree: ast.AST, name: str) -> bool:
    """Whether some call of ``name`` is used for its value (not a bare statement)."""
    bare = {id(s.value) for s in ast.walk(tree) if isinstance(s, ast.Expr)}
    return any(isinstance(n, ast.Call) and id(n) not in bare and
               ((isinstance(n.func, ast.Name) and n.func.id == name) or
                (isinstance(n.func, ast.Attribute) and n.func.attr == name)) for n in ast.walk(tree))


def _missing_returns(tree: ast.AST, text: _Text, lines: list[int]) -> Iterator[Repair]:
    """A function whose value is used but that never returns one (its callers get ``None``): ``return x``
    appended for the names it assigns last (or its first parameter, changed in place)."""
    functions = [f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and f.name != "__init__"
                 and not _returns_value(f) and _used_for_value(tree, f.name)]
    order = {line: i for i, line in enumerate(lines)}
    functions.sort(key=lambda f: min((order[n.lineno] for n in ast.walk(f) if getattr(n, "lineno", None) in order),
                                     default=len(order)))
    for fn in functions:
        assigned: list[str] = []
        for node in ast.walk(fn):
            if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
                for target in _targets(node) if not isinstance(node, ast.AugAssign) else [node.target]:
                    if isinstance(target, ast.Name):
                        assigned.append(target.id)
        params = [a.arg for a in fn.args.args if a.arg not in ("self", "cls")]
        names = list(dict.fromkeys(reversed(assigned))) + params[:1]
        if fn.args.args and fn.args.args[0].arg == "self" and _chained(tree, fn.name):
            names.insert(0, "self")  # q.order_by(c).where(...): a method called in a chain hands back its object
        last = fn.body[-1]
        indent = " " * last.col_offset
        end = text.offset(last.end_lineno, last.end_col_offset)
        for name in list(dict.fromkeys(names))[:2]:
            program = text.replace(end, end, f"\n{indent}return {name}")
            yield Repair(program, f"{fn.name} returns {name}")


def _chained(tree: ast.AST, name: str) -> bool:
    """Whether some call ``x.name(...)`` is itself the receiver of another method call (a fluent chain)."""
    return any(isinstance(n, ast.Attribute) and isinstance(n.value, ast.Call) and
               isinstance(n.value.func, ast.Attribute) and n.value.func.attr == name for n in ast.walk(tree))


def _get_defaults(tree: ast.AST, text: _Text, lines: list[int], editable: set[int]) -> Iterator[Repair]:
    """``rate = codes.get(code)`` met arithmetic as ``None``: the read given a default (0, then an empty
    string), where the failing lines read it or straight on the failing line."""
    read = {n.id for line in lines[:3] for n in ast.walk(tree) if isinstance(n, ast.Name)
            and getattr(n, "lineno", None) == line}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                and len(node.args) == 1 and not node.keywords and node.lineno in editable):
            continue
        assigned = [t.id for a in ast.walk(tree) if isinstance(a, ast.Assign) and a.value is node
                    for t in a.targets if isinstance(t, ast.Name)]
        if node.lineno in lines[:3] or set(assigned) & read:
            for default in ("0", '""'):
                new = f"{text.text(node)[:-1]}, {default})"
                yield Repair(text.replace_node(node, new), f"line {node.lineno}: .get with a default of {default}")


def _guarded_pops(tree: ast.AST, text: _Text, line: int) -> Iterator[Repair]:
    """``if stack.pop() != want:`` on an empty stack: the emptiness tested first (``not stack or ...``)."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.If | ast.While) and node.test.lineno == line):
            continue
        pops = [n for n in ast.walk(node.test) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                and n.func.attr in ("pop", "popleft") and isinstance(n.func.value, ast.Name | ast.Attribute)]
        for pop in pops[:1]:
            receiver = text.text(pop.func.value)
            test = text.text(node.test)
            if isinstance(node.test, ast.BoolOp | ast.IfExp | ast.Lambda | ast.NamedExpr):
                test = f"({test})"
            yield Repair(text.replace_node(node.test, f"not {receiver} or {test}"),
                         f"line {line}: {receiver} tested for emptiness first")


def assert_sources(tree: ast.AST, line: int) -> list[int]:
    """The top-level statements that last assigned what a failing top-level ``assert`` reads (``results`` of
    ``assert results == [...]``): the script's own code the check is about, latest first."""
    module = tree.body if isinstance(tree, ast.Module) else []
    checks = [n for n in module if isinstance(n, ast.Assert) and n.lineno <= line <= (n.end_lineno or n.lineno)]
    if not checks:
        return []
    names = {n.id for n in ast.walk(checks[0].test) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    found: list[int] = []
    for stmt in reversed([n for n in module if n.lineno < line]):
        if isinstance(stmt, ast.Assert | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Import |
                      ast.ImportFrom):
            continue
        bound = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        if bound & names:
            found.append(stmt.lineno)
            names -= bound
    return found


def _numbers_from_text(tree: ast.AST, text: _Text, line: int) -> Iterator[Repair]:
    """``str`` met ``int`` in arithmetic or a comparison: each operand read as a number."""
    for node in _nodes_on(tree, line, ast.Compare | ast.BinOp):
        operands = [node.left, node.right] if isinstance(node, ast.BinOp) else [node.left, *node.comparators]
        for operand in operands:
            if isinstance(operand, ast.Constant):
                continue
            for kind in ("int", "float"):
                yield Repair(text.replace_node(operand, f"{kind}({text.text(operand)})"),
                             f"line {line}: {text.text(operand)} read as {kind}")
