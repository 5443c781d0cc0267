"""Fix patterns: one verified fix, generalised so that memory can repair the next program itself.

The tiny model cannot adapt a recalled fix to a new program: it blends the old names into its own
edit (``yogurt_map as usize``; benchmarks/results/day_reuse_rust*.json). So memory adapts the fix,
with no model call, in the manner of Getafix's anti-unification: the tokens a verified fix changed,
with a token of context on each side, become a *pattern* in which the program's own names are holes.
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

from sleepy.tasks.signature import Diagnostic, Span

_TOKENS = re.compile(r"\w+|\s+|[^\w\s]")
_IDENT = re.compile(r"[A-Za-z_]\w*")
_QUOTED_NAME = re.compile(r"`([A-Za-z_]\w*)`|'([A-Za-z_]\w*)'")
MAX_PLACEMENTS = 6  # per hunk, nearest first
MAX_CANDIDATES = 3  # programs one pattern may hand to the verifier
MAX_HUNKS = 4  # a fix of more changes is too particular to generalise (and placements multiply per hunk)

# Words a fix means literally: keywords, primitive and std types, std traits. Every other
# identifier is taken to be the program's own name and becomes a hole.
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


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


@dataclass
class FixPattern:
    signature: str
    lang: str
    hunks: list[HunkPattern]
    names: dict[int, int] = field(default_factory=dict)  # hole -> index in the verifier's names

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> FixPattern:
        raw = json.loads(text)
        return cls(raw["signature"], raw["lang"], [HunkPattern(**h) for h in raw["hunks"]],
                   {int(k): v for k, v in raw["names"].items()})


def diagnostic_names(diag: Diagnostic) -> list[str]:
    """Names the verifier quotes (message, then span labels, then notes), first occurrence first."""
    texts = [diag.message] + [s.label or "" for s in diag.spans] + list(diag.notes)
    names: list[str] = []
    for text in texts:
        for m in _QUOTED_NAME.finditer(text):
            name = m.group(1) or m.group(2)
            if name not in names:
                names.append(name)
    return names


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
        for tok in _TOKENS.findall(text):
            if _IDENT.fullmatch(tok) and (tok not in self.literal or tok in self.names):
                out.append(self.holes.setdefault(tok, len(self.holes)))
            else:
                _append_literal(out, tok)
        return out

    def new(self, text: str) -> Template:
        """New text: a name the anchor holds, or one the verifier quoted, is a hole; others stay literal."""
        out: Template = []
        for tok in _TOKENS.findall(text):
            if tok in self.holes or (tok in self.names and _IDENT.fullmatch(tok)):
                out.append(self.holes.setdefault(tok, len(self.holes)))
            else:
                _append_literal(out, tok)
        return out

    def span(self, text: str, span_text: str) -> Template:
        """New text for the primary span: the span's own text is hole :data:`SPAN`, the rest as :meth:`new`."""
        at = text.find(span_text) if span_text else -1
        if at < 0:
            return self.new(text)
        pre, post = self.new(text[:at]), self.new(text[at + len(span_text):])
        return [p for p in pre + [SPAN] + post if p != ""]

    def name_bindings(self) -> dict[int, int]:
        return {hole: self.names.index(value) for value, hole in self.holes.items() if value in self.names}

    def unbindable(self, anchored: set[int]) -> bool:
        """A hole of the new text that neither an anchor nor a quoted name can ever bind."""
        named = set(self.name_bindings())
        return any(h not in anchored and h not in named for h in self.holes.values())


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


def _span_hunk(diag: Diagnostic, a: list[str], n: int, fixed: str, ab: _Abstractor) -> HunkPattern | None:
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
            middle = fixed[len(head):len(fixed) - len(tail)]
            return HunkPattern("span", [], [ab.span(middle, line[cols[1]:cols[2]])], n - (diag.primary.line_start - 1),
                               label=label)
    return None


def _append_literal(out: Template, tok: str) -> None:
    if out and isinstance(out[-1], str):
        out[-1] += tok
    else:
        out.append(tok)


def _holes(templates: list[Template]) -> set[int]:
    return {p for t in templates for p in t if isinstance(p, int)}


