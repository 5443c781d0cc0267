"""Leakage guard: no frozen eval task may appear in any generated task, training set or prompt.

Code is normalised to a token string in which comments and whitespace are gone, every identifier is
``I``, every string ``S`` and every number ``N`` (keywords and punctuation stay). Renaming variables
or re-indenting a koan therefore does not hide it. A text *leaks* a frozen task when the task's
normalised program (buggy or fixed) occurs inside the text's normalised form, so a koan embedded
in a longer prompt is caught too.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sleepy.tasks.task import Task

_RUST_KEYWORDS = {
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for", "if",
    "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "Self",
    "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "async",
    "await", "dyn",
}
KEYWORDS = _RUST_KEYWORDS | set(keyword.kwlist)

_COMMON = r"""
      |(?P<number>\d[\w.]*)
      |(?P<ident>[A-Za-z_]\w*)
      |(?P<punct>\S)"""
# Rust: single quotes are chars or lifetimes; '#' starts attributes, not comments.
_RUST = re.compile(
    r"""(?P<comment>//[^\n]*|/\*.*?\*/)
      |(?P<string>b?r\#*"(?:[^"])*?"\#*|b?"(?:\\.|[^"\\])*"|b?'(?:\\.|[^'\\\n])')
      |(?P<lifetime>'[A-Za-z_]\w*)""" + _COMMON,
    re.VERBOSE | re.DOTALL,
)
_PYTHON = re.compile(
    r"""(?P<comment>\#[^\n]*)
      |(?P<string>[rbfu]{0,2}(?:\"\"\".*?\"\"\"|'\''.*?'\''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))"""
    + _COMMON,
    re.VERBOSE | re.DOTALL,
)
_LEXERS = {"rust": _RUST, "python": _PYTHON}


_NUMBERED = re.compile(r"^[ \t]*\d+\| ?", re.MULTILINE)


class LeakageError(RuntimeError):
    """A frozen eval task was found in data that must never contain it."""


def normalise(code: str, lang: str = "rust") -> str:
    """Code as a whitespace-, comment- and name-free token string (``lang``: rust or python)."""
    out: list[str] = []
    for m in _LEXERS[lang].finditer(code):
        kind = m.lastgroup
        if kind == "comment":
            continue
        text = m.group()
        if kind == "string":
            out.append("S")
        elif kind == "number":
            out.append("N")
        elif kind == "lifetime":
            out.append("'L")
        elif kind == "ident":
            out.append(text if text in KEYWORDS else "I")
        else:
            out.append(text)
    return " ".join(out)


@dataclass
class Leak:
    frozen_id: str
    where: str


class LeakageGuard:
    """Holds the normalised frozen programs; checks any number of texts against them."""

    def __init__(self, frozen: Iterable[Task]) -> None:
        self.forms: dict[str, list[tuple[str, str]]] = {}
        for task in frozen:
            for code in (task.source, task.fix):
                if code:
                    self.forms.setdefault(task.pack, []).append((task.id, normalise(code, task.pack)))

    def leaks(self, text: str) -> list[str]:
        """Ids of frozen tasks whose program occurs in ``text`` (text read as each pack's language).

        Prompts show code with line numbers (``12| ...``); those prefixes are dropped first, or a
        numbered koan would slip through.
        """
        text = _NUMBERED.sub("", text)
        found: set[str] = set()
        for lang, forms in self.forms.items():
            norm = normalise(text, lang)
            found |= {task_id for task_id, form in forms if form in norm}
        return sorted(found)

    def find(self, texts: Iterable[tuple[str, str]]) -> list[Leak]:
        """``texts`` are (where, text) pairs; returns every leak found."""
        return [Leak(fid, where) for where, text in texts for fid in self.leaks(text)]

    def assert_clean(self, texts: Iterable[tuple[str, str]], what: str) -> None:
        leaks = self.find(texts)
        if leaks:
            first = leaks[0]
            raise LeakageError(f"{what}: frozen eval task {first.frozen_id!r} found in {first.where} "
                               f"({len(leaks)} leak(s) in all)")


def tasks_as_texts(tasks: Iterable[Task]) -> Iterable[tuple[str, str]]:
    for t in tasks:
        yield f"{t.id}/source", t.source
        if t.fix:
            yield f"{t.id}/fix", t.fix
