"""The edit format: parsing, placement by content, clear failures, and exact round trips."""

import re

import pytest

from sleepy.tasks.edit import Edit, EditError, Hunk, apply_edit, diff_to_edit, parse_edit
from sleepy.tasks.packs import PACKS, get_pack

SRC = """fn main() {
    let s = String::from("a");
    let t = s;
    println!("{} {}", s, t);
}
"""


def test_fragment_edit_applies():
    out = apply_edit(SRC, parse_edit("@@ 3\n- = s;\n+ = s.clone();\n"))
    assert "let t = s.clone();" in out and out.count("\n") == SRC.count("\n")


def test_line_number_off_by_two_still_lands():
    out = apply_edit(SRC, parse_edit("@@ 5\n- = s;\n+ = s.clone();\n"))
    assert "let t = s.clone();" in out


def test_insert_delete_and_whole_line_replace():
    out = apply_edit(SRC, parse_edit("@@ 1\n+ use std::fmt;\n"))
    assert out.startswith("use std::fmt;\nfn main()")
    out = apply_edit(SRC, parse_edit('@@ 4\n-     println!("{} {}", s, t);\n'))
    assert "println" not in out
    out = apply_edit(SRC, parse_edit("@@ 3\n- let t = s;\n+     let t = s.clone();\n+     let u = 1;\n"))
    assert "    let u = 1;" in out and "let t = s;" not in out


@pytest.mark.parametrize("text, reason", [
    ("", "empty edit"),
    ("garbage", "must start with '@@ LINE'"),
    ("@@ 3\n", "no '-' or '+' lines"),
    ("@@ 3\n+ a\n- b\n", "'-' line after '+'"),
    ("@@ 3\n- nowhere\n+ x\n", "not found"),
    ("@@ 40\n+ x\n", "outside the program"),
    ("@@ 3\n-    \n+ x\n", "empty '-' fragment"),
])
def test_bad_edits_fail_with_a_reason(text, reason):
    with pytest.raises(EditError, match=re.escape(reason)):
        apply_edit(SRC, parse_edit(text))


def test_ambiguous_anchor_is_refused():
    src = "a = 1\nb = 2\nx = 0\nb = 2\n"
    with pytest.raises(EditError, match="ambiguous"):
        apply_edit(src, Edit([Hunk(3, ["b = 2"], ["b = 3"])]))


def test_text_after_end_marker_is_ignored():
    out = apply_edit(SRC, parse_edit("@@ 3\n- = s;\n+ = s.clone();\n### end\n@@ 1\n+ junk\n"))
    assert "junk" not in out


@pytest.mark.parametrize("pack_name", PACKS)
def test_reference_fixes_round_trip_through_the_format(pack_name):
    pack = get_pack(pack_name)
    for task in pack.frozen() + pack.stream(60, seed=2):
        edit = diff_to_edit(task.source, task.fix)
        assert apply_edit(task.source, parse_edit(edit.render())).rstrip() == task.fix.rstrip(), task.id


def test_derived_fragments_are_short():
    tasks = get_pack("rust").stream(60, seed=5)
    sizes = sorted(len(diff_to_edit(t.source, t.fix).render()) for t in tasks)
    assert sizes[len(sizes) // 2] < 80  # median edit is far shorter than a whole program
