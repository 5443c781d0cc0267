"""Fix patterns: a verified fix generalised to another program, checked by the real verifiers."""

from conftest import needs_rustc

from sleepy.memory.patterns import SPAN, FixPattern, derive, instantiate
from sleepy.memory.recall import ExperienceMemory
from sleepy.memory.sqlite import SQLiteStore
from sleepy.tasks.task import Task
from sleepy.tasks.verify import verify


def _task(source: str, pack: str = "rust", name: str = "t") -> Task:
    return Task(id=name, pack=pack, family="f", source=source)


def _adapt(before: str, after: str, target: str, pack: str = "rust") -> tuple[FixPattern, list[str], Task]:
    """Derive a pattern from the verified fix ``before -> after`` and apply it to ``target``."""
    first = verify(_task(before, pack))
    assert not first.passed and verify(_task(after, pack)).passed
    pattern = derive(before, after, first.diagnostics[0], pack)
    assert pattern is not None
    task = _task(target, pack, "target")
    diag = verify(task).diagnostics[0]
    assert diag.key == first.diagnostics[0].key
    return pattern, instantiate(pattern, target, diag), task


MOVED = """fn take(v: String) -> usize {
    v.len()
}

fn main() {
    let s = String::from("a");
    let n = take(s);
    println!("{} {}", n, s);
}
"""

MOVED_OTHER = """fn consume(label: String, times: u32) -> u32 {
    label.len() as u32 * times
}

fn main() {
    let banner = String::from("hello");
    let extra = 3;
    let total = consume(banner, extra);
    println!("{}", total);
    println!("{}", banner);
}
"""


@needs_rustc
def test_a_moved_value_fix_carries_to_a_program_with_other_names():
    pattern, candidates, task = _adapt(MOVED, MOVED.replace("take(s)", "take(s.clone())"), MOVED_OTHER)
    assert [h.kind for h in pattern.hunks] == ["span"] and pattern.hunks[0].new == [[SPAN, ".clone()"]]
    assert pattern.hunks[0].label == "value moved here"  # the move site, not the later use rustc points at
    assert candidates and verify(task, candidates[0]).passed
    assert "consume(banner.clone(), extra)" in candidates[0]


DEBUG = """struct Point {
    x: i32,
}

fn main() {
    let p = Point { x: 1 };
    println!("{:?}", p.x);
    println!("{:?}", p);
}
"""

DEBUG_OTHER = """struct Colour {
    red: u8,
}

struct Crate {
    weight: u32,
}

fn main() {
    let c = Colour { red: 2 };
    let k = Crate { weight: 5 };
    println!("{}", c.red);
    println!("{:?}", k);
}
"""


@needs_rustc
def test_a_derive_lands_on_the_struct_the_verifier_names_not_the_nearest():
    fixed = DEBUG.replace("struct Point", "#[derive(Debug)]\nstruct Point")
    pattern, candidates, task = _adapt(DEBUG, fixed, DEBUG_OTHER)
    assert pattern.hunks[0].kind == "insert" and pattern.names  # the struct's hole is bound to the message
    assert verify(task, candidates[0]).passed
    assert "#[derive(Debug)]\nstruct Crate" in candidates[0] and "#[derive(Debug)]\nstruct Colour" not in candidates[0]


CAST = """fn main() {
    let small: u32 = 7;
    let big: u64 = small;
    println!("{}", big);
}
"""

CAST_OTHER = """fn scale(n: i64) -> i64 {
    n * 2
}

fn main() {
    let count: i32 = 4;
    println!("{}", scale(count));
}
"""


@needs_rustc
def test_a_cast_takes_the_type_the_new_error_expects():
    pattern, candidates, task = _adapt(CAST, CAST.replace("= small;", "= small as u64;"), CAST_OTHER)
    assert any(isinstance(p, int) and p != SPAN for p in pattern.hunks[0].new[0])  # u64 became the expected type
    assert any(verify(task, c).passed for c in candidates)
    assert any("scale(count as i64)" in c for c in candidates)


