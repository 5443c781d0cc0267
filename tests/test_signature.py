# ruff: noqa: E501
"""Signatures from real rustc and real Python runs: stable keys, spans, labels."""

from conftest import needs_rustc

from sleepy.tasks.signature import normalise_rust_message, parse_python_traceback, parse_rustc_json, python_key
from sleepy.tasks.task import Task
from sleepy.tasks.verify import verify

MOVED = """fn main() {
    let {a} = String::from("x");
    let other = {a};
    println!("{} {}", {a}, other);
}
"""


@needs_rustc
def test_rustc_json_gives_key_span_and_label():
    result = verify(Task(id="t", pack="rust", family="borrow", source=MOVED.replace("{a}", "name")))
    assert not result.passed
    diag = result.primary
    assert diag.key == "rust:E0382:borrow-of-moved-value"
    assert diag.primary.file == "main.rs" and diag.primary.line_start == 4
    assert diag.primary.label == "value borrowed here after move"
    assert any("move" in (s.label or "") for s in diag.spans[1:])


@needs_rustc
def test_rust_key_does_not_depend_on_names():
    keys = {verify(Task(id="t", pack="rust", family="b", source=MOVED.replace("{a}", n))).signature
            for n in ("alpha", "beta_gamma", "x1")}
    assert keys == {"rust:E0382:borrow-of-moved-value"}


@needs_rustc
def test_type_mismatch_keeps_expected_found_label():
    src = "fn half(x: u64) -> u64 { x / 2 }\nfn main() {\n    let n: u32 = 8;\n    println!(\"{}\", half(n));\n}\n"
    diag = verify(Task(id="t", pack="rust", family="type-mismatch", source=src)).primary
    assert diag.key == "rust:E0308:mismatched-types"
    assert "expected `u64`, found `u32`" in diag.primary.label


def test_same_code_different_fixes_get_different_keys():
    derive = normalise_rust_message("`Point` doesn't implement `Debug`")
    question = normalise_rust_message("the `?` operator can only be used in a function that returns `Result`")
    assert derive != question


def test_parse_rustc_json_ignores_warnings_and_noise():
    stderr = '\n'.join([
        '{"$message_type":"diagnostic","message":"unused variable: `x`","code":{"code":"unused"},"level":"warning","spans":[],"children":[]}',
        'not json at all',
        '{"$message_type":"diagnostic","message":"aborting due to 1 previous error","code":null,"level":"error","spans":[],"children":[]}',
        '{"$message_type":"diagnostic","message":"cannot find value `y` in this scope","code":{"code":"E0425"},"level":"error","spans":[{"file_name":"main.rs","line_start":3,"line_end":3,"column_start":5,"column_end":6,"is_primary":true,"label":"not found"}],"children":[]}',
    ])
    diags = parse_rustc_json(stderr, "main.rs")
    assert [d.key for d in diags] == ["rust:E0425:cannot-find-value-in-this-scope"]
    assert diags[0].primary.line_start == 3


def test_python_traceback_uses_deepest_frame_in_program():
    stderr = """Traceback (most recent call last):
  File "/tmp/work/main.py", line 9, in <module>
    total = report(rows)
  File "/tmp/work/main.py", line 4, in report
    return rows[0].upper()
  File "/usr/lib/python3.11/somewhere.py", line 1, in helper
AttributeError: 'NoneType' object has no attribute 'upper'
"""
    diag = parse_python_traceback(stderr, "main.py")
    assert diag.key == "py:AttributeError:nonetype-object-has-no-attribute"
    assert diag.primary.line_start == 4


def test_python_keys_drop_user_names_keep_builtin_types():
    assert python_key("NameError", "name 'qty' is not defined") == python_key("NameError", "name 'x' is not defined")
    assert python_key("TypeError", "unsupported operand type(s) for +: 'int' and 'str'") == \
        "py:TypeError:unsupported-operand-type-s-for-int-and-str"
    assert python_key("NameError", "name 'mth' is not defined. Did you mean: 'math'?") == \
        "py:NameError:name-is-not-defined"
    assert python_key("KeyError", "'north'") == "py:KeyError"


def test_python_syntax_error_has_span():
    result = verify(Task(id="s", pack="python", family="x", source="def f(:\n    pass\n"))
    assert result.signature.startswith("py:SyntaxError") and result.primary.primary.line_start == 1


@needs_rustc
def test_rustc_suggestions_become_placed_fixits_that_fix_the_program():
    src = ("fn total(xs: &Vec<u32>) -> u32 {\n    xs.iter().sum()\n}\n\n"
           "fn main() {\n    let scores = vec![1, 2, 3];\n    let t = total(scores);\n    assert_eq!(t, 6);\n}\n")
    task = Task(id="t", pack="rust", family="type-mismatch", source=src)
    diag = verify(task).primary
    assert diag.code == "E0308" and diag.fixits
    fixed = diag.fixits[0].apply(src)
    assert "total(&scores)" in fixed and verify(task, fixed).passed


@needs_rustc
def test_alternative_suggestions_are_separate_fixits():
    src = "fn main() {\n    let o = Ordering::Less;\n    let _ = o;\n}\n"
    diag = verify(Task(id="t", pack="rust", family="missing-items", source=src)).primary
    imports = [f.apply(src) for f in diag.fixits]
    assert len(imports) >= 2 and all(i.count("use ") == 1 for i in imports)  # one import each, not all at once
    assert any("use std::cmp::Ordering;" in i for i in imports)


@needs_rustc
def test_multipart_alternatives_are_split_not_merged():
    src = "fn parse(s: &str) -> Result<u32, u32> {\n    let n: u32 = s.len() as u32;\n    n\n}\n\nfn main() {\n    let _ = parse(\"ab\");\n}\n"
    diag = verify(Task(id="t", pack="rust", family="result-option", source=src)).primary
    fixed = [f.apply(src) for f in diag.fixits]
    assert "    Ok(n)\n" in "".join(f for f in fixed if f) and not any("Err(Ok(" in (f or "") for f in fixed)


def test_fixit_out_of_range_or_overlapping_is_refused_not_crashing():
    from sleepy.tasks.signature import Fixit

    assert Fixit("x", [(5, 99, "y")]).apply("short") is None
    assert Fixit("x", [(0, 1, "S")]).apply("short") == "Short"
    assert Fixit("x", [(0, 0, "a"), (0, 0, "b")]).apply("short") is None
    assert Fixit("x", [(0, 3, "a"), (2, 4, "b")]).apply("short") is None
    assert Fixit("x", [(0, 1, "É"), (8, 8, "!")]).apply("short é") == "Éhort é!"  # byte offsets, UTF-8


def test_empty_or_duplicate_suggestions_render_once_with_a_name():
    from sleepy.context.prompt import render_suggestions
    from sleepy.tasks.signature import Diagnostic, Fixit

    diag = Diagnostic("k", "E0308", "m", fixits=[Fixit("", [(0, 0, "// a\n")]), Fixit("", [(0, 0, "// a\n")])])
    text = render_suggestions(diag, "fn main() {}\n")
    assert text.count("### suggested (suggestion)") == 1
