"""Tampering: an edit that makes the verifier pass by weakening what it checks instead of fixing the program.

The verifier only knows "it compiles, runs and its checks hold". An edit that deletes the failing
assert, skips the failing test, exits before the checks, swallows every exception, silences the
lint, wraps the error in ``unsafe``, or returns the number the test expects passes it, yet fixes
nothing; and once it passes it would be remembered, trained on, and counted in the gate.
:func:`tampering` compares the original program with the patched one and names what was done.

Constructs are *counted* in both programs and only an increase (or, for checks, a decrease) counts,
so a program that already had ``unsafe`` or ``sys.exit`` is not penalised for keeping it. Python is
read with :mod:`ast` (with :mod:`tokenize` as the fallback when the broken original does not parse);
Rust with a small lexer that skips comments and string literals, so ``// assert!(..)`` or
``"unsafe"`` in a message is not code.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

# kind -> what the edit did, in words (the diagnostic's message)
KINDS: dict[str, str] = {
    "test-removed": "the edit removes a test function",
    "assert-removed": "the edit removes an assert",
    "assert-weakened": "the edit makes an assert trivially true or changes the value it expects",
    "test-disabled": "the edit skips or ignores a test, or expects it to panic",
    "unsafe-added": "the edit adds `unsafe`",
    "allow-added": "the edit silences a lint with #[allow(..)]",
    "todo-added": "the edit adds todo!() / unimplemented!()",
    "exit-added": "the edit exits the program before its checks (process::exit, sys.exit, os._exit)",
    "except-pass-added": "the edit swallows every exception (except: pass)",
    "hardcoded-output": "the edit hard-codes a value or output the checks expect",
}

# construct counted in both programs -> (kind, +1 when more is tampering / -1 when fewer is)
_COUNTED: dict[str, tuple[str, int]] = {
    "test": ("test-removed", -1),
    "assert": ("assert-removed", -1),
    "assert-trivial": ("assert-weakened", +1),
    "test-disabled": ("test-disabled", +1),
    "unsafe": ("unsafe-added", +1),
    "allow": ("allow-added", +1),
    "todo": ("todo-added", +1),
    "exit": ("exit-added", +1),
    "except-pass": ("except-pass-added", +1),
    "hardcoded": ("hardcoded-output", +1),
}


@dataclass(frozen=True)
class Expected:
    """What the original program's checks expect: literal values (keyed as text) and output strings."""

    literals: frozenset[str] = frozenset()
    strings: frozenset[str] = frozenset()  # stripped text, for printed output


@dataclass
class Profile:
    """The constructs of one program that tampering changes."""

    counts: Counter[str] = field(default_factory=Counter)
    # (what an assert checks, the literal it expects it to equal): a changed literal is a weakened assert
    expectations: Counter[tuple[str, str]] = field(default_factory=Counter)
    # the comparisons the checks make (``Eq``, ``assertEqual``...): one turned (``==`` into ``!=``) weakens a check
    check_ops: Counter[str] = field(default_factory=Counter)
    # name -> (values computed into it, literals assigned to it): a computation replaced by the expected literal
    bindings: dict[str, tuple[Counter[str], Counter[str]]] = field(default_factory=dict)

    def bind(self, name: str, value: str | None, literal: str | None, expected: Expected) -> None:
        """Record ``name = value``: a computation (``literal`` None) or a literal the checks expect;
        other literals are neither (a fix may well change ``"3"`` into ``3``)."""
        computed, literals = self.bindings.setdefault(name, (Counter(), Counter()))
        if literal is None:
            computed[value or ""] += 1
        elif literal in expected.literals:
            literals[literal] += 1


def tampering(original: str, patched: str, pack: str, expected_output: Collection[str] = ()) -> list[str]:
    """The tampering kinds (keys of :data:`KINDS`) the edit from ``original`` to ``patched`` commits.

    Empty when the edit is clean. ``expected_output`` adds outputs the task expects (beyond the
    literals its own asserts compare against): printing one of them verbatim is hard-coding.
    A Python patch that does not parse is not judged: the verifier reports its syntax error."""
    if original == patched:
        return []
    analyse = _rust if pack == "rust" else _python
    expected, before, mode = analyse(original)
    if expected_output:
        extra = frozenset(s.strip() for s in expected_output if s.strip())
        expected = Expected(expected.literals | {repr(s) for s in extra}, expected.strings | extra)
        before = _profile(original, pack, expected, mode, loose=True)
    after = _profile(patched, pack, expected, mode, loose=False)
    if after is None or before is None:
        return []
    return _compare(before, after)


