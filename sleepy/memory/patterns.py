"""Fix patterns: one verified fix, generalised so that memory can repair the next program itself.

The tiny model cannot adapt a recalled fix to a new program: it blends the old names into its own
edit (``yogurt_map as usize``; benchmarks/results/day_reuse_rust*.json). So memory adapts the fix,
with no model call, in the manner of Getafix's anti-unification: the tokens a verified fix changed
become a *pattern* in which the program's own names are holes. A change within one of the verifier's
spans is kept relative to that span; any other change keeps one token of context on each side,
unless the names in it are all ones the verifier quoted (they pin it without context).
On a new program with the same error signature the pattern is matched near the error, its holes
bound to the names found there (and first to the names the verifier gives: "`Point` doesn't
implement `Debug`" says which struct to derive on), and the few placements it yields are handed
to the verifier like any model sample. Only what the verifier passes is kept.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import asdict, dataclass, field
from itertools import product

from sleepy.tasks.edit import CODE_TOKENS, common_affixes
from sleepy.tasks.signature import Diagnostic, Span

_IDENT = re.compile(r"[A-Za-z_]\w*")
_QUOTED_NAME = re.compile(r"`([A-Za-z_]\w*)`|'([A-Za-z_]\w*)'")
MAX_PLACEMENTS = 6  # per hunk, nearest first
MAX_CANDIDATES = 3  # programs one pattern may hand to the verifier
MAX_HUNKS = 4  # a fix of more changes is too particular to generalise (and placements multiply per hunk)

def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words a fix means literally: keywords, primitive and std types, std traits. Every other
# identifier is taken to be the program's own name and becomes a hole.
_LITERAL = {
    "rust": _words("""as break const continue crate else enum extern false fn for if impl in let loop match mod move
        mut pub ref return self Self static struct super trait true type unsafe use where while dyn async await
        i8 i16 i32 i64 i128 isize u8 u16 u32 u64 u128 usize f32 f64 bool char str String Vec Option Some None
        Result Ok Err Box Rc RefCell HashMap HashSet BTreeMap std collections fmt derive Debug Display Clone Copy
        PartialEq Eq PartialOrd Ord Hash Default Iterator Write Read From Into FromStr println print format
        write writeln vec clone to_string to_owned unwrap expect iter len push into"""),
    "python": _words("""False None True and as assert async await break class continue def del elif else except
        finally for from global if import in is lambda nonlocal not or pass raise return try while with yield self
        int str float bool list dict tuple set bytes len range print isinstance enumerate zip sorted min max sum
        append get items keys values format join split strip open"""),
}

Template = list  # literal strings and hole numbers (ints)


@dataclass
class HunkPattern:
    """One change: where it goes (``anchor``, matched in the new program) and what it writes."""

    kind: str  # span: rewrite one of the verifier's spans | fragment: part of one line | insert: whole lines
    # next to the anchor line | lines: replace whole lines
    anchor: list[Template]  # fragment: one template matched inside a line; insert/lines: whole (stripped) lines
    new: list[Template]  # fragment: one template; insert/lines: whole lines (stripped), indented as ``indent``
    offset: int  # the anchor's first line minus the primary error line, in the fix this came from
    indent: list[int] = field(default_factory=list)  # each new line's indentation minus the anchor's
    after: bool = False  # insert after the anchor line (the fix appended to the program's end)
    label: str | None = None  # span: which span, by its label without names ("value moved here"); None: primary
    top: bool = False  # insert made at the top of the file (an import): goes there when the anchor is not found


@dataclass
class FixPattern:
    signature: str
    lang: str
    hunks: list[HunkPattern]
    names: dict[int, int] = field(default_factory=dict)  # hole -> index in the verifier's names
    shape: str = ""  # the error's details without program names (see :func:`shape`): ranks this pattern first
    # for errors that share them ("expected `String`, found `&str`" is not "expected `u64`, found `u32`")

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> FixPattern:
        raw = json.loads(text)
        return cls(raw["signature"], raw["lang"], [HunkPattern(**h) for h in raw["hunks"]],
                   {int(k): v for k, v in raw["names"].items()}, raw.get("shape", ""))


def quoted_names(text: str) -> list[str]:
    """The names quoted in ``text`` (`rust` or 'python' style), in order."""
    return [m.group(1) or m.group(2) for m in _QUOTED_NAME.finditer(text)]


def diagnostic_names(diag: Diagnostic) -> list[str]:
    """Names the verifier quotes (message, then span labels, then notes), then the names it suggests as
    replacements (rustc: "a local variable with a similar name exists: `earned`"), first occurrence first."""
    texts = [diag.message] + [s.label or "" for s in diag.spans] + list(diag.notes)
    found = [name for text in texts for name in quoted_names(text)]
    found += [s for s in diag.suggestions if _IDENT.fullmatch(s)]
    return list(dict.fromkeys(found))


def shape(diag: Diagnostic, lang: str) -> str:
    """The verifier's span labels and notes with program names blanked and language words kept.

    One signature covers fixes that differ ("mismatched types" wants ``.to_string()`` for
    "expected `String`, found `&str`" and ``as u64`` for "expected `u64`, found `u32`"); the shape
    tells them apart without the names that differ between programs.
    """
    literal = _LITERAL.get(lang, frozenset())

    def blank(m: re.Match) -> str:
        inner = m.group(1) if m.group(1) is not None else m.group(2)
        words = _IDENT.findall(inner)
        return f"`{inner}`" if words and all(w in literal for w in words) else "_"

    texts = [s.label or "" for s in diag.spans] + list(diag.notes)
    return "|".join(re.sub(r"`([^`]*)`|'([^']*)'", blank, t) for t in texts)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


class _Abstractor:
    """Turns concrete text into templates, one hole per distinct program name across the whole fix."""

    def __init__(self, lang: str, names: list[str]) -> None:
        self.literal = _LITERAL.get(lang, set())
        self.names = names
        self.holes: dict[str, int] = {}

    def anchor(self, text: str) -> Template:
        out: Template = []
        for tok in CODE_TOKENS.findall(text):
            if _IDENT.fullmatch(tok) and (tok not in self.literal or tok in self.names):
                out.append(self.holes.setdefault(tok, len(self.holes)))
            else:
                _append_literal(out, tok)
        return out

    def new(self, text: str) -> Template:
        """New text: a name the anchor holds, or one the verifier quoted, is a hole; others stay literal."""
        out: Template = []
        for tok in CODE_TOKENS.findall(text):
            if tok in self.holes or (tok in self.names and _IDENT.fullmatch(tok)):
                out.append(self.holes.setdefault(tok, len(self.holes)))
            else:
                _append_literal(out, tok)
        return out

    def span(self, text: str, span_text: str) -> Template:
        """New text for a span: the span's own tokens are hole :data:`SPAN`, the rest as :meth:`new`."""
        toks, want = CODE_TOKENS.findall(text), CODE_TOKENS.findall(span_text)
        at = next((i for i in range(len(toks) - len(want) + 1) if want and toks[i:i + len(want)] == want), None)
        if at is None:
            return self.new(text)
        pre, post = self.new("".join(toks[:at])), self.new("".join(toks[at + len(want):]))
        return pre + [SPAN] + post

    def name_bindings(self) -> dict[int, int]:
        return {hole: self.names.index(value) for value, hole in self.holes.items() if value in self.names}


