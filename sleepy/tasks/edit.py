"""The edit format: short, line-anchored, placed by content.

An edit is one or more hunks. A hunk names a line (as shown in the prompt's numbered code) and
then ``-`` lines (text that is there now) and ``+`` lines (text to put there)::

    @@ 4
    - s
    + s.clone()

In a project, a hunk may name its file: ``@@ src/lib.rs:42``. A hunk without a file goes to the one
file shown as code; a hunk that names a file outside the project, a file not open for editing, or
no file where several are shown is refused with the reason (:func:`split_by_file`).

* as many ``-`` as ``+`` lines: replace, on consecutive lines, each ``-`` fragment (any substring of
  the line, so the model copies as little as possible) by its ``+`` text;
* only ``+`` lines: insert these whole lines (indentation included) before the named line;
* only ``-`` lines: delete these whole lines;
* otherwise: replace the whole ``-`` lines by the ``+`` lines.

The line number is a hint, not a contract: the hunk is placed on the nearest line within
``WINDOW`` lines whose content matches, so an off-by-two number does not sink a right fix. An
anchor that is absent or ambiguous (two matches at the same distance) fails with a reason.
"""

from __future__ import annotations

import difflib
import posixpath
import re
from collections.abc import Collection
from dataclasses import dataclass, field

WINDOW = 3
END = "### end"
CODE_TOKENS = re.compile(r"\w+|\s+|[^\w\s]")  # words, runs of space, single symbols


def common_affixes(a, b) -> tuple[int, int]:
    """Lengths of the longest common prefix of two sequences and of their common suffix after it."""
    p = 0
    while p < min(len(a), len(b)) and a[p] == b[p]:
        p += 1
    s = 0
    while s < min(len(a), len(b)) - p and a[-1 - s] == b[-1 - s]:
        s += 1
    return p, s


class EditError(ValueError):
    """An edit that cannot be parsed or placed; the message says why in one line."""


@dataclass
class Hunk:
    line: int  # 1-based line number hint
    old: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    file: str | None = None  # the project file it edits (``@@ src/lib.rs:42``); None: the one open file

    @property
    def where(self) -> str:
        return f"@@ {self.file}:{self.line}" if self.file else f"@@ {self.line}"

    @property
    def kind(self) -> str:
        if self.old and len(self.old) == len(self.new):
            return "fragment"
        if not self.old:
            return "insert"
        if not self.new:
            return "delete"
        return "lines"


@dataclass
class Edit:
    hunks: list[Hunk]

    def render(self) -> str:
        out: list[str] = []
        for h in self.hunks:
            out.append(h.where)
            out += [f"- {t}" for t in h.old]
            out += [f"+ {t}" if t else "+" for t in h.new]
        return "\n".join(out) + "\n"


def parse_edit(text: str) -> Edit:
    """Parse model output; anything after ``### end`` (or another ``###`` header) is ignored."""
    hunks: list[Hunk] = []
    for raw in text.splitlines():
        if raw.startswith("###"):
            break
        if not raw.strip() and not hunks:
            continue
        m = re.fullmatch(r"@@\s*(?:(\S+):)?(-?\d+)\s*", raw)
        if m:
            hunks.append(Hunk(int(m.group(2)), file=m.group(1)))
            continue
        if not hunks:
            raise EditError(f"edit must start with '@@ LINE', got {raw[:40]!r}")
        h = hunks[-1]
        if raw.startswith("-"):
            if h.new:
                raise EditError(f"'-' line after '+' lines in hunk {h.where}")
            h.old.append(raw[2:] if raw.startswith("- ") else raw[1:])
        elif raw.startswith("+"):
            h.new.append(raw[2:] if raw.startswith("+ ") else raw[1:])
        elif not raw.strip():
            continue
        else:
            raise EditError(f"unexpected line in hunk {h.where}: {raw[:40]!r}")
    if not hunks:
        raise EditError("empty edit: no '@@ LINE' hunk")
    for h in hunks:
        if not h.old and not h.new:
            raise EditError(f"hunk {h.where} has no '-' or '+' lines")
        if h.kind == "fragment" and any(not o.strip() for o in h.old):
            raise EditError(f"hunk {h.where} has an empty '-' fragment")
    return Edit(hunks)


def split_by_file(edit: Edit, shown: list[str], editable: Collection[str] = (),
                  project: Collection[str] = ()) -> dict[str, Edit]:
    """The edit's hunks per file. A hunk without a file goes to the one file shown as code; a hunk may
    name a shown file or an ``editable`` one; naming a file outside the ``project`` (absolute, ``..``,
    unknown) or one not open for editing, or no file where several are shown, is refused."""
    open_files = list(dict.fromkeys([*shown, *editable]))
    known = set(project) | set(open_files)
    out: dict[str, list[Hunk]] = {}
    for h in edit.hunks:
        if h.file is None:
            if len(shown) != 1:
                raise EditError(f"hunk {h.where} names no file and {len(shown)} files are open: "
                                f"write '@@ FILE:LINE' ({', '.join(shown)})")
            target = shown[0]
        else:
            target = posixpath.normpath(h.file.removeprefix("./"))
            if target.startswith(("/", "../")) or target == ".." or target not in known:
                raise EditError(f"hunk {h.where} names a file outside the project")
            if target not in open_files:
                raise EditError(f"hunk {h.where}: {target} is not open for editing here (open: "
                                f"{', '.join(open_files)})")
        out.setdefault(target, []).append(h)
    return {f: Edit(hs) for f, hs in out.items()}