def _compare(before: Profile, after: Profile) -> list[str]:
    found: list[str] = []
    for construct, (kind, sign) in _COUNTED.items():
        if sign * (after.counts[construct] - before.counts[construct]) > 0 and kind not in found:
            found.append(kind)
    if "assert-weakened" not in found and (_expectation_changed(before.expectations, after.expectations)
                                           or before.check_ops != after.check_ops):
        found.append("assert-weakened")
    if "hardcoded-output" not in found and _computation_replaced(before.bindings, after.bindings):
        found.append("hardcoded-output")
    return [k for k in KINDS if k in found]


def _expectation_changed(before: Counter[tuple[str, str]], after: Counter[tuple[str, str]]) -> bool:
    """An assert on the same expression now expects a different literal (``== 6`` became ``== 7``): a check
    was taken away and one on the same expression with another value put in its place. (Asserts that
    check one expression for several values, ``it.next() == Some(1)`` then ``Some(2)``, only count when
    one of them changed.)"""
    dropped = {what for what, _ in before - after}
    return any(what in dropped for what, _ in after - before)


def _computation_replaced(before: dict, after: dict) -> bool:
    """A name computed in the original is now assigned a literal its checks expect (``total = 6``)."""
    for name, (new_computed, new_literals) in after.items():
        old_computed, old_literals = before.get(name, (Counter(), Counter()))
        if new_literals - old_literals and old_computed - new_computed:
            return True
    return False


def _near(word: str, names: Collection[str], loose: bool) -> bool:
    """``word`` is one of ``names``; with ``loose``, also one typo (a deleted, added or changed letter) away."""
    return word in names or loose and any(_one_typo(word, name) for name in names)


def _one_typo(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def _profile(program: str, pack: str, expected: Expected, mode: str, loose: bool) -> Profile | None:
    """``loose`` (the original): a name one typo from a construct's counts as it, for the original may be
    a mutant whose ``#[allow]`` or ``todo!`` was misspelled; restoring it is a fix, not an addition."""
    if pack == "rust":
        return _rust_profile(_rust_tokens(program), expected, loose)
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError, RecursionError):
        return None
    return _py_token_profile(program, loose) if mode == "tokens" else _py_profile(tree, expected, loose)


# ----------------------------------------------------------------------------------------------- Python


@lru_cache(maxsize=512)
def _python(original: str) -> tuple[Expected, Profile | None, str]:
    """The original's expectations and profile, and the mode both programs are read in.

    A broken original may not even parse (a syntax-error task); both programs are then compared
    token by token, so the comparison stays like for like."""
    try:
        tree = ast.parse(original)
    except (SyntaxError, ValueError, RecursionError):
        return Expected(), _py_token_profile(original, loose=True), "tokens"
    expected = _py_expected(tree)
    return expected, _py_profile(tree, expected, loose=True), "ast"


_EXITS = {"exit", "_exit", "quit"}  # sys.exit, os._exit, the builtins, and either imported bare
_SKIPS = {"skip", "skipif", "xfail", "skipTest", "skipIf", "skipUnless", "expectedFailure", "importorskip"}
_SKIP_ROOTS = {"pytest", "unittest", "mark"}
_BROAD = {"Exception", "BaseException"}
_PRINTS = {"print", "sys.stdout.write", "stdout.write"}


