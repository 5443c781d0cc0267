"""Generator of fresh Rust day tasks from templates.

Each family has several *scenarios*: a real error class written once as a template in which the
bug and its fix sit side by side as ``⟪buggy¦fixed⟫``. A scenario draws its identifiers, types,
values and struct shapes from the seed; :func:`generate` then shuffles the order of top-level items,
adds unrelated but valid surrounding code (helper functions, constants, extra statements in
``main``) and splits the template into the buggy program and its reference fix. Thousands of
distinct tasks per family follow from the combinations; ``tests/test_rust_generator.py`` proves
a sample of them with rustc.

Templates are written from the error classes, never from the frozen koans.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from sleepy.tasks.task import Task
from sleepy.tasks.vocabulary import WordSource

FAMILIES = ("borrow", "traits", "result-option", "type-mismatch", "lifetimes", "missing-items")

_PAIR = re.compile(r"⟪(.*?)¦(.*?)⟫", re.DOTALL)

NOUNS = ["order", "sensor", "invoice", "player", "ticket", "packet", "account", "book", "route", "task",
         "node", "shipment", "reading", "member", "course", "device", "recipe", "cargo", "planet", "batch",
         "station", "vehicle", "patient", "song", "tile", "frame", "token", "record", "lesson", "parcel"]
FIELDS = ["name", "label", "title", "code", "owner", "city", "tag", "kind", "note", "host"]
NUM_FIELDS = ["count", "weight", "score", "price", "level", "size", "age", "total", "rank", "speed"]
WORDS = ["alpha", "north", "cedar", "river", "ember", "quartz", "maple", "delta", "orbit", "lumen",
         "pixel", "harbor", "falcon", "copper", "willow", "zephyr"]
INT_TYPES = ["u32", "u64", "i32", "i64", "usize"]
WIDEN = [("u8", "u32"), ("u16", "u32"), ("u32", "u64"), ("i32", "i64"), ("u32", "usize"), ("u8", "u64"),
         ("i16", "i32"), ("u16", "u64")]


# Vocabulary words (and made-up words) that these templates already use: never drawn as a name.
_VOCABULARY_EXCLUDE = frozenset({
    "cargo", "cedar", "copper", "delta", "derive", "digest", "divide", "element", "ember", "falcon", "final",
    "harbor", "label", "level", "line", "live", "lumen", "made", "maple", "mode", "model", "move", "name", "nenum",
    "never", "node", "none", "note", "orbit", "planet", "program", "quartz", "recipe", "river", "same", "sample",
    "several", "side", "size", "some", "super", "tile", "token", "total", "willow", "zephyr",
})


def _camel(word: str) -> str:
    return "".join(p.capitalize() for p in word.split("_"))


class Names:
    """Draws distinct identifiers, so one program never reuses a name.

    Most words come from the large shared vocabulary (and some are made up), a quarter from this
    generator's short lists: a model must copy names from the program, not recall them."""

    FAMILIAR_RATE = 0.25

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()
        self.words = WordSource(rng, _VOCABULARY_EXCLUDE)

    def _draw(self, familiar: list[str]) -> str:
        return self.rng.choice(familiar) if self.rng.random() < self.FAMILIAR_RATE else self.words.word()

    def pick(self, pool: list[str], suffixes: tuple[str, ...] = ("",)) -> str:
        for _ in range(200):
            name = self._draw(pool) + self.rng.choice(suffixes)
            if name not in self.used:
                self.used.add(name)
                return name
        raise RuntimeError("identifier pool exhausted")

    def noun(self) -> str:
        return self.pick(NOUNS)

    def struct(self) -> str:
        return _camel(self.pick(NOUNS, ("", "_info", "_entry", "_item", "_spec")))

    def var(self) -> str:
        return self.pick(NOUNS, ("", "s", "_list", "_map", "_total", "_count", "_ref", "_val"))

    def func(self, verb: str | None = None) -> str:
        verbs = ["compute", "load", "find", "build", "count", "sum", "check", "render", "parse", "score"]
        for _ in range(200):
            name = f"{verb or self.rng.choice(verbs)}_{self._draw(NOUNS)}"
            if name not in self.used:
                self.used.add(name)
                return name
        raise RuntimeError("identifier pool exhausted")

    def field(self) -> str:
        return self.pick(FIELDS)

    def num_field(self) -> str:
        return self.pick(NUM_FIELDS)

    def word(self) -> str:
        return self._draw(WORDS)


