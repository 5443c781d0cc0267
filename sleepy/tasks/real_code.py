"""Real programs broken on purpose: repairs of code written by people, for pretraining.

Why: a model pretrained only on the pack generator's templates learns the templates' habits (their
names, their line shapes) and fails on programs people write (the frozen koans). Here the programs
are the example programs of Rust's own documentation, installed from Debian's ``rust-doc`` package
(The Rust Programming Language, Rust by Example, the standard library's API docs; MIT/Apache-2.0):
thousands of small programs in many styles. Each one that type-checks alone is broken by one small
mutation of a kind the *known* families teach (drop a ``&``, a ``mut``, a ``.clone()``, a ``use``, a
cast, an ``.unwrap()``, a ``Some(..)``; misspell a name; change a number type), the real verifier
keeps the mutants it rejects, and the original program is the reference fix. No mutation adds or
removes a derive, a trait bound or a lifetime, so the *new* families stay out.
"""

from __future__ import annotations

import hashlib
import html
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sleepy.tasks.task import Task

RUST_DOC_ROOT = Path("/usr/share/doc/rust-doc/html")
RUST_DOC_SOURCE = "Debian package rust-doc (Rust documentation: book, Rust by Example, std API examples)"
RUST_DOC_LICENCE = "MIT OR Apache-2.0 (the Rust project)"
MIN_LINES, MAX_LINES = 6, 60
SITES_PER_OPERATOR = 2

_MDBOOK = re.compile(r'<code class="language-rust([^"]*)">(.*?)</code>', re.S)
_RUSTDOC = re.compile(r'<pre class="rust rust-example-rendered([^"]*)"><code>(.*?)</code></pre>', re.S)
_SKIP_CLASSES = ("ignore", "compile_fail", "does_not_compile", "edition2015", "edition2018")
_TAG = re.compile(r"<[^>]+>")


class CorpusMissing(RuntimeError):
    """The documentation the corpus is made from is not installed; the message says how to get it."""


def _clean(code: str) -> str:
    text = html.unescape(_TAG.sub("", code))
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()) + "\n"


def _as_program(code: str) -> str | None:
    """A standalone program: doc examples without ``fn main`` are wrapped in one, as rustdoc does."""
    if "#![" in code or "extern crate" in code or "unsafe" in code or "macro_rules" in code:
        return None
    if re.search(r"\bfn main\s*\(", code):
        return code
    body = "".join(f"    {ln}\n" if ln else "\n" for ln in code.splitlines())
    return f"fn main() {{\n{body}}}\n"


def doc_programs(root: Path = RUST_DOC_ROOT) -> list[str]:
    """Every distinct example program of the installed Rust docs, 6-60 lines, in a stable order."""
    if not root.is_dir():
        raise CorpusMissing(f"{root} is missing: install Debian's rust-doc package (apt-get install rust-doc)")
    seen: set[str] = set()
    out: list[str] = []
    for page in sorted(root.rglob("*.html")):
        if "src" in page.relative_to(root).parts:  # rendered library sources, not examples
            continue
        text = page.read_text(encoding="utf-8", errors="replace")
        for pattern in (_MDBOOK, _RUSTDOC):
            for m in pattern.finditer(text):
                if any(c in m.group(1) for c in _SKIP_CLASSES):
                    continue
                program = _as_program(_clean(m.group(2)))
                if program is None or not MIN_LINES <= program.count("\n") <= MAX_LINES or program in seen:
                    continue
                seen.add(program)
                out.append(program)
    return out


# --------------------------------------------------------------------------- mutations


@dataclass(frozen=True)
class Mutation:
    operator: str
    family: str  # the known family whose kind of fix undoes it
    source: str  # the broken program


def _sub_at(source: str, m: re.Match, new: str) -> str:
    return source[:m.start()] + new + source[m.end():]