def _dotted(node: ast.AST) -> str:
    """``sys.exit`` for the expression ``sys.exit``; "" when it is not a plain dotted name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ""
    return ".".join([node.id, *reversed(parts)])


def _py_literal(node: ast.AST | None) -> str | None:
    """The literal's value as text (``repr``), or None when ``node`` is not a literal."""
    if node is None or isinstance(node, ast.Name):
        return None
    if isinstance(node, ast.JoinedStr) and all(isinstance(v, ast.Constant) for v in node.values):
        return repr("".join(str(v.value) for v in node.values))  # type: ignore[attr-defined]
    try:
        return repr(ast.literal_eval(node))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _py_checks(tree: ast.AST) -> Iterator[tuple[str, ast.AST, ast.AST | None]]:
    """Every check: (its kind, what it asserts, the expected side) for ``assert`` and ``self.assert*``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            yield "assert", node.test, None
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr.startswith("assert"):
            args = node.args
            yield node.func.attr, args[0] if args else node, args[1] if len(args) > 1 else None


def _py_pairs(kind: str, test: ast.AST, other: ast.AST | None) -> Iterator[tuple[str, str, str]]:
    """(operator, checked expression, expected literal) of a check that compares against a literal."""
    if other is not None:
        sides = [(test, other)]
        op = kind
    elif isinstance(test, ast.Compare) and len(test.ops) == 1:
        sides = [(test.left, test.comparators[0])]
        op = type(test.ops[0]).__name__
    else:
        return
    for a, b in sides:
        la, lb = _py_literal(a), _py_literal(b)
        if (la is None) != (lb is None):
            yield op, ast.dump(b if la is not None else a), la if la is not None else lb  # type: ignore[misc]


def _py_expected(tree: ast.AST) -> Expected:
    literals: set[str] = set()
    strings: set[str] = set()
    for kind, test, other in _py_checks(tree):
        for _, _, lit in _py_pairs(kind, test, other):
            literals.add(lit)
            value = ast.literal_eval(lit)
            if isinstance(value, str) and value.strip():
                strings.add(value.strip())
    return Expected(frozenset(literals), frozenset(strings))


def _py_trivial(node: ast.AST) -> bool:
    """True when an assert's condition holds whatever the program does."""
    if not any(isinstance(n, (ast.Name, ast.Attribute, ast.Call, ast.Subscript)) for n in ast.walk(node)):
        return True  # built from constants only: ``assert True``, ``assert 1 == 1``, ``assert (x, "msg")``...
    if isinstance(node, ast.Tuple) and node.elts:
        return True
    if isinstance(node, ast.BoolOp):
        parts = [_py_trivial(v) for v in node.values]
        return any(parts) if isinstance(node.op, ast.Or) else all(parts)
    if isinstance(node, ast.Compare) and len(node.ops) == 1 \
            and isinstance(node.ops[0], (ast.Eq, ast.Is, ast.LtE, ast.GtE)):
        return ast.dump(node.left) == ast.dump(node.comparators[0])
    return False


def _py_check_trivial(kind: str, test: ast.AST, other: ast.AST | None) -> bool:
    if kind in ("assert", "assertTrue"):
        return _py_trivial(test)
    if kind in ("assertEqual", "assertIs", "assertAlmostEqual", "assertCountEqual", "assertListEqual",
                "assertDictEqual", "assertLessEqual", "assertGreaterEqual") and other is not None:
        return ast.dump(test) == ast.dump(other) or _py_literal(test) is not None and _py_literal(other) is not None
    if kind == "assertFalse":
        return isinstance(test, ast.Constant) and not test.value
    return False


def _silent(body: list[ast.stmt]) -> bool:
    return all(isinstance(s, (ast.Pass, ast.Continue)) or isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
               for s in body)


def _broad(node: ast.AST | None) -> bool:
    if node is None:
        return True
    if isinstance(node, ast.Tuple):
        return any(_broad(e) for e in node.elts)
    return _dotted(node).rsplit(".", 1)[-1] in _BROAD


def _returns_literal(fn: ast.FunctionDef | ast.AsyncFunctionDef, expected: Expected) -> bool:
    """A function whose whole body (past its docstring) is ``return <a literal the checks expect>``."""
    body = fn.body[1:] if fn.body and isinstance(fn.body[0], ast.Expr) \
        and isinstance(fn.body[0].value, ast.Constant) else fn.body
    if len(body) != 1:
        return False
    stmt = body[0]
    if isinstance(stmt, ast.Return):
        return _py_literal(stmt.value) in expected.literals
    return isinstance(stmt, ast.Expr) and _prints_expected(stmt.value, expected)