@dataclass
class Scenario:
    """One instantiated template: top-level items and main's body, with ⟪bug¦fix⟫ pairs inside."""

    description: str
    signature: str
    items: list[str]
    main: list[str]
    uses: tuple[str, ...] = ()


# --------------------------------------------------------------------------- borrow


def borrow_move_into_fn(r: random.Random, n: Names) -> Scenario:
    s, f_txt, f_num, func, var = n.struct(), n.field(), n.num_field(), n.func("consume"), n.var()
    t = r.choice(["u32", "u64", "i64"])
    return Scenario(
        f"builds a {s} and summarises it", "rust:E0382:borrow-of-moved-value",
        [f"struct {s} {{\n    {f_txt}: String,\n    {f_num}: {t},\n}}",
         f"fn {func}(x: ⟪{s}¦&{s}⟫) -> usize {{\n    x.{f_txt}.len() + x.{f_num} as usize\n}}"],
        [f'let {var} = {s} {{ {f_txt}: String::from("{n.word()}"), {f_num}: {r.randint(1, 99)} }};',
         f"let size = {func}(⟪{var}¦&{var}⟫);",
         f'println!("{{}} {{}}", size, {var}.{f_txt});'])


def borrow_move_assign(r: random.Random, n: Names) -> Scenario:
    a, b = n.var(), n.var()
    kind = r.choice(["string", "vec"])
    init = f'String::from("{n.word()}")' if kind == "string" else f"vec![{r.randint(1, 9)}, {r.randint(10, 99)}]"
    show = "{}" if kind == "string" else "{:?}"
    return Scenario(
        f"copies a {kind} and prints both", "rust:E0382:borrow-of-moved-value", [],
        [f"let {a} = {init};", f"let {b} = ⟪{a}¦{a}.clone()⟫;",
         f'println!("{show} {show}", {b}, {a});'])


def borrow_loop_consumes(r: random.Random, n: Names) -> Scenario:
    v, total, t = n.var(), n.var(), r.choice(["u32", "u64", "i32"])
    vals = ", ".join(str(r.randint(1, 50)) for _ in range(r.randint(2, 5)))
    return Scenario(
        "totals a list and reports its length", "rust:E0382:borrow-of-moved-value", [],
        [f"let {v}: Vec<{t}> = vec![{vals}];", f"let mut {total}: {t} = 0;",
         f"for x in ⟪{v}¦&{v}⟫ {{\n        {total} += x;\n    }}",
         f'println!("{{}} items, total {{}}", {v}.len(), {total});'])


def borrow_not_mut(r: random.Random, n: Names) -> Scenario:
    v = n.var()
    pushes = "\n    ".join(f"{v}.push({r.randint(1, 500)});" for _ in range(r.randint(1, 3)))
    return Scenario(
        "collects values into a vector", "rust:E0596:cannot-borrow-as-mutable-as-it-is-not", [],
        [f"let ⟪¦mut ⟫{v} = Vec::new();", pushes, f'println!("{{:?}}", {v});'])


def borrow_assign_twice(r: random.Random, n: Names) -> Scenario:
    acc, xs = n.var(), n.var()
    t = r.choice(["u32", "u64", "i64", "usize"])
    vals = ", ".join(str(r.randint(1, 30)) for _ in range(r.randint(3, 6)))
    op = r.choice(["+=", "*="])
    start = 0 if op == "+=" else 1
    return Scenario(
        "accumulates numbers in a loop", "rust:E0384:cannot-assign-twice-to-immutable-variable", [],
        [f"let {xs}: [{t}; {len(vals.split(','))}] = [{vals}];", f"let ⟪¦mut ⟫{acc}: {t} = {start};",
         f"for x in {xs}.iter() {{\n        {acc} {op} *x;\n    }}", f'println!("{{}}", {acc});'])


