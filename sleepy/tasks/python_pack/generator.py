"""Template generator of fresh Python day tasks.

``generate(family, seed)`` writes a small program (8-40 lines, ending in 2-4 asserts) with one planted
bug of the family's error class, the minimal reference fix (1-3 changed lines, every assert kept) and
the signature the verifier reports for the bug. Each family has several scenarios, one function each;
a scenario's signature is the same for every seed (measured with CPython 3.11; "Did you mean" hints
are no part of a signature, so a misspelling may or may not get one).

Randomised per seed: the domain (orders, sensors, tickets...) and so every identifier, the values and
sizes of the data, the style (function, class, comprehension, loop), the order of independent
statements, and filler that is valid code: a module docstring, unused imports, constants, helper
functions, comments, a ``__main__`` guard around the checks.
"""

from __future__ import annotations

import builtins
import datetime
import hashlib
import json
import math
import random
import re
import statistics
import string
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from sleepy.tasks.task import Task
from sleepy.tasks.vocabulary import WordSource

FAMILIES = ("name-import", "type-error", "attribute", "none-handling", "index-key", "logic")

Scenario = tuple[str, str, str, str]  # (description, buggy source, fixed source, signature)

MIN_LINES, MAX_LINES = 8, 40

# Signatures as the verifier reports them (see sleepy.tasks.signature).
SIG_NAME = "py:NameError:name-is-not-defined"
SIG_UNBOUND = "py:UnboundLocalError:cannot-access-local-variable-where-it-is-not"
SIG_CONCAT = "py:TypeError:can-only-concatenate-str-not-int-to-str"
SIG_INT_STR = "py:TypeError:unsupported-operand-type-s-for-int-and-str"
SIG_INT_NONE = "py:TypeError:unsupported-operand-type-s-for-int-and-nonetype"
SIG_UNHASHABLE = "py:TypeError:unhashable-type-list"
SIG_NOT_CALLABLE = "py:TypeError:int-object-is-not-callable"
SIG_NOT_ITERABLE = "py:TypeError:int-object-is-not-iterable"
SIG_SORTED_ARGS = "py:TypeError:sorted-expected-argument-got"
SIG_STR_ATTR = "py:AttributeError:str-object-has-no-attribute"
SIG_ATTR = "py:AttributeError:object-has-no-attribute"
SIG_DICT_ATTR = "py:AttributeError:dict-object-has-no-attribute"
SIG_LIST_ATTR = "py:AttributeError:list-object-has-no-attribute"
SIG_MODULE_ATTR = "py:AttributeError:module-has-no-attribute"
SIG_NONE_ATTR = "py:AttributeError:nonetype-object-has-no-attribute"
SIG_NONE_SUBSCRIPT = "py:TypeError:nonetype-object-is-not-subscriptable"
SIG_JOIN_NONE = "py:TypeError:sequence-item-expected-str-instance-nonetype-found"
SIG_INDEX = "py:IndexError:list-index-out-of-range"
SIG_STR_INDEX = "py:IndexError:string-index-out-of-range"
SIG_POP_EMPTY = "py:IndexError:pop-from-empty-list"
SIG_KEY = "py:KeyError"
SIG_MAX_EMPTY = "py:ValueError:max-arg-is-an-empty-sequence"
SIG_ASSERT = "py:AssertionError"


# ------------------------------------------------------------------------------------- domains


# Vocabulary words (and made-up words) that these templates already use: never drawn as a name.
_VOCABULARY_EXCLUDE = frozenset({
    "artist", "attic", "base", "branch", "bucket", "cellar", "coffee", "counter", "data", "date", "dedupe", "digest",
    "domain", "done", "drama", "final", "garage", "garden", "gita", "given", "grade", "kitchen", "label", "late",
    "latest", "legal", "letter", "level", "line", "literal", "made", "make", "minimal", "minimum", "model", "module",
    "mona", "more", "move", "name", "never", "none", "note", "param", "polo", "probe", "program", "pure", "rate",
    "recipe", "sade", "same", "sample", "several", "side", "silver", "size", "some", "studio", "super", "take",
    "taken", "time", "total", "toto", "turin", "umbrella", "volume",
})


@dataclass(frozen=True)
class Domain:
    noun: str  # "order"
    plural: str  # "orders"
    label: str  # a text field: "customer"
    labels: tuple[str, ...]  # values of the text field
    nums: tuple[str, ...]  # integer fields

    @property
    def cls(self) -> str:
        return self.noun.capitalize()

    @property
    def a(self) -> str:
        """The noun with its article: "an order", "a ticket"."""
        return f"{'an' if self.noun[0] in 'aeiou' else 'a'} {self.noun}"


DOMAINS = (
    Domain("order", "orders", "customer", ("ana", "ben", "chloe", "dev", "emma", "farid", "gita", "hugo"),
           ("amount", "quantity", "discount")),
    Domain("sensor", "sensors", "location", ("attic", "cellar", "garage", "kitchen", "lab", "roof", "shed"),
           ("reading", "voltage", "humidity")),
    Domain("invoice", "invoices", "client", ("acme", "globex", "initech", "hooli", "umbrella", "wonka"),
           ("amount", "tax", "days_late")),
    Domain("player", "players", "team", ("red", "blue", "green", "gold", "silver", "black"),
           ("score", "level", "lives")),
    Domain("ticket", "tickets", "assignee", ("kim", "lars", "mona", "nils", "olga", "pablo"),
           ("priority", "age_days", "comments")),
    Domain("shipment", "shipments", "carrier", ("dhl", "ups", "fedex", "postnl", "gls"),
           ("weight", "distance", "cost")),
    Domain("booking", "bookings", "room", ("suite", "double", "single", "loft", "studio"),
           ("nights", "guests", "rate")),
    Domain("student", "students", "course", ("algebra", "biology", "chemistry", "drama", "history"),
           ("grade", "credits", "absences")),
    Domain("book", "books", "genre", ("fantasy", "mystery", "poetry", "romance", "science"),
           ("pages", "stock", "price")),
    Domain("song", "songs", "artist", ("abba", "bjork", "queen", "sade", "toto"),
           ("duration", "plays", "rating")),
    Domain("employee", "employees", "department", ("finance", "legal", "ops", "sales", "support"),
           ("salary", "hours", "overtime")),
    Domain("recipe", "recipes", "cuisine", ("greek", "indian", "italian", "mexican", "thai"),
           ("servings", "minutes", "calories")),
    Domain("vehicle", "vehicles", "model", ("astra", "civic", "golf", "polo", "yaris"),
           ("mileage", "seats", "fuel")),
    Domain("flight", "flights", "airline", ("klm", "lufthansa", "iberia", "finnair", "swiss"),
           ("seats", "delay", "distance")),
    Domain("product", "products", "category", ("garden", "kitchen", "office", "sports", "toys"),
           ("price", "stock", "weight")),
    Domain("patient", "patients", "ward", ("east", "north", "south", "west", "icu"),
           ("age", "pulse", "visits")),
    Domain("server", "servers", "region", ("eu", "us", "asia", "africa", "oceania"),
           ("load", "uptime", "errors")),
    Domain("parcel", "parcels", "depot", ("amsterdam", "berlin", "lyon", "porto", "turin"),
           ("grams", "volume", "stops")),
)


# ------------------------------------------------------------------------------------- helpers


class _Edits:
    """Markers for the lines that differ between the buggy program and its fix.

    ``e(bug, fix)`` returns a marker to put in the template; ``None`` on one side drops the whole
    line there (the marker must then stand alone on its line). A multi-line replacement keeps the
    marker line's indentation on every line.
    """

    def __init__(self) -> None:
        self.pairs: dict[str, tuple[str | None, str | None]] = {}

    def __call__(self, bug: str | None, fix: str | None) -> str:
        marker = f"@{len(self.pairs)}@"
        self.pairs[marker] = (bug, fix)
        return marker

    def render(self, text: str, fixed: bool) -> str:
        out: list[str] = []
        for line in text.split("\n"):
            markers = re.findall(r"@\d+@", line)
            keep = True
            for marker in markers:
                repl = self.pairs[marker][1 if fixed else 0]
                if repl is None:
                    keep = False
                    break
                indent = line[: len(line) - len(line.lstrip())]
                line = line.replace(marker, repl.replace("\n", "\n" + indent))
            if keep:
                out.append(line)
        return "\n".join(out).rstrip("\n") + "\n"


FAMILIAR_DOMAIN_RATE = 0.25


def _domain(rng: random.Random) -> Domain:
    """A quarter of the time one of the written domains; otherwise one made from the shared
    vocabulary (some words made up), so that a model has to copy names rather than recall them."""
    if rng.random() < FAMILIAR_DOMAIN_RATE:
        return rng.choice(DOMAINS)
    words = WordSource(rng, _VOCABULARY_EXCLUDE)
    drawn: list[str] = []
    while len(drawn) < 12:
        w = words.word()
        if w not in drawn and w + "s" not in drawn:
            drawn.append(w)
    noun = next((w for w in drawn if not w.endswith(("s", "x", "z", "ch", "sh", "y"))), drawn[0] + "_item")
    rest = [w for w in drawn if w != noun]
    return Domain(noun, noun + "s", rest[0], tuple(rest[4:4 + rng.randint(5, 7)]), tuple(rest[1:4]))


