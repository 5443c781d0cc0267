"""The leakage guard: frozen koans never appear in generated tasks or training data."""

import re

import pytest

from sleepy.tasks.leakage import LeakageError, LeakageGuard, normalise, tasks_as_texts
from sleepy.tasks.packs import PACKS, get_pack


def test_normalise_ignores_names_whitespace_and_comments():
    a = "fn main() {\n    let total = 1; // sum\n    println!(\"{}\", total);\n}\n"
    b = "fn  main(){ let  acc=7;\nprintln!(\"x{}\",acc); }"
    assert normalise(a) == normalise(b)
    assert normalise(a) != normalise(a.replace("let total = 1", "let mut total = 1"))


def test_python_normalise_handles_strings_and_comments():
    a = "def f(x):  # note\n    return x['k'] + len(\"it's\")\n"
    b = "def g(y):\n    return y[\"j\"] + len('a b')\n"
    assert normalise(a, "python") == normalise(b, "python")


@pytest.mark.parametrize("pack_name", PACKS)
def test_guard_catches_a_renamed_koan_inside_a_prompt(pack_name):
    frozen = get_pack(pack_name).frozen()
    guard = LeakageGuard(frozen)
    koan = frozen[len(frozen) // 2]
    renamed = re.sub(r"\b([a-z_]{3,})\b", lambda m: m.group(1) if m.group(1) in ("self", "main", "print")
                     else m.group(1), koan.source).replace("    ", "  ")
    prompt = f"### task\nFix this program.\n{renamed}\n### edit\n"
    assert koan.id in guard.leaks(prompt)
    numbered = "".join(f"{i}| {line}\n" for i, line in enumerate(koan.source.splitlines(), 1))
    assert koan.id in guard.leaks(f"### code\n{numbered}### edit\n")  # as the context builder shows code
    with pytest.raises(LeakageError, match=koan.id):
        guard.assert_clean([("example-7", prompt)], "training set")


@pytest.mark.parametrize("pack_name", PACKS)
def test_no_frozen_koan_in_generated_tasks(pack_name):
    pack = get_pack(pack_name)
    guard = LeakageGuard(pack.frozen())
    generated = pack.stream(600, seed=11) + pack.holdout(per_family=20)
    guard.assert_clean(tasks_as_texts(generated), f"{pack_name} generated tasks")