def borrow_ref_then_push(r: random.Random, n: Names) -> Scenario:
    v, first, t = n.var(), n.var(), r.choice(INT_TYPES)
    return Scenario(
        "remembers the first value then extends the list", "rust:E0502:cannot-borrow-as-mutable-because-it-is-also",
        [], [f"let mut {v}: Vec<{t}> = vec![{r.randint(1, 9)}, {r.randint(10, 20)}];",
             f"let {first} = ⟪&{v}[0]¦{v}[0]⟫;", f"{v}.push({r.randint(21, 99)});",
             f'println!("first={{}} len={{}}", {first}, {v}.len());'])


def borrow_move_out_of_self(r: random.Random, n: Names) -> Scenario:
    s, f, getter, var = n.struct(), n.field(), n.func("get"), n.var()
    return Scenario(
        f"reads a field of a {s} through a method", "rust:E0507:cannot-move-out-of-which-is-behind-a",
        [f"struct {s} {{\n    {f}: String,\n    id: u32,\n}}",
         f"impl {s} {{\n    fn {getter}(&self) -> String {{\n        ⟪self.{f}¦self.{f}.clone()⟫\n    }}\n}}"],
        [f'let {var} = {s} {{ {f}: "{n.word()}".to_string(), id: {r.randint(1, 99)} }};',
         f'println!("{{}} #{{}}", {var}.{getter}(), {var}.id);'])


# --------------------------------------------------------------------------- traits


def _derive(present: list[str], missing: str) -> str:
    """A derive line without and with ``missing`` (present ones kept), as a ⟪¦⟫ pair."""
    if present:
        return f"#[derive({', '.join(present)}⟪¦, {missing}⟫)]\n"
    return f"⟪¦#[derive({missing})]\n⟫"


def _struct_decl(r: random.Random, n: Names, name: str, present: list[str], missing: str) -> tuple[str, str]:
    f1, f2 = n.field(), n.num_field()
    t = r.choice(["u32", "i64", "u8"])
    body = f"struct {name} {{\n    {f1}: String,\n    {f2}: {t},\n}}"
    lit = f'{name} {{ {f1}: String::from("{n.word()}"), {f2}: {r.randint(1, 90)} }}'
    return _derive(present, missing) + body, lit


def traits_missing_debug(r: random.Random, n: Names) -> Scenario:
    s, var = n.struct(), n.var()
    decl, lit = _struct_decl(r, n, s, r.choice([[], ["Clone"], ["Clone", "PartialEq"]]), "Debug")
    return Scenario(f"prints a {s} for debugging", "rust:E0277:doesn-t-implement-debug", [decl],
                    [f"let {var} = {lit};", f'println!("{{:?}}", {var});'])


def traits_missing_clone(r: random.Random, n: Names) -> Scenario:
    s, a, b = n.struct(), n.var(), n.var()
    decl, lit = _struct_decl(r, n, s, r.choice([[], ["Debug"], ["Debug", "PartialEq"]]), "Clone")
    return Scenario(f"duplicates a {s}", "rust:E0599:no-method-named-found-for-struct-in-the",
                    [decl], [f"let {a} = {lit};", f"let {b} = {a}.clone();",
                             f"let both = [{a}, {b}];", 'println!("{}", both.len());'])


def traits_missing_partialeq(r: random.Random, n: Names) -> Scenario:
    s, a, b = n.struct(), n.var(), n.var()
    decl, lit = _struct_decl(r, n, s, r.choice([[], ["Debug"], ["Debug", "Clone"]]), "PartialEq")
    return Scenario(f"compares two {s} values", "rust:E0369:binary-operation-cannot-be-applied-to-type",
                    [decl], [f"let {a} = {lit};", f"let {b} = {lit};",
                             f'if {a} == {b} {{\n        println!("same");\n    }}'])


def traits_missing_default(r: random.Random, n: Names) -> Scenario:
    s, var = n.struct(), n.var()
    decl, _ = _struct_decl(r, n, s, r.choice([[], ["Debug"], ["Debug", "Clone"]]), "Default")
    return Scenario(f"starts from an empty {s}", "rust:E0599:no-function-or-associated-item-named-found-for",
                    [decl], [f"let {var} = {s}::default();", f"let _ = &{var};", 'println!("ready");'])