def _append_literal(out: Template, tok: str) -> None:
    if out and isinstance(out[-1], str):
        out[-1] += tok
    else:
        out.append(tok)


def _holes(templates: list[Template]) -> set[int]:
    return {p for t in templates for p in t if isinstance(p, int)}


SPAN = -1  # the hole that stands for the text of the span a span hunk rewrites


def _label_key(label: str | None) -> str:
    return re.sub(r"`[^`]*`|'[^']*'|\d+", "_", label or "").strip()


def _find_span(diag: Diagnostic, label: str | None) -> Span | None:
    """The primary span (``label`` None), else the first secondary span whose label reads the same."""
    if label is None:
        return diag.primary
    return next((s for s in diag.spans[1:] if _label_key(s.label) == label), None)


def _columns(span: Span | None, lines: list[str]) -> tuple[int, int, int] | None:
    """(0-based line, start, end) of ``span`` when it is one non-empty stretch of one line, else None."""
    if span is None or span.line_start != span.line_end or span.col_end <= span.col_start:
        return None
    n = span.line_start - 1
    if not 0 <= n < len(lines) or span.col_end - 1 > len(lines[n]):
        return None
    return n, span.col_start - 1, span.col_end - 1


@dataclass
class _Change:
    """One hunk of a fix in concrete text, before its names become holes."""

    kind: str
    anchor: list[str]
    new: list[str]
    offset: int
    indent: list[int] = field(default_factory=list)
    after: bool = False
    label: str | None = None
    span_text: str = ""
    top: bool = False