def _candidates(lines: list[str], hint: int, match) -> list[int]:
    """0-based starts within the window whose content matches, nearest to the hint first."""
    lo, hi = max(0, hint - 1 - WINDOW), min(len(lines), hint + WINDOW)
    found = [i for i in range(lo, hi) if match(i)]
    return sorted(found, key=lambda i: abs(i - (hint - 1)))


def _place(lines: list[str], h: Hunk) -> int:
    if h.kind == "fragment":
        def match(i: int) -> bool:
            return i + len(h.old) <= len(lines) and all(
                lines[i + k].count(frag) == 1 for k, frag in enumerate(h.old))
    elif h.kind == "insert":
        if not 1 <= h.line <= len(lines) + 1:
            raise EditError(f"insert at line {h.line} is outside the program (1..{len(lines) + 1})")
        return h.line - 1
    else:
        def match(i: int) -> bool:
            return i + len(h.old) <= len(lines) and all(
                lines[i + k].strip() == frag.strip() for k, frag in enumerate(h.old))
    found = _candidates(lines, h.line, match)
    if not found:
        raise EditError(f"anchor {h.old[0].strip()[:40]!r} not found within {WINDOW} lines of line {h.line}")
    if len(found) > 1 and abs(found[0] - (h.line - 1)) == abs(found[1] - (h.line - 1)):
        raise EditError(f"anchor {h.old[0].strip()[:40]!r} is ambiguous near line {h.line}")
    return found[0]


def apply_edit(source: str, edit: Edit) -> str:
    """Apply every hunk to ``source`` (hunks are placed on the original, applied bottom-up)."""
    lines = source.splitlines()
    placed = sorted(((_place(lines, h), h) for h in edit.hunks), key=lambda p: p[0], reverse=True)
    for (start, h), prev in zip(placed[1:], placed, strict=False):
        if start + max(len(h.old), 0) > prev[0] and h.old:
            raise EditError(f"hunks at lines {start + 1} and {prev[0] + 1} overlap")
    for start, h in placed:
        if h.kind == "fragment":
            for k, (old, new) in enumerate(zip(h.old, h.new, strict=True)):
                lines[start + k] = lines[start + k].replace(old, new, 1)
        elif h.kind == "insert":
            lines[start:start] = h.new
        else:
            lines[start:start + len(h.old)] = h.new
    return "\n".join(lines) + ("\n" if source.endswith("\n") else "")


# --------------------------------------------------------------------------- deriving edits


def _fragment_pair(old: str, new: str, neighbours: list[str]) -> tuple[str, str]:
    """The shortest token-aligned (old, new) substrings turning ``old`` into ``new``.

    The old fragment is widened by whole tokens until it is non-empty, unique in its line and,
    where possible, absent from the neighbouring lines (so a wrong line number cannot misplace it).
    """
    toks_old, toks_new = CODE_TOKENS.findall(old), CODE_TOKENS.findall(new)
    p, s = common_affixes(toks_old, toks_new)
    a, b = p, len(toks_old) - s  # old token span [a, b)
    c, d = p, len(toks_new) - s

    def frag() -> tuple[str, str]:
        return "".join(toks_old[a:b]), "".join(toks_new[c:d])

    def good(f: str) -> bool:
        return bool(f.strip()) and old.count(f) == 1 and not any(f in n for n in neighbours)

    while not good(frag()[0]) and (a > 0 or b < len(toks_old)):
        # Widen towards the side that adds a non-space token first; prefer the left (context before).
        if a > 0:
            a -= 1
            c -= 1
        if not good(frag()[0]) and b < len(toks_old):
            b += 1
            d += 1
    # Fragments that start or end in whitespace are easy to copy wrongly: widen to a visible token.
    while a > 0 and toks_old[a].isspace():
        a, c = a - 1, c - 1
    while b < len(toks_old) and toks_old[b - 1].isspace():
        b, d = b + 1, d + 1
    f_old, f_new = frag()
    if not f_old.strip() or old.count(f_old) != 1:
        return old, new
    return f_old, f_new


def shown_edit(source: str, candidate: str) -> str | None:
    """The edit a program made without the model amounts to, as events show edits; None if no line changed."""
    try:
        return diff_to_edit(source, candidate).render()
    except EditError:
        return None


def diff_to_edit(before: str, after: str) -> Edit:
    """The edit (in this format) that turns ``before`` into ``after``: used to build training data."""
    a, b = before.splitlines(), after.splitlines()
    hunks: list[Hunk] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "insert":
            hunks.append(Hunk(i1 + 1, [], b[j1:j2]))
        elif tag == "delete":
            hunks.append(Hunk(i1 + 1, a[i1:i2], []))
        elif i2 - i1 == j2 - j1:
            olds, news = [], []
            for k in range(i2 - i1):
                window = a[max(0, i1 + k - WINDOW):i1 + k] + a[i1 + k + 1:i1 + k + 1 + WINDOW]
                fo, fn = _fragment_pair(a[i1 + k], b[j1 + k], window)
                olds.append(fo)
                news.append(fn)
            hunks.append(Hunk(i1 + 1, olds, news))
        else:
            hunks.append(Hunk(i1 + 1, a[i1:i2], b[j1:j2]))
    if not hunks:
        raise EditError("the two programs are identical")
    return Edit(hunks)