def traits_generic_display(r: random.Random, n: Names) -> Scenario:
    func, var = n.func("describe"), n.var()
    arg = r.choice([str(r.randint(1, 999)), f'"{n.word()}"', f"{r.randint(1, 99)}.5"])
    bound = r.choice(["std::fmt::Display", "Display"])
    uses = ("use std::fmt::Display;",) if bound == "Display" else ()
    return Scenario("formats any value with a label", "rust:E0277:doesn-t-implement-display",
                    [f"fn {func}<T⟪¦: {bound}⟫>(label: &str, value: T) -> String {{\n"
                     f'    format!("{{}} = {{}}", label, value)\n}}'],
                    [f"let {var} = {func}(\"{n.noun()}\", {arg});", f'println!("{{}}", {var});'], uses)


def traits_generic_partialord(r: random.Random, n: Names) -> Scenario:
    func, var, t = n.func("largest"), n.var(), r.choice(INT_TYPES)
    vals = ", ".join(str(r.randint(1, 300)) for _ in range(r.randint(3, 6)))
    return Scenario("finds the largest element of a slice", "rust:E0369:binary-operation-cannot-be-applied-to-type",
                    [f"fn {func}<T: Copy⟪¦ + PartialOrd⟫>(items: &[T]) -> T {{\n    let mut best = items[0];\n"
                     "    for &item in items {\n        if item > best {\n            best = item;\n"
                     "        }\n    }\n    best\n}"],
                    [f"let {var}: Vec<{t}> = vec![{vals}];", f'println!("{{}}", {func}(&{var}));'])


def traits_hash_key(r: random.Random, n: Names) -> Scenario:
    s, set_ = n.struct(), n.var()
    return Scenario(f"deduplicates {s} keys in a set",
                    "rust:E0277:the-trait-bound-eq-is-not-satisfied",
                    [f"#[derive(Debug, PartialEq⟪¦, Eq, Hash⟫)]\nstruct {s} {{\n    id: u32,\n}}"],
                    [f"let mut {set_} = HashSet::new();",
                     f"{set_}.insert({s} {{ id: {r.randint(1, 9)} }});",
                     f"{set_}.insert({s} {{ id: {r.randint(10, 99)} }});",
                     f'println!("{{}}", {set_}.len());'], ("use std::collections::HashSet;",))


# --------------------------------------------------------------------------- result-option


def result_question_in_plain_fn(r: random.Random, n: Names) -> Scenario:
    func, var, t = n.func("sum"), n.var(), r.choice(["u32", "u64", "i64"])
    words = ", ".join(f'"{r.randint(1, 99)}"' for _ in range(r.randint(2, 5)))
    return Scenario("adds numbers parsed from text",
                    "rust:E0277:the-operator-can-only-be-used-in-a",
                    [f"fn {func}(items: &[&str]) -> {t} {{\n    let mut total = 0;\n    for item in items {{\n"
                     f"        total += item.trim().parse::<{t}>()⟪?¦.unwrap_or(0)⟫;\n    }}\n    total\n}}"],
                    [f"let {var} = [{words}];", f'println!("{{}}", {func}(&{var}));'])


def result_option_as_value(r: random.Random, n: Names) -> Scenario:
    m, var, t = n.var(), n.var(), r.choice(["u32", "u64", "i32"])
    k1, k2 = r.sample(WORDS, 2)
    return Scenario("looks up a price in a map", "rust:E0308:mismatched-types", [],
                    [f"let mut {m}: HashMap<&str, {t}> = HashMap::new();",
                     f'{m}.insert("{k1}", {r.randint(1, 99)});', f'{m}.insert("{k2}", {r.randint(1, 99)});',
                     f'let {var}: {t} = ⟪{m}.get("{k1}")¦*{m}.get("{k1}").unwrap_or(&0)⟫;',
                     f'println!("{{}}", {var});'], ("use std::collections::HashMap;",))


def result_missing_some(r: random.Random, n: Names) -> Scenario:
    func, var, t = n.func("find"), n.var(), r.choice(INT_TYPES)
    vals = [r.randint(1, 60) for _ in range(r.randint(3, 6))]
    return Scenario("finds the position of a value", "rust:E0308:mismatched-types",
                    [f"fn {func}(items: &[{t}], target: {t}) -> Option<usize> {{\n"
                     "    for (i, item) in items.iter().enumerate() {\n        if *item == target {\n"
                     "            return ⟪i¦Some(i)⟫;\n        }\n    }\n    None\n}"],
                    [f"let {var}: Vec<{t}> = vec![{', '.join(map(str, vals))}];",
                     f'println!("{{:?}}", {func}(&{var}, {r.choice(vals)}));'])


