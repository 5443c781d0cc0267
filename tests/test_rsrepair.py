"""Rust errors rustc explains without offering a change (sleepy.tasks.rsrepair, hints._filled), repaired and
verified by real rustc: mixed-number arithmetic cast, a sum collected into another number type, a private item,
a field left out, a field read on an Option, a ``?`` that does not fit, references collected into owned values,
and the ``.expect("REASON")`` placeholder filled as ``.unwrap()``."""

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
    "a private function of a module": ("""\
mod bank {
    fn interest(balance: u64) -> u64 {
        balance / 100
    }
}

fn main() {
    assert_eq!(bank::interest(500), 5);
}
""", "    pub fn interest"),
    "a field left out of a struct literal": ("""\
struct Job {
    name: String,
    retries: u32,
    urgent: bool,
}

fn main() {
    let job = Job { name: String::from("backup"), retries: 2 };
    assert!(!job.urgent && job.retries == 2 && job.name == "backup");
}
""", "urgent: Default::default()"),
    "a field read on an Option": ("""\
struct User {
    name: String,
}

fn first_name(users: &[User]) -> Option<&str> {
    Some(users.first().name.as_str())
}

fn main() {
    let users = vec![User { name: String::from("ada") }];
    assert_eq!(first_name(&users), Some("ada"));
    assert_eq!(first_name(&[]), None);
}
""", "users.first()?.name"),
    "an error of another type under ?": ("""\
fn parse_port(text: &str) -> Result<u16, String> {
    let port = text.trim().parse::<u16>()?;
    Ok(port)
}

fn main() {
    assert_eq!(parse_port(" 8080 "), Ok(8080));
    assert!(parse_port("x").is_err());
}
""", ".map_err(|e| e.to_string())?"),
    "an Option under ? where the function returns a Result": ("""\
#[derive(Debug, PartialEq)]
enum ReadError {
    Short(usize),
}

fn byte_at(bytes: &[u8], at: usize) -> Result<u8, ReadError> {
    bytes.get(at).copied().ok_or(ReadError::Short(bytes.len()))
}

fn word(bytes: &[u8]) -> Result<u16, ReadError> {
    let high = byte_at(bytes, 0)?;
    let low = bytes.get(1).copied()?;
    Ok(u16::from(high) << 8 | u16::from(low))
}

fn main() {
    assert_eq!(word(&[1, 2]), Ok(258));
    assert_eq!(word(&[1]), Err(ReadError::Short(1)));
}
""", ".ok_or(ReadError::Short(bytes.len()))?"),
    "a reference kept across a change of its vector": ("""\
fn main() {
    let mut queue = vec![3, 8];
    let head = &queue[0];
    queue.push(5);
    assert_eq!(*head + queue.len() as i32, 6);
}
""", "let head = queue[0];"),
    "references collected into owned values": ("""\
fn long_names(names: &[String]) -> Vec<String> {
    names.iter().filter(|n| n.len() > 3).collect()
}

fn main() {
    let names = vec![String::from("ann"), String::from("bertha")];
    assert_eq!(long_names(&names), vec![String::from("bertha")]);
}
""", ".cloned().collect()"),
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
