"""The context manager's look-up tools (tree-sitter) and edits that name their file, on real diagnostics."""

from pathlib import Path

import pytest
from conftest import needs_rustc

from sleepy.context.lookup import gather, quoted_names
from sleepy.context.prompt import ContextBuilder
from sleepy.context.view import view_of
from sleepy.loop.agent import Work, _apply
from sleepy.tasks.edit import EditError, parse_edit, split_by_file
from sleepy.tasks.project import ProjectBuild, detect_project
from sleepy.tasks.task import Task

CARGO = '[package]\nname = "shelf"\nversion = "0.1.0"\nedition = "2021"\n'
SHAPES = ("#[derive(Debug, Clone)]\npub struct Point {\n    pub x: i32,\n    pub y: i32,\n}\n\n"
          "impl Point {\n    pub fn norm(&self) -> i32 {\n        self.x.abs() + self.y.abs()\n    }\n}\n\n"
          "pub fn origin() -> Point {\n    Point { x: 0, y: 0 }\n}\n")
LIB = "mod shapes;\nmod report;\npub use shapes::{origin, Point};\n"
REPORT = ("use crate::shapes::origin;\n\npub fn far(points: &[Point]) -> usize {\n"
          "    points.iter().filter(|p| p.norm() > origin().norm()).count()\n}\n")


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@needs_rustc
def test_a_type_defined_in_another_file_is_looked_up_with_its_impls_and_how_the_project_imports_it(tmp_path):
    root = write(tmp_path / "shelf", {"Cargo.toml": CARGO, "src/lib.rs": LIB, "src/shapes.rs": SHAPES,
                                      "src/report.rs": REPORT})
    build = ProjectBuild.open(detect_project(root))
    try:
        verdict = build.check()
    finally:
        build.close()
    diag = verdict.primary  # real rustc: cannot find type `Point` in this scope, in src/report.rs
    assert diag.primary.file == "src/report.rs" and quoted_names(diag) == ["Point"]
    files = {"src/lib.rs": LIB, "src/shapes.rs": SHAPES, "src/report.rs": REPORT}
    found = gather("rust", files, "src/report.rs", diag)
    names = [f.name for f in found]
    assert "lookup:definition Point src/shapes.rs:2" in names
    assert "lookup:impls Point src/shapes.rs:7" in names
    assert "lookup:imports Point src/lib.rs:3" in names  # pub use shapes::{origin, Point}
    definition = next(f for f in found if f.tool == "definition")
    assert "2| pub struct Point {" in definition.text and "4|     pub y: i32," in definition.text

    task = Task("t", "rust", "project", REPORT, diag.key, project=str(root), file="src/report.rs")
    prompt = ContextBuilder(budget=2000).for_task(task, REPORT, diag)
    logged = [p.name for p in prompt.parts if p.included]
    assert "lookup:definition Point src/shapes.rs:2" in logged  # every look-up is a logged part
    assert "### code src/report.rs\n" in prompt.text and "### context definition Point (src/shapes.rs)" in prompt.text
    tight = ContextBuilder(budget=prompt.tokens - 20).for_task(task, REPORT, diag)
    assert any(p.name.startswith("lookup:") and not p.included for p in tight.parts)  # shed first


def test_a_python_name_s_definition_and_call_sites_come_from_the_other_modules():
    import subprocess
    import sys

    from sleepy.tasks.signature import parse_python_traceback

    files = {"wordy/counts.py": "def tally(words, lower=True):\n    out = {}\n    for w in words:\n"
                                "        out[w] = out.get(w, 0) + 1\n    return out\n",
             "wordy/cli.py": "from wordy.counts import tally\n\n\ndef main(words):\n    return tally(words)\n",
             "main.py": "def run(words):\n    return tally(words)\n\n\nrun(['a'])\n"}
    done = subprocess.run([sys.executable, "-c", files["main.py"]], capture_output=True, text=True)
    diag = parse_python_traceback(done.stderr.replace('"<string>"', '"main.py"'), "main.py")
    assert diag is not None and quoted_names(diag) == ["tally"]
    found = {f.name: f for f in gather("python", files, "main.py", diag)}
    assert "lookup:definition tally wordy/counts.py:1" in found
    assert "lookup:imports tally wordy/cli.py:1" in found
    assert "lookup:calls tally wordy/cli.py:5" in found and "5|     return tally(words)" in found[
        "lookup:calls tally wordy/cli.py:5"].text