def result_missing_ok(r: random.Random, n: Names) -> Scenario:
    func, t = n.func("check"), r.choice(["u32", "u64", "i64"])
    limit = r.randint(10, 100)
    return Scenario("validates a value against a limit", "rust:E0308:mismatched-types",
                    [f"fn {func}(value: {t}) -> Result<{t}, String> {{\n    if value > {limit} {{\n"
                     f'        return Err(format!("too large: {{}}", value));\n    }}\n    ⟪value¦Ok(value)⟫\n}}'],
                    [f'match {func}({r.randint(1, 2 * limit)}) {{\n        Ok(v) => println!("ok {{}}", v),\n'
                     '        Err(e) => println!("error {}", e),\n    }'])


def result_method_on_option(r: random.Random, n: Names) -> Scenario:
    v, best, t = n.var(), n.var(), r.choice(["u32", "u64", "i64"])
    vals = ", ".join(str(r.randint(1, 20)) for _ in range(r.randint(2, 5)))
    return Scenario("squares the largest value", "rust:E0599:no-method-named-found-for-enum-in-the", [],
                    [f"let {v}: Vec<{t}> = vec![{vals}];",
                     f"let {best} = ⟪{v}.iter().max()¦*{v}.iter().max().unwrap()⟫;",
                     f'println!("{{}}", {best}.pow(2));'])


def result_parse_unwrap(r: random.Random, n: Names) -> Scenario:
    raw, var, t = n.var(), n.var(), r.choice(INT_TYPES)
    return Scenario("parses a number from text", "rust:E0308:mismatched-types", [],
                    [f'let {raw} = " {r.randint(1, 999)} ";', f"let {var}: {t} = {raw}.trim().parse()⟪¦.unwrap()⟫;",
                     f'println!("{{}}", {var} + 1);'])


def result_nonexhaustive(r: random.Random, n: Names) -> Scenario:
    v, t = n.var(), r.choice(INT_TYPES)
    return Scenario("reports the first element", "rust:E0004:non-exhaustive-patterns-not-covered", [],
                    [f"let {v}: Vec<{t}> = vec![{r.randint(1, 9)}];",
                     f'match {v}.first() {{\n        Some(x) => println!("first {{}}", x),⟪¦\n'
                     '        None => println!("empty"),⟫\n    }'])


# --------------------------------------------------------------------------- type-mismatch


def mismatch_int_arg(r: random.Random, n: Names) -> Scenario:
    small, big = r.choice(WIDEN)
    func, var = n.func(), n.var()
    fix = r.choice([f"{var} as {big}", f"{big}::from({var})" if big != "usize" else f"{var} as usize"])
    return Scenario("passes a narrow integer to a wider parameter", "rust:E0308:mismatched-types",
                    [f"fn {func}(x: {big}) -> {big} {{\n    x * {r.randint(2, 9)} + {r.randint(1, 9)}\n}}"],
                    [f"let {var}: {small} = {r.randint(1, 100)};", f"let out = {func}(⟪{var}¦{fix}⟫);",
                     'println!("{}", out);'])


def mismatch_string_param(r: random.Random, n: Names) -> Scenario:
    func, var = n.func("greet"), n.var()
    fix = r.choice(["to_string()", "to_owned()"])
    lit = f'"{n.word()}"'
    return Scenario("builds a greeting from a name", "rust:E0308:mismatched-types",
                    [f'fn {func}(name: String) -> String {{\n    format!("hello, {{}}", name)\n}}'],
                    [f"let {var} = {func}(⟪{lit}¦{lit}.{fix}⟫);", f'println!("{{}}", {var});'])