def _span_change(diag: Diagnostic, a: list[str], n: int, fixed: str, primary: int) -> _Change | None:
    """The change of line ``n`` as a rewrite of a span on it, when the change stays within that span."""
    for i, span in enumerate(diag.spans):
        cols = _columns(span, a)
        if cols is None or cols[0] != n:
            continue
        line = a[n]
        head, tail = line[:cols[1]], line[cols[2]:]
        if fixed.startswith(head) and fixed.endswith(tail) and len(fixed) >= len(head) + len(tail):
            label = None if i == 0 else _label_key(span.label)
            if label is not None and _find_span(diag, label) is not span:
                continue  # two secondary spans read alike: the label could not say which
            return _Change("span", [], [fixed[len(head):len(fixed) - len(tail)]], n - primary, label=label,
                           span_text=line[cols[1]:cols[2]])
    return None


def _fragment(old: str, new: str, widen: bool = True) -> tuple[str, str]:
    """The changed tokens of one line, widened (``widen``) by one visible token each side: (old, new)."""
    a, b = CODE_TOKENS.findall(old), CODE_TOKENS.findall(new)
    p, s = common_affixes(a, b)
    i, j = p, len(a) - s  # old tokens [i, j); new tokens [i, len(b) - s)
    k = len(b) - s
    if not widen:
        return "".join(a[i:j]), "".join(b[p:k])
    while i > 0 and a[i - 1].isspace():  # context: whitespace plus one visible token on the left
        i -= 1
    if i > 0:
        i -= 1
    while j < len(a) and a[j].isspace():  # and on the right
        j += 1
    if j < len(a):
        j += 1
    left, right = p - i, j - (len(a) - s)
    return "".join(a[i:j]), "".join(b[p - left:k + right])


def _named_only(text: str, ab: _Abstractor) -> bool:
    """Whether ``text`` holds names and every one of them is a name the verifier quoted."""
    names = [t for t in CODE_TOKENS.findall(text) if _IDENT.fullmatch(t) and t not in ab.literal]
    return bool(names) and all(t in ab.names for t in names)


def _changes(a: list[str], b: list[str], diag: Diagnostic, ab: _Abstractor) -> list[_Change] | None:
    primary = diag.primary.line_start - 1
    out: list[_Change] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            for k in range(i2 - i1):
                change = _span_change(diag, a, i1 + k, b[j1 + k], primary)
                if change is None:
                    old, new = _fragment(a[i1 + k], b[j1 + k], widen=False)
                    if not _named_only(old, ab):  # context pins what no quoted name pins
                        old, new = _fragment(a[i1 + k], b[j1 + k])
                    if not old.strip():
                        return None
                    change = _Change("fragment", [old], [new], i1 + k - primary)
                out.append(change)
        elif tag == "insert":
            after_anchor = i1 >= len(a) or not a[i1].strip()  # no line below it to name: the one above it
            at = i1 - 1 if after_anchor else i1
            if at < 0:
                return None
            base = _indent(a[at])
            out.append(_Change("insert", [a[at].strip()], [t.strip() for t in b[j1:j2]], at - primary,
                               [_indent(t) - base for t in b[j1:j2]], after_anchor, top=i1 == 0))
        else:
            base = _indent(a[i1])
            out.append(_Change("lines", [t.strip() for t in a[i1:i2]], [t.strip() for t in b[j1:j2]], i1 - primary,
                               [_indent(t) - base for t in b[j1:j2]]))
    return out