def test_in_one_long_file_only_what_the_slice_does_not_show_is_looked_up():
    body = "".join(f"fn f{i}() -> i32 {{ {i} }}\n" for i in range(100))
    source = "struct Far { v: i32 }\n" + body + "fn main() {\n    let x: Far = 3;\n}\n"
    from sleepy.tasks.signature import Diagnostic, Span

    diag = Diagnostic("rust:E0308:mismatched-types", "E0308", "mismatched types",
                      [Span("main.rs", 103, 103, 18, 19, "expected `Far`, found integer")])
    task = Task("long", "rust", "x", source, diag.key)
    prompt = ContextBuilder(budget=4000).for_task(task, source, diag)
    assert "lookup:definition Far main.rs:1" in [p.name for p in prompt.parts if p.included]
    short = "struct Far { v: i32 }\nfn main() {\n    let x: Far = 3;\n}\n"
    diag.spans[0].line_start = diag.spans[0].line_end = 3
    assert not any(p.name.startswith("lookup:") for p in
                   ContextBuilder(budget=4000).for_task(Task("s", "rust", "x", short, diag.key), short, diag).parts)


def test_a_hunk_names_its_file_and_is_refused_outside_the_project_or_where_the_file_is_ambiguous():
    edit = parse_edit("@@ src/shapes.rs:2\n- pub struct Point\n+ pub struct Pt\n@@ 3\n- a\n+ b\n")
    assert edit.render().startswith("@@ src/shapes.rs:2\n") and edit.hunks[1].file is None
    with pytest.raises(EditError, match="names no file and 2 files are open"):
        split_by_file(edit, ["src/report.rs", "src/shapes.rs"])
    parts = split_by_file(edit, ["src/report.rs"], ["src/shapes.rs"])  # unnamed: the file shown as code
    assert set(parts) == {"src/shapes.rs", "src/report.rs"} and len(parts["src/report.rs"].hunks) == 1
    parts = split_by_file(parse_edit("@@ ./src/shapes.rs:2\n- x\n+ y\n"), ["src/report.rs"], ["src/shapes.rs"])
    assert set(parts) == {"src/shapes.rs"}
    for outside in ("../../etc/passwd", "/etc/passwd", "src/../../x.rs", "src/nowhere.rs"):
        with pytest.raises(EditError, match="outside the project"):
            split_by_file(parse_edit(f"@@ {outside}:1\n- a\n+ b\n"), ["src/report.rs"], (), ["src/lib.rs"])
    with pytest.raises(EditError, match="src/lib.rs is not open for editing"):
        split_by_file(parse_edit("@@ src/lib.rs:1\n- mod\n+ pub mod\n"), ["src/report.rs"], (), ["src/lib.rs"])


def test_the_agent_applies_hunks_to_each_file_it_opened_and_refuses_the_rest(tmp_path):
    task = Task("t", "rust", "project", REPORT, None, file="src/report.rs")
    view = view_of("rust", REPORT)
    both = parse_edit("@@ 1\n- use crate::shapes::origin;\n+ use crate::shapes::{origin, Point};\n"
                      "@@ src/shapes.rs:13\n- pub fn origin\n+ pub fn origin_point\n")
    candidate, others = _apply(Work(task, REPORT, None, files={"src/shapes.rs": SHAPES}), view, both)
    assert candidate.startswith("use crate::shapes::{origin, Point};")
    assert "pub fn origin_point() -> Point" in others["src/shapes.rs"]
    with pytest.raises(EditError, match="outside the project"):
        _apply(Work(task, REPORT, None), view, both)  # a day task opens its own file only
    root = write(tmp_path / "shelf", {"Cargo.toml": CARGO, "src/lib.rs": LIB, "src/shapes.rs": SHAPES,
                                      "src/report.rs": REPORT})
    in_project = Task("t", "rust", "project", REPORT, None, project=str(root), file="src/report.rs")
    with pytest.raises(EditError, match="src/shapes.rs is not open for editing"):
        _apply(Work(in_project, REPORT, None), view, both)