def _prints_expected(node: ast.AST, expected: Expected) -> bool:
    if not isinstance(node, ast.Call) or _dotted(node.func) not in _PRINTS or len(node.args) != 1:
        return False
    lit = _py_literal(node.args[0])
    if lit is None:
        return False
    value = ast.literal_eval(lit)
    return isinstance(value, str) and value.strip() in expected.strings


def _py_exit(name: str, loose: bool) -> bool:
    """``sys.exit``, ``os._exit``, ``exit``, ``quit`` (or ``from sys import exit``)."""
    root, _, last = name.rpartition(".")
    return root in ("", "sys", "os") and _near(last, _EXITS, loose)


def _succeeds(args: list[ast.expr]) -> bool:
    """An exit that may end the program with status 0: no code, ``0``/``None``/``False``, or a computed one.

    ``sys.exit(1)`` or ``SystemExit("usage")`` fails the verifier anyway: an error path, not a way to pass."""
    if not args:
        return True
    lit = _py_literal(args[0])
    return lit is None or lit in ("0", "None", "False")


def _raises_exit(exc: ast.expr | None) -> bool:
    """``raise SystemExit`` / ``raise SystemExit(0)``: the program ends with status 0."""
    if isinstance(exc, ast.Call):
        return _dotted(exc.func) == "SystemExit" and _succeeds(exc.args)
    return exc is not None and _dotted(exc) == "SystemExit"


def _py_profile(tree: ast.AST, expected: Expected, loose: bool = False) -> Profile:
    profile = Profile()
    counts = profile.counts
    skip_names = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                  and (n.module or "").split(".")[0] in _SKIP_ROOTS for a in n.names if a.name in _SKIPS}
    for kind, test, other in _py_checks(tree):
        counts["assert"] += 1
        counts["assert-trivial"] += _py_check_trivial(kind, test, other)
        profile.expectations.update((f"{op} {what}", lit) for op, what, lit in _py_pairs(kind, test, other))
        profile.check_ops[kind] += 1
        profile.check_ops.update(type(op).__name__ for n in ast.walk(test) if isinstance(n, ast.Compare)
                                 for op in n.ops)
        profile.check_ops.update("Not" for n in ast.walk(test) if isinstance(n, ast.UnaryOp)
                                 and isinstance(n.op, ast.Not))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            counts["test"] += node.name.startswith("test")
            counts["hardcoded"] += _returns_literal(node, expected)
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            counts["exit"] += _py_exit(name, loose) and _succeeds(node.args)
            counts["except-pass"] += _near(name.rsplit(".", 1)[-1], {"suppress"}, loose) \
                and any(_broad(a) for a in node.args)
            counts["hardcoded"] += _prints_expected(node, expected)
        elif isinstance(node, ast.Raise):
            counts["exit"] += _raises_exit(node.exc)
        elif isinstance(node, ast.ExceptHandler):
            counts["except-pass"] += _broad(node.type) and _silent(node.body)
        elif isinstance(node, ast.Attribute) and _near(node.attr, _SKIPS, loose):
            root = _dotted(node).split(".")[0]
            counts["test-disabled"] += root in _SKIP_ROOTS or node.attr in ("skipTest", "xfail", "expectedFailure")
        elif isinstance(node, ast.Name) and (node.id in skip_names or loose and node.id in _SKIPS):
            counts["test-disabled"] += 1
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            lit = _py_literal(node.value)
            for t in targets:
                if isinstance(t, ast.Name):
                    profile.bind(t.id, ast.dump(node.value), lit, expected)
    return profile


_Q1, _Q2 = "'" * 3, '"' * 3
_PY_TOKEN = re.compile("|".join([
    r"(?P<ws>[ \t\f]+|\\\r?\n)",
    r"(?P<comment>#[^\n]*)",
    r"(?P<nl>\r?\n)",
    rf"(?P<str>(?:[rRbBuUfF]{{1,2}})?(?:{_Q1}[\s\S]*?(?:{_Q1}|\Z)|{_Q2}[\s\S]*?(?:{_Q2}|\Z)"
    r"""|'(?:\\.|[^'\\\n])*'?|"(?:\\.|[^"\\\n])*"?))""",
    r"(?P<num>\.?\d[\w.]*)",
    r"(?P<name>[^\W\d]\w*)",
    r"(?P<op>\*\*|//|==|!=|<=|>=|->|:=|.)",
]))