def test_python_attribute_fix_is_placed_without_columns():
    before = "class Box:\n    def __init__(self):\n        self.items = []\n\nb = Box()\nprint(len(b.item))\n"
    target = ("class Shelf:\n    def __init__(self):\n        self.books = [1]\n        self.name = 'x'\n\n"
              "s = Shelf()\nn = 0\nn += len(s.book)\nassert n == 1\n")
    pattern, candidates, task = _adapt(before, before.replace("b.item)", "b.items)"), target, "python")
    # the attribute the fix wrote is the one Python's "Did you mean" names, so it is bound by name, not copied
    assert verify(task, candidates[0]).passed and "len(s.books)" in candidates[0]
    assert FixPattern.from_json(pattern.to_json()) == pattern


@needs_rustc
def test_a_pattern_that_finds_no_anchor_gives_nothing_and_never_raises():
    result = verify(_task(MOVED))
    pattern = derive(MOVED, MOVED.replace("take(s)", "take(s.clone())"), result.diagnostics[0], "rust")
    assert instantiate(pattern, "fn main() {}\n", result.diagnostics[0]) == []  # the span is past the program
    other = FixPattern("rust:E0000:other", "rust", pattern.hunks)
    assert instantiate(other, MOVED, result.diagnostics[0]) == []  # another signature never applies


@needs_rustc
def test_memory_stores_the_pattern_with_the_fix_and_adapts_it(tmp_path):
    store = SQLiteStore(tmp_path / "m.db")
    memory = ExperienceMemory(store)
    task = _task(MOVED, name="first")
    before = verify(task)
    after = MOVED.replace("take(s)", "take(s.clone())")
    memory.remember(task, MOVED, after, before.diagnostics[0], "agent", verify(task, after))
    stored = store.fixes_for(before.diagnostics[0].key)[0]
    assert stored.pattern and FixPattern.from_json(stored.pattern).hunks[0].kind == "span"
    target = _task(MOVED_OTHER, name="second")
    made = memory.adapt(target, MOVED_OTHER, verify(target).diagnostics[0])
    assert made and made[0].fix_id == stored.id and made[0].support == 1
    assert verify(target, made[0].candidate).passed


def test_a_fix_of_many_scattered_changes_is_not_generalised():
    before = "".join(f"v{i} = {i}\nprint(v{i})\n" for i in range(6)) + "print(missing)\n"
    after = before.replace("print(missing)", "print(v0)")
    for i in range(1, 6):
        after = after.replace(f"v{i} = {i}\n", f"v{i} = {i + 10}\n")
    diag = verify(_task(before, "python")).diagnostics[0]
    assert derive(before, after, diag, "python") is None
    assert derive(before, before.replace("print(missing)", "print(v0)"), diag, "python") is not None


@needs_rustc
def test_a_stored_pattern_that_does_not_parse_is_skipped(tmp_path):
    store = SQLiteStore(tmp_path / "m.db")
    memory = ExperienceMemory(store)
    task = _task(MOVED, name="first")
    diag = verify(task).diagnostics[0]
    after = MOVED.replace("take(s)", "take(s.clone())")
    fix = memory.make_fix(task, MOVED, after, diag, "agent", verify(task, after))
    fix.pattern = '{"signature": "half a row'
    store.add_fix(fix)
    target = _task(MOVED_OTHER, name="second")
    assert memory.adapt(target, MOVED_OTHER, verify(target).diagnostics[0]) == []


def test_the_span_hole_is_whole_tokens_never_part_of_a_word():
    from sleepy.tasks.signature import Diagnostic, Span

    before = "fn main() {\n    let y = f(i);\n}\n"
    after = "fn main() {\n    let y = f(min(i, 3));\n}\n"
    col = before.split("\n")[1].index("i)") + 1
    diag = Diagnostic("rust:E0308:mismatched-types", "E0308", "mismatched types",
                      [Span("main.rs", 2, 2, col, col + 1, "expected `u8`")])
    pattern = derive(before, after, diag, "rust")
    assert pattern.hunks[0].kind == "span" and pattern.hunks[0].new == [["min(", SPAN, ", 3)"]]
    other = "fn main() {\n    let z = g(count);\n}\n"
    at = other.split("\n")[1].index("count") + 1
    target = Diagnostic(diag.key, "E0308", "mismatched types", [Span("main.rs", 2, 2, at, at + 5, "expected `u8`")])
    assert instantiate(pattern, other, target) == ["fn main() {\n    let z = g(min(count, 3));\n}\n"]