def mismatch_string_field(r: random.Random, n: Names) -> Scenario:
    s, f, g, var = n.struct(), n.field(), n.num_field(), n.var()
    w = n.word()
    return Scenario(f"fills a {s} record", "rust:E0308:mismatched-types",
                    [f"struct {s} {{\n    {f}: String,\n    {g}: u32,\n}}"],
                    [f'let {var} = {s} {{ {f}: ⟪"{w}"¦"{w}".to_string()⟫, {g}: {r.randint(1, 50)} }};',
                     f'println!("{{}} {{}}", {var}.{f}, {var}.{g});'])


def mismatch_divide_by_len(r: random.Random, n: Names) -> Scenario:
    func, var = n.func("average"), n.var()
    vals = ", ".join(f"{r.randint(1, 90)}.{r.randint(0, 9)}" for _ in range(r.randint(2, 5)))
    return Scenario("averages readings", "rust:E0277:cannot-divide-by",
                    [f"fn {func}(xs: &[f64]) -> f64 {{\n    let total: f64 = xs.iter().sum();\n"
                     f"    total / xs.len()⟪¦ as f64⟫\n}}"],
                    [f"let {var} = vec![{vals}];", f'println!("{{:.2}}", {func}(&{var}));'])


def mismatch_return_len(r: random.Random, n: Names) -> Scenario:
    func, var, t = n.func("count"), n.var(), r.choice(["u32", "u64", "i32", "i64"])
    return Scenario("counts words in a sentence", "rust:E0308:mismatched-types",
                    [f"fn {func}(text: &str) -> {t} {{\n    text.split_whitespace().count()⟪¦ as {t}⟫\n}}"],
                    [f'let {var} = "{" ".join(r.sample(WORDS, r.randint(2, 5)))}";',
                     f'println!("{{}}", {func}({var}));'])


def mismatch_mixed_add(r: random.Random, n: Names) -> Scenario:
    small, big = r.choice([("i32", "i64"), ("u32", "u64"), ("u16", "u32")])
    a, b, total = n.var(), n.var(), n.var()
    return Scenario("adds two counters of different widths", "rust:E0308:mismatched-types", [],
                    [f"let {a}: {small} = {r.randint(1, 100)};", f"let {b}: {big} = {r.randint(100, 1000)};",
                     f"let {total}: {big} = ⟪{a}¦{a} as {big}⟫ + {b};", f'println!("{{}}", {total});'])


# --------------------------------------------------------------------------- lifetimes


def lifetime_longest(r: random.Random, n: Names) -> Scenario:
    func = n.func("pick")
    cmp = r.choice([">", ">=", "<"])
    return Scenario("picks one of two strings by length", "rust:E0106:missing-lifetime-specifier",
                    [f"fn {func}⟪¦<'a>⟫(a: &⟪¦'a ⟫str, b: &⟪¦'a ⟫str) -> &⟪¦'a ⟫str {{\n"
                     f"    if a.len() {cmp} b.len() {{\n        a\n    }} else {{\n        b\n    }}\n}}"],
                    [f'println!("{{}}", {func}("{n.word()}", "{n.word()}"));'])


def lifetime_struct_ref(r: random.Random, n: Names) -> Scenario:
    s, f, var = n.struct(), n.field(), n.var()
    return Scenario(f"a {s} that borrows its text", "rust:E0106:missing-lifetime-specifier",
                    [f"struct {s}⟪¦<'a>⟫ {{\n    {f}: &⟪¦'a ⟫str,\n    pos: usize,\n}}"],
                    [f'let text = String::from("{n.word()} {n.word()}");',
                     f"let {var} = {s} {{ {f}: &text, pos: {r.randint(0, 3)} }};",
                     f'println!("{{}} {{}}", {var}.{f}, {var}.pos);'])


def lifetime_scope_too_short(r: random.Random, n: Names) -> Scenario:
    held, inner = n.var(), n.var()
    w = n.word()
    return Scenario("keeps a reference to a string built in a block",
                    "rust:E0597:does-not-live-long-enough", [],
                    [f"let {held}: &str;", f'⟪¦let {inner} = String::from("{w}");\n    ⟫{{',
                     f'⟪    let {inner} = String::from("{w}");\n    ¦⟫    {held} = &{inner};', "}",
                     f'println!("{{}}", {held});'])


