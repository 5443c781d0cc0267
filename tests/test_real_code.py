"""Real programs broken on purpose: extraction from doc HTML, mutations, and real rustc verification."""

import dataclasses
import random

import pytest
from conftest import needs_rustc

from sleepy.model import pretrain
from sleepy.model.pretrain import PRESETS, build_real_examples, check_leakage
from sleepy.tasks import real_code
from sleepy.tasks.real_code import CorpusMissing, broken_tasks, doc_programs, mutations
from sleepy.tasks.verify import verify_many

MDBOOK_PAGE = """<html><body>
<pre><code class="language-rust">use std::collections::HashMap;

fn main() {
    let mut scores = HashMap::new();
    scores.insert(String::from(&quot;Blue&quot;), 10);
    let team = String::from(&quot;Blue&quot;);
    let score = scores.get(&amp;team).copied().unwrap_or(0);
    println!(&quot;{}&quot;, score);
}
</code></pre>
<pre><code class="language-rust ignore does_not_compile">fn main() { let x: i32 = "no"; }
</code></pre>
</body></html>"""

RUSTDOC_PAGE = """<div class="example-wrap"><pre class="rust rust-example-rendered"><code><span class="kw">let</span> \
<span class="kw">mut</span> v = <span class="macro">vec!</span>[<span class="number">1</span>, 2, 3];
v.push(4);
let total: i32 = v.iter().sum();
let text = total.to_string();
assert_eq!(text, &quot;10&quot;);
let first = v.first().unwrap();
assert_eq!(*first, 1);</code></pre></div>
<div class="example-wrap"><pre class="rust rust-example-rendered compile_fail"><code>let x: u8 = 300;
a
b
c
d
e</code></pre></div>"""


@pytest.fixture
def doc_tree(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "ch08.html").write_text(MDBOOK_PAGE)
    (tmp_path / "std").mkdir()
    (tmp_path / "std" / "vec.html").write_text(RUSTDOC_PAGE)
    return tmp_path


def test_doc_programs_extracts_unescapes_wraps_and_skips(doc_tree):
    programs = doc_programs(doc_tree)
    assert len(programs) == 2  # the does_not_compile and compile_fail blocks are skipped
    book = next(p for p in programs if "HashMap" in p)
    assert 'String::from("Blue")' in book and "scores.get(&team)" in book  # entities unescaped
    wrapped = next(p for p in programs if "v.push(4)" in p)
    assert wrapped.startswith("fn main() {\n    let mut v = vec![1, 2, 3];") and wrapped.endswith("}\n")
    assert "<span" not in wrapped


def test_missing_docs_fail_in_one_line(tmp_path):
    with pytest.raises(CorpusMissing, match="apt-get install rust-doc"):
        doc_programs(tmp_path / "absent")


def test_mutations_undo_to_the_original_and_stay_away_from_new_families(doc_tree):
    rng = random.Random(0)
    seen = set()
    for program in doc_programs(doc_tree):
        for m in mutations(program, rng, per_program=20):
            seen.add(m.operator)
            assert m.source != program
            assert m.family in ("borrow", "type-mismatch", "missing-items", "result-option")
            assert m.source.count("derive") == program.count("derive") and m.source.count("'") == program.count("'")
    assert {"drop-mut", "drop-use", "drop-conversion", "drop-unwrap", "drop-borrow"} <= seen


@needs_rustc
def test_broken_tasks_are_real_repairs_for_rustc(doc_tree):
    tasks = list(broken_tasks(doc_programs(doc_tree), seed=3, per_program=20))
    assert tasks and all(t.fix in doc_programs(doc_tree) for t in tasks)
    broken = verify_many([(t, None) for t in tasks], jobs=2)
    fixed = verify_many([(t, t.fix) for t in tasks], jobs=2)
    assert all(f.passed for f in fixed)  # the original programs type-check alone
    codes = {r.primary.code for r in broken if not r.passed and r.primary}
    assert {"E0596", "E0433"} <= codes  # a dropped `mut`, a dropped `use`


@needs_rustc
def test_real_examples_filter_signatures_cap_operators_and_pass_leakage(doc_tree, monkeypatch):
    monkeypatch.setattr(real_code.doc_programs, "__defaults__", (doc_tree,))
    preset = PRESETS["small-real"]
    examples = build_real_examples(preset)
    assert examples
    assert all(e.signature.startswith("rust:E") for e in examples)
    monkeypatch.setattr(pretrain, "new_family_signatures", lambda *a, **k: {e.signature for e in examples})
    assert build_real_examples(preset) == []  # a signature a new family starts from is never kept
    monkeypatch.undo()
    monkeypatch.setattr(real_code.doc_programs, "__defaults__", (doc_tree,))
    assert all(e.completion.startswith("@@ ") and e.completion.rstrip().endswith("### end") for e in examples)
    check_leakage(examples)
    one_each = build_real_examples(dataclasses.replace(preset, real_cap_per_operator=1, real_repeat=2))
    operators = [e.task_id.rsplit("-", 1)[0].split("-", 3)[-1] for e in one_each]
    assert len(one_each) == 2 * len(set(operators)) < len(examples) * 2