def _fragment(old: str, new: str, widen: bool = True) -> tuple[str, str]:
    """The changed tokens of one line, widened (``widen``) by one visible token each side: (old, new)."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    p = 0
    while p < min(len(a), len(b)) and a[p] == b[p]:
        p += 1
    s = 0
    while s < min(len(a), len(b)) - p and a[-1 - s] == b[-1 - s]:
        s += 1
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
    names = [t for t in _TOKENS.findall(text) if _IDENT.fullmatch(t) and t not in ab.literal]
    return bool(names) and all(t in ab.names for t in names)


def derive(before: str, after: str, diag: Diagnostic, lang: str) -> FixPattern | None:
    """The pattern of the verified fix ``before -> after`` of ``diag``; None when it cannot generalise."""
    if diag.primary is None:
        return None
    a, b = before.splitlines(), after.splitlines()
    primary = diag.primary.line_start - 1
    ab = _Abstractor(lang, diagnostic_names(diag))
    hunks: list[HunkPattern] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            for k in range(i2 - i1):
                span_hunk = _span_hunk(diag, a, i1 + k, b[j1 + k], ab)
                if span_hunk is not None:
                    hunks.append(span_hunk)
                    continue
                old, new = _fragment(a[i1 + k], b[j1 + k], widen=False)
                if not _named_only(old, ab):  # context pins what no quoted name pins
                    old, new = _fragment(a[i1 + k], b[j1 + k])
                if not old.strip():
                    return None
                hunks.append(HunkPattern("fragment", [ab.anchor(old)], [ab.new(new)], i1 + k - primary))
        elif tag == "insert":
            after_anchor = i1 >= len(a)
            at = len(a) - 1 if after_anchor else i1
            if at < 0:
                return None
            base = _indent(a[at])
            hunks.append(HunkPattern("insert", [ab.anchor(a[at].strip())], [ab.new(t.strip()) for t in b[j1:j2]],
                                     at - primary, [_indent(t) - base for t in b[j1:j2]], after_anchor))
        else:
            base = _indent(a[i1])
            hunks.append(HunkPattern("lines", [ab.anchor(t.strip()) for t in a[i1:i2]],
                                     [ab.new(t.strip()) for t in b[j1:j2]], i1 - primary,
                                     [_indent(t) - base for t in b[j1:j2]]))
    if not hunks or len(hunks) > MAX_HUNKS or ab.unbindable(_holes([t for h in hunks for t in h.anchor]) | {SPAN}):
        return None
    if any(not any(isinstance(p, int) or p.strip() for p in t) for h in hunks for t in h.anchor):
        return None  # an anchor of blank text would match anywhere
    return FixPattern(diag.key, lang, hunks, ab.name_bindings())


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
        base = _indent(lines[place.line])
        new = [" " * max(0, base + d) + _fill(t, bound) if _fill(t, bound) else "" for t, d in
               zip(h.new, h.indent, strict=True)]
        if h.kind == "insert":
            at = place.line + 1 if h.after else place.line
            out[at:at] = new
        else:
            out[place.line:place.line + len(h.anchor)] = new
    return out


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
    lines = source.splitlines()
    target, col = diag.primary.line_start - 1, diag.primary.col_start - 1
    for bound in ([named, {}] if named else [{}]):  # the verifier's names first, then any names
        options = [_placements(lines, h, bound, target + h.offset, col, diag) for h in pattern.hunks]
        if not all(options):
            continue
        combos = []
        for places in product(*options):
            binds = dict(bound)
            if any(binds.setdefault(k, v) != v for p in places for k, v in p.bindings.items()):
                continue
            if _holes([t for h in pattern.hunks for t in h.new]) - binds.keys() - {SPAN} or _overlap(list(places),
                                                                                               pattern.hunks):
                continue
            combos.append((sum(p.distance for p in places), places, binds))
        combos.sort(key=lambda c: c[0])
        out: list[str] = []
        for _, places, binds in combos:
            text = "\n".join(_apply(lines, pattern.hunks, list(places), binds))
            text += "\n" if source.endswith("\n") else ""
            if text != source and text not in out:
                out.append(text)
            if len(out) == MAX_CANDIDATES:
                break
        if out:
            return out
    return []