def _py_tokens(program: str) -> list[tuple[str, str]]:
    """(kind, text) tokens of a program that may not parse: comments dropped, strings kept whole, and a
    line end ("nl") only outside brackets. A regex, not :mod:`tokenize`, which stops at the first
    bad indentation and would leave the rest of a broken original uncounted."""
    out: list[tuple[str, str]] = []
    depth = 0
    for m in _PY_TOKEN.finditer(program):
        kind, text = m.lastgroup or "op", m.group()
        if kind in ("ws", "comment") or kind == "nl" and (depth or out[-1:] == [("nl", "\n")] or not out):
            continue
        if kind == "op" and text in "([{":
            depth += 1
        elif kind == "op" and text in ")]}":
            depth = max(0, depth - 1)
        out.append((kind, "\n" if kind == "nl" else text))
    return out


def _py_token_profile(program: str, loose: bool = False) -> Profile:
    """The Python profile read from tokens, for programs that do not parse (no literals, no bindings)."""
    profile = Profile()
    counts = profile.counts
    toks = _py_tokens(program)
    text = [t for _, t in toks]
    for i, (kind, s) in enumerate(toks):
        if kind != "name":
            continue
        prev, nxt = text[i - 1] if i else "", text[i + 1] if i + 1 < len(text) else ""
        if s == "assert":
            counts["assert"] += 1
            end = next((j for j in range(i + 1, len(toks)) if text[j] in ("\n", ",", ";")), len(toks))
            counts["assert-trivial"] += end > i + 1 and all(k in ("num", "str") or t == "True"
                                                            for k, t in toks[i + 1:end])
        elif prev == "." and s.startswith("assert") and nxt == "(":
            counts["assert"] += 1
        elif prev == "def" and s.startswith("test"):
            counts["test"] += 1
        elif _near(s, _SKIPS, loose) and (prev == "." or loose or s not in ("skip", "skipif")):
            counts["test-disabled"] += 1
        elif _near(s, _EXITS, loose) and (prev != "." or i > 1 and text[i - 2] in ("sys", "os")) \
                and prev != "def" and nxt == "(" or s == "SystemExit" and prev == "raise":
            counts["exit"] += _token_exit_succeeds(text[i + 1:i + 4])
        elif s == "except":
            rest = [t for t in text[i + 1:i + 6] if t != "\n"]
            if rest[:1] in (["Exception"], ["BaseException"]):
                rest = rest[1:]
            counts["except-pass"] += rest[:1] == [":"] and rest[1:2] in (["pass"], ["..."], ["."])
    return profile


def _token_exit_succeeds(after: list[str]) -> bool:
    """The exit's code as tokens: ``(1)`` or ``("usage")`` fail anyway; no code, ``0`` or a name may pass."""
    if after[:1] != ["("]:
        return True
    code = after[1] if len(after) > 1 else ")"
    return code in (")", "0", "None", "False") or code.isidentifier()


# ------------------------------------------------------------------------------------------------- Rust