def _lit(value: object) -> str:
    """A Python literal, strings in double quotes (json escapes are valid Python for ASCII text)."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, tuple):
        return "(" + ", ".join(_lit(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(_lit(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_lit(k)}: {_lit(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _assign(name: str, items: list[str], opener: str = "[", closer: str = "]") -> list[str]:
    """``name = [a, b]`` on one line when short, else one item a line."""
    one = f"{name} = {opener}{', '.join(items)}{closer}"
    if len(one) <= 96:
        return [one]
    return [f"{name} = {opener}", *(f"    {item}," for item in items), closer]


def _typo(rng: random.Random, name: str, taken: set[str] = frozenset()) -> str:
    """A one-edit misspelling (a letter dropped, doubled or swapped), never a name in ``taken``."""
    letters = [i for i in range(1, len(name)) if name[i].isalpha()]
    for _ in range(60):
        i = rng.choice(letters)
        ops = ["drop", "double"]
        if len(name) >= 6 and i + 1 < len(name) and name[i + 1].isalpha() and name[i + 1] != name[i]:
            ops.append("swap")
        op = rng.choice(ops)
        if op == "drop":
            cand = name[:i] + name[i + 1:]
        elif op == "double":
            cand = name[:i] + name[i] + name[i:]
        else:
            cand = name[:i] + name[i + 1] + name[i] + name[i + 2:]
        if cand != name and cand not in taken and cand.isidentifier():
            return cand
    return name + name[-1]


def _taken(*names: str) -> set[str]:
    return set(names) | set(dir(builtins))


def _shuffled(rng: random.Random, items: list) -> list:
    return rng.sample(items, len(items))


def _some_asserts(rng: random.Random, asserts: list[str], low: int = 2, high: int = 4) -> list[str]:
    """The first candidate assert (the one that trips over the bug) and 1-3 of the others after it,
    in random order: the others may fail differently on the buggy program, so they never run first."""
    k = min(len(asserts) - 1, rng.randint(low, high) - 1)
    return [asserts[0], *rng.sample(asserts[1:], k)]


# ------------------------------------------------------------------------------------- filler

_FILLER_IMPORTS = ("import os", "import sys", "import logging")
_FILLER_CONSTS: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f'VERSION = "{r.randint(0, 3)}.{r.randint(0, 20)}.{r.randint(0, 9)}"',
    lambda r: f"DEBUG = {r.choice(('False', 'True'))}",
    lambda r: f"MAX_RETRIES = {r.randint(2, 6)}",
    lambda r: 'ENCODING = "utf-8"',
    lambda r: f"TIMEOUT_S = {r.randint(5, 60)}.0",
    lambda r: f'LOG_PREFIX = "[{r.choice(("app", "core", "jobs", "sync", "batch"))}]"',
    lambda r: f"PAGE_SIZE = {r.choice((10, 20, 25, 50, 100))}",
)
_FILLER_HELPERS = (
    "def _clamp(value, low, high):\n    return max(low, min(value, high))",
    "def _pct(part, whole):\n    return 100.0 * part / whole if whole else 0.0",
    'def _slug(text):\n    return "-".join(text.lower().split())',
    "def _chunks(seq, size):\n    return [seq[i:i + size] for i in range(0, len(seq), size)]",
    "def _first(seq, default=None):\n    return next(iter(seq), default)",
    'def _describe(name, value):\n    return f"{name}={value!r}"',
)
_FILLER_COMMENTS = (
    "# Helpers for {topic}.",
    "# Pure functions only: no I/O in this module.",
    "# All quantities are whole numbers.",
    "# NOTE: keep in sync with the nightly report.",
    "# Small, dependency-free utilities for {topic}.",
    "# Inputs come from the {topic} export.",
)


def _program(rng: random.Random, e: _Edits, description: str, *, topic: str = "records",
             imports: list[str] = (), consts: list[str] = (), defs: list[str] = (),
             tail: list[str] = (), guard: bool = True) -> tuple[str, str]:
    """Assemble a program (imports, constants, definitions, then the module-level tail ending in
    asserts) with random valid filler, and render its buggy and fixed versions.

    Filler is dropped step by step while the program is over MAX_LINES, and added while it is
    under MIN_LINES."""
    doc = f'"""{description}"""' if rng.random() < 0.3 else None
    extra_imports = [rng.choice(_FILLER_IMPORTS)] if rng.random() < 0.25 else []
    extra_consts = [make(rng) for make in rng.sample(_FILLER_CONSTS, rng.choice((0, 0, 1, 1, 2)))]
    spare_consts = [make(rng) for make in _FILLER_CONSTS[:2]]
    helpers = rng.sample(_FILLER_HELPERS, rng.choice((0, 0, 1, 1, 2)))
    spare_helper = rng.choice([h for h in _FILLER_HELPERS if h not in helpers])
    comment = rng.choice(_FILLER_COMMENTS).format(topic=topic) if rng.random() < 0.35 else None
    guarded = guard and rng.random() < 0.3
    two_blank = rng.random() < 0.5
    all_imports = _shuffled(rng, [*imports, *extra_imports])
    all_imports.sort(key=lambda line: line.startswith("from "))
    positions = [rng.randint(0, len(defs)) for _ in range(len(helpers) + 1)]
    comment_at = rng.randrange(len(defs)) if defs else 0
    consts_first = rng.random() < 0.5

    def compose(trim: int, pad: int) -> tuple[str, str]:
        blocks: list[str] = []
        if (doc and trim < 3) or pad >= 1:
            blocks.append(doc or f'"""{description}"""')
        imps = all_imports if trim < 3 else [i for i in all_imports if i not in extra_imports]
        if imps:
            blocks.append("\n".join(imps))
        filler = (extra_consts if trim < 3 else []) + (spare_consts[: pad - 2] if pad >= 3 else [])
        cons = [*consts, *filler] if consts_first else [*filler, *consts]
        if cons:
            blocks.append("\n".join(cons))
        body = list(defs)
        if comment and defs and trim < 3:
            body[comment_at] = comment + "\n" + body[comment_at]
        extra = (helpers if trim < 2 else []) + ([spare_helper] if pad >= 2 else [])
        for pos, helper in sorted(zip(positions, extra, strict=False), reverse=True):
            body.insert(pos, helper)
        blocks += body
        if tail:
            if guarded:
                blocks.append('if __name__ == "__main__":\n' + "\n".join("    " + t if t else t for t in tail))
            else:
                blocks.append("\n".join(tail))
        sep = "\n\n\n" if two_blank and trim == 0 else "\n\n"
        text = sep.join(blocks)
        # A block that is only a dropped line (an import the fix adds) leaves extra blank lines.
        buggy, fixed = (re.sub(f"\n{{{len(sep) + 1},}}", sep, e.render(text, fixed=f)).lstrip("\n")
                        for f in (False, True))
        return buggy, fixed

    for trim in range(4):
        buggy, fixed = compose(trim, 0)
        if max(buggy.count("\n"), fixed.count("\n")) <= MAX_LINES:
            break
    pad = 0
    while min(buggy.count("\n"), fixed.count("\n")) < MIN_LINES and pad < 4:
        pad += 1
        buggy, fixed = compose(0, pad)
    return buggy, fixed


# ------------------------------------------------------------------------------------- name-import

# A use of a stdlib name: (module, names, builder(rng, domain, qualify)).
# The builder returns (code, candidate asserts, what it does); ``qualify("ceil")`` is the spelling
# in the code: ``math.ceil`` after ``import math``, ``ceil`` after ``from math import ceil``.
_Use = tuple[str, tuple[str, ...], Callable]


def _use_ceil(rng, d, q):
    fn = rng.choice(("batches_needed", "boxes_needed", f"{d.noun}_batches", "trips_needed"))
    size = rng.choice(("per_batch", "batch_size", "capacity"))
    per, other = rng.randint(3, 12), rng.randint(2, 20)
    a, b, c = rng.sample(range(1, 300), 3)
    code = f"def {fn}(quantity, {size}={per}):\n    return {q('ceil')}(quantity / {size})"
    asserts = [f"assert {fn}({a}) == {math.ceil(a / per)}", f"assert {fn}({b}) == {math.ceil(b / per)}",
               f"assert {fn}({c}, {other}) == {math.ceil(c / other)}"]
    return code, asserts, f"counts how many batches a number of {d.plural} needs"


def _use_sqrt(rng, d, q):
    num = rng.choice(d.nums)
    fn = rng.choice(("rms", f"rms_{num}", f"{num}_spread", "root_mean_square"))
    code = (f"def {fn}(values):\n    mean_square = sum(v * v for v in values) / len(values)\n"
            f"    return round({q('sqrt')}(mean_square), 2)")
    asserts = []
    for _ in range(3):
        vals = [rng.randint(1, 40) for _ in range(rng.randint(2, 5))]
        asserts.append(f"assert {fn}({vals}) == {round(math.sqrt(sum(v * v for v in vals) / len(vals)), 2)!r}")
    return code, asserts, f"computes the root mean square of {d.noun} {num} values"


def _use_gcd(rng, d, q):
    fn = rng.choice(("simplify", "reduce_ratio", "lowest_terms", f"{d.noun}_ratio"))
    code = f"def {fn}(a, b):\n    g = {q('gcd')}(a, b)\n    return a // g, b // g"
    asserts = []
    for _ in range(3):
        f, x, y = rng.randint(2, 9), rng.randint(1, 12), rng.randint(1, 12)
        g = math.gcd(x, y)
        asserts.append(f"assert {fn}({f * x}, {f * y}) == ({x // g}, {y // g})")
    return code, asserts, f"reduces a ratio of two {d.noun} counts to lowest terms"


def _use_mean(rng, d, q):
    num = rng.choice(d.nums)
    fn = rng.choice((f"average_{num}", f"mean_{num}", f"{num}_average"))
    code = f"def {fn}(values):\n    return round({q('mean')}(values), 2)"
    asserts = []
    for _ in range(3):
        vals = [rng.randint(1, 90) for _ in range(rng.randint(2, 6))]
        asserts.append(f"assert {fn}({vals}) == {round(statistics.mean(vals), 2)!r}")
    return code, asserts, f"averages the {num} of {d.plural}"


def _use_median(rng, d, q):
    num = rng.choice(d.nums)
    fn = rng.choice((f"median_{num}", f"typical_{num}", f"{num}_median"))
    code = f"def {fn}(values):\n    return {q('median')}(values)"
    asserts = []
    for _ in range(3):
        vals = [rng.randint(1, 90) for _ in range(rng.randint(3, 6))]
        asserts.append(f"assert {fn}({vals}) == {statistics.median(vals)!r}")
    return code, asserts, f"finds the median {num} of {d.plural}"


def _use_dumps(rng, d, q):
    num = rng.choice(d.nums)
    fn = rng.choice((f"encode_{d.noun}", f"{d.noun}_to_json", f"serialise_{d.noun}"))
    code = (f"def {fn}({d.label}, {num}):\n"
            f'    return {q("dumps")}({{"{d.label}": {d.label}, "{num}": {num}}}, sort_keys=True)')
    asserts = []
    for label in rng.sample(d.labels, 3):
        n = rng.randint(1, 500)
        asserts.append(f"assert {fn}({_lit(label)}, {n}) == {json.dumps({d.label: label, num: n}, sort_keys=True)!r}")
    return code, asserts, f"serialises {d.a} to JSON"


def _use_loads(rng, d, q):
    num = rng.choice(d.nums)
    fn = rng.choice((f"{num}_from", f"parse_{num}", f"{d.noun}_{num}"))
    code = f'def {fn}(payload):\n    return {q("loads")}(payload)["{num}"]'
    asserts = []
    for label in rng.sample(d.labels, 3):
        n = rng.randint(1, 500)
        asserts.append(f"assert {fn}({json.dumps({d.label: label, num: n})!r}) == {n}")
    return code, asserts, f"reads the {num} of {d.a} from a JSON payload"


def _use_findall(rng, d, q):
    fn = rng.choice(("numbers_in", "extract_numbers", f"{d.noun}_numbers"))
    code = f'def {fn}(text):\n    return [int(n) for n in {q("findall")}(r"\\d+", text)]'
    asserts = []
    for _ in range(3):
        a, b = rng.sample(d.labels, 2)
        x, y = rng.randint(1, 999), rng.randint(1, 999)
        asserts.append(f'assert {fn}("{a} {x} {b} {y}") == [{x}, {y}]')
    return code, asserts, f"extracts the numbers from {d.a} log line"


def _use_sub(rng, d, q):
    fn = rng.choice(("squash_spaces", "normalise_spaces", f"clean_{d.label}"))
    code = f'def {fn}(text):\n    return {q("sub")}(r"\\s+", " ", text).strip()'
    asserts = []
    for _ in range(3):
        words = rng.sample(d.labels, rng.randint(2, 3))
        spaced = "".join(w + " " * rng.randint(1, 3) for w in words)
        asserts.append(f'assert {fn}(" {spaced}") == "{" ".join(words)}"')
    return code, asserts, f"collapses runs of spaces in {d.a} {d.label} list"


def _use_counter(rng, d, q):
    fn = rng.choice((f"busiest_{d.label}", f"top_{d.label}", f"most_common_{d.label}"))
    code = f"def {fn}(names):\n    return {q('Counter')}(names).most_common(1)[0][0]"
    asserts = []
    for _ in range(3):
        top, *others = rng.sample(d.labels, 3)
        names = [top] * 3 + [o for o in others for _ in range(rng.randint(1, 2))]
        asserts.append(f"assert {fn}({_lit(_shuffled(rng, names))}) == {_lit(top)}")
    return code, asserts, f"finds the {d.label} that occurs most often"


def _use_accumulate(rng, d, q):
    num = rng.choice(d.nums)
    fn = rng.choice((f"running_{num}", f"cumulative_{num}", f"{num}_so_far"))
    code = f"def {fn}(values):\n    return list({q('accumulate')}(values))"
    asserts = []
    for _ in range(3):
        vals = [rng.randint(1, 50) for _ in range(rng.randint(2, 5))]
        asserts.append(f"assert {fn}({vals}) == {[sum(vals[:i + 1]) for i in range(len(vals))]}")
    return code, asserts, f"computes running totals of {d.noun} {num}"


def _use_reduce(rng, d, q):
    fn = rng.choice(("product_of", "combined_factor", f"{d.noun}_product"))
    code = f"def {fn}(values):\n    return {q('reduce')}(lambda a, b: a * b, values, 1)"
    asserts = []
    for _ in range(3):
        vals = [rng.randint(1, 9) for _ in range(rng.randint(2, 4))]
        asserts.append(f"assert {fn}({vals}) == {math.prod(vals)}")
    return code, asserts, f"multiplies {d.noun} factors together"


def _use_capwords(rng, d, q):
    fn = rng.choice(("title_of", f"{d.noun}_title", "heading"))
    code = f"def {fn}(text):\n    return {q('capwords')}(text)"
    asserts = []
    for label in rng.sample(d.labels, 3):
        text = f"{label} {d.noun} {rng.choice(('report', 'summary', 'list', 'notes'))}"
        asserts.append(f'assert {fn}("{text}") == "{string.capwords(text)}"')
    return code, asserts, f"formats {d.a} report title"


def _use_dates(rng, d, q):
    fn = rng.choice(("due_date", f"{d.noun}_deadline", "expiry_date"))
    year, month = rng.randint(2019, 2026), rng.randint(1, 12)
    code = (f"def {fn}(day, days):\n    start = {q('date')}({year}, {month}, day)\n"
            f"    return (start + {q('timedelta')}(days=days)).isoformat()")
    asserts = []
    for _ in range(3):
        day, days = rng.randint(1, 28), rng.randint(1, 90)
        due = (datetime.date(year, month, day) + datetime.timedelta(days=days)).isoformat()
        asserts.append(f'assert {fn}({day}, {days}) == "{due}"')
    return code, asserts, f"computes the due date of {d.a}"


def _use_fraction(rng, d, q):
    fn = rng.choice(("share", f"{d.noun}_share", "as_fraction"))
    code = f"def {fn}(part, whole):\n    return str({q('Fraction')}(part, whole))"
    asserts = []
    for _ in range(3):
        whole = rng.randint(2, 60)
        part = rng.randint(1, whole)
        asserts.append(f'assert {fn}({part}, {whole}) == "{Fraction(part, whole)}"')
    return code, asserts, f"expresses {d.a} share as a fraction"


def _use_nlargest(rng, d, q):
    num = rng.choice(d.nums)
    fn = rng.choice((f"top_{num}", f"highest_{num}", f"largest_{num}"))
    code = f"def {fn}(values, n):\n    return {q('nlargest')}(n, values)"
    asserts = []
    for _ in range(3):
        vals = rng.sample(range(1, 99), rng.randint(3, 6))
        n = rng.randint(1, len(vals))
        asserts.append(f"assert {fn}({vals}, {n}) == {sorted(vals, reverse=True)[:n]}")
    return code, asserts, f"picks the highest {num} values of {d.plural}"


_IMPORT_USES: tuple[_Use, ...] = (
    ("math", ("ceil",), _use_ceil),
    ("math", ("sqrt",), _use_sqrt),
    ("math", ("gcd",), _use_gcd),
    ("statistics", ("mean",), _use_mean),
    ("statistics", ("median",), _use_median),
    ("json", ("dumps",), _use_dumps),
    ("json", ("loads",), _use_loads),
    ("re", ("findall",), _use_findall),
    ("re", ("sub",), _use_sub),
    ("collections", ("Counter",), _use_counter),
    ("itertools", ("accumulate",), _use_accumulate),
    ("functools", ("reduce",), _use_reduce),
    ("string", ("capwords",), _use_capwords),
    ("datetime", ("date", "timedelta"), _use_dates),
    ("fractions", ("Fraction",), _use_fraction),
    ("heapq", ("nlargest",), _use_nlargest),
)


def _missing_import(rng: random.Random, from_style: bool) -> Scenario:
    d = _domain(rng)
    module, names, build = rng.choice(_IMPORT_USES)
    qualify = (lambda n: n) if from_style else (lambda n: f"{module}.{n}")
    code, asserts, what = build(rng, d, qualify)
    line = f"from {module} import {', '.join(names)}" if from_style else f"import {module}"
    e = _Edits()
    desc = f"{what[0].upper()}{what[1:]} with {module}."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, imports=[e(None, line)], defs=[code],
                            tail=_some_asserts(rng, asserts, 2, 3))
    return desc, buggy, fixed, SIG_NAME


def _sc_missing_module_import(rng: random.Random) -> Scenario:
    return _missing_import(rng, from_style=False)


def _sc_missing_from_import(rng: random.Random) -> Scenario:
    return _missing_import(rng, from_style=True)


def _records(rng: random.Random, d: Domain, n: int, lo: int = 1, hi: int = 60):
    """``n`` (label, value) pairs of the domain."""
    return [(rng.choice(d.labels), rng.randint(lo, hi)) for _ in range(n)]


def _dict_items(d: Domain, num: str, records) -> list[str]:
    return [_lit({d.label: label, num: value}) for label, value in records]


def _sc_name_typo(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    const = rng.choice(("BONUS", "FACTOR", "WEIGHTING", f"{num.upper()}_SCALE", "MULTIPLIER"))
    k = rng.randint(2, 5)
    helper = rng.choice((f"weighted_{num}", f"scaled_{num}", f"{num}_points", f"adjusted_{num}"))
    main = rng.choice((f"total_{num}", f"sum_{num}", f"{d.noun}_total", f"combined_{num}"))
    acc = rng.choice(("total", "running", "subtotal", "result", "accum"))
    var = rng.choice(("item", "entry", "record", d.noun))
    data = rng.choice((d.plural, f"sample_{d.plural}", f"{d.noun}_log"))
    comprehension = rng.random() < 0.4
    target = rng.choice(("const", "helper") if comprehension else ("const", "helper", "acc"))
    taken = _taken(const, helper, main, acc, var, data, d.plural, num)
    e = _Edits()

    def ref(name: str, kind: str) -> str:
        return e(_typo(rng, name, taken), name) if kind == target else name

    helper_def = f'def {helper}({var}):\n    return {var}["{num}"] * {ref(const, "const")}'
    if comprehension:
        main_def = f"def {main}({d.plural}):\n    return sum({ref(helper, 'helper')}(x) for x in {d.plural})"
    else:
        main_def = (f"def {main}({d.plural}):\n    {acc} = 0\n    for {var} in {d.plural}:\n"
                    f"        {acc} += {ref(helper, 'helper')}({var})\n    return {ref(acc, 'acc')}")
    records = _records(rng, d, rng.randint(2, 5))
    total = sum(v for _, v in records) * k
    asserts = [f"assert {main}({data}) == {total}", f"assert {main}([]) == 0",
               f"assert {main}({data}[:1]) == {records[0][1] * k}"]
    desc = f"Sums the weighted {num} of {d.plural}."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, consts=[f"{const} = {k}"],
                            defs=_shuffled(rng, [helper_def, main_def]),
                            tail=[*_assign(data, _dict_items(d, num, records)), *_some_asserts(rng, asserts, 2, 3)])
    return desc, buggy, fixed, SIG_NAME


def _sc_defined_too_late(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    values = [rng.randint(1, 80) for _ in range(rng.randint(4, 7))]
    data = rng.choice((f"{num}_values", f"{d.noun}_{num}", "readings", "samples"))
    e = _Edits()
    if rng.random() < 0.5:  # a constant assigned below its first module-level use
        const = rng.choice(("THRESHOLD", f"MIN_{num.upper()}", "CUTOFF", "LOWER_BOUND"))
        k = rng.choice(values)
        fn = rng.choice((f"kept_{num}", f"large_{num}", f"{d.plural}_over_limit", f"filter_{num}"))
        kept = [v for v in values if v >= k]
        result = rng.choice(("kept", "selected", f"big_{num}"))
        defs = [f"def {fn}(values):\n    return [v for v in values if v >= {const}]"]
        tail = [*_assign(data, [str(v) for v in values]), e(None, f"{const} = {k}"),
                f"{result} = {fn}({data})", e(f"{const} = {k}", None),
                *_some_asserts(rng, [f"assert {result} == {kept}", f"assert len({result}) == {len(kept)}",
                                     f"assert all(v >= {const} for v in {result})"], 2, 3)]
        desc = f"Keeps the {d.noun} {num} values at or above a threshold."
    else:  # a function called at module level above its definition
        fn, expr, calc = rng.choice((
            (f"spread_of_{num}", "max(values) - min(values)", lambda vs: max(vs) - min(vs)),
            (f"total_{num}", "sum(values)", sum),
            (f"peak_{num}", "max(values)", max),
            (f"count_even_{num}", "sum(1 for v in values if v % 2 == 0)", lambda vs: sum(v % 2 == 0 for v in vs)),
        ))
        result = rng.choice(("summary", "result", f"{num}_stat"))
        call = f"{result} = {fn}({data})"
        defs = []
        single = rng.randint(1, 99)
        tail = [*_assign(data, [str(v) for v in values]), e(call, None), "",
                f"def {fn}(values):\n    return {expr}", "", e(None, call),
                *_some_asserts(rng, [f"assert {result} == {calc(values)}",
                                     f"assert {fn}([{single}]) == {calc([single])}",
                                     f"assert {fn}({data}[:2]) == {calc(values[:2])}"], 2, 3)]
        desc = f"Computes a statistic over {d.noun} {num} values at import time."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=defs, tail=tail, guard=False)
    return desc, buggy, fixed, SIG_NAME


def _sc_unbound_local(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    var = rng.choice(("item", "entry", d.noun))
    e = _Edits()
    style = rng.choice(("sum", "count", "peak", "branch"))
    if style == "branch":  # a local assigned only on some branches
        fn = rng.choice((f"{num}_band", f"classify_{num}", f"{d.noun}_tier"))
        local = rng.choice(("band", "tier", "label", "bucket"))
        hi, lo = rng.randint(60, 90), rng.randint(20, 50)
        names = rng.sample(("high", "medium", "low", "top", "mid", "base"), 3)
        fallback = e(None, "else:\n    " + f"{local} = {_lit(names[2])}")
        code = (f"def {fn}(value):\n    if value >= {hi}:\n        {local} = {_lit(names[0])}\n"
                f"    elif value >= {lo}:\n        {local} = {_lit(names[1])}\n"
                f"    {fallback}\n    return {local}")
        probes = [(rng.randint(0, lo - 1), names[2]), (rng.randint(hi, 120), names[0]),
                  (rng.randint(lo, hi - 1), names[1])]
        asserts = [f"assert {fn}({v}) == {_lit(n)}" for v, n in probes]
        desc = f"Sorts {d.a} {num} into a band."
        buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=[code], tail=_some_asserts(rng, asserts, 2, 3))
        return desc, buggy, fixed, SIG_UNBOUND
    acc = rng.choice(("total", "count", "best", "acc", "running"))
    fn = rng.choice((f"{style}_{num}", f"{d.noun}_{num}_{style}", f"{style}_of_{d.plural}"))
    k = rng.randint(10, 40)
    records = _records(rng, d, rng.randint(3, 6), 1, 60)
    records[0] = (records[0][0], rng.randint(k + 1, 70))  # at least one record passes the filter
    kept = [v for _, v in records if v > k]
    step, expected, empty = {
        "sum": (f'{acc} += {var}["{num}"]', sum(kept), 0),
        "count": (f"{acc} += 1", len(kept), 0),
        "peak": (f'{acc} = max({acc}, {var}["{num}"])', max(kept), 0),
    }[style]
    code = (f"def {fn}({d.plural}, minimum={k}):\n    {e(None, f'{acc} = 0')}\n    for {var} in {d.plural}:\n"
            f'        if {var}["{num}"] > minimum:\n            {step}\n    return {acc}')
    data = rng.choice((d.plural, f"todays_{d.plural}", f"{d.noun}_batch"))
    asserts = [f"assert {fn}({data}) == {expected}", f"assert {fn}([]) == {empty}",
               f"assert {fn}({data}, minimum=1000) == {empty}"]
    desc = f"Aggregates the {num} of {d.plural} above a minimum."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=[code],
                            tail=[*_assign(data, _dict_items(d, num, records)), *_some_asserts(rng, asserts, 2, 3)])
    return desc, buggy, fixed, SIG_UNBOUND


def _sc_missing_global(rng: random.Random) -> Scenario:
    d = _domain(rng)
    counter = rng.choice(("issued", "next_id", "calls", "processed", f"{d.noun}_count", f"{d.plural}_seen"))
    fn = rng.choice((f"register_{d.noun}", f"record_{d.noun}", f"track_{d.noun}", f"new_{d.noun}_id"))
    start, step = rng.choice((0, 0, 100, 1000)), rng.choice((1, 1, 1, 2, 5))
    e = _Edits()
    prefixed = rng.random() < 0.5
    prefix = d.noun[:3].upper()
    ret = f'f"{prefix}-{{{counter}}}"' if prefixed else counter
    code = (f"def {fn}({d.label}):\n    {e(None, f'global {counter}')}\n    {counter} += {step}\n"
            f"    return {ret}")
    labels = rng.sample(d.labels, 3)
    vals = [start + step * (i + 1) for i in range(3)]
    shown = [f'"{prefix}-{v}"' if prefixed else str(v) for v in vals]
    asserts = [f"assert {fn}({_lit(lab)}) == {s}" for lab, s in zip(labels, shown, strict=True)]
    asserts = asserts[: rng.randint(2, 3)]
    if rng.random() < 0.5:
        asserts.append(f"assert {counter} == {start + step * len(asserts)}")
    desc = f"Hands out sequential ids to new {d.plural}."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, consts=[f"{counter} = {start}"], defs=[code],
                            tail=asserts)
    return desc, buggy, fixed, SIG_UNBOUND


# ------------------------------------------------------------------------------------- type-error


def _record_class(rng: random.Random, d: Domain, fields: list[str]) -> tuple[list[str], str]:
    """(imports, definition) of a record class with the given fields: a dataclass or a plain class."""
    if rng.random() < 0.5:
        body = "\n".join(f"    {f}: {'str' if f == d.label else 'int'}" for f in fields)
        return ["from dataclasses import dataclass"], f"@dataclass\nclass {d.cls}:\n{body}"
    body = "\n".join(f"        self.{f} = {f}" for f in fields)
    return [], f"class {d.cls}:\n    def __init__(self, {', '.join(fields)}):\n{body}"


def _sc_str_concat(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    sep = rng.choice((": ", " - ", " -> ", " has ", " = "))
    unit = rng.choice(("units", "pts", "total", num.replace("_", " ")))
    e = _Edits()
    style = rng.choice(("dict", "report", "class"))
    imports: list[str] = []
    labels = rng.sample(d.labels, 3)
    values = [rng.randint(1, 400) for _ in labels]
    if style == "dict":
        var = rng.choice(("rec", "row", d.noun))
        fn = rng.choice((f"describe_{d.noun}", f"format_{d.noun}", f"{d.noun}_line"))
        bug = f'return {var}["{d.label}"] + "{sep}" + {var}["{num}"] + " {unit}"'
        if rng.random() < 0.5:
            fix = f'return {var}["{d.label}"] + "{sep}" + str({var}["{num}"]) + " {unit}"'
        else:
            fix = "return f\"{" + f"{var}['{d.label}']" + "}" + sep + "{" + f"{var}['{num}']" + "}" + f' {unit}"'
        defs = [f"def {fn}({var}):\n    {e(bug, fix)}"]
        asserts = [f'assert {fn}({_lit({d.label: lab, num: v})}) == "{lab}{sep}{v} {unit}"'
                   for lab, v in zip(labels, values, strict=True)]
    elif style == "report":
        fn = rng.choice((f"{num}_report", f"report_{d.plural}", f"{d.label}_lines"))
        totals = rng.choice(("totals", f"{num}_by_{d.label}", "summary"))
        defs = [f"def {fn}({totals}):\n    lines = []\n    for name, value in {totals}.items():\n"
                f'        lines.append(name + "{sep}" + {e("value", "str(value)")})\n    return lines']
        pairs = dict(zip(labels, values, strict=True))
        asserts = [f"assert {fn}({_lit(pairs)}) == {_lit([f'{k}{sep}{v}' for k, v in pairs.items()])}",
                   f"assert {fn}({{}}) == []",
                   f'assert {fn}({{"{labels[0]}": {values[0]}}}) == ["{labels[0]}{sep}{values[0]}"]']
    else:
        imports, cls = _record_class(rng, d, [d.label, num])
        method = rng.choice(("summary", "describe", "label"))
        cls += (f"\n\n    def {method}(self):\n"
                f'        return self.{d.label} + "{sep}" + {e(f"self.{num}", f"str(self.{num})")} + " {unit}"')
        defs = [cls]
        asserts = [f'assert {d.cls}("{lab}", {v}).{method}() == "{lab}{sep}{v} {unit}"'
                   for lab, v in zip(labels, values, strict=True)]
    desc = f"Formats {d.noun} {num} values as text."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, imports=imports, defs=defs,
                            tail=_some_asserts(rng, asserts, 2, 3))
    return desc, buggy, fixed, SIG_CONCAT


def _sc_sum_of_strings(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    sep = rng.choice((",", ";", "|", " "))
    split = "split()" if sep == " " else f'split("{sep}")'
    fn = rng.choice((f"total_{num}", f"parse_{num}_total", f"sum_{num}_field", f"{d.noun}_{num}_sum"))
    arg = rng.choice(("text", "line", "raw", "field"))
    e = _Edits()
    if rng.random() < 0.5:
        code = (f"def {fn}({arg}):\n    parts = {arg}.{split}\n"
                f"    return {e('sum(parts)', rng.choice(('sum(int(p) for p in parts)', 'sum(map(int, parts))')))}")
    else:
        acc = rng.choice(("total", "acc", "running"))
        code = (f"def {fn}({arg}):\n    {acc} = 0\n    for part in {arg}.{split}:\n"
                f"        {acc} += {e('part', 'int(part)')}\n    return {acc}")
    asserts = []
    for n in (rng.randint(2, 5), 1, rng.randint(2, 4)):
        vals = [rng.randint(0, 250) for _ in range(n)]
        asserts.append(f'assert {fn}("{sep.join(map(str, vals))}") == {sum(vals)}')
    desc = f"Adds up the {num} values in a delimited text field of {d.plural}."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=[code], tail=_some_asserts(rng, asserts, 2, 3))
    return desc, buggy, fixed, SIG_INT_STR


def _sc_unhashable_key(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    e = _Edits()
    style = rng.choice(("dedupe", "count", "groups"))
    pairs = [(rng.choice(d.labels[:3]), rng.randint(1, 3)) for _ in range(rng.randint(4, 7))]
    if style == "groups":
        fn = rng.choice((f"distinct_{d.label}_sets", f"unique_{d.noun}_crews", "distinct_groups"))
        groups = [rng.sample(d.labels, rng.randint(1, 3)) for _ in range(rng.randint(3, 5))]
        groups.append(list(reversed(groups[0])))
        groups = _shuffled(rng, groups)
        code = (f"def {fn}(groups):\n    unique = set()\n    for names in groups:\n"
                f"        unique.add({e('sorted(names)', 'tuple(sorted(names))')})\n    return len(unique)")
        asserts = [f"assert {fn}({_lit(groups)}) == {len({tuple(sorted(g)) for g in groups})}",
                   f"assert {fn}([]) == 0", f"assert {fn}([{_lit(groups[0])}]) == 1"]
    else:
        key = rng.choice(("key", "pair", "ident"))
        loop = (f"    for {d.label}, {num} in {d.plural}:\n"
                f"        {key} = {e(f'[{d.label}, {num}]', f'({d.label}, {num})')}\n")
        if style == "dedupe":
            fn = rng.choice((f"distinct_{d.plural}", f"unique_{d.noun}_count", f"count_unique_{d.plural}"))
            init, update, result = "seen = set()", f"seen.add({key})", "len(seen)"
            expected, twice = len(set(pairs)), 1
        else:
            fn = rng.choice((f"most_repeated_{d.noun}", f"max_{d.noun}_repeats", "max_duplicates"))
            init, update, result = "counts = {}", f"counts[{key}] = counts.get({key}, 0) + 1", "max(counts.values())"
            expected, twice = max(Counter(pairs).values()), 2
        code = f"def {fn}({d.plural}):\n    {init}\n{loop}        {update}\n    return {result}"
        asserts = [f"assert {fn}({_lit(pairs)}) == {expected}", f"assert {fn}({_lit(pairs[:1])}) == 1",
                   f"assert {fn}({_lit(pairs[:1] * 2)}) == {twice}"]
    desc = f"Counts distinct {d.noun} combinations."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=[code], tail=_some_asserts(rng, asserts, 2, 3))
    return desc, buggy, fixed, SIG_UNHASHABLE


def _sc_none_default_arith(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    param, op, default, calc = rng.choice((
        ("factor", "*", 1, lambda v, p: v * p), ("scale", "*", 1, lambda v, p: v * p),
        ("offset", "+", 0, lambda v, p: v + p), ("bonus", "+", 0, lambda v, p: v + p),
        ("discount", "-", 0, lambda v, p: v - p),
    ))
    e = _Edits()
    vals = [rng.randint(1, 90) for _ in range(rng.randint(2, 5))]
    p = rng.randint(2, 9)
    if rng.random() < 0.5:
        fn = rng.choice((f"adjust_{num}", f"{param}_{num}", f"apply_{param}"))
        code = f"def {fn}(values, {param}={e('None', str(default))}):\n    return [v {op} {param} for v in values]"
        asserts = [f"assert {fn}({vals}) == {[calc(v, default) for v in vals]}",
                   f"assert {fn}({vals}, {p}) == {[calc(v, p) for v in vals]}",
                   f"assert {fn}([]) == []"]
    else:
        cls = f"{d.cls}{param.capitalize()}"
        method = rng.choice(("apply", "adjust", "__call__"))
        code = (f"class {cls}:\n    def __init__(self, {param}={e('None', str(default))}):\n"
                f"        self.{param} = {param}\n\n    def {method}(self, value):\n"
                f"        return value {op} self.{param}")
        call = "" if method == "__call__" else f".{method}"
        v1, v2 = vals[0], vals[-1]
        asserts = [f"assert {cls}(){call}({v1}) == {calc(v1, default)}",
                   f"assert {cls}({p}){call}({v2}) == {calc(v2, p)}",
                   f"assert {cls}(){call}({v2}) == {calc(v2, default)}"]
    desc = f"Applies an optional {param} to {d.noun} {num} values."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=[code], tail=_some_asserts(rng, asserts, 2, 3))
    return desc, buggy, fixed, SIG_INT_NONE


def _sc_int_not_callable(rng: random.Random) -> Scenario:
    d = _domain(rng)
    e = _Edits()
    imports: list[str] = []
    if rng.random() < 0.5:  # a plain attribute called as if it were a method
        num = rng.choice(d.nums)
        imports, cls = _record_class(rng, d, [d.label, num])
        fn = rng.choice((f"total_{num}", f"sum_{num}", f"{d.plural}_{num}"))
        code = f"def {fn}({d.plural}):\n    return sum(x.{e(f'{num}()', num)} for x in {d.plural})"
        records = _records(rng, d, rng.randint(2, 4))
        objs = ", ".join(f'{d.cls}("{lab}", {v})' for lab, v in records)
        asserts = [f"assert {fn}([{objs}]) == {sum(v for _, v in records)}", f"assert {fn}([]) == 0",
                   f'assert {fn}([{d.cls}("{records[0][0]}", {records[0][1]})]) == {records[0][1]}']
        defs = [cls, code]
        desc = f"Sums the {num} of {d.plural}."
    else:  # maths notation: 2(a + b) instead of 2 * (a + b)
        a, b = rng.sample(d.nums, 2)
        k = rng.randint(2, 9)
        fn = rng.choice((f"{d.noun}_score", "weighted_sum", f"combined_{a}"))
        code = f"def {fn}({a}, {b}):\n    return {e(f'{k}({a} + {b})', f'{k} * ({a} + {b})')}"
        cases = [(rng.randint(0, 50), rng.randint(0, 50)) for _ in range(3)]
        asserts = [f"assert {fn}({x}, {y}) == {k * (x + y)}" for x, y in cases]
        defs = [code]
        desc = f"Combines the {a} and {b} of {d.a} into a score."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, imports=imports, defs=defs,
                            tail=_some_asserts(rng, asserts, 2, 3))
    return desc, buggy, fixed, SIG_NOT_CALLABLE


def _sc_int_not_iterable(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    e = _Edits()
    if rng.random() < 0.5:
        fn = rng.choice((f"{d.noun}_slots", "schedule", f"{num}_steps", "checkpoints"))
        n, step = rng.choice(("n", "count", "slots")), rng.choice(("step", "interval", "every"))
        out = rng.choice(("times", "marks", "result"))
        k = rng.randint(2, 15)
        code = (f"def {fn}({n}, {step}={k}):\n    {out} = []\n    for i in {e(n, f'range({n})')}:\n"
                f"        {out}.append(i * {step})\n    return {out}")
        c1, c2, s2 = rng.randint(2, 6), rng.randint(1, 5), rng.randint(2, 9)
        asserts = [f"assert {fn}({c1}) == {[i * k for i in range(c1)]}",
                   f"assert {fn}({c2}, {s2}) == {[i * s2 for i in range(c2)]}", f"assert {fn}(0) == []"]
        desc = f"Lists evenly spaced {d.noun} checkpoints."
    else:
        fn = rng.choice((f"count_rises_{num}", f"{num}_increases", f"rising_{d.plural}"))
        rises = rng.choice(("rises", "ups", "count"))
        code = (f"def {fn}(values):\n    {rises} = 0\n"
                f"    for i in {e('len(values)', 'range(1, len(values))')}:\n"
                f"        if values[i] > values[i - 1]:\n            {rises} += 1\n    return {rises}")
        asserts = []
        for _ in range(3):
            vals = [rng.randint(1, 60) for _ in range(rng.randint(3, 7))]
            asserts.append(f"assert {fn}({vals}) == {sum(b > a for a, b in zip(vals, vals[1:], strict=False))}")
        asserts.append(f"assert {fn}([{rng.randint(1, 9)}]) == 0")
        desc = f"Counts how often the {d.noun} {num} rises."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=[code], tail=_some_asserts(rng, asserts, 2, 3))
    return desc, buggy, fixed, SIG_NOT_ITERABLE


def _sc_sorted_positional(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    e = _Edits()
    labels = rng.sample(d.labels, rng.randint(3, 5))
    values = rng.sample(range(1, 200), len(labels))
    records = [{d.label: lab, num: v} for lab, v in zip(labels, values, strict=True)]
    data = rng.choice((d.plural, f"{d.noun}_rows", "rows"))
    descending = rng.random() < 0.4
    style = rng.choice(("lambda", "named", "reverse"))
    defs: list[str] = []
    if style == "reverse":
        fn = rng.choice((f"{num}_desc", f"highest_{num}_first", f"ranked_{num}"))
        code = f"def {fn}(values):\n    return sorted(values, {e('True', 'reverse=True')})"
        asserts = [f"assert {fn}({values}) == {sorted(values, reverse=True)}", f"assert {fn}([]) == []",
                   f"assert {fn}({values[:2]}) == {sorted(values[:2], reverse=True)}"]
    else:
        fn = rng.choice((f"{d.label}s_by_{num}", f"rank_{d.plural}", f"order_by_{num}"))
        if style == "lambda":
            key = f'lambda r: r["{num}"]'
        else:
            key = f"by_{num}"
            defs.append(f'def {key}(record):\n    return record["{num}"]')
        rev = ", reverse=True" if descending else ""
        code = (f"def {fn}({d.plural}):\n"
                f'    return [r["{d.label}"] for r in sorted({d.plural}, {e(key, "key=" + key)}{rev})]')
        ordered = [r[d.label] for r in sorted(records, key=lambda r: r[num], reverse=descending)]
        asserts = [f"assert {fn}({data}) == {_lit(ordered)}", f"assert {fn}([]) == []",
                   f"assert {fn}({data}[:1]) == {_lit([labels[0]])}"]
    defs.append(code)
    tail = [] if style == "reverse" else _assign(data, [_lit(r) for r in records])
    desc = f"Orders {d.plural} by {num}."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=_shuffled(rng, defs),
                            tail=[*tail, *_some_asserts(rng, asserts, 2, 3)])
    return desc, buggy, fixed, SIG_SORTED_ARGS


# ------------------------------------------------------------------------------------- attribute


def _filtered_loop(d: Domain, fn: str, num: str, var: str, out: str, k: int, init: str, action: str,
                   ret: str) -> str:
    """``def fn(plural, minimum=k)``: walk the records, act on those at or above ``minimum``."""
    return (f"def {fn}({d.plural}, minimum={k}):\n    {out} = {init}\n    for {var} in {d.plural}:\n"
            f'        if {var}["{num}"] >= minimum:\n            {action}\n    return {ret}')


def _sc_list_method_typo(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    var, out = rng.choice(("item", "row", d.noun)), rng.choice(("names", "result", "picked", "matches"))
    fn = rng.choice((f"{d.label}s_to_contact", f"busy_{d.label}s", f"{d.label}s_over_limit"))
    method = rng.choice(("append", "append", "insert", "extend"))
    typo = _typo(rng, method, _taken(*dir(list)))
    arg = {"append": f'{var}["{d.label}"]', "insert": f'0, {var}["{d.label}"]',
           "extend": f'[{var}["{d.label}"]]'}[method]
    e = _Edits()
    k = rng.randint(10, 50)
    code = _filtered_loop(d, fn, num, var, out, k, "[]", f"{out}.{e(typo, method)}({arg})", out)
    records = _records(rng, d, rng.randint(3, 6))
    records[rng.randrange(len(records))] = (rng.choice(d.labels), rng.randint(k, 90))
    kept = [lab for lab, v in records if v >= k]
    kept = kept[::-1] if method == "insert" else kept
    data = rng.choice((d.plural, f"open_{d.plural}", "rows"))
    asserts = [f"assert {fn}({data}) == {_lit(kept)}", f"assert {fn}([]) == []",
               f"assert {fn}({data}, minimum=1000) == []"]
    desc = f"Lists the {d.label} of {d.plural} at or above a minimum {num}."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=[code],
                            tail=[*_assign(data, _dict_items(d, num, records)), *_some_asserts(rng, asserts, 2, 3)])
    return desc, buggy, fixed, SIG_LIST_ATTR


def _sc_str_method_typo(rng: random.Random) -> Scenario:
    d = _domain(rng)
    e = _Edits()
    names = rng.sample(d.labels, rng.randint(3, 5))
    if rng.random() < 0.5:
        method = rng.choice(("upper", "title", "capitalize", "swapcase"))
        fn = rng.choice((f"display_{d.label}s", f"{d.label}_headings", f"shout_{d.label}s"))
        typo = _typo(rng, method, _taken(*dir(str)))
        code = f"def {fn}(names):\n    return [name.strip().{e(typo, method)}() for name in names]"
        padded = [rng.choice(("", " ", "  ")) + n + rng.choice(("", " ")) for n in names]
        asserts = [f"assert {fn}({_lit(padded)}) == {_lit([getattr(n, method)() for n in names])}",
                   f"assert {fn}([]) == []", f'assert {fn}(["{names[0]}"]) == ["{getattr(names[0], method)()}"]']
        desc = f"Formats {d.noun} {d.label} names for display."
    else:
        method = rng.choice(("startswith", "endswith"))
        # the classic slip (a missing "s") half the time, any one-letter slip otherwise
        typo = method.replace("swith", "with") if rng.random() < 0.5 else _typo(rng, method, _taken(*dir(str)))
        fn = rng.choice((f"{d.label}s_matching", f"filter_{d.label}s", f"select_{d.label}s"))
        probe = names[0][:2] if method == "startswith" else names[0][-2:]
        code = f"def {fn}(names, part):\n    return [n for n in names if n.{e(typo, method)}(part)]"
        hits = [n for n in names if getattr(n, method)(probe)]
        asserts = [f'assert {fn}({_lit(names)}, "{probe}") == {_lit(hits)}', f'assert {fn}([], "{probe}") == []',
                   f'assert {fn}({_lit(names)}, "") == {_lit(names)}']
        desc = f"Selects {d.noun} {d.label} names by a fixed part."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=[code], tail=_some_asserts(rng, asserts, 2, 3))
    return desc, buggy, fixed, SIG_STR_ATTR


def _sc_attribute_typo(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    imports, cls = _record_class(rng, d, [d.label, num])
    typo = _typo(rng, num, _taken(d.label, num, d.cls))
    e = _Edits()
    records = _records(rng, d, rng.randint(2, 4))
    objs = ", ".join(f'{d.cls}("{lab}", {v})' for lab, v in records)
    data = rng.choice((d.plural, f"some_{d.plural}", "batch"))
    if rng.random() < 0.5:
        fn = rng.choice((f"total_{num}", f"{num}_sum", f"sum_{num}"))
        defs = [cls, f"def {fn}({d.plural}):\n    return sum(x.{e(typo, num)} for x in {d.plural})"]
        asserts = [f"assert {fn}({data}) == {sum(v for _, v in records)}", f"assert {fn}([]) == 0",
                   f"assert {fn}({data}[:1]) == {records[0][1]}"]
    else:
        k = rng.randint(10, 50)
        method = rng.choice((f"is_high_{num}", "exceeds", "over_limit"))
        defs = [cls + f"\n\n    def {method}(self, limit={k}):\n        return self.{e(typo, num)} > limit"]
        asserts = [f"assert [x.{method}() for x in {data}] == {[v > k for _, v in records]}",
                   f"assert {data}[0].{method}(limit=1000) is False",
                   f"assert {data}[0].{method}(limit=-1) is True"]
    desc = f"Reads the {num} of {d.plural} held in a small class."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, imports=imports, defs=defs,
                            tail=[f"{data} = [{objs}]", *_some_asserts(rng, asserts, 2, 3)])
    return desc, buggy, fixed, SIG_ATTR


def _sc_dict_literal_confusion(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    var = rng.choice(("item", "row", d.noun))
    k = rng.randint(10, 50)
    records = _records(rng, d, rng.randint(3, 6))
    records[0] = (records[0][0], rng.randint(k, 90))
    kept = [lab for lab, v in records if v >= k]
    e = _Edits()
    if rng.random() < 0.5:  # meant a list
        out = rng.choice(("names", "result", "flagged"))
        fn = rng.choice((f"flag_{d.plural}", f"{d.label}s_to_review", f"over_{num}"))
        code = _filtered_loop(d, fn, num, var, out, k, e("{}", "[]"), f'{out}.append({var}["{d.label}"])', out)
        expected = _lit(kept)
        empty = "[]"
    else:  # meant a set
        out = rng.choice(("seen", "unique", "distinct"))
        fn = rng.choice((f"distinct_{d.label}s", f"unique_{d.label}s", f"{d.label}s_seen"))
        code = _filtered_loop(d, fn, num, var, out, k, e("{}", "set()"), f'{out}.add({var}["{d.label}"])',
                              f"sorted({out})")
        expected = _lit(sorted(set(kept)))
        empty = "[]"
    data = rng.choice((d.plural, f"new_{d.plural}", "rows"))
    asserts = [f"assert {fn}({data}) == {expected}", f"assert {fn}([]) == {empty}",
               f"assert {fn}({data}, minimum=1000) == {empty}"]
    desc = f"Collects the {d.label} of {d.plural} at or above a minimum {num}."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=[code],
                            tail=[*_assign(data, _dict_items(d, num, records)), *_some_asserts(rng, asserts, 2, 3)])
    return desc, buggy, fixed, SIG_DICT_ATTR


def _sc_list_wrong_method(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    e = _Edits()
    labels = rng.sample(d.labels, rng.randint(2, 4))
    style = rng.choice(("join", "items", "add"))
    if style == "join":
        sep = rng.choice((", ", "; ", " | ", "/"))
        fn = rng.choice((f"{d.label}_list", f"format_{d.label}s", f"joined_{d.label}s"))
        code = f"def {fn}(names):\n    return {e(f'names.join({_lit(sep)})', f'{_lit(sep)}.join(names)')}"
        asserts = [f"assert {fn}({_lit(labels)}) == {_lit(sep.join(labels))}", f'assert {fn}([]) == ""',
                   f"assert {fn}({_lit(labels[:1])}) == {_lit(labels[0])}"]
    elif style == "items":
        fn = rng.choice((f"{num}_by_{d.label}", f"best_{num}", f"{d.label}_{num}_table"))
        pairs = [(lab, rng.randint(1, 300)) for lab in labels]
        code = (f"def {fn}(pairs):\n    table = {{}}\n    for name, value in {e('pairs.items()', 'pairs')}:\n"
                f"        table[name] = max(value, table.get(name, 0))\n    return table")
        asserts = [f"assert {fn}({_lit(pairs)}) == {_lit(dict(pairs))}", f"assert {fn}([]) == {{}}",
                   f"assert {fn}({_lit(pairs[:1] * 2)}) == {_lit(dict(pairs[:1]))}"]
    else:
        fn = rng.choice((f"first_{d.label}s", f"dedupe_{d.label}s", f"unique_{d.label}s_in_order"))
        names = labels + rng.sample(labels, rng.randint(1, len(labels)))
        code = (f"def {fn}(names):\n    seen = []\n    for name in names:\n        if name not in seen:\n"
                f"            seen.{e('add', 'append')}(name)\n    return seen")
        asserts = [f"assert {fn}({_lit(names)}) == {_lit(labels)}", f"assert {fn}([]) == []",
                   f"assert {fn}({_lit(labels[:1] * 3)}) == {_lit(labels[:1])}"]
    desc = f"Processes a list of {d.noun} {d.label} names."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=[code], tail=_some_asserts(rng, asserts, 2, 3))
    return desc, buggy, fixed, SIG_LIST_ATTR


def _sc_dict_dot_access(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    e = _Edits()
    records = _records(rng, d, rng.randint(2, 5))
    data = rng.choice((d.plural, f"{d.noun}_rows", "rows"))
    var = rng.choice(("row", "r", "rec"))
    if rng.random() < 0.5:
        fn = rng.choice((f"total_{num}", f"sum_{num}", f"{d.plural}_{num}"))
        field = e(f"{var}.{num}", f"{var}[{_lit(num)}]")
        code = f"def {fn}({d.plural}):\n    return sum({field} for {var} in {d.plural})"
        asserts = [f"assert {fn}({data}) == {sum(v for _, v in records)}", f"assert {fn}([]) == 0",
                   f"assert {fn}({data}[:1]) == {records[0][1]}"]
    else:
        k = rng.randint(10, 50)
        records[0] = (records[0][0], rng.randint(k + 1, 90))
        fn = rng.choice((f"{d.label}s_over", f"large_{d.noun}_{d.label}s", f"who_exceeds_{num}"))
        code = (f"def {fn}({d.plural}, limit={k}):\n"
                f"    return [{e(f'{var}.{d.label}', f'{var}[{_lit(d.label)}]')} for {var} in {d.plural}"
                f' if {var}["{num}"] > limit]')
        asserts = [f"assert {fn}({data}) == {_lit([lab for lab, v in records if v > k])}",
                   f"assert {fn}([]) == []", f"assert {fn}({data}, limit=1000) == []"]
    desc = f"Reads fields of {d.plural} stored as dicts."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=[code],
                            tail=[*_assign(data, _dict_items(d, num, records)), *_some_asserts(rng, asserts, 2, 3)])
    return desc, buggy, fixed, SIG_DICT_ATTR


# (module, wrong name, right name, builder(rng, domain, fn, spelled) -> (code, asserts))
def _mod_average(rng, d, fn, name):
    vals_list = [[rng.randint(1, 90) for _ in range(rng.randint(2, 5))] for _ in range(3)]
    code = f"def {fn}(values):\n    return round(statistics.{name}(values), 2)"
    return code, [f"assert {fn}({v}) == {round(statistics.mean(v), 2)!r}" for v in vals_list]


def _mod_sqrt(rng, d, fn, name):
    cases = [rng.randint(2, 500) for _ in range(3)]
    code = f"def {fn}(area):\n    return round(math.{name}(area), 3)"
    return code, [f"assert {fn}({c}) == {round(math.sqrt(c), 3)!r}" for c in cases]


def _mod_parse(rng, d, fn, name):
    num = rng.choice(d.nums)
    code = f'def {fn}(payload):\n    return json.{name}(payload)["{num}"]'
    cases = [(rng.choice(d.labels), rng.randint(1, 900)) for _ in range(3)]
    return code, [f"assert {fn}({json.dumps({d.label: lab, num: v})!r}) == {v}" for lab, v in cases]


def _mod_stringify(rng, d, fn, name):
    num = rng.choice(d.nums)
    code = f'def {fn}({num}):\n    return json.{name}({{"{num}": {num}}})'
    cases = [rng.randint(0, 900) for _ in range(3)]
    return code, [f"assert {fn}({v}) == {json.dumps({num: v})!r}" for v in cases]


def _mod_uppercase(rng, d, fn, name):
    code = f"def {fn}(text):\n    return sum(1 for c in text if c in string.{name})"
    cases = []
    for _ in range(3):
        text = "".join(w.capitalize() if rng.random() < 0.5 else w.upper() for w in rng.sample(d.labels, 2))
        cases.append(f'assert {fn}("{text}") == {sum(c.isupper() for c in text)}')
    return code, cases


def _mod_flatten(rng, d, fn, name):
    code = f"def {fn}(groups):\n    return list(itertools.{name}(groups))"
    cases = []
    for _ in range(3):
        groups = [rng.sample(d.labels, rng.randint(1, 2)) for _ in range(rng.randint(2, 3))]
        cases.append(f"assert {fn}({_lit(groups)}) == {_lit([x for g in groups for x in g])}")
    return code, cases


_MODULE_MISTAKES = (
    ("statistics", "average", "mean", "average", _mod_average),
    ("statistics", "avg", "mean", "average", _mod_average),
    ("math", "squareroot", "sqrt", "side_length", _mod_sqrt),
    ("json", "parse", "loads", "parse_payload", _mod_parse),
    ("json", "stringify", "dumps", "to_json", _mod_stringify),
    ("string", "uppercase", "ascii_uppercase", "count_capitals", _mod_uppercase),
    ("itertools", "flatten", "chain.from_iterable", "flatten", _mod_flatten),
)


def _sc_module_wrong_name(rng: random.Random) -> Scenario:
    d = _domain(rng)
    module, wrong, right, stem, build = rng.choice(_MODULE_MISTAKES)
    fn = rng.choice((stem, f"{d.noun}_{stem}", f"{stem}_of_{d.plural}"))
    e = _Edits()
    code, asserts = build(rng, d, fn, e(wrong, right))
    desc = f"Uses {module}.{right.split('.')[0]} on {d.noun} data."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, imports=[f"import {module}"], defs=[code],
                            tail=_some_asserts(rng, asserts, 2, 3))
    return desc, buggy, fixed, SIG_MODULE_ATTR


# ------------------------------------------------------------------------------------- none-handling


def _fmt_expr(var: str, d: Domain, num: str, sep: str) -> str:
    """Source of an f-string showing a dict record: ``f"{row['team']}: {row['score']}"``."""
    return "f\"{" + f"{var}['{d.label}']" + "}" + sep + "{" + f"{var}['{num}']" + "}\""


def _sc_missing_return_path(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    hi, lo = rng.randint(60, 90), rng.randint(20, 50)
    a, b, c = rng.randint(20, 40), rng.randint(5, 19), rng.randint(0, 4)
    tiered = rng.random() < 0.5
    fee = rng.choice((f"{num}_fee", f"points_for_{num}", f"bonus_for_{num}", f"{d.noun}_surcharge"))
    total = rng.choice((f"total_{fee}", f"sum_{fee}", f"{d.plural}_{fee}"))
    e = _Edits()
    middle = f"    elif value >= {lo}:\n        return {b}\n" if tiered else ""
    fee_def = f"def {fee}(value):\n    if value >= {hi}:\n        return {a}\n{middle}    {e(None, f'return {c}')}"
    var = rng.choice(("x", "row", d.noun))
    if rng.random() < 0.5:
        total_def = f'def {total}({d.plural}):\n    return sum({fee}({var}["{num}"]) for {var} in {d.plural})'
    else:
        acc = rng.choice(("total", "acc", "running"))
        total_def = (f"def {total}({d.plural}):\n    {acc} = 0\n    for {var} in {d.plural}:\n"
                     f'        {acc} += {fee}({var}["{num}"])\n    return {acc}')

    def calc(v: int) -> int:
        return a if v >= hi else b if tiered and v >= lo else c

    records = _records(rng, d, rng.randint(2, 5), 0, 100)
    records[rng.randrange(len(records))] = (rng.choice(d.labels), rng.randint(0, lo - 1))
    data = rng.choice((d.plural, f"{d.noun}_batch", "rows"))
    asserts = [f"assert {total}({data}) == {sum(calc(v) for _, v in records)}",
               f"assert {fee}({rng.randint(hi, 120)}) == {a}", f"assert {fee}({rng.randint(0, lo - 1)}) == {c}",
               f"assert {total}([]) == 0"]
    desc = f"Adds up a tiered {num} fee over {d.plural}."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=_shuffled(rng, [fee_def, total_def]),
                            tail=[*_assign(data, _dict_items(d, num, records)), *_some_asserts(rng, asserts, 2, 4)])
    return desc, buggy, fixed, SIG_INT_NONE


def _sc_inplace_result(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    e = _Edits()
    out = rng.choice(("ordered", "ranked", "in_order", "result"))
    kind = rng.choice(("sort", "sort_desc", "reverse"))
    bug, fix, order = {
        "sort": ("values.sort()", "sorted(values)", sorted),
        "sort_desc": ("values.sort(reverse=True)", "sorted(values, reverse=True)",
                      lambda v: sorted(v, reverse=True)),
        "reverse": ("values.reverse()", rng.choice(("list(reversed(values))", "values[::-1]")),
                    lambda v: v[::-1]),
    }[kind]
    pick, what, calc = rng.choice((
        ("[0]", "the first", lambda v: v[0]), ("[-1]", "the last", lambda v: v[-1]),
        ("[:n]", "the first n", None), ("[1:]", "all but the first", lambda v: v[1:]),
    ))
    take_n = pick == "[:n]"
    verb = {"sort": "sorted", "sort_desc": "ranked", "reverse": "reversed"}[kind]
    fn = rng.choice((f"top_{num}" if take_n else f"pick_{num}", f"{num}_{verb}", f"{d.noun}_{num}_{kind}"))
    params = "values, n" if take_n else "values"
    code = f"def {fn}({params}):\n    {out} = {e(bug, fix)}\n    return {out}{pick}"
    asserts = []
    for _ in range(3):
        vals = rng.sample(range(1, 300), rng.randint(2, 6))
        if take_n:
            n = rng.randint(1, len(vals))
            asserts.append(f"assert {fn}({vals}, {n}) == {order(vals)[:n]}")
        else:
            asserts.append(f"assert {fn}({vals}) == {calc(order(vals))}")
    how = {"sort": "sorts", "sort_desc": "sorts (highest first)", "reverse": "reverses"}[kind]
    desc = f"{how.capitalize()} {d.noun} {num} values and returns {what}."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=[code], tail=_some_asserts(rng, asserts, 2, 3))
    return desc, buggy, fixed, SIG_NONE_SUBSCRIPT


def _sc_dict_get_default(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    known = rng.sample(d.labels, rng.randint(2, 3))
    unknown = rng.choice([lab for lab in d.labels if lab not in known])
    table = {lab: rng.randint(2, 9) for lab in known}
    name = rng.choice(("RATES", f"{d.label.upper()}_RATES", "MULTIPLIERS", f"{num.upper()}_FACTORS"))
    default = rng.randint(1, 3)
    use_const = rng.random() < 0.5
    dflt = "DEFAULT_RATE" if use_const else str(default)
    var = rng.choice(("row", "rec", d.noun))
    fn = rng.choice((f"weighted_{num}", f"{num}_cost", f"charge_for_{d.noun}"))
    e = _Edits()
    lookup = f'{name}.get({var}["{d.label}"])'
    fixed_lookup = f'{name}.get({var}["{d.label}"], {dflt})'
    code = f'def {fn}({var}):\n    rate = {e(lookup, fixed_lookup)}\n    return {var}["{num}"] * rate'
    consts = [f"{name} = {_lit(table)}"] + ([f"DEFAULT_RATE = {default}"] if use_const else [])
    v1, v2 = rng.randint(1, 50), rng.randint(1, 50)
    asserts = [f"assert {fn}({_lit({d.label: unknown, num: v1})}) == {v1 * default}",
               f"assert {fn}({_lit({d.label: known[0], num: v2})}) == {v2 * table[known[0]]}",
               f"assert {fn}({_lit({d.label: known[-1], num: v1})}) == {v1 * table[known[-1]]}"]
    desc = f"Charges {d.plural} by a per-{d.label} rate, with a default for unknown ones."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, consts=consts, defs=[code],
                            tail=_some_asserts(rng, asserts, 2, 3))
    return desc, buggy, fixed, SIG_INT_NONE


def _sc_match_vs_search(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    pattern, shape = rng.choice(((r"#(\d+)", "#{}"), (r"id=(\d+)", "id={}"), (r"\((\d+)\)", "({})"),
                                 (r"(\d+) units", "{} units"), (r"no\. (\d+)", "no. {}")))
    fn = rng.choice((f"{d.noun}_number", f"parse_{d.noun}_id", f"{num}_from_line"))
    e = _Edits()
    group = rng.choice(("m.group(1)", "m.groups()[0]"))
    if rng.random() < 0.5:
        consts = [f'PATTERN = re.compile(r"{pattern}")']
        call = e("PATTERN.match(line)", "PATTERN.search(line)")
    else:
        consts = []
        call = e(f're.match(r"{pattern}", line)', f're.search(r"{pattern}", line)')
    code = f"def {fn}(line):\n    m = {call}\n    return int({group})"
    asserts = []
    for _ in range(3):
        n = rng.randint(1, 9999)
        line = f"{rng.choice(d.labels)} {d.noun} {shape.format(n)} {rng.choice(('ok', 'late', 'done', 'open'))}"
        asserts.append(f'assert {fn}("{line}") == {n}')
    desc = f"Extracts the number from {d.a} log line."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, imports=["import re"], consts=consts, defs=[code],
                            tail=_some_asserts(rng, asserts, 2, 3))
    return desc, buggy, fixed, SIG_NONE_ATTR


def _sc_forgot_return(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    sep, joiner = rng.choice((": ", "=", " -> ")), rng.choice((", ", "; ", "\\n", " | "))
    var = rng.choice(("row", "rec", d.noun))
    fmt = rng.choice((f"format_{d.noun}", f"{d.noun}_label", f"describe_{d.noun}"))
    report = rng.choice((f"{d.noun}_report", f"summarise_{d.plural}", f"{num}_summary"))
    expr = _fmt_expr(var, d, num, sep)
    e = _Edits()
    if rng.random() < 0.5:
        body = f"text = {expr}\n    {e(None, 'return text')}"
    else:
        body = e(f"print({expr})", f"return {expr}")
    fmt_def = f"def {fmt}({var}):\n    {body}"
    report_def = f'def {report}({d.plural}):\n    return "{joiner}".join({fmt}(x) for x in {d.plural})'
    records = _records(rng, d, rng.randint(2, 4))
    data = rng.choice((d.plural, "rows", f"{d.noun}_list"))
    real_joiner = joiner.replace("\\n", "\n")
    text = real_joiner.join(f"{lab}{sep}{v}" for lab, v in records)
    asserts = [f"assert {report}({data}) == {_lit(text)}", f'assert {report}([]) == ""',
               f"assert {fmt}({data}[0]) == {_lit(f'{records[0][0]}{sep}{records[0][1]}')}"]
    desc = f"Builds a one-line report of {d.plural}."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=_shuffled(rng, [fmt_def, report_def]),
                            tail=[*_assign(data, _dict_items(d, num, records)), *_some_asserts(rng, asserts, 2, 3)])
    return desc, buggy, fixed, SIG_JOIN_NONE


def _sc_none_default_container(rng: random.Random) -> Scenario:
    d = _domain(rng)
    as_set = rng.random() < 0.35
    bucket = rng.choice(("bucket", "into", "seen", "collected", f"{d.label}s"))
    fn = rng.choice((f"add_{d.label}", f"collect_{d.label}", f"remember_{d.label}"))
    empty, method = ("set()", "add") if as_set else ("[]", "append")
    e = _Edits()
    guard_line = rng.choice((f"{bucket} = {empty} if {bucket} is None else {bucket}",
                             f"if {bucket} is None:\n    {bucket} = {empty}"))
    code = (f"def {fn}(name, {bucket}=None):\n    {e(None, guard_line)}\n    {bucket}.{method}(name)\n"
            f"    return {bucket}")
    a, b, c = rng.sample(d.labels, 3)
    if as_set:
        asserts = [f'assert {fn}("{a}") == {{"{a}"}}', f'assert {fn}("{b}", {{"{c}"}}) == {{"{b}", "{c}"}}',
                   f'assert {fn}("{a}", {{"{a}"}}) == {{"{a}"}}']
    else:
        asserts = [f'assert {fn}("{a}") == ["{a}"]', f'assert {fn}("{b}", ["{c}"]) == ["{c}", "{b}"]',
                   f'assert {fn}("{c}") == ["{c}"]']
    desc = f"Adds {d.a} {d.label} to an optional collection."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=[code], tail=_some_asserts(rng, asserts, 2, 3))
    return desc, buggy, fixed, SIG_NONE_ATTR


def _sc_find_returns_none(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    imports, cls = _record_class(rng, d, [d.label, num])
    finder = rng.choice((f"find_{d.noun}", f"lookup_{d.noun}", f"{d.noun}_named"))
    getter = rng.choice((f"{num}_of", f"{num}_for", f"get_{num}"))
    explicit = rng.random() < 0.5
    finder_def = (f"def {finder}({d.plural}, {d.label}):\n    for x in {d.plural}:\n"
                  f"        if x.{d.label} == {d.label}:\n            return x")
    finder_def += "\n    return None" if explicit else ""
    e = _Edits()
    call = f"{finder}({d.plural}, {d.label})"
    if rng.random() < 0.5:
        body = e(f"return {call}.{num}", f'return getattr({call}, "{num}", 0)')
    else:
        body = e(f"return {call}.{num}", f"found = {call}\nreturn found.{num} if found else 0")
    getter_def = f"def {getter}({d.plural}, {d.label}):\n    {body}"
    labels = rng.sample(d.labels, 3)
    values = [rng.randint(1, 99) for _ in labels]
    data = rng.choice((d.plural, "known", f"all_{d.plural}"))
    missing = rng.choice([lab for lab in d.labels if lab not in labels[:2]])
    asserts = [f'assert {getter}({data}, "{missing}") == 0', f'assert {getter}({data}, "{labels[0]}") == {values[0]}',
               f'assert {getter}({data}, "{labels[1]}") == {values[1]}', f'assert {getter}([], "{labels[0]}") == 0']
    objs = ", ".join(f'{d.cls}("{lab}", {v})' for lab, v in zip(labels[:2], values, strict=False))
    desc = f"Looks up the {num} of {d.a} by {d.label}, 0 when unknown."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, imports=imports,
                            defs=[cls, *_shuffled(rng, [finder_def, getter_def])],
                            tail=[f"{data} = [{objs}]", *_some_asserts(rng, asserts, 2, 4)])
    return desc, buggy, fixed, SIG_NONE_ATTR


# ------------------------------------------------------------------------------------- index-key


def _sc_off_by_one(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    e = _Edits()
    style = rng.choice(("pairwise", "numbered", "last"))
    if style == "pairwise":
        fn = rng.choice((f"{num}_changes", f"{num}_deltas", f"step_{num}"))
        code = (f"def {fn}(values):\n    return [values[i + 1] - values[i] for i in "
                f"range({e('len(values)', 'len(values) - 1')})]")
        lists = [[rng.randint(1, 90) for _ in range(rng.randint(2, 6))] for _ in range(2)]
        asserts = [f"assert {fn}({v}) == {[b - a for a, b in zip(v, v[1:], strict=False)]}" for v in lists]
        asserts.append(f"assert {fn}([{rng.randint(1, 9)}]) == []")
        desc = f"Lists the change between consecutive {d.noun} {num} values."
    elif style == "numbered":
        fn = rng.choice((f"numbered_{d.label}s", f"{d.label}_menu", f"ranked_{d.label}s"))
        code = (f"def {fn}(names):\n    lines = []\n    for i in range(1, len(names) + 1):\n"
                f'        lines.append(f"{{i}}. " + {e("names[i]", "names[i - 1]")})\n    return lines')
        names = rng.sample(d.labels, rng.randint(2, 4))
        asserts = [f"assert {fn}({_lit(names)}) == {_lit([f'{i}. {n}' for i, n in enumerate(names, 1)])}",
                   f"assert {fn}([]) == []", f'assert {fn}(["{names[0]}"]) == ["1. {names[0]}"]']
        desc = f"Numbers a list of {d.noun} {d.label}s from 1."
    else:
        fn = rng.choice((f"latest_{num}", f"last_{num}", f"current_{num}"))
        last = e("history[len(history)]", rng.choice(("history[-1]", "history[len(history) - 1]")))
        code = f"def {fn}(history):\n    return {last}"
        lists = [[rng.randint(1, 90) for _ in range(rng.randint(1, 6))] for _ in range(3)]
        asserts = [f"assert {fn}({v}) == {v[-1]}" for v in lists]
        desc = f"Returns the latest {d.noun} {num} from a history list."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=[code], tail=_some_asserts(rng, asserts, 2, 3))
    return desc, buggy, fixed, SIG_INDEX


def _tally_fix(rng: random.Random, e: _Edits, target: str, key: str, step: str, factory: str,
               fallback: str) -> tuple[list[str], str, str]:
    """The edits of ``target[key] += step`` on a plain dict: a ``.get``/``.setdefault`` line or a defaultdict.

    Returns (imports, the ``target = {}`` line, the update line)."""
    if rng.random() < 0.5:
        return ([e(None, "from collections import defaultdict")], f"{target} = {e('{}', f'defaultdict({factory})')}",
                f"{target}[{key}]{step}")
    return [], f"{target} = {{}}", e(f"{target}[{key}]{step}", fallback)


def _sc_counter_key(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    counting = rng.random() < 0.5
    target = rng.choice(("counts", "tally", "totals", f"by_{d.label}"))
    var = rng.choice(("row", "rec", d.noun))
    key = f'{var}["{d.label}"]'
    add = "1" if counting else f'{var}["{num}"]'
    e = _Edits()
    imports, init, update = _tally_fix(rng, e, target, key, f" += {add}", "int",
                                       f"{target}[{key}] = {target}.get({key}, 0) + {add}")
    fn = rng.choice((f"{'count' if counting else num}_per_{d.label}", f"{d.noun}_{d.label}_totals",
                     f"tally_{d.plural}"))
    code = f"def {fn}({d.plural}):\n    {init}\n    for {var} in {d.plural}:\n        {update}\n    return {target}"
    records = _records(rng, d, rng.randint(2, 6))
    expected: dict[str, int] = {}
    for lab, v in records:
        expected[lab] = expected.get(lab, 0) + (1 if counting else v)
    data = rng.choice((d.plural, "rows", f"{d.noun}_log"))
    first = {records[0][0]: 1 if counting else records[0][1]}
    asserts = [f"assert {fn}({data}) == {_lit(expected)}", f"assert {fn}([]) == {{}}",
               f"assert {fn}({data}[:1]) == {_lit(first)}"]
    desc = f"{'Counts' if counting else 'Totals the ' + num + ' of'} {d.plural} per {d.label}."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, imports=imports, defs=[code],
                            tail=[*_assign(data, _dict_items(d, num, records)), *_some_asserts(rng, asserts, 2, 3)])
    return desc, buggy, fixed, SIG_KEY


def _sc_lookup_key(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    known = rng.sample(d.labels, rng.randint(2, 4))
    unknown = rng.choice([lab for lab in d.labels if lab not in known])
    table = {lab: rng.randint(1, 40) for lab in known}
    name = rng.choice((f"{num.upper()}_BY_{d.label.upper()}", "PRICES", "WEIGHTS", f"{d.label.upper()}_{num.upper()}"))
    fn = rng.choice((f"total_{num}", f"{num}_for", f"sum_{num}_of"))
    default = rng.choice((0, 0, 1))
    e = _Edits()
    if rng.random() < 0.5:
        code = f"def {fn}(names):\n    return sum({e(f'{name}[n]', f'{name}.get(n, {default})')} for n in names)"
    else:
        code = (f"def {fn}(names):\n    total = 0\n    for n in names:\n"
                f"        total += {e(f'{name}[n]', f'{name}.get(n, {default})')}\n    return total")

    def cost(names: list[str]) -> int:
        return sum(table.get(n, default) for n in names)

    with_unknown = _shuffled(rng, [*rng.sample(known, rng.randint(1, len(known))), unknown])
    only_known = rng.sample(known, rng.randint(1, len(known)))
    asserts = [f"assert {fn}({_lit(with_unknown)}) == {cost(with_unknown)}",
               f"assert {fn}({_lit(only_known)}) == {cost(only_known)}", f"assert {fn}([]) == 0",
               f'assert {fn}(["{unknown}"]) == {default}']
    desc = f"Adds up the {num} of named {d.plural}; unknown names count as {default}."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, consts=[f"{name} = {_lit(table)}"], defs=[code],
                            tail=_some_asserts(rng, asserts, 2, 4))
    return desc, buggy, fixed, SIG_KEY


def _sc_group_key(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    target = rng.choice(("groups", "by_key", f"{num}_by_{d.label}", "buckets"))
    var = rng.choice(("row", "rec", d.noun))
    key, value = f'{var}["{d.label}"]', f'{var}["{num}"]'
    e = _Edits()
    imports, init, update = _tally_fix(rng, e, target, key, f".append({value})", "list",
                                       f"{target}.setdefault({key}, []).append({value})")
    fn = rng.choice((f"group_by_{d.label}", f"{num}_per_{d.label}", f"bucket_{d.plural}"))
    code = f"def {fn}({d.plural}):\n    {init}\n    for {var} in {d.plural}:\n        {update}\n    return {target}"
    records = _records(rng, d, rng.randint(2, 6))
    expected: dict[str, list[int]] = {}
    for lab, v in records:
        expected.setdefault(lab, []).append(v)
    data = rng.choice((d.plural, "rows", f"{d.noun}_log"))
    asserts = [f"assert {fn}({data}) == {_lit(expected)}", f"assert {fn}([]) == {{}}",
               f"assert {fn}({data}[:1]) == {_lit({records[0][0]: [records[0][1]]})}"]
    desc = f"Groups the {num} of {d.plural} by {d.label}."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, imports=imports, defs=[code],
                            tail=[*_assign(data, _dict_items(d, num, records)), *_some_asserts(rng, asserts, 2, 3)])
    return desc, buggy, fixed, SIG_KEY


def _sc_empty_first(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    last = rng.random() < 0.4
    idx = "-1" if last else "0"
    fn = rng.choice((f"{'last' if last else 'first'}_{num}_over", f"{'latest' if last else 'first'}_alert",
                     f"{'last' if last else 'first'}_high_{num}"))
    found = rng.choice(("above", "hits", "over"))
    e = _Edits()
    code = (f"def {fn}(values, limit):\n    {found} = [v for v in values if v > limit]\n"
            f"    return {e(f'{found}[{idx}]', f'{found}[{idx}] if {found} else None')}")
    vals = [rng.randint(1, 90) for _ in range(rng.randint(3, 6))]
    limit = rng.randint(0, max(vals) - 1)
    over = [v for v in vals if v > limit]
    asserts = [f"assert {fn}({vals}, {max(vals) + rng.randint(0, 20)}) is None",
               f"assert {fn}({vals}, {limit}) == {over[-1] if last else over[0]}", f"assert {fn}([], 0) is None"]
    desc = f"Finds the {'last' if last else 'first'} {d.noun} {num} above a limit, or None."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=[code], tail=_some_asserts(rng, asserts, 2, 3))
    return desc, buggy, fixed, SIG_INDEX


def _sc_empty_max(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    fn = rng.choice((f"max_{num}_for", f"best_{num}", f"peak_{num}_of_{d.label}"))
    var = rng.choice(("row", "x", d.noun))
    e = _Edits()
    code = (f"def {fn}({d.plural}, {d.label}):\n"
            f'    values = [{var}["{num}"] for {var} in {d.plural} if {var}["{d.label}"] == {d.label}]\n'
            f"    return {e('max(values)', 'max(values, default=0)')}")
    records = _records(rng, d, rng.randint(2, 5))
    present = records[0][0]
    absent = rng.choice([lab for lab in d.labels if lab not in {lab for lab, _ in records}] or ["nobody"])
    data = rng.choice((d.plural, "rows", f"{d.noun}_log"))
    asserts = [f'assert {fn}({data}, "{absent}") == 0',
               f'assert {fn}({data}, "{present}") == {max(v for lab, v in records if lab == present)}',
               f'assert {fn}([], "{present}") == 0']
    desc = f"Finds the highest {num} of {d.plural} with a given {d.label}, 0 when none."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=[code],
                            tail=[*_assign(data, _dict_items(d, num, records)), *_some_asserts(rng, asserts, 2, 3)])
    return desc, buggy, fixed, SIG_MAX_EMPTY


def _sc_string_lookahead(rng: random.Random) -> Scenario:
    d = _domain(rng)
    same = rng.random() < 0.5
    fn = rng.choice(("doubled_letters", "repeats", f"{d.label}_doubles") if same
                    else ("letter_changes", "transitions", f"{d.label}_changes"))
    n = rng.choice(("n", "count", "found"))
    e = _Edits()
    code = (f"def {fn}(text):\n    {n} = 0\n    for i in range({e('len(text)', 'len(text) - 1')}):\n"
            f"        if text[i] {'==' if same else '!='} text[i + 1]:\n            {n} += 1\n    return {n}")
    words = rng.sample([*d.labels, "committee", "balloon", "coffee", "bookkeeper", "aardvark", "level"], 3)

    def calc(t: str) -> int:
        return sum((a == b) == same for a, b in zip(t, t[1:], strict=False))

    asserts = [f'assert {fn}("{w}") == {calc(w)}' for w in words] + [f'assert {fn}("") == 0']
    desc = f"Counts {'doubled letters' if same else 'letter changes'} in {d.a} {d.label}."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=[code], tail=_some_asserts(rng, asserts, 2, 3))
    return desc, buggy, fixed, SIG_STR_INDEX


def _sc_pop_empty(rng: random.Random) -> Scenario:
    d = _domain(rng)
    fn = rng.choice((f"take_{d.plural}", f"next_{d.plural}", f"dequeue_{d.plural}"))
    front = rng.random() < 0.6
    pop = "pop(0)" if front else "pop()"
    out = rng.choice(("taken", "batch", "picked"))
    e = _Edits()
    if rng.random() < 0.5:
        code = (f"def {fn}(queue, n):\n    {out} = []\n    for _ in {e('range(n)', 'range(min(n, len(queue)))')}:\n"
                f"        {out}.append(queue.{pop})\n    return {out}")
    else:
        code = (f"def {fn}(queue, n):\n    {out} = []\n    while {e(f'len({out}) < n', f'queue and len({out}) < n')}:\n"
                f"        {out}.append(queue.{pop})\n    return {out}")
    names = rng.sample(d.labels, rng.randint(2, 4))

    def take(q: list[str], n: int) -> list[str]:
        q = list(q)
        return [q.pop(0) if front else q.pop() for _ in range(min(n, len(q)))]

    big = len(names) + rng.randint(1, 3)
    small = rng.randint(1, len(names))
    asserts = [f"assert {fn}({_lit(names)}, {big}) == {_lit(take(names, big))}",
               f"assert {fn}({_lit(names)}, {small}) == {_lit(take(names, small))}", f"assert {fn}([], 2) == []"]
    desc = f"Takes up to n {d.plural} from a queue."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=[code], tail=_some_asserts(rng, asserts, 2, 3))
    return desc, buggy, fixed, SIG_POP_EMPTY


# ------------------------------------------------------------------------------------- logic


def _sc_wrong_comparison(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    phrase, fix_op, bug_op, test = rng.choice((
        ("at least", ">=", ">", lambda v, k: v >= k), ("more than", ">", ">=", lambda v, k: v > k),
        ("at most", "<=", "<", lambda v, k: v <= k), ("less than", "<", "<=", lambda v, k: v < k),
    ))
    k = rng.randint(10, 60)
    records = _records(rng, d, rng.randint(3, 5), 1, 90)
    records.insert(rng.randint(0, len(records)), (rng.choice(d.labels), k))  # the boundary case
    var = rng.choice(("x", "row", d.noun))
    limit = rng.choice(("limit", "threshold", f"min_{num}" if ">" in fix_op else f"max_{num}"))
    e = _Edits()
    doc = f'    """{d.plural.capitalize()} whose {num} is {phrase} the {limit}."""\n' if rng.random() < 0.6 else ""
    cond = f'{var}["{num}"] {e(bug_op, fix_op)} {limit}'
    if rng.random() < 0.5:
        fn = rng.choice((f"selected_{d.plural}", f"{d.label}s_to_flag", f"eligible_{d.label}s"))
        code = (f"def {fn}({d.plural}, {limit}={k}):\n{doc}"
                f'    return [{var}["{d.label}"] for {var} in {d.plural} if {cond}]')

        def result(rows: list[tuple[str, int]]) -> str:
            return _lit([lab for lab, v in rows if test(v, k)])
    else:
        fn = rng.choice((f"count_{d.plural}", f"how_many_{d.plural}", f"{num}_hits"))
        code = f"def {fn}({d.plural}, {limit}={k}):\n{doc}    return sum(1 for {var} in {d.plural} if {cond})"

        def result(rows: list[tuple[str, int]]) -> str:
            return str(sum(test(v, k) for _, v in rows))
    data = rng.choice((d.plural, "rows", f"{d.noun}_sample"))
    boundary = (records[0][0], k)
    asserts = [f"assert {fn}({data}) == {result(records)}", f"assert {fn}([]) == {result([])}",
               f"assert {fn}([{_lit({d.label: boundary[0], num: k})}]) == {result([boundary])}"]
    desc = f"Selects {d.plural} whose {num} is {phrase} a limit."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=[code],
                            tail=[*_assign(data, _dict_items(d, num, records)), *_some_asserts(rng, asserts, 2, 3)])
    return desc, buggy, fixed, SIG_ASSERT


def _sc_wrong_initial_value(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    kind = rng.choice(("max", "min", "product"))
    acc = rng.choice(("product", "acc", "result") if kind == "product" else ("best", "acc", "result", "current"))
    e = _Edits()
    if kind == "product":
        fn = rng.choice((f"{num}_product", "combined_factor", f"compound_{num}"))
        code = (f"def {fn}(values):\n    {acc} = {e('0', '1')}\n    for v in values:\n        {acc} *= v\n"
                f"    return {acc}")
        lists = [[rng.randint(1, 9) for _ in range(rng.randint(2, 4))] for _ in range(2)]
        asserts = [f"assert {fn}({v}) == {math.prod(v)}" for v in lists] + [f"assert {fn}([]) == 1"]
        desc = f"Multiplies {d.noun} {num} factors."
    else:
        op = ">" if kind == "max" else "<"
        fn = rng.choice((f"{'highest' if kind == 'max' else 'lowest'}_{num}", f"{kind}_{num}",
                         f"{d.noun}_{kind}"))
        code = (f"def {fn}(values):\n    {acc} = {e('0', rng.choice(('values[0]', 'values[0]')))}\n"
                f"    for v in values:\n        if v {op} {acc}:\n            {acc} = v\n    return {acc}")
        sign = -1 if kind == "max" else 1  # values all below (max) or above (min) the wrong start of 0
        lists = [[sign * rng.randint(1, 90) for _ in range(rng.randint(2, 5))] for _ in range(3)]
        pick = max if kind == "max" else min
        asserts = [f"assert {fn}({v}) == {pick(v)}" for v in lists]
        desc = f"Finds the {'highest' if kind == 'max' else 'lowest'} {d.noun} {num}."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=[code], tail=_some_asserts(rng, asserts, 2, 3))
    return desc, buggy, fixed, SIG_ASSERT


def _sc_floor_division(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    e = _Edits()
    if rng.random() < 0.5:
        fn = rng.choice((f"average_{num}", f"mean_{num}", f"{num}_average"))
        code = f"def {fn}(values):\n    return sum(values) {e('//', '/')} len(values)"
        asserts = []
        while len(asserts) < 3:
            vals = [rng.randint(1, 90) for _ in range(rng.choice((2, 4, 5, 8)))]
            if sum(vals) % len(vals) or asserts:
                asserts.append(f"assert {fn}({vals}) == {sum(vals) / len(vals)!r}")
        desc = f"Averages {d.noun} {num} values."
    else:
        fn = rng.choice((f"{num}_share", "percent_of", f"{d.noun}_percentage"))
        code = f"def {fn}(part, whole):\n    return 100 * part {e('//', '/')} whole"
        asserts = []
        while len(asserts) < 3:
            whole = rng.choice((8, 16, 40, 80, 200))
            part = rng.randint(1, whole)
            if (100 * part) % whole or asserts:
                asserts.append(f"assert {fn}({part}, {whole}) == {100 * part / whole!r}")
        desc = f"Computes the percentage share of {d.noun} {num}."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=[code], tail=_some_asserts(rng, asserts, 2, 3))
    return desc, buggy, fixed, SIG_ASSERT


def _sc_mutable_default(rng: random.Random) -> Scenario:
    d = _domain(rng)
    e = _Edits()
    a, b, c = rng.sample(d.labels, 3)
    bucket = rng.choice(("bucket", "into", "names", "batch"))
    if rng.random() < 0.5:
        fn = rng.choice((f"add_{d.label}", f"queue_{d.noun}", f"collect_{d.label}"))
        code = (f"def {fn}(name, {bucket}={e('[]', 'None')}):\n"
                f"    {e(None, f'{bucket} = [] if {bucket} is None else {bucket}')}\n"
                f"    {bucket}.append(name)\n    return {bucket}")
        asserts = [f'assert {fn}("{a}") == ["{a}"]', f'assert {fn}("{b}") == ["{b}"]',
                   f'assert {fn}("{c}", ["{a}"]) == ["{a}", "{c}"]']
    else:
        num = rng.choice(d.nums)
        fn = rng.choice((f"record_{num}", f"set_{num}", f"register_{d.noun}"))
        x, y = rng.randint(1, 99), rng.randint(1, 99)
        code = (f"def {fn}(name, value, {bucket}={e('{}', 'None')}):\n"
                f"    {e(None, f'{bucket} = {{}} if {bucket} is None else {bucket}')}\n"
                f"    {bucket}[name] = value\n    return {bucket}")
        asserts = [f'assert {fn}("{a}", {x}) == {{"{a}": {x}}}', f'assert {fn}("{b}", {y}) == {{"{b}": {y}}}',
                   f'assert {fn}("{c}", {x}, {{"{a}": {y}}}) == {{"{a}": {y}, "{c}": {x}}}']
    asserts = asserts[:2] + asserts[2:] * rng.randint(0, 1)
    desc = f"Adds {d.a} entry to a fresh or given collection."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=[code], tail=asserts)
    return desc, buggy, fixed, SIG_ASSERT


def _sc_early_return(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    e = _Edits()
    kind = rng.choice(("any", "all", "sum"))
    k = rng.randint(20, 60)
    if kind == "sum":
        acc = rng.choice(("total", "acc", "running"))
        fn = rng.choice((f"total_{num}", f"sum_{num}", f"{d.plural}_{num}"))
        code = (f"def {fn}(values):\n    {acc} = 0\n    for v in values:\n        {acc} += v\n"
                + e(f"        return {acc}", f"    return {acc}"))
        lists = [[rng.randint(1, 90) for _ in range(rng.randint(2, 5))] for _ in range(2)]
        asserts = [f"assert {fn}({v}) == {sum(v)}" for v in lists] + [f"assert {fn}([]) == 0"]
        desc = f"Sums {d.noun} {num} values."
    else:
        bad = rng.randint(k + 1, 99)
        good = [rng.randint(0, k) for _ in range(rng.randint(1, 3))]
        if kind == "any":
            fn = rng.choice((f"any_{num}_over", f"has_high_{num}", f"{num}_alarm"))
            code = (f"def {fn}(values, limit={k}):\n    for v in values:\n        if v > limit:\n"
                    f"            return True\n" + e("        return False", "    return False"))
            asserts = [f"assert {fn}({good + [bad]}) is True", f"assert {fn}({good}) is False",
                       f"assert {fn}([]) is False"]
            desc = f"Tells whether any {d.noun} {num} is over a limit."
        else:
            fn = rng.choice((f"all_{num}_ok", f"{num}_within_limit", f"{d.plural}_valid"))
            code = (f"def {fn}(values, limit={k}):\n    for v in values:\n        if v > limit:\n"
                    f"            return False\n" + e("        return True", "    return True"))
            asserts = [f"assert {fn}({good + [bad]}) is False", f"assert {fn}({good}) is True",
                       f"assert {fn}([]) is True"]
            desc = f"Tells whether every {d.noun} {num} is within a limit."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=[code], tail=_some_asserts(rng, asserts, 2, 3))
    return desc, buggy, fixed, SIG_ASSERT


def _sc_inclusive_range(rng: random.Random) -> Scenario:
    d = _domain(rng)
    num = rng.choice(d.nums)
    e = _Edits()
    fn = rng.choice((f"{num}_between", f"window_{num}", f"{num}_from_to"))
    doc = '    """Sum of values[first..last], both ends included."""\n' if rng.random() < 0.6 else ""
    code = f"def {fn}(values, first, last):\n{doc}    return sum(values[first:{e('last', 'last + 1')}])"
    vals = [rng.randint(1, 90) for _ in range(rng.randint(4, 7))]
    data = rng.choice(("daily", f"{num}_log", "series"))
    asserts = []
    for _ in range(3):
        i = rng.randrange(len(vals))
        j = rng.randrange(i, len(vals))
        asserts.append(f"assert {fn}({data}, {i}, {j}) == {sum(vals[i:j + 1])}")
    desc = f"Sums {d.noun} {num} values over an inclusive index range."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=[code],
                            tail=[f"{data} = {vals}", *_some_asserts(rng, asserts, 2, 3)])
    return desc, buggy, fixed, SIG_ASSERT


def _sc_case_sensitivity(rng: random.Random) -> Scenario:
    d = _domain(rng)
    e = _Edits()
    fn = rng.choice((f"count_{d.label}", f"{d.label}_mentions", f"matches_for_{d.label}"))
    wanted = rng.choice(d.labels)
    others = [lab for lab in d.labels if lab != wanted]
    names = [rng.choice((wanted, wanted.upper(), wanted.capitalize())) for _ in range(rng.randint(2, 3))]
    names[0] = wanted.capitalize()  # at least one differs in case
    names += rng.sample(others, rng.randint(1, 3))
    names = _shuffled(rng, names)
    style = rng.random() < 0.5
    cond = e("n == wanted", rng.choice(("n.lower() == wanted.lower()", "n.casefold() == wanted.casefold()")))
    doc = '    """Case-insensitive count of wanted in names."""\n' if rng.random() < 0.5 else ""
    if style:
        code = f"def {fn}(names, wanted):\n{doc}    return sum(1 for n in names if {cond})"
    else:
        code = (f"def {fn}(names, wanted):\n{doc}    hits = 0\n    for n in names:\n        if {cond}:\n"
                f"            hits += 1\n    return hits")
    expected = sum(n.lower() == wanted for n in names)
    asserts = [f'assert {fn}({_lit(names)}, "{wanted}") == {expected}',
               f'assert {fn}({_lit(names)}, "{wanted.upper()}") == {expected}', f'assert {fn}([], "{wanted}") == 0']
    desc = f"Counts {d.noun} {d.label} mentions, ignoring case."
    buggy, fixed = _program(rng, e, desc, topic=d.plural, defs=[code], tail=_some_asserts(rng, asserts, 2, 3))
    return desc, buggy, fixed, SIG_ASSERT


# ------------------------------------------------------------------------------------- entry point

SCENARIOS: dict[str, tuple[Callable[[random.Random], Scenario], ...]] = {
    "name-import": (_sc_missing_module_import, _sc_missing_from_import, _sc_name_typo, _sc_defined_too_late,
                    _sc_unbound_local, _sc_missing_global),
    "type-error": (_sc_str_concat, _sc_sum_of_strings, _sc_unhashable_key, _sc_none_default_arith,
                   _sc_int_not_callable, _sc_int_not_iterable, _sc_sorted_positional),
    "attribute": (_sc_list_method_typo, _sc_str_method_typo, _sc_attribute_typo, _sc_dict_literal_confusion,
                  _sc_list_wrong_method, _sc_dict_dot_access, _sc_module_wrong_name),
    "none-handling": (_sc_missing_return_path, _sc_inplace_result, _sc_dict_get_default, _sc_match_vs_search,
                      _sc_forgot_return, _sc_none_default_container, _sc_find_returns_none),
    "index-key": (_sc_off_by_one, _sc_counter_key, _sc_lookup_key, _sc_group_key, _sc_empty_first,
                  _sc_empty_max, _sc_string_lookahead, _sc_pop_empty),
    "logic": (_sc_wrong_comparison, _sc_wrong_initial_value, _sc_floor_division, _sc_mutable_default,
              _sc_early_return, _sc_inclusive_range, _sc_case_sensitivity),
}


def _rng(family: str, seed: int) -> random.Random:
    digest = hashlib.sha256(f"{family}:{seed}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def scenario_of(family: str, seed: int) -> str:
    """The name of the scenario ``generate(family, seed)`` uses (for reports and tests)."""
    if family not in SCENARIOS:
        raise ValueError(f"unknown python family {family!r}: choose one of {', '.join(FAMILIES)}")
    return _rng(family, seed).choice(SCENARIOS[family]).__name__.removeprefix("_sc_")


def generate(family: str, seed: int) -> Task:
    """A fresh task of ``family``, the same for the same (family, seed)."""
    if family not in SCENARIOS:
        raise ValueError(f"unknown python family {family!r}: choose one of {', '.join(FAMILIES)}")
    rng = _rng(family, seed)
    scenario = rng.choice(SCENARIOS[family])
    description, buggy, fixed, signature = scenario(rng)
    return Task(id=f"gen-py-{family}-{seed}", pack="python", family=family, source=buggy, fix=fixed,
                signature=signature, origin="generated", description=description)