def derive(before: str, after: str, diag: Diagnostic, lang: str) -> FixPattern | None:
    """The pattern of the verified fix ``before -> after`` of ``diag``; None when it cannot generalise."""
    if diag.primary is None:
        return None
    ab = _Abstractor(lang, diagnostic_names(diag))
    changes = _changes(before.split("\n"), after.split("\n"), diag, ab)
    if not changes or len(changes) > MAX_HUNKS:
        return None
    if any(c.anchor and not any(t.strip() for t in c.anchor) for c in changes):
        return None  # an anchor of blank lines would match anywhere
    anchors = [[ab.anchor(t) for t in c.anchor] for c in changes]  # every anchor first: their names are holes
    hunks = [HunkPattern(c.kind, anchor, [ab.span(t, c.span_text) if c.kind == "span" else ab.new(t) for t in c.new],
                         c.offset, c.indent, c.after, c.label, c.top)
             for c, anchor in zip(changes, anchors, strict=True)]
    return FixPattern(diag.key, lang, hunks, ab.name_bindings(), shape(diag, lang))


# --------------------------------------------------------------------------- applying a pattern


def _regex(template: Template, bound: dict[int, str], whole: bool) -> re.Pattern:
    seen: set[int] = set()
    parts: list[str] = []
    for p in template:
        if isinstance(p, str):
            parts.append(re.escape(p))
        elif p in bound:
            parts.append(re.escape(bound[p]))
        elif p in seen:
            parts.append(f"(?P=h{p})")
        else:
            parts.append(rf"(?P<h{p}>[A-Za-z_]\w*)")
            seen.add(p)
    body = "".join(parts)
    if whole:
        return re.compile(rf"\s*{body}\s*")
    first, last = template[0], template[-1]
    if isinstance(first, int) or re.match(r"\w", first):
        body = r"(?<!\w)" + body
    if isinstance(last, int) or re.search(r"\w$", last):
        body += r"(?!\w)"
    return re.compile(body)


@dataclass
class _Placement:
    line: int  # 0-based first line
    start: int  # fragment and span columns; whole lines use 0, 0
    end: int
    bindings: dict[int, str]
    distance: int
    span_text: str = ""


def _placements(lines: list[str], h: HunkPattern, bound: dict[int, str], target: int, col: int,
                diag: Diagnostic) -> list[_Placement]:
    found: list[_Placement] = []
    if h.kind == "span":
        cols = _columns(_find_span(diag, h.label), lines)
        if cols is None:
            return []
        n, start, end = cols
        return [_Placement(n, start, end, {}, 0, lines[n][start:end])]
    if h.kind == "fragment":
        rx = _regex(h.anchor[0], bound, whole=False)
        for n, line in enumerate(lines):
            for m in rx.finditer(line):
                binds = {int(k[1:]): v for k, v in m.groupdict().items()}
                found.append(_Placement(n, m.start(), m.end(), binds, abs(n - target) * 1000 + abs(m.start() - col)))
    else:
        rxs = [_regex(t, bound, whole=True) for t in h.anchor]
        for n in range(len(lines) - len(rxs) + 1):
            binds: dict[int, str] = {}
            for k, rx in enumerate(rxs):
                m = rx.fullmatch(lines[n + k])
                if not m or any(binds.get(int(g[1:]), v) != v for g, v in m.groupdict().items()):
                    break
                binds |= {int(g[1:]): v for g, v in m.groupdict().items()}
            else:
                found.append(_Placement(n, 0, 0, binds, abs(n - target) * 1000))
        if not found and h.top:  # the line it went above is not here; an import still goes at the top
            found.append(_Placement(0, 0, 0, {}, 0))
    found.sort(key=lambda p: p.distance)
    return found[:MAX_PLACEMENTS]