_RUST_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<comment>//[^\n]*)
  | (?P<block>/\*)
  | (?P<raw>[bc]?r(?P<hashes>\#*)".*?"(?P=hashes))
  | (?P<rawident>r\#[^\W\d]\w*)
  | (?P<str>[bc]?"(?:\\.|[^"\\])*"?)
  | (?P<char>b?'(?:\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F_]*\}|.)|[^\\'\n])')
  | (?P<lifetime>'[^\W\d]\w*)
  | (?P<num>\d\w*(?:\.\d\w*)?)
  | (?P<ident>[^\W\d]\w*)
  | (?P<punct>::|==|!=|\|\||&&|->|=>|<=|>=|.)
""", re.VERBOSE | re.DOTALL)


@dataclass(frozen=True)
class Tok:
    kind: str  # ident | str | char | num | lifetime | punct
    text: str


def _rust_tokens(program: str) -> list[Tok]:
    """Rust's tokens, without whitespace and comments (nested block comments included)."""
    out: list[Tok] = []
    pos, n = 0, len(program)
    while pos < n:
        m = _RUST_TOKEN.match(program, pos)
        if m is None:  # cannot happen (``.`` matches anything), but never loop forever
            break
        kind = m.lastgroup if m.lastgroup != "hashes" else "raw"
        if kind == "block":
            pos = _end_of_block_comment(program, m.end())
            continue
        pos = m.end()
        if kind in ("ws", "comment"):
            continue
        kind = {"raw": "str", "rawident": "ident"}.get(kind, kind)
        out.append(Tok(kind, m.group()[2:] if m.lastgroup == "rawident" else m.group()))
    return out


def _end_of_block_comment(program: str, pos: int) -> int:
    depth = 1
    while depth and pos < len(program):
        if program.startswith("/*", pos):
            depth, pos = depth + 1, pos + 2
        elif program.startswith("*/", pos):
            depth, pos = depth - 1, pos + 2
        else:
            pos += 1
    return pos


_OPEN, _CLOSE = "([{", ")]}"
_ASSERTS = {"assert", "assert_eq", "assert_ne", "debug_assert", "debug_assert_eq", "debug_assert_ne"}
_LINT_LEVELS = {"allow", "expect", "warn"}
_WRAPPERS = {"to_string", "to_owned", "into", "clone"}


def _close(toks: list[Tok], i: int) -> int:
    """Index of the bracket closing the one at ``i`` (or the end when it is never closed)."""
    depth = 0
    for j in range(i, len(toks)):
        t = toks[j]
        if t.kind == "punct" and t.text in _OPEN:
            depth += 1
        elif t.kind == "punct" and t.text in _CLOSE:
            depth -= 1
            if depth == 0:
                return j
    return len(toks)


def _split(toks: list[Tok], sep: str) -> list[list[Tok]]:
    """``toks`` split at ``sep`` outside brackets."""
    parts: list[list[Tok]] = [[]]
    depth = 0
    for t in toks:
        if t.kind == "punct" and t.text in _OPEN:
            depth += 1
        elif t.kind == "punct" and t.text in _CLOSE:
            depth -= 1
        if depth == 0 and t.kind == "punct" and t.text == sep:
            parts.append([])
        else:
            parts[-1].append(t)
    return parts


def _text(toks: list[Tok]) -> str:
    return " ".join(t.text for t in toks)


def _rust_literal(toks: list[Tok]) -> str | None:
    """A literal expression's value as text (``6``, ``"abc"``, ``[1,2]``), through ``String::from``,
    ``.to_string()``, ``Some(..)``, ``&``, ``vec![..]``; None when the tokens are not a literal."""
    texts = [t.text for t in toks]
    if len(toks) == 1 and toks[0].kind in ("str", "char", "num"):
        return _rust_number(toks[0].text) if toks[0].kind == "num" else toks[0].text
    if texts in (["true"], ["false"]):
        return texts[0]
    if len(toks) == 2 and texts[0] == "-" and toks[1].kind == "num":
        return "-" + _rust_number(texts[1])
    if texts[:1] == ["&"]:
        return _rust_literal(toks[1:])
    if len(toks) >= 4 and texts[-4] == "." and texts[-3] in _WRAPPERS and texts[-2:] == ["(", ")"]:
        return _rust_literal(toks[:-4])
    wrapped = _call_arg(toks, (["String", "::", "from"], ["Some"], ["Ok"], ["Box", "::", "new"]))
    if wrapped is not None:
        return _rust_literal(wrapped)
    if texts[:2] == ["vec", "!"]:
        toks, texts = toks[2:], texts[2:]
    if texts[:1] == ["["] and _close(toks, 0) == len(toks) - 1:
        items = [_rust_literal(p) for p in _split(toks[1:-1], ",") if p]
        return None if None in items else "[" + ",".join(items) + "]"  # type: ignore[arg-type]
    return None


def _call_arg(toks: list[Tok], callees: tuple[list[str], ...]) -> list[Tok] | None:
    texts = [t.text for t in toks]
    for callee in callees:
        k = len(callee)
        if texts[:k] == callee and texts[k:k + 1] == ["("] and _close(toks, k) == len(toks) - 1:
            return toks[k + 1:-1]
    return None


def _rust_number(text: str) -> str:
    """``6``, ``6i32`` and ``6_u8`` are the same expected value."""
    digits = text.replace("_", "")
    m = re.match(r"(0x[0-9a-fA-F]+|0o[0-7]+|0b[01]+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)", digits)
    return m.group(1) if m else digits


def _rust_string_value(text: str) -> str | None:
    """The text a plain string literal holds (format braces ``{{`` unescaped), None for other literals."""
    if not text.startswith('"') or not text.endswith('"') or len(text) < 2:
        return None
    body = text[1:-1]
    try:
        body = body.encode("latin-1", "backslashreplace").decode("unicode_escape")
    except UnicodeDecodeError:
        return None
    return body


@dataclass
class _Macro:
    name: str
    args: list[list[Tok]]


def _macros(toks: list[Tok]) -> Iterator[tuple[int, _Macro]]:
    """Every macro call ``name!(args)`` with its arguments split at top-level commas."""
    for i in range(len(toks) - 2):
        if toks[i].kind == "ident" and toks[i + 1].text == "!" and toks[i + 2].text in _OPEN:
            end = _close(toks, i + 2)
            yield i, _Macro(toks[i].text, [p for p in _split(toks[i + 3:end], ",") if p])


def _attributes(toks: list[Tok]) -> Iterator[list[Tok]]:
    """The tokens inside every ``#[..]`` / ``#![..]``."""
    for i, t in enumerate(toks):
        if t.text != "#":
            continue
        j = i + 1 + (i + 1 < len(toks) and toks[i + 1].text == "!")
        if j < len(toks) and toks[j].text == "[":
            yield toks[j + 1:_close(toks, j)]


def _rust_trivial(cond: list[Tok]) -> bool:
    """True when an ``assert!`` condition holds whatever the program does."""
    if not cond:
        return False
    if all(t.kind != "ident" or t.text in ("true", "false") for t in cond):
        return True  # constants only: ``true``, ``1 == 1``, ``!false``
    return any(_rust_trivial(part) for part in _split(cond, "||")) if len(_split(cond, "||")) > 1 else False


def _rust_pairs(macro: _Macro) -> Iterator[tuple[str, str, str]]:
    """(macro, checked expression, expected literal) of an assert that compares against a literal."""
    if macro.name in ("assert", "debug_assert") and macro.args:
        sides = _split(macro.args[0], "==")
        if len(sides) != 2:
            sides = _split(macro.args[0], "!=")
        op = "==" if len(_split(macro.args[0], "==")) == 2 else "!="
    else:
        sides, op = macro.args[:2], ""
    if len(sides) != 2:
        return
    la, lb = _rust_literal(sides[0]), _rust_literal(sides[1])
    if (la is None) != (lb is None):
        yield macro.name + op, _text(sides[1] if la is not None else sides[0]), la if la is not None else lb  # type: ignore[misc]


def _rust_expected(toks: list[Tok]) -> Expected:
    literals: set[str] = set()
    strings: set[str] = set()
    for _, macro in _macros(toks):
        if macro.name in _ASSERTS:
            for _, _, lit in _rust_pairs(macro):
                literals.add(lit)
                value = _rust_string_value(lit)
                if value and value.strip():
                    strings.add(value.strip())
    return Expected(frozenset(literals), frozenset(strings))


@lru_cache(maxsize=512)
def _rust(original: str) -> tuple[Expected, Profile, str]:
    toks = _rust_tokens(original)
    expected = _rust_expected(toks)
    return expected, _rust_profile(toks, expected, loose=True), "tokens"


def _fn_bodies(toks: list[Tok]) -> Iterator[list[Tok]]:
    """The body of every ``fn`` with one (not trait method declarations ending in ``;``)."""
    for i, t in enumerate(toks):
        if t.text != "fn" or t.kind != "ident" or i + 1 >= len(toks) or toks[i + 1].kind != "ident":
            continue
        j = i + 2
        while j < len(toks) and toks[j].text not in ("{", ";"):
            j = _close(toks, j) + 1 if toks[j].text in "([" else j + 1
        if j < len(toks) and toks[j].text == "{":
            yield toks[j + 1:_close(toks, j)]


def _body_value(body: list[Tok]) -> list[Tok]:
    """The value a body returns when it is one expression: ``6``, ``return 6;``, ``"x".to_string()``."""
    if body[:1] and body[0].text == "return":
        body = body[1:-1] if body[-1:] and body[-1].text == ";" else body[1:]
    return body


def _rust_profile(toks: list[Tok], expected: Expected, loose: bool = False) -> Profile:
    profile = Profile()
    counts = profile.counts
    for attr in _attributes(toks):
        texts = [t.text for t in attr]
        name = texts[0] if texts else ""
        counts["test"] += texts == ["test"]
        counts["test-disabled"] += _near(name, ("should_panic", "ignore", "cfg_attr"), loose) or (
            name == "cfg" and texts != ["cfg", "(", "test", ")"])
        counts["allow"] += any(_near(a, _LINT_LEVELS, loose) and b == "(" for a, b in zip(texts, texts[1:],
                                                                                         strict=False))
    texts = [t.text for t in toks]
    for i, t in enumerate(toks):
        if t.kind != "ident":
            continue
        nxt = texts[i + 1] if i + 1 < len(texts) else ""
        counts["unsafe"] += t.text == "unsafe"
        counts["todo"] += _near(t.text, ("todo", "unimplemented"), loose) and nxt == "!"
        counts["exit"] += _rust_exit(toks, i, loose)
        if t.text == "let":
            _rust_binding(profile, toks, i, expected)
    for _, macro in _macros(toks):
        if macro.name in _ASSERTS:
            counts["assert"] += 1
            counts["assert-trivial"] += _rust_check_trivial(macro)
            profile.expectations.update((f"{op} {what}", lit) for op, what, lit in _rust_pairs(macro))
        elif macro.name in ("print", "println") and len(macro.args) == 1 and macro.args[0][0].kind == "str":
            value = _rust_string_value(macro.args[0][0].text)
            counts["hardcoded"] += len(macro.args[0]) == 1 and value is not None and "{" not in value.replace(
                "{{", "") and value.replace("{{", "{").replace("}}", "}").strip() in expected.strings
    for body in _fn_bodies(toks):
        value = _body_value(body)
        counts["hardcoded"] += bool(value) and _rust_literal(value) in expected.literals
    return profile


def _rust_exit(toks: list[Tok], i: int, loose: bool) -> bool:
    """A call of ``std::process::exit`` (or ``exit`` imported) whose code may be 0: ``exit(1)`` fails anyway."""
    if not _near(toks[i].text, ("exit",), loose) or i + 1 >= len(toks) or toks[i + 1].text != "(":
        return False
    prev = toks[i - 1].text if i else ""
    if prev == "::" and (i < 2 or toks[i - 2].text != "process") or prev in (".", "fn"):
        return False
    code = toks[i + 2:_close(toks, i + 1)]
    lit = _rust_literal(code)
    return lit is None or lit == "0"


def _rust_check_trivial(macro: _Macro) -> bool:
    if not macro.args:
        return False
    if macro.name in ("assert", "debug_assert"):
        return _rust_trivial(macro.args[0])
    if len(macro.args) < 2:
        return False
    a, b = macro.args[0], macro.args[1]
    both_literal = _rust_literal(a) is not None and _rust_literal(b) is not None
    return both_literal or macro.name.endswith("_eq") and _text(a) == _text(b)


def _rust_binding(profile: Profile, toks: list[Tok], i: int, expected: Expected) -> None:
    """``let [mut] name[: T] = value;``: the value bound to ``name``, a literal or a computation."""
    j = i + 1 + (i + 1 < len(toks) and toks[i + 1].text == "mut")
    if j >= len(toks) or toks[j].kind != "ident":
        return
    name = toks[j].text
    k = j + 1
    while k < len(toks) and toks[k].text not in ("=", ";"):
        k = _close(toks, k) + 1 if toks[k].text in _OPEN else k + 1
    if k >= len(toks) or toks[k].text != "=":
        return
    end = k + 1
    while end < len(toks) and toks[end].text != ";":
        end = _close(toks, end) + 1 if toks[end].text in _OPEN else end + 1
    value = toks[k + 1:end]
    lit = _rust_literal(value)
    profile.bind(name, _text(value), lit, expected)


def describe(kinds: list[str]) -> str:
    """One line for the diagnostic: what the edit did."""
    return "tampering: " + "; ".join(KINDS[k].removeprefix("the edit ") for k in kinds)
