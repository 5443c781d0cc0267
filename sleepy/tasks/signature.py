"""Error signatures: a verifier's output normalised to a stable key.

The key (``rust:E0382:borrow-of-moved-value``, ``py:TypeError:unsupported-operand-type-s-for-int-and-str``)
is the unit of clustering, routing and exact recall, so it must not depend on user names: backticked
or quoted identifiers are dropped from the message. One rustc code can need different fixes (E0277 is a
missing derive *or* a ``?`` in a function returning ``()``), hence code *and* message.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from itertools import pairwise

# Python builtin type names kept in signatures: "'NoneType' object has no attribute" needs a
# different fix from "'Config' object has no attribute".
_KEEP_QUOTED = {"NoneType", "int", "str", "float", "list", "dict", "tuple", "set", "bool", "bytes"}
_MAX_WORDS = 8


@dataclass
class Span:
    file: str
    line_start: int
    line_end: int
    col_start: int
    col_end: int
    label: str | None = None
    byte_start: int = -1  # offsets in the checked file where the verifier gives them (rustc does)
    byte_end: int = -1


@dataclass
class Fixit:
    """A change the verifier itself suggests (rustc's help with replacement text), all parts at once."""

    message: str
    parts: list[tuple[int, int, str]]  # (byte start, byte end, replacement) in the checked file
    applicability: str = "Unspecified"  # rustc's: MachineApplicable | MaybeIncorrect | HasPlaceholders | Unspecified
    file: str | None = None  # the file its parts are in (a project has several)

    def apply(self, source: str) -> str | None:
        """The program with this suggestion applied, or None when its ranges do not fit the program."""
        data = source.encode()
        parts = sorted(self.parts, key=lambda p: (p[0], p[1]))
        if any(a[1] > b[0] or (a[0], a[1]) == (b[0], b[1]) for a, b in pairwise(parts)):
            return None  # overlapping parts are not one change
        for start, end, text in reversed(parts):
            if not 0 <= start <= end <= len(data):
                return None
            data = data[:start] + text.encode() + data[end:]
        try:
            return data.decode()
        except UnicodeDecodeError:
            return None


@dataclass
class Diagnostic:
    """One error as the verifier saw it: normalised key plus what a prompt needs to explain it."""

    key: str
    code: str
    message: str
    spans: list[Span] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rendered: str = ""
    suggestions: list[str] = field(default_factory=list)  # the verifier's suggested replacement texts
    fixits: list[Fixit] = field(default_factory=list)  # the same, placed: each one a whole suggested change
    helps: list[tuple[str, list[Span]]] = field(default_factory=list)  # rustc's notes with the spans they point at

    @property
    def primary(self) -> Span | None:
        return self.spans[0] if self.spans else None

    def to_dict(self) -> dict:
        return asdict(self)


def _slug(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "-".join(words[:_MAX_WORDS])


# Standard traits named in rustc messages: "`Point` doesn't implement `Debug`" (derive it) needs a
# different fix from "`T` doesn't implement `std::fmt::Display`" (add a bound), so these names stay.
_KEEP_TRAITS = {"Debug", "Display", "Clone", "Copy", "PartialEq", "Eq", "PartialOrd", "Ord", "Hash",
                "Default", "Iterator", "IntoIterator", "Send", "Sync", "Sized", "From", "Into", "FromStr",
                "Add", "Sub", "Mul", "Div", "Write", "Read"}


def _kept_traits(match: re.Match) -> str:
    names = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", match.group(1))
    return " " + " ".join(n for n in names if n in _KEEP_TRAITS) + " "


def normalise_rust_message(message: str) -> str:
    """Drop backticked names but keep std trait names: ``borrow of moved value: `x``` -> ``borrow-of-moved-value``."""
    message = re.sub(r"`([^`]*)`", _kept_traits, message)
    message = re.sub(r"\d+", " ", message)
    return _slug(message) or "error"


def rust_key(code: str | None, message: str) -> str:
    return f"rust:{code or 'nocode'}:{normalise_rust_message(message)}"


def parse_rustc_json(stderr: str, main_file: str | None = None) -> list[Diagnostic]:
    """Errors (not warnings) from ``rustc --error-format=json`` output, in the order rustc gave them."""
    diagnostics: list[Diagnostic] = []
    for line in stderr.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if record.get("$message_type", "diagnostic") != "diagnostic" or record.get("level") != "error":
            continue
        message = record.get("message", "")
        if message.startswith("aborting due to") or message.startswith("could not compile"):
            continue
        code = (record.get("code") or {}).get("code")
        spans = []
        for s in sorted(record.get("spans", []), key=lambda s: not s.get("is_primary")):
            if main_file and s.get("file_name") != main_file:
                continue
            spans.append(_span(s))
        notes = [c.get("message", "") for c in record.get("children", []) if c.get("message")]
        suggestions = [s["suggested_replacement"] for c in record.get("children", []) for s in c.get("spans", [])
                       if s.get("suggested_replacement")]
        helps = [(c.get("message", ""), [_span(s) for s in c.get("spans", [])
                                          if not main_file or s.get("file_name") == main_file])
                 for c in record.get("children", []) if c.get("spans")]
        diagnostics.append(Diagnostic(key=rust_key(code, message), code=code or "nocode", message=message,
                                      spans=spans, notes=notes, rendered=record.get("rendered") or "",
                                      suggestions=suggestions, fixits=_fixits(record, main_file), helps=helps))
    return diagnostics


def _span(s: dict) -> Span:
    return Span(file=s["file_name"], line_start=s["line_start"], line_end=s["line_end"], col_start=s["column_start"],
                col_end=s["column_end"], label=s.get("label"), byte_start=s.get("byte_start", -1),
                byte_end=s.get("byte_end", -1))


def _fixits(record: dict, main_file: str | None) -> list[Fixit]:
    """rustc's suggestions of one error. A help lists its alternatives one after another in one span
    list ("wrap in `Ok(`..`)`" then "wrap in `Err(`..`)`"; "import this" or "import that"): a part whose
    range the current change already holds starts the next alternative."""
    out = []
    for child in record.get("children", []):
        spans = [s for s in child.get("spans", []) if s.get("suggested_replacement") is not None
                 and (not main_file or s.get("file_name") == main_file)]
        message = child.get("message") or "suggestion"
        groups: list[tuple[str, str, list[tuple[int, int, str]]]] = []
        for s in spans:
            part = (s["byte_start"], s["byte_end"], s["suggested_replacement"])
            if not groups or groups[-1][1] != s.get("file_name") or any((a, b) == part[:2]
                                                                        for a, b, _ in groups[-1][2]):
                groups.append((s.get("suggestion_applicability") or "Unspecified", s.get("file_name"), []))
            groups[-1][2].append(part)
        out += [Fixit(message, parts, applicability, file) for applicability, file, parts in groups]
    return out


def normalise_python_message(message: str) -> str:
    def keep_builtin(match: re.Match) -> str:
        inner = match.group(1)
        return f" {inner} " if inner in _KEEP_QUOTED else " "

    # "Did you mean/forget" hints vary between Python versions; they are not part of the error class.
    message = re.split(r"\.? ?Did you (?:mean|forget)", message)[0]
    message = re.sub(r"\s*\(/[^)]*\)", " ", message)  # "(/tmp/work/pkg/mod.py)": where, not what
    message = re.sub(r"'([^']*)'", keep_builtin, message)
    message = re.sub(r"\"([^\"]*)\"", keep_builtin, message)
    message = re.sub(r"\d+", " ", message)
    return _slug(message)


def python_key(exc_type: str, message: str) -> str:
    slug = normalise_python_message(message)
    return f"py:{exc_type}:{slug}" if slug else f"py:{exc_type}"


# A frame line of a Python traceback; the function is absent on a SyntaxError's frame.
TRACE_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in (?P<function>\S+))?', re.M)
_EXC_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Iteration)?)"
                       r"(?::\s?(?P<msg>.*))?$")


def parse_python_traceback(stderr: str, main_file: str) -> Diagnostic | None:
    """The uncaught exception of a Python run, keyed by type and normalised message.

    The primary span is the deepest frame inside ``main_file`` (the user's program, not the stdlib).
    """
    lines = stderr.rstrip().splitlines()
    if not lines:
        return None
    # A SyntaxError in the program itself has frames but no "Traceback" header.
    start = max((i for i, line in enumerate(lines) if line.startswith("Traceback")), default=0)
    span = None
    for i in range(start, len(lines)):
        m = TRACE_FRAME.match(lines[i])
        if m and m.group("file").endswith(main_file):
            line_no = int(m.group("line"))
            span = Span(file=main_file, line_start=line_no, line_end=line_no, col_start=1, col_end=1)
    exc_line = lines[-1]
    m = _EXC_LINE.match(exc_line.strip())
    if not m:
        return None
    exc_type = m.group("type").split(".")[-1]
    message = (m.group("msg") or "").strip()
    return Diagnostic(key=python_key(exc_type, message), code=exc_type, message=message,
                      spans=[span] if span else [], rendered="\n".join(lines[start:]))