def lifetime_return_local(r: random.Random, n: Names) -> Scenario:
    func, var = n.func("shout"), n.var()
    op = r.choice(["to_uppercase()", "to_lowercase()", "trim().to_string()", "repeat(2)"])
    return Scenario("returns a transformed copy of a string", "rust:E0515:cannot-return-reference-to-local-variable",
                    [f"fn {func}(text: &str) -> ⟪&str¦String⟫ {{\n    let out = text.{op};\n    ⟪&out¦out⟫\n}}"],
                    [f'let {var} = {func}("{n.word()}");', f'println!("{{}}", {var});'])


# --------------------------------------------------------------------------- missing-items


def missing_hashmap_use(r: random.Random, n: Names) -> Scenario:
    m = n.var()
    keys = r.sample(WORDS, r.randint(2, 4))
    inserts = "\n    ".join(f'{m}.insert("{k}", {r.randint(1, 99)});' for k in keys)
    return Scenario("counts entries in a map", "rust:E0433:cannot-find-type-in-this-scope", [],
                    [f"let mut {m} = HashMap::new();", inserts, f'println!("{{}}", {m}.len());'],
                    ("⟪¦use std::collections::HashMap;⟫",))


def missing_typo_var(r: random.Random, n: Names) -> Scenario:
    var, t = n.var(), r.choice(INT_TYPES)
    typo = var[:-1] if len(var) > 4 else var + "s"
    return Scenario("scales a value", "rust:E0425:cannot-find-value-in-this-scope", [],
                    [f"let {var}: {t} = {r.randint(1, 50)};", f"let scaled = ⟪{typo}¦{var}⟫ * {r.randint(2, 9)};",
                     'println!("{}", scaled);'])


def missing_typo_fn(r: random.Random, n: Names) -> Scenario:
    func = n.func()
    typo = func + "s"
    return Scenario("calls a helper function", "rust:E0425:cannot-find-function-in-this-scope",
                    [f"fn {func}(x: u32) -> u32 {{\n    x + {r.randint(1, 9)}\n}}"],
                    [f'println!("{{}}", ⟪{typo}¦{func}⟫({r.randint(1, 99)}));'])


def missing_fn_arg(r: random.Random, n: Names) -> Scenario:
    func, t = n.func(), r.choice(INT_TYPES)
    a, b = r.randint(1, 9), r.randint(10, 99)
    return Scenario("combines two values", "rust:E0061:this-function-takes-arguments-but-argument-was-supplied",
                    [f"fn {func}(a: {t}, b: {t}) -> {t} {{\n    a * {r.randint(2, 5)} + b\n}}"],
                    [f'println!("{{}}", {func}({a}⟪¦, {b}⟫));'])


def missing_struct_field(r: random.Random, n: Names) -> Scenario:
    s, f, g, var = n.struct(), n.field(), n.num_field(), n.var()
    return Scenario(f"creates a {s}", "rust:E0063:missing-field-in-initializer-of",
                    [f"struct {s} {{\n    {f}: String,\n    {g}: u32,\n}}"],
                    [f'let {var} = {s} {{ {f}: String::from("{n.word()}")⟪¦, {g}: {r.randint(1, 9)}⟫ }};',
                     f'println!("{{}} {{}}", {var}.{f}, {var}.{g});'])


def missing_fmt_write(r: random.Random, n: Names) -> Scenario:
    out = n.var()
    lines = "\n    ".join(f'write!({out}, "{n.word()}={{}};", {r.randint(1, 99)}).unwrap();'
                           for _ in range(r.randint(1, 3)))
    return Scenario("formats values into a string buffer",
                    "rust:E0599:cannot-write-into", [],
                    [f"let mut {out} = String::new();", lines, f'println!("{{}}", {out});'],
                    ("⟪¦use std::fmt::Write;⟫",))


