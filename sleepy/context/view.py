"""The program as the model sees it: a one-line Rust program shown formatted, its edit mapped back.

Why: the edit format anchors hunks on lines. In ``fn main() { let s = ..; let t = s; println!("{}", s); }``
every fragment the model would copy (``s``) occurs several times on the one line, so a right fix
cannot be placed, and a small model trained on multi-line code writes ``@@ 10`` into a one-line
program. The fix is in the format, not in the user's program: the model sees ``rustfmt``'s layout,
edits that, and the change is carried back onto the program as written, token by token (the
non-space tokens of both layouts are the same; only the changed tokens and the space around them
are rewritten), so the user's one line stays one line.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sleepy.tasks.edit import common_affixes
from sleepy.tasks.signature import Diagnostic, Fixit

TOKEN = re.compile(r"\w+|[^\w\s]")
MIN_EXTRA_LINES = 3  # formatting must add at least this many lines to be worth a view
STATEMENTS_ON_A_LINE = re.compile(r";\s*\S")
CRAMPED_LINES = 3  # a program of at most this many lines, or with a line this long, is cramped
CRAMPED_WIDTH = 150


@cache
def rustfmt_path() -> str | None:
    """The real rustfmt (past the rustup shim), or None when it is not installed."""
    shim = shutil.which("rustfmt")
    if shim is None:
        return None
    rustc = shutil.which("rustc")
    if rustc:
        try:
            sysroot = subprocess.run([rustc, "--print", "sysroot"], capture_output=True, text=True, timeout=30,
                                     check=True).stdout.strip()
            real = Path(sysroot) / "bin" / "rustfmt"
            if real.is_file():
                return str(real)
        except (subprocess.SubprocessError, OSError):
            pass
    return shim


def rustfmt(source: str) -> str | None:
    """``source`` formatted, or None (no rustfmt, a syntax error, a timeout)."""
    path = rustfmt_path()
    if path is None:
        return None
    try:
        done = subprocess.run([path, "--edition", "2021", "--emit", "stdout"], input=source, capture_output=True,
                              text=True, timeout=10)
    except (subprocess.SubprocessError, OSError):
        return None
    return done.stdout if done.returncode == 0 and done.stdout.strip() else None


def _tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(0), m.start(), m.end()) for m in TOKEN.finditer(text)]


@dataclass
class View:
    """``shown`` is what the prompt numbers and the edit applies to; ``original`` is the user's program."""

    original: str
    shown: str

    @property
    def reformatted(self) -> bool:
        return self.shown != self.original

    def _alignment(self) -> dict[int, int]:
        """Token index in ``shown`` -> token index in ``original``, where the tokens are the same."""
        a, b = [t for t, _, _ in _tokens(self.shown)], [t for t, _, _ in _tokens(self.original)]
        out = {}
        for block in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_matching_blocks():
            for k in range(block.size):
                out[block.a + k] = block.b + k
        return out

    def to_original(self, edited: str) -> str | None:
        """The user's program with the change that turned ``shown`` into ``edited``; None if it cannot be placed."""
        if not self.reformatted:
            return edited
        shown, orig, new = _tokens(self.shown), _tokens(self.original), _tokens(edited)
        align = self._alignment()
        pieces: list[tuple[int, int, str]] = []
        ops = difflib.SequenceMatcher(a=[t for t, _, _ in shown], b=[t for t, _, _ in new], autojunk=False)
        for tag, i1, i2, j1, j2 in ops.get_opcodes():
            if tag == "equal":
                continue
            # The rewritten region runs from the end of the last unchanged token before the change to the
            # start of the first unchanged token after it, in both texts: the space around it goes too.
            left = align.get(i1 - 1) if i1 > 0 else -1
            right = align.get(i2) if i2 < len(shown) else len(orig)
            if left is None or right is None or right <= left:
                return None
            start = orig[left][2] if left >= 0 else 0
            end = orig[right][1] if right < len(orig) else len(self.original)
            new_start = new[j1 - 1][2] if j1 > 0 else 0
            new_end = new[j2][1] if j2 < len(new) else len(edited)
            text = edited[new_start:new_end]
            if "\n" not in self.original[start:end]:
                text = re.sub(r"\s*\n\s*", " ", text)  # the user's one line stays one line
            pieces.append((start, end, text))
        out = self.original
        for start, end, text in sorted(pieces, reverse=True):
            out = out[:start] + text + out[end:]
        return out

    def edit_to(self, after: str) -> str | None:
        """The edit, in the view's lines, that turns this program into ``after`` (training examples)."""
        from sleepy.tasks.edit import EditError, diff_to_edit

        target = after if not self.reformatted else rustfmt(after)
        if target is None:
            return None
        try:
            return diff_to_edit(self.shown, target).render()
        except EditError:
            return None

    def diagnostic(self, diag: Diagnostic | None) -> Diagnostic | None:
        """``diag`` with its spans moved to the lines and columns of ``shown`` (the prompt numbers those)."""
        if diag is None or not self.reformatted:
            return diag
        shown, orig = _tokens(self.shown), _tokens(self.original)
        back = {o: s for s, o in self._alignment().items()}
        starts = _line_starts(self.original)
        shown_starts = _line_starts(self.shown)
        spans = []
        for span in diag.spans:
            offset = starts[min(span.line_start, len(starts)) - 1] + max(0, span.col_start - 1)
            k = next((i for i, (_, a, b) in enumerate(orig) if b > offset), len(orig) - 1)
            s = back.get(k)
            if s is None:
                continue
            pos = shown[s][1]
            line = max(i for i, st in enumerate(shown_starts) if st <= pos) + 1
            col = pos - shown_starts[line - 1] + 1
            width = span.col_end - span.col_start if span.line_end == span.line_start else 1
            spans.append(dataclasses.replace(span, line_start=line, line_end=line, col_start=col,
                                             col_end=col + max(1, width)))
        return dataclasses.replace(diag, spans=spans or diag.spans, fixits=self._fixits(diag.fixits))

    def _fixits(self, fixits: list[Fixit]) -> list[Fixit]:
        """The verifier's suggestions re-placed on ``shown``: applied to the program, formatted, diffed."""
        out = []
        old = self.shown.encode()
        for fixit in fixits:
            fixed = fixit.apply(self.original)
            shown = rustfmt(fixed) if fixed is not None else None
            if shown is None:
                continue
            new = shown.encode()
            p, q = common_affixes(old, new)
            try:
                text = new[p:len(new) - q].decode()
            except UnicodeDecodeError:
                continue
            out.append(Fixit(fixit.message, [(p, len(old) - q, text)], fixit.applicability))
        return out


def _line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer(r"\n", text)]


def view_of(pack: str, source: str) -> View:
    """The view the model gets: formatted when the program crams statements onto few lines, else as written.

    Only cramped programs (a few lines, or a very long line) are reformatted: a program laid out by a
    person is shown as written, so what the model sees is the user's code (and the leakage guard,
    which compares programs token by token, sees the same tokens)."""
    lines = source.splitlines()
    cramped = len(lines) <= CRAMPED_LINES or any(len(line) > CRAMPED_WIDTH for line in lines)
    if pack != "rust" or not cramped or not STATEMENTS_ON_A_LINE.search(source):
        return View(source, source)
    shown = rustfmt(source)
    if shown is None or shown.count("\n") < source.count("\n") + MIN_EXTRA_LINES:
        return View(source, source)
    return View(source, shown)
