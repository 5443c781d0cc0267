"""Rust errors rustc explains without offering a change (sleepy.tasks.rsrepair, hints._filled), repaired and
verified by real rustc: mixed-number arithmetic cast, a sum collected into another number type, and the
``.expect("REASON")`` placeholder filled as ``.unwrap()``."""

import pytest
from conftest import needs_rustc

from sleepy.tasks.hints import tool_candidates
from sleepy.tasks.task import Task
from sleepy.tasks.verify import verify

pytestmark = needs_rustc


def _first_passing(source: str, repairs: int = 12) -> tuple[str, str, str] | None:
    task = Task("t", "rust", "type-mismatch", source, origin="user")
    verdict = verify(task)
    assert not verdict.passed
    for c in tool_candidates("rust", source, verdict.diagnostics, 8, repairs=repairs).candidates:
        if verify(task, c.program).passed:
            return c.origin, c.hint, c.program
    return None


CASES = {
    "float by integer type": ("""\
fn monthly(total: f64, months: u32) -> f64 {
    total / months
}

fn main() {
    assert_eq!(monthly(120.0, 4), 30.0);
}
""", "(months as f64)"),
    "integer by float literal": ("""\
fn expected(diff: i32) -> f64 {
    1.0 / (1.0 + 10f64.powf(diff / 400.0))
}

fn main() {
    assert!((expected(0) - 0.5).abs() < 1e-9);
}
""", "(diff as f64) / 400.0"),
    "add-assign of another type": ("""\
fn main() {
    let lengths: Vec<usize> = vec![2, 3];
    let mut total: u64 = 0;
    for n in &lengths {
        total += *n;
    }
    assert_eq!(total, 5);
}
""", "((*n) as u64)"),
    "sum into another number type": ("""\
fn main() {
    let words = ["ox", "yak"];
    let total: u32 = words.iter().map(|w| w.len()).sum();
    assert_eq!(total, 5);
}
""", ".sum::<usize>() as u32"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_cast_compiles_runs_and_passes(case):
    source, expected = CASES[case]
    found = _first_passing(source)
    assert found is not None, case
    origin, _, program = found
    assert origin == "tool:repair" and expected in program


def test_without_repairs_rustc_alone_leaves_them_failing():
    assert all(_first_passing(source, repairs=0) is None for source, _ in CASES.values())


def test_the_expect_placeholder_is_filled_as_unwrap_and_other_placeholders_stay_skipped():
    option = """\
fn first_even(xs: &[i32]) -> Option<i32> {
    xs.iter().copied().find(|x| x % 2 == 0)
}

fn main() {
    let n: i32 = first_even(&[3, 8]);
    assert_eq!(n, 8);
}
"""
    origin, hint, program = _first_passing(option, repairs=0)
    assert origin == "tool:rustc" and "Option::expect" in hint
    assert "first_even(&[3, 8]).unwrap()" in program and "REASON" not in program
    typed = "fn main() {\n    let v = Vec::new();\n    println!(\"{}\", v.len());\n}\n"
    verdict = verify(Task("u", "rust", "type-mismatch", typed, origin="user"))
    hints = tool_candidates("rust", typed, verdict.diagnostics, 8)
    assert not any("/*" in c.program for c in hints.candidates)
    assert any("placeholders" in reason for reason in hints.skipped)