SCENARIOS: dict[str, list[Callable[[random.Random, Names], Scenario]]] = {
    "borrow": [borrow_move_into_fn, borrow_move_assign, borrow_loop_consumes, borrow_not_mut,
               borrow_assign_twice, borrow_ref_then_push, borrow_move_out_of_self],
    "traits": [traits_missing_debug, traits_missing_clone, traits_missing_partialeq, traits_missing_default,
               traits_generic_display, traits_generic_partialord, traits_hash_key],
    "result-option": [result_question_in_plain_fn, result_option_as_value, result_missing_some,
                      result_missing_ok, result_method_on_option, result_parse_unwrap, result_nonexhaustive],
    "type-mismatch": [mismatch_int_arg, mismatch_string_param, mismatch_string_field, mismatch_divide_by_len,
                      mismatch_return_len, mismatch_mixed_add],
    "lifetimes": [lifetime_longest, lifetime_struct_ref, lifetime_scope_too_short, lifetime_return_local],
    "missing-items": [missing_hashmap_use, missing_typo_var, missing_typo_fn, missing_fn_arg,
                      missing_struct_field, missing_fmt_write],
}


# --------------------------------------------------------------------------- surrounding code


def _filler_items(r: random.Random, n: Names) -> list[tuple[str, str | None]]:
    """Valid, unrelated items and an optional statement in ``main`` that uses each."""
    const, func, t = n.pick(NOUNS).upper() + "_LIMIT", n.func(), r.choice(["u32", "u64", "i64"])
    pool = [
        (f"const {const}: {t} = {r.randint(10, 999)};", f'println!("limit {{}}", {const});'),
        (f"fn {func}(values: &[{t}]) -> {t} {{\n    values.iter().copied().max().unwrap_or(0)\n}}",
         f'println!("max {{}}", {func}(&[{r.randint(1, 9)}, {r.randint(10, 99)}]));'),
        (f"fn {n.func('clamp')}(x: i64, lo: i64, hi: i64) -> i64 {{\n    x.max(lo).min(hi)\n}}", None),
        (f"#[allow(dead_code)]\nenum {n.struct()}Mode {{\n    Fast,\n    Careful,\n}}", None),
        (f"/// Version of the {n.noun()} format.\nconst {n.pick(NOUNS).upper()}_VERSION: &str = "
         f'"{r.randint(1, 4)}.{r.randint(0, 9)}";', None),
    ]
    k = r.choice([0, 1, 1, 2])
    return r.sample(pool, k)


def _noise_statement(r: random.Random, n: Names) -> str:
    v = n.var()
    return r.choice([
        f'let {v} = "{n.word()}";\n    println!("{{}}", {v}.len());',
        f"let {v} = {r.randint(2, 40)} * {r.randint(2, 40)};\n    println!(\"{{}}\", {v});",
        f'println!("start {n.word()}");',
    ])


def _split(text: str) -> tuple[str, str]:
    return _PAIR.sub(lambda m: m.group(1), text), _PAIR.sub(lambda m: m.group(2), text)


def _assemble(r: random.Random, n: Names, sc: Scenario) -> str:
    fillers = _filler_items(r, n)
    items = sc.items + [item for item, _ in fillers]
    r.shuffle(items)
    body = list(sc.main)
    for _item, stmt in fillers:
        if stmt:
            body.insert(r.randint(0, len(body)), stmt)
    if r.random() < 0.4:
        body.insert(0, _noise_statement(r, n))
    main = "fn main() {\n" + "".join(f"    {line}\n" for line in body) + "}"
    if r.random() < 0.5:
        items.append(main)
    else:
        items.insert(0, main)
    head = "".join(f"{u}\n" for u in sc.uses)
    return (head + ("\n" if head.strip("⟪¦⟫\n") else "") + "\n\n".join(items) + "\n").lstrip("\n")


def generate(family: str, seed: int) -> Task:
    """One fresh task of ``family``, reproducible from ``seed``."""
    if family not in SCENARIOS:
        raise ValueError(f"unknown rust family {family!r}: choose one of {', '.join(FAMILIES)}")
    r = random.Random(int.from_bytes(hashlib.sha256(f"rust:{family}:{seed}".encode()).digest()[:8], "big"))
    names = Names(r)
    scenario = r.choice(SCENARIOS[family])(r, names)
    buggy, fixed = _split(_assemble(r, names, scenario))
    return Task(id=f"gen-rs-{family}-{seed}", pack="rust", family=family, source=_tidy(buggy),
                fix=_tidy(fixed), signature=scenario.signature, description=scenario.description,
                origin="generated")


def _tidy(src: str) -> str:
    """Drop blank lines a removed ``use`` leaves at the top."""
    return src.lstrip("\n")