_TYPES = ("i32", "u32", "i64", "u64", "usize", "u8", "f64", "f32")
_OPERATORS: list[tuple[str, str, re.Pattern, object]] = [
    ("drop-borrow", "borrow", re.compile(r"(?<=[(,\[=] )&(?=[a-z_][a-z0-9_.]*\b)(?!mut\b|self\b)"
                                         r"|(?<=\()&(?=[a-z_][a-z0-9_.]*\b)(?!mut\b|self\b)"), ""),
    ("drop-mut", "borrow", re.compile(r"\blet mut (?=[a-z_])"), "let "),
    ("drop-clone", "borrow", re.compile(r"\.clone\(\)"), ""),
    ("drop-conversion", "type-mismatch", re.compile(r"\.(?:to_string|to_owned|into)\(\)"), ""),
    ("drop-cast", "type-mismatch", re.compile(r" as (?:" + "|".join(_TYPES) + r"|char)\b"), ""),
    ("drop-deref", "type-mismatch", re.compile(r"(?<=[ (])\*(?=[a-z_][a-z0-9_]*\b)"), ""),
    ("swap-type", "type-mismatch", re.compile(r"(?<=: )(?:" + "|".join(_TYPES) + r")\b"), None),
    ("drop-unwrap", "result-option", re.compile(r"\.unwrap\(\)|\.expect\(\"[^\"\n]*\"\)"), ""),
    ("drop-question", "result-option", re.compile(r"\?(?=[;.)])"), ""),
    ("drop-some-ok", "result-option", re.compile(r"\b(?:Some|Ok)\(([a-z_][a-z0-9_.]*)\)"), r"\1"),
    ("drop-use", "missing-items", re.compile(r"^ *use [^;\n]+;\n", re.M), ""),
    ("misspell", "missing-items", re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b|\b[a-z]{4,}\b"), None),
]
_KEYWORDS = frozenset([
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for", "if", "impl",
    "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "static", "struct",
    "super", "trait", "true", "type", "unsafe", "use", "where", "while", "async", "await", "dyn", "main",
    "println", "print", "format", "assert", "assert_eq", "vec", "some", "none", "ok", "err", "string", "into",
    "iter", "collect", "push", "len", "new", "unwrap",
])


def _replacement(op: str, m: re.Match, repl, rng: random.Random, source: str) -> str | None:
    if op == "swap-type":
        return rng.choice([t for t in _TYPES if t != m.group(0)])
    if op == "misspell":
        word = m.group(0)
        if word in _KEYWORDS or source.count(word) < 2 or source[max(0, m.start() - 1)] in ".:'\"":
            return None
        i = rng.randrange(1, len(word))
        return word[:i] + word[i + 1:]
    return m.expand(repl) if "\\" in repl else repl


def mutations(source: str, rng: random.Random, per_program: int = 4) -> list[Mutation]:
    """Up to ``per_program`` single mutations of ``source``, one per operator at most, chosen by ``rng``."""
    found = []
    for op, family, pattern, repl in _OPERATORS:
        sites = [m for m in pattern.finditer(source) if not _in_string_or_comment(source, m.start())]
        rng.shuffle(sites)
        made = 0
        for m in sites[:6]:
            new = _replacement(op, m, repl, rng, source)
            if new is not None:
                found.append(Mutation(op, family, _sub_at(source, m, new)))
                made += 1
                if made == SITES_PER_OPERATOR:
                    break
    rng.shuffle(found)
    return found[:per_program]


def _in_string_or_comment(source: str, pos: int) -> bool:
    line_start = source.rfind("\n", 0, pos) + 1
    before = source[line_start:pos]
    return "//" in before or before.count('"') % 2 == 1


def program_id(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:12]


def broken_tasks(programs: list[str], seed: int, per_program: int = 4) -> Iterator[Task]:
    """Candidate tasks (not yet verified): each mutant as the program, the original as the reference fix."""
    rng = random.Random(seed)
    for program in programs:
        pid = program_id(program)
        for k, mut in enumerate(mutations(program, rng, per_program)):
            yield Task(id=f"real-rust-{pid}-{mut.operator}-{k}", pack="rust", family=mut.family, source=mut.source,
                       fix=program, origin="generated", description=f"rust-doc example broken by {mut.operator}")