def _fill(template: Template, bound: dict[int, str]) -> str:
    return "".join(p if isinstance(p, str) else bound[p] for p in template)


def _apply(lines: list[str], hunks: list[HunkPattern], places: list[_Placement], bound: dict[int, str]) -> list[str]:
    out = list(lines)
    order = sorted(zip(places, hunks, strict=True), key=lambda ph: (ph[0].line, ph[0].start), reverse=True)
    for place, h in order:
        if h.kind in ("fragment", "span"):
            line = out[place.line]
            out[place.line] = line[:place.start] + _fill(h.new[0], bound | {SPAN: place.span_text}) + line[place.end:]
            continue
        new = [_indented(lines[place.line], d, _fill(t, bound)) for t, d in zip(h.new, h.indent, strict=True)]
        if h.kind == "insert":
            at = place.line + 1 if h.after else place.line
            out[at:at] = new
        else:
            out[place.line:place.line + len(h.anchor)] = new
    return out


def _indented(anchor: str, delta: int, text: str) -> str:
    """``text`` indented ``delta`` columns deeper than ``anchor``, in the anchor's own kind of whitespace."""
    if not text:
        return ""
    lead = anchor[:_indent(anchor)]
    if delta <= 0:
        return lead[:max(0, len(lead) + delta)] + text
    return lead + (lead[:1] or " ") * delta + text


def _overlap(places: list[_Placement], hunks: list[HunkPattern]) -> bool:
    spans = sorted((p.line, p.line + max(1, len(h.anchor) if h.kind == "lines" else 1) - 1, p.start, p.end, h.kind)
                   for p, h in zip(places, hunks, strict=True))
    for x, y in zip(spans, spans[1:], strict=False):
        if y[0] <= x[1] and not ({x[4], y[4]} <= {"fragment", "span"} and x[0] == y[0] and y[2] >= x[3]):
            return True
    return False


def instantiate(pattern: FixPattern, source: str, diag: Diagnostic) -> list[str]:
    """Up to :data:`MAX_CANDIDATES` repaired programs for ``source``, most likely first (unverified)."""
    if diag.primary is None or pattern.signature != diag.key:
        return []
    names = diagnostic_names(diag)
    named = {hole: names[i] for hole, i in pattern.names.items() if i < len(names)}
    anchored = _holes([t for h in pattern.hunks for t in h.anchor])
    unanchored = {h: v for h, v in named.items() if h not in anchored}  # only a quoted name can bind these
    lines = source.split("\n")
    target, col = diag.primary.line_start - 1, diag.primary.col_start - 1
    # the verifier's names first; then anchors may bind any names (the quotes still bind what no anchor holds)
    written = _holes([t for h in pattern.hunks for t in h.new]) - {SPAN}
    for bound in ([named, unanchored] if named != unanchored else [named]):
        options = [_placements(lines, h, bound, target + h.offset, col, diag) for h in pattern.hunks]
        if not all(options):
            continue
        combos = []
        for places in product(*options):
            binds = dict(bound)
            if any(binds.setdefault(k, v) != v for p in places for k, v in p.bindings.items()):
                continue
            if written - binds.keys() or _overlap(list(places), pattern.hunks):
                continue
            combos.append((sum(p.distance for p in places), places, binds))
        combos.sort(key=lambda c: c[0])
        out: list[str] = []
        for _, places, binds in combos:
            text = "\n".join(_apply(lines, pattern.hunks, list(places), binds))
            if text != source and text not in out:
                out.append(text)
            if len(out) == MAX_CANDIDATES:
                break
        if out:
            return out
    return []