def test_an_inserted_line_takes_the_tab_indentation_of_its_new_home():
    before = "def total(xs):\n\tfor x in xs:\n\t\tacc += x\n\treturn acc\n\nassert total([1, 2]) == 3\n"
    after = before.replace("\tfor x", "\tacc = 0\n\tfor x")
    target = ("def longest(words):\n\tfor w in words:\n\t\tif len(w) > best:\n\t\t\tbest = len(w)\n\treturn best\n\n"
              "assert longest(['ab', 'c']) == 2\n")
    pattern, candidates, task = _adapt(before, after, target, "python")
    assert pattern.hunks[0].kind == "insert"
    assert any(verify(task, c).passed and "\n\tbest = 0\n\tfor w" in c for c in candidates)


def test_windows_line_endings_survive_adaptation():
    before = "\r\n".join(["class Box:", "    def __init__(self):", "        self.items = []", "", "b = Box()",
                          "print(len(b.item))", ""])
    target = "\r\n".join(["class Bag:", "    def __init__(self):", "        self.coins = [1]", "", "g = Bag()",
                          "assert len(g.coin) == 1", ""])
    _, candidates, task = _adapt(before, before.replace("b.item)", "b.items)"), target, "python")
    assert candidates[0] == target.replace("g.coin)", "g.coins)") and verify(task, candidates[0]).passed


STRING_ARG = """fn greet(name: String) -> usize {
    name.len()
}

fn main() {
    println!("{}", greet("ada"));
}
"""

STRING_OTHER = """struct Tag {
    label: String,
}

fn main() {
    let t = Tag { label: "red" };
    println!("{}", t.label);
}
"""


@needs_rustc
def test_a_pattern_from_an_error_of_the_same_shape_is_tried_before_a_more_frequent_one(tmp_path):
    memory = ExperienceMemory(SQLiteStore(tmp_path / "m.db"))
    for name, before, after in [("cast1", CAST, CAST.replace("= small;", "= small as u64;")),
                                ("cast2", CAST.replace("small", "tiny"), CAST.replace("small", "tiny").replace(
                                    "= tiny;", "= tiny as u64;")),
                                ("str", STRING_ARG, STRING_ARG.replace('"ada"', '"ada".to_string()'))]:
        task = _task(before, name=name)
        memory.remember(task, before, after, verify(task).diagnostics[0], "agent", verify(task, after))
    target = _task(STRING_OTHER, name="target")
    diag = verify(target).diagnostics[0]
    best = memory.adapt(target, STRING_OTHER, diag, patterns=1)
    assert best and best[0].support == 1 and verify(target, best[0].candidate).passed
    assert '"red".to_string()' in best[0].candidate


@needs_rustc
def test_a_typo_fix_writes_the_name_rustc_suggests_not_the_old_programs_name():
    before = "fn main() {\n    let earned = 3;\n    println!(\"{}\", earnd);\n}\n"
    target = ("fn total(xs: &[u32]) -> u32 {\n    let mut running = 0;\n    for x in xs {\n        running += x;\n"
              "    }\n    runing\n}\n\nfn main() {\n    println!(\"{}\", total(&[1, 2]));\n}\n")
    pattern, candidates, task = _adapt(before, before.replace("earnd)", "earned)"), target)
    assert verify(_task(before)).diagnostics[0].suggestions == ["earned"]
    assert candidates and verify(task, candidates[0]).passed and "    running\n}" in candidates[0]
    assert all("earned" not in c for c in candidates)


def test_a_fix_that_met_the_same_name_is_tried_first(tmp_path):
    memory = ExperienceMemory(SQLiteStore(tmp_path / "m.db"))
    sqrt_a = "print(sqrt(16.0))\n"
    sqrt_b = "x = 9.0\nprint(sqrt(x) + 1)\n"
    words = "print(capwords('a b'))\n"
    for name, before in [("sqrt-a", sqrt_a), ("sqrt-b", sqrt_b)]:
        task = _task(before, "python", name)
        after = "from math import sqrt\n" + before
        memory.remember(task, before, after, verify(task).diagnostics[0], "agent", verify(task, after))
    task = _task(words, "python", "words")
    after = "from string import capwords\n" + words
    memory.remember(task, words, after, verify(task).diagnostics[0], "agent", verify(task, after))
    target_source = "title = capwords('hello there')\nassert title == 'Hello There'\n"
    target = _task(target_source, "python", "target")
    best = memory.adapt(target, target_source, verify(target).diagnostics[0], patterns=1)
    assert best and best[0].candidate.startswith("from string import capwords\n")
    assert verify(target, best[0].candidate).passed
